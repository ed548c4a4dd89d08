"""Internal SLAs: bad rules fail at load time with file, line and "did you mean"; business hours;
compliance per period on constructed data (volume and response rules); the CLI.

The workspace is built by hand so the numbers are exact: people enter the MQL stage on known days
and sales logs its first activity a known number of hours later (see :func:`sla_workspace`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.errors import ConfigError, NotFound
from marketops.plan.sla_config import WorkingCalendar
from marketops.plan.slas import judge_period, sla_report_named, sla_reports
from marketops.settings import load_config
from marketops.workspace import Workspace

runner = CliRunner()
TODAY = dt.date(2026, 4, 15)  # April 2026 in progress; data through 14 April

SLA_YAML = """\
name: Acme
timezone: Europe/Rome
slas:
  calendar:
    days: [mon, tue, wed, thu, fri]
    start: "09:00"
    end: "17:00"
  rules:
    - name: mql-volume
      from_team: marketing
      to_team: sales
      description: Marketing delivers at least 10 MQLs a month to sales
      owner: mia@acme.test
      metric: mqls
      at_least: 10
      per: month
    - name: mql-follow-up
      from_team: sales
      to_team: marketing
      description: Sales follows up MQLs within 24 business hours
      owner: sam@acme.test
      per: month
      response:
        from_stage: MQL
        until: sales_activity
        within_hours: 24
        share: 0.9
    - name: google-clicks
      from_team: marketing
      to_team: sales
      metric: clicks
      at_least: 50
      per: month
      filters: {platform: google_ads}
"""

#: MQLs per month (Jan, Feb, Mar, Apr so far) and how many of each month's MQLs sales answers late.
MQLS = {1: 12, 2: 8, 3: 10, 4: 3}
LATE = {1: 0, 2: 2, 3: 0, 4: 1}


def _rome(day: dt.date, hour: int) -> dt.datetime:
    """A Rome wall-clock time as naive UTC (how the warehouse keeps timestamps)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=ZoneInfo("Europe/Rome")) \
        .astimezone(dt.UTC).replace(tzinfo=None)


