"""Lead scores are the same on DuckDB and PySpark: the published ``lead_scores`` of a run, the
``score_table`` contract and a person's explanation, with every kind of rule."""

from __future__ import annotations

import shutil

import pytest

from marketops.leads.scoring import explain_person, score_table
from marketops.pipeline import run_pipeline
from marketops.workspace import Workspace

pytest.importorskip("pyspark")

RULES = """
leads:
  scoring:
    half_life_days: 20
    groups:
      - name: core
        mql_threshold: 30
        fit_cap: 30
        engagement_cap: 40
        fit:
          - {name: Senior, field: seniority, op: in, value: [c_level, vp, director], points: 15}
          - {name: Marketing title, field: job_title, op: matches, value: 'market', points: 10}
          - {name: Mid-size, field: employees, op: between, value: [100, 5000], points: 10}
          - {name: Big, field: segment, op: is_set, points: 1}
          - {name: Europe, field: country, op: not_in, value: [US], points: 5}
          - {name: Role mailbox, field: email_role, op: equals, value: true, points: -20}
        engagement:
          - {name: Forms, activity: form_fill, points: 20, cap: 30}
          - {name: Pricing, activity: page_view, url: /pricing, points: 5, cap: 15}
          - {name: Webinar, activity: webinar, points: 8}
          - {name: Recent ads, activity: ad_click, points: 2, within_days: 30}
      - name: addon
        mql_threshold: 10
        engagement:
          - {name: Email clicks, activity: email_click, points: 3}
"""


def _rows(table) -> list[dict]:
    return sorted(({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
                   for r in table.to_pylist()), key=lambda r: (r["person_id"], r["group"]))


@pytest.mark.spark
def test_scores_are_identical_on_duckdb_and_spark(tmp_path, sample_dir):
    scores, explanations = {}, {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        Workspace.init(root).close()
        with (root / "marketops.yaml").open("a", encoding="utf-8") as f:
            f.write(RULES)
        shutil.rmtree(root / "inbox")
        shutil.copytree(sample_dir / "inbox", root / "inbox")
        with Workspace.open(root, engine=engine) as ws:
            run = run_pipeline(ws)
            assert run.status == "succeeded", run.error
            scores[engine] = _rows(score_table(ws))
            best = max(scores[engine], key=lambda r: (r["score"], r["person_id"]))
            explanations[engine] = explain_person(ws, best["person_id"]).to_json()
    assert scores["duckdb"] and {r["group"] for r in scores["duckdb"]} == {"core", "addon"}
    assert any(r["mql"] for r in scores["duckdb"]) and not all(r["mql"] for r in scores["duckdb"])
    assert scores["duckdb"] == scores["spark"]
    for x in explanations.values():
        for g in x["groups"]:
            for r in g["rules"]:
                r["points"] = round(r["points"], 6)
    assert explanations["duckdb"] == explanations["spark"]
