"""Goals: forecasts and statuses on constructed histories, the SMART check's messages, and the CLI.

The workspace here is built by hand (ad spend with a known trend, no pipeline run) so that the
numbers are exact; ``today`` is passed explicitly wherever "now" matters.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.metrics.query import shift_period
from marketops.plan.forecast import best_growth, forecast, linear_fit, seasonal_index
from marketops.plan.goals import GoalDraft, GoalRejected, check_goal, create_goal, goal_tree, update_goal
from marketops.plan.progress import evaluate, measure_after_run, measure_goals, share
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import Goal, GoalProgress, Initiative
from marketops.workspace import Workspace

FIRST = dt.date(2024, 1, 1)
MONTHS = 30  # 2024-01 .. 2026-06, the last month complete
TODAY = dt.date(2026, 7, 10)
runner = CliRunner()


def month(i: int) -> dt.date:
    return shift_period(FIRST, "month", i)


def build_workspace(root: Path, *, first: dt.date = FIRST, months: int = MONTHS) -> Path:
    """Ad spend for ``months`` months from ``first``: Google Ads clicks grow by 10 a month from 200
    (Paid Search), Meta Ads clicks stay at 100 (Paid Social); cost 1 per click. Two rows a month
    (the first and the last day), so the last month is complete."""
    ws = Workspace.init(root)
    rows: dict[str, list] = {k: [] for k in ("record_key", "date", "platform", "campaign", "clicks", "impressions",
                                             "cost", "currency")}
    for i in range(months):
        m = shift_period(first, "month", i)
        last = shift_period(m, "month", 1) - dt.timedelta(days=1)
        for day, part in ((1, 0.5), (last.day, 0.5)):
            for platform, clicks in (("google_ads", 200 + 10 * i), ("meta_ads", 100)):
                rows["record_key"].append(f"{platform}:{i}:{day}")
                rows["date"].append(m.replace(day=day))
                rows["platform"].append(platform)
                rows["campaign"].append("always on")
                rows["clicks"].append(int(clicks * part))
                rows["impressions"].append(int(clicks * part * 50))
                rows["cost"].append(clicks * part * 1.0)
                rows["currency"].append("EUR")
    try:
        ws.engine.write("ad_spend__r1", pa.table(rows))
        ws.engine.publish({"ad_spend": "ad_spend__r1"}, "r1")
    finally:
        ws.close()
    return root


@pytest.fixture
def ws(tmp_path, monkeypatch):
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    workspace = Workspace.open(build_workspace(tmp_path / "acme"), read_only=True)
    init_db(workspace.app_database_url)
    yield workspace
    workspace.close()
    dispose(workspace.app_database_url)


@pytest.fixture
def session(ws):
    with session_scope(ws.app_database_url) as s:
        yield s


def draft(**kw) -> GoalDraft:
    base = {"title": "More paid search clicks", "metric": "clicks", "filters": {"channel": "Paid Search"},
            "target": 600.0, "deadline": dt.date(2026, 12, 31), "start_date": dt.date(2026, 7, 1)}
    return GoalDraft(**{**base, **kw})


def letters(checks) -> dict:
    return {c.letter: c for c in checks}


# -- forecasts ------------------------------------------------------------------------------------

def test_linear_forecast_continues_a_straight_line():
    f = forecast([10, 20, 30, 40, 50], steps=3)
    assert f.method == "linear"
    assert [round(v, 6) for v in f.values] == [60, 70, 80]


def test_too_little_history_gives_a_flat_forecast():
    f = forecast([12, 30], steps=4)
    assert f.method == "flat" and f.values == [30, 30, 30, 30]


def test_seasonal_forecast_needs_two_seasons_and_keeps_the_peak_month():
    history = [100 + 2 * i + (60 if i % 12 == 10 else 0) for i in range(24)]  # every November peaks
    f = forecast(history, steps=12, season=12)
    assert f.method == "seasonal"
    assert max(range(12), key=lambda k: f.values[k]) == 10  # step 11 is November again
    assert forecast(history[:23], steps=12, season=12).method == "linear"  # 23 months: no seasonality


def test_seasonal_index_is_additive_when_a_value_is_zero():
    index, multiplicative = seasonal_index([0, 10] * 4, 2)
    assert not multiplicative and abs(sum(index)) < 1e-9


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40),
       st.floats(-1e3, 1e3, allow_nan=False))
@settings(max_examples=60, deadline=None)
def test_a_line_fits_any_straight_series_exactly(noise, slope):
    # invariant: least squares through points on a line gives back that line
    values = [noise[0] + slope * i for i in range(len(noise))]
    intercept, fitted = linear_fit(values)
    assert fitted == pytest.approx(slope, rel=1e-6, abs=1e-6)
    assert intercept == pytest.approx(noise[0], rel=1e-6, abs=1e-3)


def test_best_growth_is_the_fastest_sustained_stretch():
    assert best_growth([100, 120, 144, 100, 105], 2) == pytest.approx(0.2)
    assert best_growth([100, 120, 144, 100, 105], 1) == pytest.approx(0.2)


# -- statuses on constructed histories --------------------------------------------------------------

def history(values: list[float], first: dt.date = dt.date(2026, 1, 1)) -> list[tuple[dt.date, float]]:
    return [(shift_period(first, "month", i), v) for i, v in enumerate(values)]


def judge(values, *, target, baseline=1000.0, today=dt.date(2026, 7, 10), deadline=dt.date(2026, 12, 31),
          measure="period", higher_is_better=True, start=dt.date(2026, 1, 1)):
    return evaluate(history(values), grain="month", measure=measure, baseline=baseline, target=target,
                    start=start, deadline=deadline, today=today, higher_is_better=higher_is_better,
                    title="Clicks", label="clicks")


def test_on_track_when_the_trend_reaches_the_target():
    j = judge([1000, 1050, 1100, 1150, 1200, 1250], target=1500)  # +50 a month: 1,550 by December
    assert j.status == "on_track"
    assert j.forecast == pytest.approx(1550)
    assert j.progress == pytest.approx(0.5)
    assert "on track" in j.detail["method"] or j.message.startswith("Goal 'Clicks' is on track")


def test_at_risk_when_the_trend_gets_most_of_the_way():
    j = judge([1000, 1040, 1080, 1120, 1160, 1200], target=1500)  # 1,440 by December: 88 % of the way
    assert j.status == "at_risk"
    assert "at risk" in j.message and "88% of the way" in j.message


def test_off_track_when_the_trend_falls_short():
    j = judge([1000, 1000, 1010, 990, 1000, 1005], target=1500)
    assert j.status == "off_track"
    assert j.detail["forecast_share"] < 0.75


def test_within_the_tolerance_is_still_on_track():
    j = judge([1000, 1080, 1160, 1240, 1320, 1400], target=1900)  # 1,880: 97.8 % of the way
    assert j.status == "on_track" and j.forecast < 1900


def test_lower_is_better_goals_judge_the_other_way():
    down = judge([10, 9.5, 9, 8.5, 8, 7.5], baseline=10, target=6, higher_is_better=False)
    assert down.status == "on_track"
    flat = judge([10, 10, 10, 10, 10, 10], baseline=10, target=6, higher_is_better=False)
    assert flat.status == "off_track"


def test_after_the_deadline_a_goal_is_achieved_or_missed():
    done = judge([1000, 1200, 1400, 1600, 1700, 1800], target=1500, deadline=dt.date(2026, 5, 31),
                 today=dt.date(2026, 7, 10))
    assert done.status == "achieved" and done.value == 1700  # the value of the deadline's month
    short = judge([1000, 1100, 1200, 1300, 1400, 1500], target=1500, deadline=dt.date(2026, 5, 31))
    assert short.status == "missed"


def test_cumulative_goal_adds_up_since_the_start_and_forecasts_the_rest():
    j = judge([100] * 6, target=1200, baseline=None, measure="cumulative")  # 600 so far, 100 a month
    assert j.value == 600 and j.forecast == pytest.approx(1200) and j.status == "on_track"
    assert j.progress == pytest.approx(0.5)
    early = judge([300] * 6, target=1200, baseline=None, measure="cumulative")
    assert early.status == "achieved"  # reached before the deadline


def test_no_history_is_no_data():
    assert judge([], target=1).status == "no_data"


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6))
@settings(max_examples=80, deadline=None)
def test_share_is_one_exactly_at_the_target(value, baseline, target):
    if target == baseline:
        return
    assert share(target, baseline, target) == pytest.approx(1)
    assert share(baseline, baseline, target) == pytest.approx(0, abs=1e-9)


# -- the SMART check ---------------------------------------------------------------------------------

def test_a_good_goal_passes_every_letter_but_relevance(ws, session):
    result = check_goal(session, ws, draft(), today=TODAY)
    c = letters(result.checks)
    assert result.ok
    assert c["S"].ok and c["S"].message == "Clicks for channel = Paid Search."
    assert c["M"].ok and "from 2024-01-01" in c["M"].message
    assert c["T"].ok and "Due 2026-12-31" in c["T"].message
    assert not c["R"].ok and c["R"].severity == "warning"  # saved with a warning
    assert result.baseline == 490  # June 2026, the month before the start: 200 + 10 x 29
    assert result.baseline_measured


def test_whole_business_when_there_is_no_filter(ws, session):
    c = letters(check_goal(session, ws, draft(filters={}, target=900), today=TODAY).checks)
    assert c["S"].message == "Clicks for the whole business (no filter)."


def test_change_sets_the_target_from_the_measured_baseline(ws, session):
    result = check_goal(session, ws, draft(target=None, change="+25%"), today=TODAY)
    assert result.target == pytest.approx(612.5)
    assert check_goal(session, ws, draft(target=None, change="+100"), today=TODAY).target == 590


def test_unknown_metric_says_did_you_mean(ws, session):
    c = letters(check_goal(session, ws, draft(metric="clikcs"), today=TODAY).checks)
    assert c["M"].blocking and "did you mean 'clicks'" in c["M"].message


def test_metric_with_no_data_is_an_error(ws, session):
    c = letters(check_goal(session, ws, draft(metric="leads", filters={}), today=TODAY).checks)
    assert c["M"].blocking
    assert "has no data" in c["M"].message and "lifecycle_stages is not loaded. Load its data" in c["M"].message


def test_scope_with_no_rows_names_the_values_seen(ws, session):
    c = letters(check_goal(session, ws, draft(filters={"channel": "Emial"}), today=TODAY).checks)
    assert c["M"].blocking
    assert "no channel is 'Emial'" in c["M"].message and "Paid Search, Paid Social" in c["M"].message


def test_scope_on_a_dimension_the_metric_does_not_allow(ws, session):
    c = letters(check_goal(session, ws, draft(filters={"country": "IT"}), today=TODAY).checks)
    assert c["S"].blocking and "cannot be scoped by 'country'" in c["S"].message


def test_deadline_in_the_past_is_an_error(ws, session):
    c = letters(check_goal(session, ws, draft(deadline=dt.date(2026, 1, 31)), today=TODAY).checks)
    assert c["T"].blocking
    assert c["T"].message == ("The deadline 2026-01-31 is in the past (today is 2026-07-10): choose a date from "
                              "today on.")
    assert letters(check_goal(session, ws, draft(deadline=None), today=TODAY).checks)["T"].blocking


def test_target_below_the_baseline_of_a_higher_is_better_metric(ws, session):
    c = letters(check_goal(session, ws, draft(target=400), today=TODAY).checks)
    assert c["A"].blocking
    assert c["A"].message == ("The target 400 is not above the baseline 490, but higher clicks is better: set a "
                              "target above 490.")


def test_target_above_the_baseline_of_a_lower_is_better_metric(ws, session):
    c = letters(check_goal(session, ws, draft(metric="cpc", filters={}, target=5.0), today=TODAY).checks)
    assert c["A"].blocking and "not below the baseline 1" in c["A"].message and "lower cost per click" in c["A"].message


def test_a_growth_rate_never_seen_is_a_warning(ws, session):
    result = check_goal(session, ws, draft(target=5000), today=TODAY)
    c = letters(result.checks)
    assert result.ok and not c["A"].ok and c["A"].severity == "warning"
    assert "the best stretch of the history grew" in c["A"].message
    # the trend's own pace is fine
    assert letters(check_goal(session, ws, draft(target=540), today=TODAY).checks)["A"].ok


def test_cumulative_needs_a_metric_that_adds_up(ws, session):
    c = letters(check_goal(session, ws, draft(metric="ctr", filters={}, target=5, measure="cumulative"),
                           today=TODAY).checks)
    assert c["A"].blocking and "cannot be totalled" in c["A"].message


def test_relevant_with_a_parent_or_an_initiative(ws, session):
    parent, _ = create_goal(session, ws, draft(title="Company clicks", filters={}, target=1000), actor="t",
                            today=TODAY)
    initiative = Initiative(title="Search push")
    session.add(initiative)
    session.flush()
    result = check_goal(session, ws, draft(parent_id=parent.id, initiative_ids=[initiative.id], level="team"),
                        today=TODAY)
    assert letters(result.checks)["R"].ok
    assert "parent goal 'Company clicks'" in letters(result.checks)["R"].message
    missing = letters(check_goal(session, ws, draft(parent_id=999), today=TODAY).checks)["R"]
    assert missing.blocking and "no goal 999" in missing.message


def test_errors_block_creation_and_warnings_are_saved(ws, session):
    with pytest.raises(GoalRejected) as e:
        create_goal(session, ws, draft(deadline=dt.date(2020, 1, 1)), actor="t", today=TODAY)
    assert "Time-bound" in e.value.message
    assert session.scalars(select(Goal)).first() is None
    goal, _ = create_goal(session, ws, draft(), actor="ana@acme.test", today=TODAY)
    event = session.scalars(select(AuditEvent).where(AuditEvent.target == f"goal:{goal.id}")).one()
    assert event.action == "goal.create" and event.actor == "ana@acme.test"
    assert {c["letter"]: c["ok"] for c in event.detail["smart"]}["R"] is False


def test_a_goal_cannot_become_its_own_ancestor(ws, session):
    top, _ = create_goal(session, ws, draft(title="Top", filters={}, target=1000), actor="t", today=TODAY)
    child, _ = create_goal(session, ws, draft(title="Child", parent_id=top.id, level="team"), actor="t", today=TODAY)
    with pytest.raises(GoalRejected) as e:
        update_goal(session, ws, top, {"parent_id": child.id}, actor="t", today=TODAY)
    assert "go round in a circle" in e.value.message


# -- measuring -----------------------------------------------------------------------------------------

def test_created_goal_is_measured_with_its_forecast(ws, session):
    goal, _ = create_goal(session, ws, draft(target=540), actor="t", today=TODAY)
    row = session.scalars(select(GoalProgress).where(GoalProgress.goal_id == goal.id)).one()
    # June 2026 is 490 and the line adds 10 a month: 550 in December against a target of 540
    assert row.value == 490 and row.forecast == pytest.approx(550)
    assert row.status == "on_track" and row.as_of == dt.date(2026, 6, 30)
    assert row.detail["message"].startswith("Goal 'More paid search clicks' is on track")
    assert row.detail["series"][-1] == {"period": "2026-06-01", "value": 490.0}


def test_goal_tree_orders_company_team_person(ws, session):
    top, _ = create_goal(session, ws, draft(title="Top", filters={}, target=1000), actor="t", today=TODAY)
    team, _ = create_goal(session, ws, draft(title="Team", parent_id=top.id, level="team"), actor="t", today=TODAY)
    create_goal(session, ws, draft(title="Person", parent_id=team.id, level="person", target=520), actor="t",
                today=TODAY)
    create_goal(session, ws, draft(title="Other top", filters={}, target=1100), actor="t", today=TODAY)
    rows = goal_tree(session)
    assert [(r.goal.title, r.depth) for r in rows] == [("Top", 0), ("Team", 1), ("Person", 2), ("Other top", 0)]


def test_a_goal_that_cannot_be_measured_records_no_data(ws, session):
    session.add(Goal(title="Broken", metric="no_such_metric", target=1, deadline=dt.date(2027, 1, 1)))
    session.flush()
    rows = measure_goals(session, ws, run_id="r2", today=TODAY)
    assert rows[0].status == "no_data" and rows[0].run_id == "r2"
    assert "unknown metric 'no_such_metric'" in rows[0].detail["message"]


def test_measure_after_run_never_raises(ws):
    with session_scope(ws.app_database_url) as s:
        s.add(Goal(title="Broken", metric="clicks", filters={"country": "IT"}, target=1, deadline=dt.date(2027, 1, 1)))
    out = measure_after_run(ws, "r9", today=TODAY)
    assert out == {"measured": 1, "statuses": {"no_data": 1}}


# -- the CLI -------------------------------------------------------------------------------------------

def cli(*args):
    return runner.invoke(cli_app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def root(tmp_path, monkeypatch):
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    r = build_workspace(tmp_path / "acme")
    yield r
    dispose()


def test_cli_add_list_show_check_measure(root):
    out = cli("goals", "add", "More paid search clicks", "--metric", "clicks", "--where", "channel=Paid Search",
              "--change", "+10%", "--deadline", "2026-12-31", "--start", "2026-07-01", "--owner", "ana@acme.test",
              "-w", root, "--today", "2026-07-10")
    assert out.exit_code == 0, out.output
    assert "Specific" in out.output and "Time-bound" in out.output and "Added goal 1" in out.output
    assert "target 539.00, baseline 490.00" in out.output
    out = cli("goals", "add", "Team clicks", "--metric", "clicks", "--where", "channel=Paid Search", "--target", "530",
              "--deadline", "2026-12-31", "--parent", "1", "--level", "team", "--team", "Search", "-w", root,
              "--today", "2026-07-10", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["parent_id"] == 1 and data["status"] == "on_track" and data["smart"]["ok"]

    listed = json.loads(cli("goals", "list", "-w", root, "--json").output)
    assert [(g["id"], g["depth"]) for g in listed] == [(1, 0), (2, 1)]
    assert cli("goals", "list", "-w", root).exit_code == 0

    shown = json.loads(cli("goals", "show", "2", "-w", root, "--json").output)
    assert shown["progress"]["detail"]["message"].startswith("Goal 'Team clicks' is on track")
    assert {c["letter"] for c in shown["smart"]} == set("SMART")

    measured = json.loads(cli("goals", "measure", "-w", root, "--json", "--today", "2026-07-10").output)
    assert [m["goal_id"] for m in measured] == [1, 2]
    assert len(json.loads(cli("goals", "show", "1", "-w", root, "--json").output)["history"]) == 2


def test_cli_refuses_a_bad_goal_with_every_message(root):
    out = cli("goals", "add", "Bad", "--metric", "clikcs", "--target", "5", "--deadline", "2020-01-01", "-w", root)
    assert out.exit_code == 1
    assert "did you mean 'clicks'" in out.output and "is in the past" in out.output
    assert "the goal was not saved" in out.output
    assert json.loads(cli("goals", "list", "-w", root, "--json").output) == []


def test_cli_check_saves_nothing(root):
    out = cli("goals", "check", "x", "--metric", "clicks", "--target", "100", "--deadline", "2026-12-31", "-w", root,
              "--today", "2026-07-10", "--json")
    assert out.exit_code == 1  # 100 is below the baseline of 590 clicks (490 + 100)
    data = json.loads(out.output)
    assert data["ok"] is False and data["baseline"] == 590
    ok = cli("goals", "check", "x", "--metric", "clicks", "--change", "+5%", "--deadline", "2026-12-31", "-w", root,
             "--today", "2026-07-10")
    assert ok.exit_code == 0 and "Target 619.50, baseline 590.00 (measured)" in ok.output
    assert json.loads(cli("goals", "list", "-w", root, "--json").output) == []


def test_cli_show_unknown_goal(root):
    out = cli("goals", "show", "42", "-w", root)
    assert out.exit_code == 1 and "there is no goal 42" in out.output
