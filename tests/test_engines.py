"""The whole pipeline on DuckDB and PySpark gives identical tables: loading, cleaning, identity
resolution, golden records, stitching and the scorecard; and the analyses read off them (every
attribution model, the funnel, metrics) agree too."""

from __future__ import annotations

import shutil

import pytest

from marketops.pipeline import run_pipeline
from marketops.workspace import Workspace

pyspark = pytest.importorskip("pyspark")


#: Values that are clock readings, so two runs differ in them by design.
_CLOCK_COLUMNS = {"_load_id", "run_id", "computed_at"}
#: The Splink model's outputs: each engine samples its own random pairs to estimate the model, so
#: the probabilities differ a little; who is one person, and which pairs need review, may not.
_MODEL_COLUMNS = {"match_probability", "match_weight", "evidence"}
_CLOCK_METRICS = {"freshness_hours", "hours_since_load"}


def _comparable(value):
    # Floating-point sums may differ in the last bits between engines; nothing a user sees does.
    return round(value, 9) if isinstance(value, float) else value


def _canonical(ws: Workspace) -> dict[str, list[dict]]:
    out = {}
    for name in ws.table_names():
        rows = [{k: _comparable(v) for k, v in r.items() if k not in _CLOCK_COLUMNS | _MODEL_COLUMNS}
                for r in ws.table(name).to_pyarrow().to_pylist()]
        if name == "quality_scorecard":
            rows = [r for r in rows if r["metric"] not in _CLOCK_METRICS]
        # Sorted here, not by the engine: collations differ and are not what is compared.
        out[name] = sorted(rows, key=lambda r: [str(v) for v in r.values()])
    return out


def _analyses(ws: Workspace) -> dict:
    """What the analysis layer reads off the published tables: every attribution model's credits,
    the funnel, and metrics by channel and month."""
    from marketops.attribution import compare
    from marketops.attribution.inputs import workspace_journeys
    from marketops.funnel import funnel
    from marketops.metrics import query_metrics
    from marketops.metrics.query import engine_rates

    credits = compare(workspace_journeys(ws, ws.config.attribution)).sort("model", "channel").to_dicts()
    steps = [s.to_json() for s in funnel(ws.table("lifecycle_stages").to_pyarrow()).steps]
    clicks = sorted(map(str, query_metrics(ws.engine, ["clicks", "ctr"], by=["channel"]).to_pylist()))
    # people's metrics by their first touch and their account's segment join across four tables
    leads = sorted(map(str, query_metrics(ws.engine, ["leads", "pipeline_value"], by=["channel", "segment"],
                                          compare=["previous"], rates=engine_rates(ws.engine)).to_pylist()))
    return {"credits": credits, "funnel": steps, "clicks": clicks, "leads": leads}


@pytest.mark.spark
def test_duckdb_and_spark_build_identical_canonical_tables(tmp_path, sample_dir):
    results, models, analyses = {}, {}, {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        Workspace.init(root).close()
        shutil.rmtree(root / "inbox")
        shutil.copytree(sample_dir / "inbox", root / "inbox")
        with Workspace.open(root, engine=engine) as ws:
            run = run_pipeline(ws)
            assert run.status == "succeeded", run.error
            results[engine] = _canonical(ws)
            pairs = ws.table("identity_pairs").to_pyarrow().to_pylist()
            models[engine] = {r["pair_id"]: r["match_probability"] for r in pairs}
            analyses[engine] = _analyses(ws)
    duck, spark = results["duckdb"], results["spark"]
    assert sorted(duck) == sorted(spark)
    # people, accounts, touchpoints, ad_spend..., and what identity resolution and the scorecard add
    assert {"people", "touchpoints", "identity_map", "identity_pairs", "golden_people", "golden_accounts",
            "quality_scorecard"} <= set(duck)
    for name in duck:
        assert len(duck[name]) == len(spark[name]), name
        assert duck[name] == spark[name], name
    for engine, probabilities in models.items():
        assert probabilities.keys() == models["duckdb"].keys()
    for key, p in models["duckdb"].items():
        assert abs(p - models["spark"][key]) < 0.02, key
    assert analyses["duckdb"] == analyses["spark"]
