"""The lifecycle funnel: stage counts, conversion, time in stage, cohorts and the bottleneck."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.funnel import MIN_COHORT, MIN_LOSS, MIN_TIMED, funnel
from marketops.pipeline import run_pipeline


def _history(rows: list[tuple[str, str, dt.datetime]]) -> pa.Table:
    return pa.table({"person_id": [r[0] for r in rows], "stage": [r[1] for r in rows],
                     "entered_at": [r[2] for r in rows]})


def _cohort(month: int, people: int, mql_share: float, mql_days: float = 5, sql_share: float = 0,
            sql_days: float = 5, prefix: str = "m") -> list[tuple[str, str, dt.datetime]]:
    """``people`` leads entering in ``month`` of 2024; ``mql_share`` of them become MQL ``mql_days`` later,
    and ``sql_share`` of those MQLs become SQL ``sql_days`` after that."""
    rows = []
    mqls = round(people * mql_share)
    for i in range(people):
        who, start = f"{prefix}{month}-{i}", dt.datetime(2024, month, 1 + i % 20)
        rows.append((who, "Lead", start))
        if i < mqls:
            mql = start + dt.timedelta(days=mql_days)
            rows.append((who, "Marketing Qualified Lead", mql))
            if i < mqls * sql_share:
                rows.append((who, "SQL", mql + dt.timedelta(days=sql_days)))
    return rows


#: a lead long after the cohorts, so that every cohort had its 30 days to move on
_LATE = [("late", "Lead", dt.datetime(2024, 9, 1))]


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
    assert (report.bottleneck.stage, report.bottleneck.kind) == ("lead", "conversion")
    assert report.bottleneck.reason == ("lead -> mql converted 20.0% in cohort 2024-02, "
                                        "down from 50.0% in 2024-01 (-30.0 points)")
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
    assert data["groups"]["Paid Search"][1]["median_days"] == 3.0
    assert data["bottleneck"]["kind"] == "conversion" and data["bottleneck"]["stage"] == "mql"
    assert data["laggards"] == []  # two people: nobody is compared
    text = CliRunner().invoke(app, ["funnel", "-w", str(root), "--by", "channel"])
    assert text.exit_code == 0, text.output
    assert "Bottleneck (conversion): mql -> sql converts least: 0.0% (0 of 1)" in " ".join(text.output.split())
    bad = CliRunner().invoke(app, ["funnel", "-w", str(root), "--by", "weather"])
    assert bad.exit_code == 1 and "channel, source, campaign" in bad.output


def test_the_channel_that_lags_the_others_is_named_per_transition():
    history = _history(_cohort(1, 100, 0.5) + _cohort(2, 100, 0.1))
    groups = pa.table({"person_id": [f"m{m}-{i}" for m in (1, 2) for i in range(100)],
                       "group": ["Email"] * 100 + ["Paid Social"] * 100})
    report = funnel(history, stages=("lead", "mql"), groups=groups)
    (lag,) = report.laggards
    assert (lag.stage, lag.kind, lag.group) == ("lead", "conversion", "Paid Social")
    assert lag.reason == "lead -> mql: Paid Social converts 10.0%, 40.0 points below the other groups (median 50.0%)"
    assert lag.loss == 0.8


def test_a_slowdown_is_the_bottleneck_when_nothing_converts_less():
    # conversions hold steady; MQLs of February take 12 days to become SQLs instead of 5.5
    history = _history(_cohort(1, 100, 0.5, sql_share=1, sql_days=5.5)
                       + _cohort(2, 100, 0.5, sql_share=1, sql_days=12) + _LATE)
    report = funnel(history, stages=("lead", "mql", "sql"))
    assert (report.bottleneck.stage, report.bottleneck.kind) == ("mql", "speed")
    assert report.bottleneck.reason == ("mql -> sql took a median 12.0 days in cohort 2024-02, "
                                        "up from 5.5 days in 2024-01")
    assert report.bottleneck.loss == round(1 - 5.5 / 12, 4)
    assert [s.median_days for s in report.cohorts["2024-02"]] == [5.0, 12.0]


def test_a_conversion_drop_that_loses_more_beats_a_slowdown():
    # lead -> mql falls from 50 % to 10 % (loses 80 %); mql -> sql slows from 5 to 8 days (loses 37.5 %)
    history = _history(_cohort(1, 300, 0.5, sql_share=1, sql_days=5)
                       + _cohort(2, 300, 0.1, sql_share=1, sql_days=8) + _LATE)
    report = funnel(history, stages=("lead", "mql", "sql"))
    assert (report.bottleneck.stage, report.bottleneck.kind, report.bottleneck.loss) == ("lead", "conversion", 0.8)
    # the same slowdown with the conversion held is named instead
    held = funnel(_history(_cohort(1, 300, 0.5, sql_share=1, sql_days=5)
                           + _cohort(2, 300, 0.5, sql_share=1, sql_days=8) + _LATE), stages=("lead", "mql", "sql"))
    assert (held.bottleneck.stage, held.bottleneck.kind, held.bottleneck.loss) == ("mql", "speed", 0.375)


def test_a_slowdown_in_a_cohort_with_few_conversions_or_under_a_day_is_not_an_alarm():
    # February: only 15 MQLs, all slow; the 30-day window still counts them, but 15 medians are noise
    few = funnel(_history(_cohort(1, 100, 0.5, sql_share=1, sql_days=5)
                          + _cohort(2, 30, 0.5, sql_share=1, sql_days=25) + _LATE), stages=("lead", "mql", "sql"))
    assert few.bottleneck.kind == "conversion" and few.bottleneck.reason.startswith("lead -> mql converts least")
    # same-day hand-offs that now take half a day lose nothing worth naming
    hours = funnel(_history(_cohort(1, 100, 0.5, sql_share=1, sql_days=0)
                            + _cohort(2, 100, 0.5, sql_share=1, sql_days=0.5) + _LATE), stages=("lead", "mql", "sql"))
    assert hours.bottleneck.reason.startswith("lead -> mql converts least")


def test_a_cohort_dip_within_chance_is_not_the_bottleneck():
    # 50 % -> 40 % on 25 people each is a 2-person swing, not a leak
    history = _history(_cohort(1, 25, 0.5) + _cohort(2, 25, 0.4) + _LATE)
    report = funnel(history, stages=("lead", "mql"))
    assert report.bottleneck.reason.startswith("lead -> mql converts least")


def test_the_channel_that_takes_longest_is_named_with_how_much_longer():
    rows = _cohort(1, 60, 0.5, mql_days=4, prefix="e") + _cohort(1, 60, 0.5, mql_days=9.1, prefix="p") + _LATE
    groups = pa.table({"person_id": [f"{p}1-{i}" for p in "ep" for i in range(60)],
                       "group": ["Email"] * 60 + ["Paid Social"] * 60})
    report = funnel(_history(rows), stages=("lead", "mql"), groups=groups, group_label="channel")
    (lag,) = report.laggards
    assert (lag.stage, lag.kind, lag.group) == ("lead", "speed", "Paid Social")
    assert lag.reason == "lead -> mql: Paid Social takes a median 9.1 days, 2.3x the other channels (median 4.0)"
    assert [report.groups[g][0].median_days for g in ("Email", "Paid Social")] == [4.0, 9.1]


def test_a_channel_lagging_both_ways_is_named_for_the_worse():
    # Paid Social converts 40 % instead of 50 % (loses 20 %) and takes 10 days instead of 4 (loses 60 %)
    rows = _cohort(1, 100, 0.5, mql_days=4, prefix="e") + _cohort(1, 100, 0.4, mql_days=10, prefix="p")
    groups = pa.table({"person_id": [f"{p}1-{i}" for p in "ep" for i in range(100)],
                       "group": ["Email"] * 100 + ["Paid Social"] * 100})
    (lag,) = funnel(_history(rows), stages=("lead", "mql"), groups=groups).laggards
    assert (lag.group, lag.kind, lag.loss) == ("Paid Social", "speed", 0.6)


def test_small_groups_and_people_in_no_group_are_not_compared():
    # Referral: 30 leads, 15 slow MQLs (too few to time); Events: 10 leads that never convert (too few);
    # people with no first touch convert far better but belong to no channel: no one lags
    rows = (_cohort(1, 60, 0.5, mql_days=4, prefix="e") + _cohort(1, 60, 0.5, mql_days=4, prefix="p")
            + _cohort(1, 30, 0.5, mql_days=25, prefix="r") + _cohort(1, 10, 0, prefix="v")
            + _cohort(1, 100, 1.0, mql_days=1, prefix="x"))
    people = {"e": "Email", "p": "Paid Social", "r": "Referral", "v": "Events"}
    sizes = {"e": 60, "p": 60, "r": 30, "v": 10}
    groups = pa.table({"person_id": [f"{p}1-{i}" for p in people for i in range(sizes[p])],
                       "group": [people[p] for p in people for _ in range(sizes[p])]})
    report = funnel(_history(rows), stages=("lead", "mql"), groups=groups)
    assert report.groups["Referral"][0].median_days == 25.0 and report.groups["Events"][0].converted == 0
    assert report.laggards == []


#: (leads, share of MQLs becoming SQL, days to SQL) of one cohort
_COHORT = st.tuples(st.integers(0, 120), st.sampled_from([0, 0.1, 0.3, 0.5, 0.9]),
                    st.sampled_from([0, 0.5, 2, 5, 9, 20]))


@settings(max_examples=40, deadline=None)
@given(first=_COHORT, second=_COHORT)
def test_a_named_worsening_is_a_real_one_between_cohorts_big_enough(first, second):
    history = _history(_cohort(1, first[0], 0.5, sql_share=first[1], sql_days=first[2])
                       + _cohort(2, second[0], 0.5, sql_share=second[1], sql_days=second[2]) + _LATE)
    report = funnel(history, stages=("lead", "mql", "sql"))
    neck = report.bottleneck
    if neck.loss is None:  # the "converts least" fallback
        return
    t = ("lead", "mql").index(neck.stage)
    old, new = report.cohorts["2024-01"][t], report.cohorts["2024-02"][t]
    assert MIN_LOSS <= neck.loss <= 1
    if neck.kind == "speed":
        assert min(old.converted, new.converted) >= MIN_TIMED and new.median_days > old.median_days
    else:
        assert min(old.reached, new.reached) >= MIN_COHORT and new.conversion < old.conversion


def test_funnel_command_names_a_slowdown_and_marks_it(ws):
    people = [(i, dt.date(2024, 1 + i // 40, 1 + i % 20)) for i in range(80)]  # 40 leads in January, 40 in February
    (ws.inbox / "contacts.csv").write_text(
        "Record ID,Email\n" + "".join(f"{i},p{i}@acme-analytics.com\n" for i, _ in people + [(99, None)]))
    (ws.inbox / "stages.csv").write_text("Contact ID,Lifecycle Stage,Entered At\n" + "".join(
        f"{i},lead,{day}\n{i},mql,{day + dt.timedelta(days=5 if i < 40 else 12)}\n" for i, day in people)
        + "99,lead,2024-06-01\n")
    assert run_pipeline(ws).status == "succeeded"
    root = ws.root
    ws.close()
    out = CliRunner().invoke(app, ["funnel", "-w", str(root), "--stages", "lead,mql"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert ("Bottleneck (speed): lead -> mql took a median 12.0 days in cohort 2024-02, "
            "up from 5.0 days in 2024-01") in text
    assert "8.5 ▲" in text  # the overall median, marked as the slowed-down step
    data = json.loads(CliRunner().invoke(app, ["funnel", "-w", str(root), "--stages", "lead,mql", "--json"]).output)
    assert data["bottleneck"]["kind"] == "speed" and data["bottleneck"]["loss"] == round(1 - 5 / 12, 4)
    assert [c[0]["median_days"] for c in data["cohorts"].values()][:2] == [5.0, 12.0]