def _weekdays(year: int, month: int, n: int) -> list[dt.date]:
    d, out = dt.date(year, month, 1), []
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def sla_workspace(root: Path, yaml: str = SLA_YAML) -> Path:
    """People enter MQL at 10:00 Rome on the first weekdays of each month; sales calls 2 hours later,
    or (for the LATE ones) 4 working days later (32 business hours). Every MQL also has an inbound
    email and a note within the hour: neither is a follow-up. Google Ads clicks: 40 in January, 60
    from February. Data runs through 14 April 2026."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "marketops.yaml").write_text(yaml, encoding="utf-8")
    ws = Workspace.init(root)
    stages: dict[str, list] = {"record_key": [], "person_id": [], "stage": [], "entered_at": []}
    acts: dict[str, list] = {"record_key": [], "person_id": [], "type": [], "direction": [], "occurred_at": []}
    for month, n in MQLS.items():
        for i, day in enumerate(_weekdays(2026, month, n)):
            pid = f"p{month}-{i}"
            start = _rome(day, 10)
            stages["record_key"].append(f"s{pid}")
            stages["person_id"].append(pid)
            stages["stage"].append("Marketing Qualified Lead" if i % 2 else "mql")
            stages["entered_at"].append(start)
            late = i < LATE[month]
            answer = start + (dt.timedelta(hours=2) if not late else dt.timedelta(days=6 if day.weekday() >= 1 else 4))
            for kind, direction, at in (("email", "inbound", start + dt.timedelta(minutes=5)),
                                        ("note", "outbound", start + dt.timedelta(minutes=10)),
                                        ("call", "outbound", answer)):
                acts["record_key"].append(f"a{pid}{kind}")
                acts["person_id"].append(pid)
                acts["type"].append(kind)
                acts["direction"].append(direction)
                acts["occurred_at"].append(at)
    # the end of the data: a lead on 14 April 16:00 whose time has not run out (pending)
    stages["record_key"].append("send")
    stages["person_id"].append("pend")
    stages["stage"].append("lead")
    stages["entered_at"].append(_rome(dt.date(2026, 4, 14), 16))
    acts["record_key"].append("aend")
    acts["person_id"].append("other")
    acts["type"].append("call")
    acts["direction"].append("outbound")
    acts["occurred_at"].append(_rome(dt.date(2026, 4, 14), 16))
    spend = {"record_key": [], "date": [], "platform": [], "campaign": [], "clicks": [], "cost": [], "currency": []}
    for month in (1, 2, 3, 4):
        for platform, clicks in (("google_ads", 40 if month == 1 else 60), ("meta_ads", 5)):
            spend["record_key"].append(f"{platform}{month}")
            spend["date"].append(dt.date(2026, month, 1))
            spend["platform"].append(platform)
            spend["campaign"].append("always on")
            spend["clicks"].append(clicks)
            spend["cost"].append(float(clicks))
            spend["currency"].append("EUR")
    spend["record_key"].append("last")
    spend["date"].append(dt.date(2026, 4, 14))
    for k, v in (("platform", "meta_ads"), ("campaign", "x"), ("clicks", 0), ("cost", 0.0), ("currency", "EUR")):
        spend[k].append(v)
    try:
        eng = ws.engine
        eng.write("lifecycle_stages__r1", pa.table(stages))
        eng.write("sales_activities__r1", pa.table(acts))
        eng.write("ad_spend__r1", pa.table({**spend, "date": pa.array(spend["date"], pa.date32())}))
        eng.publish({"lifecycle_stages": "lifecycle_stages__r1", "sales_activities": "sales_activities__r1",
                     "ad_spend": "ad_spend__r1"}, "r1")
    finally:
        ws.close()
    return root


@pytest.fixture(scope="module")
def sla_root(tmp_path_factory) -> Path:
    return sla_workspace(tmp_path_factory.mktemp("slas") / "acme")


@pytest.fixture
def ws(sla_root):
    w = Workspace.open(sla_root, read_only=True)
    yield w
    w.close()


# -- bad rules fail at load time --------------------------------------------------------------------------

BASE = "name: x\nslas:\n  rules:\n    - name: r\n      from_team: marketing\n      to_team: sales\n"


@pytest.mark.parametrize("rule, line, words", [
    ("      metric: mqlz\n      at_least: 400\n", 7, "unknown metric 'mqlz' (did you mean 'mqls'?)"),
    ("      metric: mqls\n      at_least: 400\n      per: montly\n", 9, "unknown period 'montly' (did you mean 'month'?)"),
    ("      metric: mqls\n      at_least: 400\n      filters:\n        chanel: Email\n", 9,
     "cannot be scoped by 'chanel' (did you mean 'channel'?)"),
    ("      response:\n        from_stage: mqll\n        within_hours: 24\n", 8, "unknown stage 'mqll' (did you mean 'mql'?)"),
    ("      response:\n        from_stage: mql\n        until: sales_activty\n        within_hours: 24\n", 9,
     "unknown stop 'sales_activty' (did you mean 'sales_activity'?)"),
    ("      response:\n        from_stage: mql\n        within_hours: 24\n        share: 90\n", 10,
     "less than or equal to 1"),
    ("      metric: mqls\n", 4, "needs exactly one of at_least or at_most"),
    ("      description: no rule\n", 4, "needs a rule"),
    ("      metric: mqls\n      at_least: 1\n      response:\n        from_stage: mql\n        within_hours: 2\n", 4,
     "takes no metric"),
])
def test_a_bad_sla_rule_fails_at_load_time_with_file_line_and_did_you_mean(tmp_path, rule, line, words):
    p = tmp_path / "marketops.yaml"
    p.write_text(BASE + rule)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert f"marketops.yaml:{line}" in str(e.value) and words in str(e.value), str(e.value)


def test_calendar_and_duplicate_names_are_checked(tmp_path):
    p = tmp_path / "marketops.yaml"
    p.write_text("name: x\nslas:\n  calendar:\n    days: [mon, tues, frid]\n")
    with pytest.raises(ConfigError, match="unknown working day 'tues' \\(did you mean 'tue'\\?\\)"):
        load_config(p)
    p.write_text("name: x\nslas:\n  calendar:\n    start: '18:00'\n    end: '09:00'\n")
    with pytest.raises(ConfigError, match="must end after it starts"):
        load_config(p)
    rule = "    - {name: a, from_team: m, to_team: s, metric: mqls, at_least: 1}\n"
    p.write_text("name: x\nslas:\n  rules:\n" + rule + rule)
    with pytest.raises(ConfigError, match="repeated: a"):
        load_config(p)


def test_a_rule_may_use_a_workspace_metric(tmp_path):
    p = tmp_path / "marketops.yaml"
    p.write_text("name: x\nmetrics:\n  - name: demo_requests\n    label: Demo requests\n    table: touchpoints\n"
                 "    expression: count(*)\n    filter: type = 'form_fill'\n"
                 "slas:\n  rules:\n    - {name: demos, from_team: marketing, to_team: sales, metric: demo_requests, "
                 "at_least: 5, per: week}\n")
    assert load_config(p).slas.rules[0].metric == "demo_requests"


# -- business hours -------------------------------------------------------------------------------------

CAL = WorkingCalendar(holidays=[dt.date(2026, 3, 10)]).business("Europe/Rome")


def test_business_hours_skip_nights_weekends_and_holidays():
    fri_16 = _rome(dt.date(2026, 3, 6), 16)
    assert CAL.hours_between(fri_16, _rome(dt.date(2026, 3, 9), 10)) == 2  # Fri 16-17, Mon 9-10
    assert CAL.hours_between(fri_16, _rome(dt.date(2026, 3, 11), 10)) == 10  # Tuesday 10 March is a holiday
    assert CAL.hours_between(_rome(dt.date(2026, 3, 7), 12), _rome(dt.date(2026, 3, 8), 12)) == 0  # weekend
    assert CAL.hours_between(_rome(dt.date(2026, 3, 9), 7), _rome(dt.date(2026, 3, 9), 20)) == 8
    assert CAL.hours_between(_rome(dt.date(2026, 3, 9), 12), _rome(dt.date(2026, 3, 9), 11)) == 0


moments = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31))


@settings(max_examples=200, deadline=None)
@given(moments, moments, moments)
def test_business_hours_add_up_and_never_exceed_the_clock(a, b, c):
    a, b, c = sorted((a, b, c))
    whole = CAL.hours_between(a, c)
    assert whole == pytest.approx(CAL.hours_between(a, b) + CAL.hours_between(b, c), abs=1e-5)
    assert 0 <= whole <= (c - a).total_seconds() / 3600 + 1e-5


# -- compliance --------------------------------------------------------------------------------------------

def test_judging_a_period():
    assert (judge_period(12, 10, "at_least", complete=True).status, judge_period(12, 10, "at_least",
            complete=True).margin) == ("met", 2)
    assert judge_period(11, 10, "at_most", complete=True).margin == -1
    p = judge_period(3, 10, "at_least", complete=False, elapsed=0.5, additive=True)
    assert (p.status, p.projected, p.near_breach) == ("in_progress", 6, True)
    assert judge_period(0.8, 0.9, "at_least", complete=True, points=True).margin == pytest.approx(-10)


def test_volume_sla_compliance_per_month_with_the_current_month_in_progress(ws):
    rep = sla_report_named(ws, "mql-volume", today=TODAY)
    got = [(p.period.month, p.value, p.status, p.margin) for p in rep.periods]
    assert got == [(1, 12, "met", 2), (2, 8, "breached", -2), (3, 10, "met", 0), (4, 3, "in_progress", -7)]
    assert rep.as_of == dt.date(2026, 4, 14)
    cur = rep.current
    assert cur.elapsed == pytest.approx(14 / 30, abs=1e-3) and cur.projected == pytest.approx(3 / (14 / 30), abs=1e-3)
    assert cur.near_breach and rep.status == "at_risk"
    assert rep.compliance_rate == pytest.approx(2 / 3)
    assert rep.words == "marketing delivers at least 10 MQLs a month to sales."
    assert [p.period.month for p in sla_report_named(ws, "mql-volume", periods=2, today=TODAY).periods] == [3, 4]


def test_response_sla_counts_business_hours_to_the_first_outbound_follow_up(ws):
    rep = sla_report_named(ws, "mql-follow-up", today=TODAY)
    got = [(p.period.month, p.in_time, p.late, p.status) for p in rep.periods]
    assert got == [(1, 12, 0, "met"), (2, 6, 2, "breached"), (3, 10, 0, "met"), (4, 2, 1, "in_progress")]
    feb = rep.periods[1]
    assert feb.value == pytest.approx(0.75) and feb.margin == pytest.approx(-15)  # percentage points
    assert feb.median_hours == 2  # the inbound email and the note do not stop the clock
    assert rep.current.near_breach and rep.last_complete.status == "met"
    assert "within 24 business hours (Mon-Fri 09:00-17:00, Europe/Rome)" in rep.words


def test_a_volume_sla_with_scope_filters(ws):
    rep = sla_report_named(ws, "google-clicks", today=TODAY)
    assert [(p.value, p.status) for p in rep.periods] == [(40, "breached"), (60, "met"), (60, "met"),
                                                         (60, "in_progress")]
    assert not rep.current.near_breach  # 60 already, at least 50 needed


def test_an_sla_without_data_says_why(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "marketops.yaml").write_text(SLA_YAML)
    Workspace.init(root).close()
    w = Workspace.open(root, read_only=True)
    try:
        reps = {r.name: r for r in sla_reports(w, today=TODAY)}
    finally:
        w.close()
    assert reps["mql-volume"].status == "no_data" and "lifecycle_stages is not loaded" in reps["mql-volume"].message
    assert "sales_activities" in reps["mql-follow-up"].message or "lifecycle_stages" in reps["mql-follow-up"].message


def test_unknown_sla_name_says_did_you_mean(ws):
    with pytest.raises(NotFound, match="did you mean 'mql-volume'"):
        sla_report_named(ws, "mql-volum")


# -- CLI ---------------------------------------------------------------------------------------------------

def test_cli_lists_and_shows_slas(sla_root):
    r = runner.invoke(cli_app, ["slas", "--json", "--today", TODAY.isoformat(), "-w", str(sla_root)])
    assert r.exit_code == 0, r.output
    data = {s["name"]: s for s in json.loads(r.output)}
    assert data["mql-volume"]["status"] == "at_risk" and data["mql-volume"]["last_complete"]["status"] == "met"
    assert data["mql-follow-up"]["current"]["status"] == "in_progress"
    r = runner.invoke(cli_app, ["slas", "--periods", "2", "--today", TODAY.isoformat(), "-w", str(sla_root)])
    assert r.exit_code == 0 and "mql-volume: marketing delivers at least 10 MQLs a month" in r.output, r.output
    assert "at risk" in r.output
    r = runner.invoke(cli_app, ["slas", "show", "mql-follow-up", "--today", TODAY.isoformat(), "-w", str(sla_root)])
    assert r.exit_code == 0 and "Compliance: 67% of complete periods met" in r.output, r.output
    r = runner.invoke(cli_app, ["slas", "show", "mql-follow-up", "--json", "--today", TODAY.isoformat(),
                                "-w", str(sla_root)])
    assert [(p["period"], p["status"]) for p in json.loads(r.output)["periods"]][1] == ("2026-02-01", "breached")
    r = runner.invoke(cli_app, ["slas", "show", "mql-folow-up", "-w", str(sla_root)])
    assert r.exit_code == 1 and "did you mean 'mql-follow-up'" in r.output


def test_every_sla_and_alert_setting_is_documented():
    from marketops.plan.alert_config import AlertsConfig, Recipient, SmtpConfig
    from marketops.plan.sla_config import ResponseRule, SlaConfig, SlaRule
    from marketops.plan.sla_config import WorkingCalendar as Cal

    text = (Path(__file__).parent.parent / "docs" / "slas-and-alerts.md").read_text()
    for model in (SlaConfig, Cal, SlaRule, ResponseRule, AlertsConfig, SmtpConfig, Recipient):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no help text"
            assert f"`{name}`" in text, f"{model.__name__}.{name} is missing from docs/slas-and-alerts.md"
