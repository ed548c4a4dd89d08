"""The data-quality scorecard: each metric's arithmetic, findings for bad input, thresholds,
history across runs, and `marketops quality`."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.engine import Engine, connect
from marketops.ingest.loader import LOADS_SCHEMA, QUARANTINE_SCHEMA
from marketops.quality.scorecard import Scorecard, compute_scorecard
from marketops.quality.scorecard_history import (
    load_history,
    load_scorecard,
    save_scorecard,
    scorecard_path,
    trend,
)
from marketops.quality.scorecard_thresholds import QualityConfig, QualityThreshold, evaluate
from marketops.schema import ENTITIES
from marketops.workspace import Workspace

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NORMALISED = ("email", "phone", "first_name", "last_name", "full_name", "company", "country", "job_title")
runner = CliRunner()


def naive(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def people_table(rows: list[dict], *, person_id: bool = False) -> pa.Table:
    """A canonical people table after the normalise step: the column contract of issue 3."""
    e = ENTITIES["people"]
    types = {"created_at": pa.timestamp("us"), "updated_at": pa.timestamp("us"), "unsubscribed": pa.bool_()}
    cols: dict[str, pa.DataType] = {"record_key": pa.string()}
    for c in e.column_names:
        cols[c] = types.get(c, pa.string())
        if c in NORMALISED:
            cols[f"{c}_original"] = pa.string()
            cols[f"{c}_issue"] = pa.string()
    cols.update({"email_domain": pa.string(), "email_role": pa.bool_(), "email_disposable": pa.bool_(),
                 "properties": pa.string(), "_source_system": pa.string(), "_source_file": pa.string(),
                 "_source_row": pa.int64(), "_load_id": pa.string()})
    if person_id:
        cols["person_id"] = pa.string()
    full = []
    for i, r in enumerate(rows):
        r = {"record_key": f"{r['_source_system']}:{i}", "_source_row": i + 2, **r}
        for c in NORMALISED:  # a column nobody touched was clean as loaded
            if c in r and f"{c}_original" not in r:
                r[f"{c}_original"] = r[c]
        full.append({c: r.get(c) for c in cols})
    return pa.Table.from_pylist(full, schema=pa.schema(list(cols.items())))


CRM = [  # five records of one CRM, written to exercise every people metric
    {"_source_system": "crm", "record_id": "1", "email_original": "Ann@X.com", "email": "ann@x.com",
     "phone_original": "+39 02 1234 5678", "phone": "+390212345678",
     "updated_at": naive(NOW - timedelta(hours=30))},
    {"_source_system": "crm", "record_id": "2", "email": "ann@x.com", "phone_original": "000",
     "phone_issue": "not a real phone number: all digits are the same",
     "updated_at": naive(NOW - timedelta(hours=40))},
    {"_source_system": "crm", "record_id": "3", "email_original": "n/a",
     "email_issue": "a placeholder, not a real address", "updated_at": naive(NOW - timedelta(hours=50))},
    {"_source_system": "crm", "record_id": "4", "email": "info@y.com", "email_role": True,
     "phone": "+390212345678"},
    {"_source_system": "crm", "record_id": "5", "phone_original": "n/a",
     "phone_issue": "a placeholder, not a phone number"},
]
LEGACY = [  # a source that carries names only, in any script
    {"_source_system": "legacy", "first_name": n, "last_name": "Rossi",
     "created_at": naive(NOW - timedelta(hours=100))}
    for n in ("Anna", "Бори́с", "José")
]


def _load(load_id, file, system, at, rows_in, quarantined, status="loaded", entity="people", message=None):
    return {"load_id": load_id, "file": file, "path": f"/inbox/{file}", "sheet": None, "sha256": load_id,
            "entity": entity, "system": system, "format": "csv", "loaded_at": naive(at), "rows_in": rows_in,
            "rows_loaded": rows_in - quarantined, "rows_quarantined": quarantined, "status": status,
            "message": message, "seconds": 0.1}


def _quarantined(load_id, file, column, n):
    return [{"load_id": load_id, "file": file, "sheet": None, "row": i + 2, "column": column, "reason": "bad",
             "raw": "{}", "entity": "people", "quarantined_at": naive(NOW)} for i in range(n)]


def write_loads(engine: Engine) -> None:
    engine.write("_loads", pa.Table.from_pylist([
        _load("L1", "crm.csv", "crm", NOW - timedelta(days=3), 10, 5),  # an older version: superseded
        _load("L2", "crm.csv", "crm", NOW - timedelta(hours=2), 6, 1),
        _load("L3", "crm2.csv", "crm", NOW - timedelta(hours=5), 4, 3),
        _load("L4", "legacy.csv", "legacy", NOW - timedelta(hours=20), 3, 0),
        _load("L5", "webform.csv", "webform", NOW - timedelta(hours=1), 2, 2),
        _load("L6", "broken.csv", None, NOW - timedelta(hours=1), 0, 0, status="failed", entity=None,
              message="the file is empty"),
    ], schema=LOADS_SCHEMA))
    engine.write("_quarantine", pa.Table.from_pylist(
        _quarantined("L1", "crm.csv", "Email", 5) + _quarantined("L2", "crm.csv", "Create Date", 1)
        + _quarantined("L3", "crm2.csv", "Email", 2) + _quarantined("L3", "crm2.csv", None, 1)
        + _quarantined("L5", "webform.csv", "Email", 2), schema=QUARANTINE_SCHEMA))


@pytest.fixture
def card(ws) -> Scorecard:
    ws.engine.write("people__r1", people_table(CRM + LEGACY))
    write_loads(ws.engine)
    return compute_scorecard(ws.engine, {"people": "people__r1"}, run_id="r1", now=NOW)


def row(card: Scorecard, source, column, metric, file=None, table="people"):
    r = card.get(table, source, column, metric, file)
    assert r is not None, (source, column, metric, file)
    return r


# -- metrics ------------------------------------------------------------------------------------------
def test_completeness_counts_values_as_loaded_not_after_cleaning(card):
    email = row(card, "crm", "email", "completeness")
    assert (email.n, email.total, email.value) == (4, 5, 0.8)  # "n/a" was typed in: it counts as present
    assert row(card, "crm", "phone", "completeness").value == 0.8
    assert row(card, "crm", "record_id", "completeness").value == 1.0
    empty = row(card, "legacy", "email", "completeness")
    assert empty.value == 0.0 and "empty in all 3 records" in empty.detail


def test_validity_is_accepted_over_non_empty_with_the_top_reasons(card):
    email = row(card, "crm", "email", "validity")
    assert (email.n, email.total, email.value) == (3, 4, 0.75)
    phone = row(card, "crm", "phone", "validity")
    assert (phone.n, phone.total) == (2, 4)
    # ties are broken by the reason's text, so the order is stable
    assert phone.detail == ("2 rejected; most often 'a placeholder, not a phone number' (1), "
                            "'not a real phone number: all digits are the same' (1)")
    nothing = row(card, "legacy", "email", "validity")
    assert nothing.value is None and nothing.detail == "no values to check"


def test_consistency_is_the_share_already_in_clean_form(card):
    email = row(card, "crm", "email", "consistency")
    assert (email.n, email.total) == (2, 4)  # "Ann@X.com" and "n/a" were not clean
    phone = row(card, "crm", "phone", "consistency")
    assert (phone.n, phone.total) == (1, 4)


def test_uniqueness_counts_records_sharing_a_clean_identifier(card):
    email = row(card, "crm", "email", "uniqueness")
    assert (email.n, email.total) == (1, 3) and email.detail == "2 records share 1 values"
    phone = row(card, "crm", "phone", "uniqueness")
    assert (phone.n, phone.total, phone.value) == (0, 2, 0.0)
    assert row(card, "crm", "record_id", "uniqueness").value == 1.0
    assert card.get("people", "crm", "first_name", "uniqueness") is None  # names are not identifiers


def test_email_flags_are_shares_of_accepted_addresses(card):
    role = row(card, "crm", "email", "role_address_rate")
    assert (role.n, role.total) == (1, 3)
    assert row(card, "crm", "email", "disposable_rate").value == 0.0


def test_freshness_is_hours_from_the_newest_dated_value(card):
    crm = row(card, "crm", None, "freshness_hours")
    assert crm.value == pytest.approx(30.0) and "updated_at" in crm.detail
    legacy = row(card, "legacy", None, "freshness_hours")  # no updated_at at all: created_at decides
    assert legacy.value == pytest.approx(100.0) and "created_at" in legacy.detail


def test_quarantine_rate_uses_the_latest_version_of_each_file(card):
    crm = row(card, "crm", None, "quarantine_rate")
    assert (crm.n, crm.total, crm.value) == (4, 10, 0.4)
    assert crm.detail == "most in crm2.csv: 3 of 4"
    per_file = row(card, "crm", None, "quarantine_rate", file="crm2.csv")
    assert (per_file.n, per_file.total) == (3, 4)
    assert per_file.detail == "by column: Email (2), (whole row) (1)"
    assert row(card, "crm", None, "quarantine_rate", file="crm.csv").detail == "by column: Create Date (1)"
    assert row(card, "crm", None, "hours_since_load").value == pytest.approx(2.0)


def test_a_source_whose_rows_were_all_quarantined_still_shows(card):
    assert row(card, "webform", None, "rows").value == 0
    assert row(card, "webform", None, "quarantine_rate").value == 1.0


def test_rows_and_identifier_coverage_per_source(card):
    assert row(card, "crm", None, "rows").value == 5
    assert row(card, "crm", None, "identifier_coverage").value == 1.0
    legacy = row(card, "legacy", None, "identifier_coverage")
    assert (legacy.n, legacy.total) == (0, 3)


def test_duplicate_rate_appears_once_identities_are_resolved(ws, card):
    assert card.get("people", "crm", None, "duplicate_rate") is None
    ids = ["p1", "p1", "p2", None, "p3"]  # a record without a person is a person of its own
    resolved = [{**r, "person_id": p} for r, p in zip(CRM, ids)]
    ws.engine.write("people__r2", people_table(resolved, person_id=True))
    card2 = compute_scorecard(ws.engine, {"people": "people__r2"}, run_id="r2", now=NOW)
    dup = row(card2, "crm", None, "duplicate_rate")
    assert (dup.n, dup.total, dup.value) == (1, 5, 0.2) and dup.detail == "5 records are 4 people"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]),
                          st.sampled_from([None, "", "x@y.com", "z@y.com", "q@r.com"])), max_size=25))
def test_completeness_and_uniqueness_match_a_plain_count(records):
    engine = connect("duckdb", Path(tempfile.mkdtemp()))
    try:
        engine.write("people__p", pa.table({"_source_system": pa.array([s for s, _ in records], pa.string()),
                                            "email": pa.array([e for _, e in records], pa.string())}))
        card = compute_scorecard(engine, {"people": "people__p"}, run_id="p", now=NOW)
    finally:
        engine.close()
    for source in {s for s, _ in records}:
        values = [e for s, e in records if s == source and e]
        assert card.value("people", source, "email", "completeness") == len(values) / sum(
            s == source for s, _ in records)
        shared = sum(values.count(v) > 1 for v in values)
        assert card.value("people", source, "email", "uniqueness") == ((len(values) - shared) / len(values)
                                                                       if values else None)
    for r in card.rows:
        if r.value is not None and r.metric not in ("rows", "freshness_hours", "hours_since_load"):
            assert 0 <= r.value <= 1, r


# -- findings: bad input is a sentence, never a crash -----------------------------------------------
def codes(card: Scorecard) -> dict[tuple, str]:
    return {(f.code, f.source, f.column): f.message for f in card.findings}


def test_a_source_without_identifiers_gets_a_plain_finding(card):
    assert codes(card)[("no_identifier", "legacy", None)] == (
        "source legacy: 0 of 3 records carry an email, phone or record id; they can only be matched by name")


def test_placeholder_heavy_columns_are_findings_with_examples(ws, card):
    found = codes(card)
    assert found[("placeholders", "crm", "email")] == (
        "source crm, column email: 1 of 4 values are placeholders such as 'n/a' (1); "
        "they are treated as empty")
    assert ("placeholders", "crm", "phone") in found
    quieter = compute_scorecard(ws.engine, {"people": "people__r1"}, run_id="r1", now=NOW,
                                config=QualityConfig(placeholder_share=0.5))
    assert not [f for f in quieter.findings if f.code == "placeholders"]


def test_empty_columns_failed_files_and_future_dates_are_findings(ws, card):
    found = codes(card)
    assert "3 records: record_id, email, full_name, phone, company" in found[
        ("empty_columns", "legacy", None)]
    assert found[("failed_load", None, None)] == ("file broken.csv could not be loaded (the file is empty); "
                                                  "its rows are in no table")
    future = [dict(CRM[0], updated_at=naive(NOW + timedelta(hours=5)))]
    ws.engine.write("people__f", people_table(future))
    ahead = compute_scorecard(ws.engine, {"people": "people__f"}, run_id="f", now=NOW)
    assert row(ahead, "crm", None, "freshness_hours").value == pytest.approx(-5.0)
    assert "5.0 hours after this run" in codes(ahead)[("future_dates", "crm", "updated_at")]


def test_empty_missing_and_partial_tables_never_crash(ws):
    ws.engine.write("people__e", people_table([]))
    ws.engine.write("accounts__e", pa.table({"_source_system": ["crm", "crm"], "name": ["Acme", None],
                                             "domain": ["acme.com", "acme.com"]}))
    ws.engine.write("touchpoints__e", pa.table({"email": ["a@x.com"]}))  # no lineage at all
    card = compute_scorecard(ws.engine, {"people": "people__e", "accounts": "accounts__e",
                                         "touchpoints": "touchpoints__e", "conversions": "conversions__gone",
                                         "quality_scorecard": "quality_scorecard__e"}, run_id="e", now=NOW)
    found = codes(card)
    assert found[("empty_table", None, None)] == "table people has no records in this run"
    assert found[("missing_table", None, None)].startswith(
        "table conversions: the run's table conversions__gone")
    assert found[("missing_column", None, "industry")] == (
        "table accounts has no column 'industry': its quality cannot be measured")
    assert row(card, "crm", "name", "completeness", table="accounts").value == 0.5
    assert row(card, "crm", "domain", "uniqueness", table="accounts").value == 0.0
    assert row(card, "(unknown)", "email", "completeness", table="touchpoints").value == 1.0
    assert not [r for r in card.rows if r.table == "people"]


# -- thresholds ---------------------------------------------------------------------------------------
def test_thresholds_warn_or_fail_with_a_message_naming_the_place(card):
    config = QualityConfig(thresholds=[
        QualityThreshold(table="people", column="email", metric="completeness", min=0.9, action="fail"),
        QualityThreshold(table="people", source="crm", metric="freshness_hours", max=24),
        QualityThreshold(table="people", metric="identifier_coverage", min=0.5, action="warn",
                         description="sources without ids cannot be deduplicated"),
        QualityThreshold(table="people", metric="rows", min=1),  # every source has rows: no breach
    ])
    breaches = evaluate(card, config)
    messages = [(b.action, b.message) for b in breaches]
    assert messages[0] == ("fail",
                           "people / crm / email: completeness is 80% (4 of 5), below the minimum 90%")
    assert ("fail", "people / legacy / email: completeness is 0% (0 of 3), below the minimum 90%") in messages
    assert ("warn", "people / crm: freshness_hours is 30 h, above the maximum 24 h") in messages
    assert ("warn", ("people / legacy: identifier_coverage is 0% (0 of 3), below the minimum 50%; "
                    "sources without ids cannot be deduplicated")) in messages
    # every row of webform's file went to quarantine: the source is there, with no records
    assert ("warn", "people / webform: rows is 0, below the minimum 1") in messages
    assert len(breaches) == 5
    card.breaches = breaches
    assert card.status == "fail"


def test_a_threshold_on_a_source_that_sent_nothing_is_a_breach(card):
    config = QualityConfig(thresholds=[QualityThreshold(table="people", source="cmr", metric="completeness",
                                                        min=0.5, action="fail")])
    [breach] = evaluate(card, config)
    assert breach.action == "fail"
    assert breach.message == ("people / cmr: no records from this source in this run, "
                              "so completeness cannot be checked (did you mean 'crm'?)")


def test_a_value_that_cannot_be_measured_breaches_nothing(card):
    config = QualityConfig(thresholds=[QualityThreshold(table="people", source="legacy", column="email",
                                                        metric="validity", min=0.9, action="fail")])
    assert evaluate(card, config) == []


@pytest.mark.parametrize("rule, words", [
    ({"table": "peple", "metric": "rows", "min": 1}, "did you mean 'people'?"),
    ({"table": "people", "metric": "completness", "min": 1}, "did you mean 'completeness'?"),
    ({"table": "people", "column": "emial", "metric": "completeness", "min": 1}, "did you mean 'email'?"),
    ({"table": "people", "column": "email", "metric": "freshness_hours", "max": 1}, "measured per source"),
    ({"table": "people", "metric": "completeness", "min": 95}, "write 95% as 0.95"),
    ({"table": "people", "metric": "completeness", "min": 0.9, "max": 0.5}, "min (0.9) is above max (0.5)"),
    ({"table": "people", "metric": "completeness"}, "needs a min, a max or both"),
    ({"table": "people", "metric": "rows", "min": 1, "action": "stop"}, "'warn' or 'fail'"),
    ({"table": "people", "metric": "rows", "min": 1, "colour": "red"}, "Extra inputs"),
])
def test_bad_thresholds_are_refused_with_the_valid_names(rule, words):
    with pytest.raises(ValidationError) as e:
        QualityConfig.model_validate({"thresholds": [rule]})
    assert words in str(e.value)


# -- history ------------------------------------------------------------------------------------------
def test_history_keeps_one_scorecard_per_run_so_trends_show(ws, card):
    rule = QualityThreshold(table="people", column="email", metric="completeness", min=0.9, action="fail")
    save_scorecard(ws, card, evaluate(card, QualityConfig(thresholds=[rule])))
    better = [dict(r, email_original=r.get("email_original") or "x@z.com", email=r.get("email") or "x@z.com")
              for r in CRM]
    ws.engine.write("people__r2", people_table(better))
    later = compute_scorecard(ws.engine, {"people": "people__r2"}, run_id="r2", now=NOW + timedelta(hours=1))
    save_scorecard(ws, later, [])
    history = load_history(ws, 10)
    assert [c.run_id for c in history] == ["r1", "r2"]
    assert trend(history, "people", "crm", "email", "completeness") == [("r1", 0.8), ("r2", 1.0)]
    assert trend(history, "people", "legacy", "email", "completeness") == [("r1", 0.0), ("r2", None)]
    assert history[0].status == "fail" and history[1].status == "ok"
    assert load_history(ws, 1)[0].run_id == "r2"
    assert load_scorecard(ws).run_id == "r2"
    assert scorecard_path(ws, "r1").parent.parent == ws.runs_dir
    assert not list(ws.runs_dir.glob("r*.json"))  # run records stay the only JSON files in runs/
    reread = load_scorecard(ws, "r1")
    assert reread.rows == card.rows and reread.findings == card.findings and reread.computed_at == NOW
    with pytest.raises(Exception, match="did you mean 'r1'"):
        load_scorecard(ws, "r11")


def test_to_arrow_is_ready_for_the_warehouse(ws, card):
    table = card.to_arrow()
    assert table.num_rows == len(card.rows)
    assert table.column_names == ["run_id", "computed_at", "table", "source", "file", "column", "metric",
                                  "value", "n", "total", "detail"]
    ws.engine.write("quality_scorecard__r1", table)
    t = ws.engine.table("quality_scorecard__r1")
    validity = t.filter((t.source == "crm") & (t["column"] == "email") & (t.metric == "validity"))
    assert validity.value.max().execute() == 0.75


# -- the command --------------------------------------------------------------------------------------
def test_quality_command_prints_json_tables_and_exports(ws, card, tmp_path):
    save_scorecard(ws, card)
    root = ws.root
    ws.close()
    out = runner.invoke(app, ["quality", "-w", str(root), "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["run_id"] == "r1" and data["live"] is False and data["status"] == "ok"
    assert {"table": "people", "source": "crm", "column": "email", "metric": "completeness", "value": 0.8,
            "n": 4, "total": 5, "detail": None, "file": None} in data["rows"]
    assert any(f["code"] == "no_identifier" for f in data["findings"])

    only = json.loads(runner.invoke(app, ["quality", "-w", str(root), "--json", "--source", "legacy"]).output)
    assert {r["source"] for r in only["rows"]} == {"legacy"}
    assert {f["source"] for f in only["findings"]} <= {"legacy", None}

    shown = runner.invoke(app, ["quality", "-w", str(root), "--table", "people"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "people: columns" in shown.output and "0 of 3 records carry an email" in shown.output

    bad = runner.invoke(app, ["quality", "-w", str(root), "--source", "lagacy"])
    assert bad.exit_code == 1 and "did you mean 'legacy'" in bad.output

    export = tmp_path / "scorecard.csv"
    assert runner.invoke(app, ["quality", "-w", str(root), "--export", str(export)]).exit_code == 0
    lines = export.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "run_id,computed_at,table,source,file,column,metric,value,n,total,detail"
    assert len(lines) == len(card.rows) + 1


def test_quality_command_exits_2_when_a_fail_threshold_is_breached(ws, card, monkeypatch):
    import marketops.cli.quality as cli_quality

    save_scorecard(ws, card)
    root = ws.root
    ws.close()
    rules = [QualityThreshold(table="people", column="email", metric="completeness", min=0.9, action="fail")]
    monkeypatch.setattr(cli_quality, "quality_config", lambda ws: QualityConfig(thresholds=rules))
    out = runner.invoke(app, ["quality", "-w", str(root), "--json"])
    assert out.exit_code == 2
    data = json.loads(out.output)
    assert data["status"] == "fail" and data["breaches"][0]["source"] in ("crm", "legacy")
    # people of the crm source alone still fail; a warning alone exits 0
    assert runner.invoke(app, ["quality", "-w", str(root), "--source", "crm"]).exit_code == 2
    rules[0] = rules[0].model_copy(update={"action": "warn"})
    shown = runner.invoke(app, ["quality", "-w", str(root)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "WARN people / crm / email: completeness is 80%" in shown.output


def test_quality_command_history_shows_the_trend(ws, card):
    save_scorecard(ws, card)
    better = [dict(r, email_original="x@z.com", email="x@z.com") for r in CRM]
    ws.engine.write("people__r2", people_table(better))
    save_scorecard(ws, compute_scorecard(ws.engine, {"people": "people__r2"}, run_id="r2", now=NOW))
    root = ws.root
    ws.close()
    data = json.loads(runner.invoke(app, ["quality", "-w", str(root), "--json", "--history", "5",
                                          "--source", "crm"]).output)
    assert data["run_id"] == "r2"
    series = {(s["column"], s["metric"]): [v["value"] for v in s["values"]] for s in data["trend"]}
    assert series[("email", "completeness")] == [0.8, 1.0]
    shown = runner.invoke(app, ["quality", "-w", str(root), "--history", "5"], env={"COLUMNS": "200"})
    assert "Trend over the last 2 run(s)" in shown.output


def test_quality_command_measures_the_published_tables_when_no_run_kept_a_scorecard(ws):
    ws.engine.write("people__r9", people_table(CRM + LEGACY))
    ws.engine.publish({"people": "people__r9"}, "r9")
    root = ws.root
    ws.close()
    out = runner.invoke(app, ["quality", "-w", str(root), "--json", "--table", "people"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["live"] is True and data["run_id"] == "r9"
    assert {r["source"] for r in data["rows"]} == {"crm", "legacy"}
    assert not scorecard_path(Workspace.open(root), "r9").exists()  # reading never writes


def test_quality_command_without_any_run_says_what_to_do(ws):
    root = ws.root
    ws.close()
    out = runner.invoke(app, ["quality", "-w", str(root)])
    assert out.exit_code == 1 and "marketops run" in out.output


def test_thresholds_are_read_from_marketops_yaml(ws, card):
    save_scorecard(ws, card)
    root = ws.root
    ws.close()
    with open(root / "marketops.yaml", "a", encoding="utf-8") as f:
        f.write("quality:\n  thresholds:\n    - table: people\n      column: email\n"
                "      metric: completeness\n      min: 0.9\n      action: fail\n")
    assert runner.invoke(app, ["quality", "-w", str(root), "--json"]).exit_code == 2


# -- the sample company, end to end -------------------------------------------------------------------
def test_scorecard_of_the_sample_company(sample_ws):
    from marketops.pipeline import run_pipeline

    run = run_pipeline(sample_ws)
    assert run.status == "succeeded", run.error
    published = sample_ws.engine.published()
    card = compute_scorecard(sample_ws.engine, {n: p for n, p in published.items() if n in ENTITIES},
                             run_id=run.run_id, now=datetime.now(UTC))
    people_sources = {r.source for r in card.rows if r.table == "people"}
    assert {"hubspot", "salesforce"} <= people_sources
    for source in people_sources:
        assert card.value("people", source, None, "rows") > 0
        assert card.value("people", source, None, "identifier_coverage") > 0.9
        assert card.value("people", source, "email", "completeness") > 0.8
    assert card.value("people", "salesforce", None, "quarantine_rate") is not None
    assert all(0 <= r.value <= 1 for r in card.rows
               if r.value is not None and r.metric not in ("rows", "freshness_hours", "hours_since_load"))
    # the sample's CRMs carry junk phones ("123", "n/a", "0000000000"): rejected with a reason
    phones = [card.get("people", s, "phone", "validity") for s in people_sources]
    assert all(p is not None for p in phones)
    assert any(p.value < 1 and p.detail and "rejected" in p.detail for p in phones)
    assert card.value("people", "hubspot", "email", "consistency") is not None


@pytest.mark.spark
def test_the_scorecard_is_the_same_on_spark(tmp_path):
    pytest.importorskip("pyspark")
    cards = {}
    for name in ("duckdb", "spark"):
        (tmp_path / name).mkdir()
        engine = connect(name, tmp_path / name)
        try:
            engine.write("people__r1", people_table(CRM + LEGACY))
            engine.write("accounts__r1", pa.table({"_source_system": ["crm", "crm"], "name": ["Acme", None],
                                                   "domain": ["acme.com", "acme.com"]}))
            write_loads(engine)
            cards[name] = compute_scorecard(engine, {"people": "people__r1", "accounts": "accounts__r1"},
                                            run_id="r1", now=NOW)
        finally:
            engine.close()

    def comparable(card):
        return (sorted(card.rows, key=repr), sorted(card.findings, key=repr))

    assert comparable(cards["duckdb"]) == comparable(cards["spark"])
