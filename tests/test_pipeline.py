"""The pipeline: recorded steps, atomic publishing, failed runs leave the last good results."""

from __future__ import annotations

import pytest

from marketops import pipeline
from marketops.errors import StepFailed
from marketops.pipeline import list_runs, run_pipeline


def _contacts(ws, name, rows):
    (ws.inbox / name).write_text("Record ID,Email,First Name\n" + "".join(f"{i},{e},{n}\n" for i, e, n in rows))


def test_run_records_each_step_with_rows_and_duration(ws):
    _contacts(ws, "a.csv", [(1, "ann@acme.com", "Ann"), (2, "bo@acme.com", "Bo")])
    run = run_pipeline(ws)
    assert run.status == "succeeded"
    assert [s.name for s in run.steps] == ["ingest", "privacy", "stage", "canonical", "normalise", "resolve",
                                           "accounts", "golden", "stitch", "utm", "quality", "score", "lead_stages",
                                           "consent"]
    # after the publish: goals measured and new MQLs routed, recorded with the run (nothing to do here)
    assert run.after["goals"]["measured"] == 0 and "routing is off or has no owners" in run.after["routing"]["skipped"]
    ingest, _privacy, stage, canonical, normalise, resolve, *_ = run.steps
    assert (ingest.rows_in, ingest.rows_out) == (2, 2)
    assert (stage.rows_in, stage.rows_out, canonical.rows_out) == (2, 2, 2)
    assert (normalise.rows_in, normalise.rows_out) == (2, 2)
    assert normalise.detail["people"]["columns"]["email"]["cleaned"] == 2
    assert (resolve.rows_in, resolve.rows_out) == (2, 2)  # two records, two people
    assert all(s.status == "succeeded" and s.seconds >= 0 for s in run.steps)
    assert list_runs(ws)[0].run_id == run.run_id
    keys = sorted(r["record_key"] for r in ws.table("people").to_pyarrow().to_pylist())
    assert keys == ["generic:1", "generic:2"]


def test_failed_step_publishes_nothing_and_keeps_previous_results(ws, monkeypatch):
    _contacts(ws, "a.csv", [(1, "ann@acme.com", "Ann")])
    good = run_pipeline(ws)
    _contacts(ws, "b.csv", [(2, "bo@acme.com", "Bo")])

    def broken(ctx, rec):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "STEPS", [pipeline.STEPS[0], pipeline.STEPS[1], ("canonical", broken)])
    bad = run_pipeline(ws)
    assert bad.status == "failed"
    assert "canonical" in bad.error and "disk full" in bad.error
    assert [s.status for s in bad.steps] == ["succeeded", "succeeded", "failed"]
    # Readers still see the last good run, and the failed run left no tables behind.
    assert ws.engine.count("people") == 1
    assert ws.engine.published()["people"].endswith(good.run_id)
    assert not [t for t in ws.engine.tables() if t.endswith(bad.run_id)]
    with pytest.raises(StepFailed, match="canonical"):
        run_pipeline(ws, raise_on_error=True)


def test_views_let_sql_users_query_canonical_tables(ws):
    _contacts(ws, "a.csv", [(1, "ann@acme.com", "Ann")])
    run_pipeline(ws)
    assert ws.engine.scratch().execute("SELECT email FROM people").fetchall() == [("ann@acme.com",)]


def test_old_run_tables_are_cleaned_up(ws):
    _contacts(ws, "a.csv", [(1, "ann@acme.com", "Ann")])
    for _ in range(4):
        run_pipeline(ws)
    people_tables = [t for t in ws.engine.tables() if t.startswith("people__")]
    assert len(people_tables) <= 2


def test_open_gives_ibis_tables_for_notebooks(ws):
    import marketops

    _contacts(ws, "a.csv", [(1, "ann@acme.com", "Ann"), (2, "bo@acme.com", "Bo")])
    run_pipeline(ws)
    ws.close()
    with marketops.open(ws.root) as nb:
        df = nb.people.to_pandas()
        assert sorted(df.email) == ["ann@acme.com", "bo@acme.com"]
        assert nb.people.to_polars().height == 2
        assert "people" in nb.table_names()


def test_touchpoints_get_a_channel_group_with_workspace_rules_first(tmp_path):
    from marketops.workspace import Workspace

    root = tmp_path / "acme"
    Workspace.init(root).close()
    cfg = root / "marketops.yaml"
    cfg.write_text(cfg.read_text() + "channels:\n  - channel: Partners\n    source: ^partner_\n")
    with Workspace.open(root) as ws:
        (ws.inbox / "events.csv").write_text(
            "Event ID,Timestamp,Anonymous ID,UTM Source,UTM Medium,GCLID,Channel\n"
            "e1,2024-03-01T10:00:00Z,a1,google,cpc,,\n"
            "e2,2024-03-01T11:00:00Z,a2,Facebook,social,,\n"
            "e3,2024-03-01T12:00:00Z,a3,,,Cj0KCQ,\n"
            "e4,2024-03-01T13:00:00Z,a4,partner_acme,referral,,\n"
            "e5,2024-03-01T14:00:00Z,a5,newsletter,email,,Sponsored\n"
            "e6,2024-03-01T15:00:00Z,a6,,,,\n")
        assert run_pipeline(ws).status == "succeeded"
        got = {r["record_id"]: r["channel_group"] for r in ws.table("touchpoints").to_pyarrow().to_pylist()}
    assert got == {"e1": "Paid Search", "e2": "Organic Social", "e3": "Paid Search", "e4": "Partners",
                   "e5": "Sponsored", "e6": "Direct"}
