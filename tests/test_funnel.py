"""The lifecycle funnel: stage counts, conversion, time in stage, cohorts and the bottleneck."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.funnel import funnel
from marketops.pipeline import run_pipeline


def _history(rows: list[tuple[str, str, dt.datetime]]) -> pa.Table:
    return pa.table({"person_id": [r[0] for r in rows], "stage": [r[1] for r in rows],
                     "entered_at": [r[2] for r in rows]})


def _cohort(month: int, people: int, mql_share: float) -> list[tuple[str, str, dt.datetime]]:
    """``people`` leads entering in ``month`` of 2024; ``mql_share`` of them become MQL 5 days later."""
    rows = []
    for i in range(people):
        start = dt.datetime(2024, month, 1 + i % 20)
        rows.append((f"m{month}-{i}", "Lead", start))
        if i < people * mql_share:
            rows.append((f"m{month}-{i}", "Marketing Qualified Lead", start + dt.timedelta(days=5)))
    return rows


def test_skipped_stages_count_as_passed_and_times_are_medians():
    d = dt.datetime
    history = _history([("a", "lead", d(2024, 1, 1)), ("a", "MQL", d(2024, 1, 3)), ("a", "customer", d(2024, 2, 1)),
                        ("b", "Lead", d(2024, 1, 1)), ("b", "Closed Won", d(2024, 1, 11)),
                        ("c", "lead", d(2024, 1, 2)), ("c", "webinar attendee", d(2024, 1, 2))])
    report = funnel(history, stages=("lead", "mql", "customer"))
    lead, mql = report.steps
    assert (lead.reached, lead.converted, lead.median_days) == (3, 2, 6.0)  # b passed MQL when it closed
    assert (mql.reached, mql.converted) == (2, 2)
    assert report.unmatched_stages == {"webinar attendee": 1}


def test_the_bottleneck_is_the_transition_that_fell_most_in_the_latest_mature_cohort():
    history = _history(_cohort(1, 100, 0.5) + _cohort(2, 100, 0.2) + _cohort(3, 5, 1.0)
                       + [("late", "Lead", dt.datetime(2024, 6, 1))])
    report = funnel(history, stages=("lead", "mql", "sql"))
    assert report.bottleneck.stage == "lead"
    assert "2024-02" in report.bottleneck.reason and "2024-01" in report.bottleneck.reason
    assert round(report.cohorts["2024-02"][0].conversion, 2) == 0.2


def test_a_cohort_that_had_no_time_to_convert_is_not_compared():
    # the newest cohort is a week old: its people count nowhere yet
    history = _history(_cohort(1, 100, 0.5) + [(f"n{i}", "Lead", dt.datetime(2024, 2, 25)) for i in range(50)])
    report = funnel(history, stages=("lead", "mql"), window_days=30)
    assert report.cohorts["2024-02"][0].reached == 0
    assert report.bottleneck.reason.startswith("lead -> mql converts least")


def test_funnel_command_by_channel_in_json(ws):
    (ws.inbox / "contacts.csv").write_text("Record ID,Email\n1,ann@acme-analytics.com\n2,bo@acme-analytics.com\n")
    (ws.inbox / "stages.csv").write_text(
        "Contact ID,Lifecycle Stage,Entered At\n1,lead,2024-01-02\n1,mql,2024-01-05\n2,lead,2024-01-03\n")
    (ws.inbox / "visits.csv").write_text(
        "Event ID,Timestamp,Contact ID,UTM Source,UTM Medium\n"
        "e1,2024-01-01T10:00:00Z,1,google,cpc\ne2,2024-01-01T11:00:00Z,2,newsletter,email\n")
    assert run_pipeline(ws).status == "succeeded"
    root = ws.root
    ws.close()
    out = CliRunner().invoke(app, ["funnel", "-w", str(root), "--by", "channel", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    lead = data["steps"][1]
    assert (lead["stage"], lead["reached"], lead["converted"]) == ("lead", 2, 1)
    assert data["groups"]["Paid Search"][1]["converted"] == 1 and data["groups"]["Email"][1]["converted"] == 0
    bad = CliRunner().invoke(app, ["funnel", "-w", str(root), "--by", "weather"])
    assert bad.exit_code == 1 and "channel, source, campaign" in bad.output


def test_the_channel_that_lags_the_others_is_named_per_transition():
    history = _history(_cohort(1, 100, 0.5) + _cohort(2, 100, 0.1))
    groups = pa.table({"person_id": [f"m{m}-{i}" for m in (1, 2) for i in range(100)],
                       "group": ["Email"] * 100 + ["Paid Social"] * 100})
    report = funnel(history, stages=("lead", "mql"), groups=groups)
    (lag,) = report.laggards
    assert lag.stage == "lead" and lag.reason.startswith("lead -> mql: Paid Social converts 10.0%")
    assert "40.0% points below" in lag.reason
