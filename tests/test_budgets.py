"""Budgets below the web app: amounts as people type them, the line rules and their messages,
pacing on constructed months (plain daily series, and ad_spend written into a workspace),
the reallocation hint, the alerts contract, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from marketops.cli.main import app as cli
from marketops.plan import budget_lines as bl
from marketops.plan.budget_amounts import parse_amounts
from marketops.plan.budget_import import import_text
from marketops.plan.budgets import PacingAlert, budget_report, pacing_alerts
from marketops.plan.pacing import month_days, pace
from marketops.plan.reallocation import ChannelReturn, channel_plans, reallocate
from marketops.state.db import init_db, session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import BudgetLine
from marketops.workspace import Workspace

MARCH = dt.date(2026, 3, 1)
CTX = bl.BudgetContext(reporting_currency="EUR", channels=("Email", "Organic Search", "Paid Search", "Paid Social"),
                       platforms=("google_ads", "meta_ads"), data_channels=("Email", "Paid Search", "Paid Social"),
                       rates={"USD": [(dt.date(2026, 2, 1), D("0.95")), (dt.date(2026, 3, 1), D("0.9"))]})


@pytest.fixture
def db(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    init_db(url)
    return url


def spend_workspace(root: Path) -> Path:
    """A workspace whose last run published constructed ad spend (Jan-Mar 2026) and exchange rates.

    google_ads / brand_search spends 100 on weekdays and 20 at weekends in January and February,
    then 150 a day from 1 to 10 March; meta_ads spends 50 USD a day from 1 to 10 March (45 EUR at 0.9).
    """
    ws = Workspace.init(root)
    rows = []
    for month in (1, 2):
        for d in month_days(dt.date(2026, month, 1)):
            rows.append((d, "google_ads", "brand_search", D(20 if d.weekday() >= 5 else 100), "EUR"))
    for day in range(1, 11):
        rows.append((dt.date(2026, 3, day), "google_ads", "brand_search", D(150), "EUR"))
        rows.append((dt.date(2026, 3, day), "meta_ads", "retargeting", D(50), "USD"))
    try:
        eng = ws.engine
        eng.write("ad_spend__r1", pa.table({
            "record_key": [f"s{i}" for i in range(len(rows))],
            "date": pa.array([r[0] for r in rows], pa.date32()),
            "platform": [r[1] for r in rows], "campaign": [r[2] for r in rows],
            "cost": pa.array([r[3] for r in rows], pa.decimal128(18, 4)), "currency": [r[4] for r in rows]}))
        eng.write("exchange_rates__r1", pa.table({
            "record_key": ["r1", "r2"], "date": pa.array([dt.date(2026, 1, 1), dt.date(2026, 3, 1)], pa.date32()),
            "currency": ["USD", "USD"], "rate": [0.92, 0.9]}))
        eng.publish({"ad_spend": "ad_spend__r1", "exchange_rates": "exchange_rates__r1"}, "r1")
    finally:
        ws.close()
    return root


# -- amounts -------------------------------------------------------------------------------------------

def test_amounts_are_read_the_way_people_write_them():
    got = parse_amounts(["12 000", "12.000,50", "€12,000", "12000", "1 234,5 USD", "$1,200.75", "n/a", "abc"])
    assert [(a.amount, a.currency) for a in got] == [
        (D("12000.00"), None), (D("12000.50"), None), (D("12000.00"), "EUR"), (D("12000.00"), None),
        (D("1234.50"), "USD"), (D("1200.75"), "USD"), (None, None), (None, None)]
    assert got[6].blank and not got[7].blank


# -- line rules ------------------------------------------------------------------------------------------

def test_setting_a_line_again_updates_it_and_audits_each_change(db):
    with session_scope(db) as s:
        first = bl.set_line(s, CTX, "2026-12", "12000", channel="paid search", actor="ana")
        same = bl.set_line(s, CTX, "2026-12", "12 000", channel="Paid Search", actor="ana")
        changed = bl.set_line(s, CTX, "2026-12", "13.500,25", channel="Paid Search", actor="ana")
        assert (first.status, same.status, changed.status) == ("created", "unchanged", "updated")
        assert s.scalar(select(BudgetLine.amount_cents)) == 1_350_025
        events = s.scalars(select(AuditEvent).where(AuditEvent.target == f"budget:{first.line.id}")).all()
        assert [e.action for e in events] == ["budget.create", "budget.update"]
        assert events[1].detail["from_cents"] == 1_200_000


def test_platform_and_campaign_scopes_are_separate_lines(db):
    with session_scope(db) as s:
        a = bl.set_line(s, CTX, "2026-12", "100", platform="Google_Ads", actor="ana")
        b = bl.set_line(s, CTX, "2026-12", "40", platform="google_ads", campaign="Brand - Search", actor="ana")
        c = bl.set_line(s, CTX, "2026-12", "60", platform="google_ads", channel="Paid Search", actor="ana")
        assert a.line.id != b.line.id and c.line.id == a.line.id  # a platform with its own channel is the platform
        assert (b.line.platform, b.line.campaign) == ("google_ads", "brand_search")
        assert bl.scope_of(b.line).label == "google_ads / brand_search"


@pytest.mark.parametrize(("kwargs", "column", "words"), [
    ({"month": "2026-13"}, "month", "month '2026-13' is not a month written YYYY-MM"),
    ({"month": "Dec 2026"}, "month", "YYYY-MM"),
    ({"amount": "-5"}, "amount", "the amount -5 is negative"),
    ({"amount": "lots"}, "amount", "'lots' is not an amount like"),
    ({"channel": "Paid Serch"}, "channel", "unknown channel 'Paid Serch' (did you mean 'Paid Search'?)"),
    ({"channel": None, "platform": "gogle_ads"}, "platform", "did you mean 'google_ads'?"),
    ({"channel": None}, "channel", "needs a channel"),
    ({"channel": "Email", "platform": "google_ads"}, "platform", "spends in channel 'Paid Search', not 'Email'"),
    ({"currency": "GBP"}, "currency", "the budget is in GBP but reports are in EUR"),
    ({"amount": "$100", "currency": "EUR"}, "currency", "is in USD but the currency says EUR"),
])
def test_bad_lines_get_a_specific_message(db, kwargs, column, words):
    args = {"month": "2026-03", "amount": "100", "channel": "Paid Search", **kwargs}
    with session_scope(db) as s, pytest.raises(bl.BudgetRefused) as e:
        bl.set_line(s, CTX, args.pop("month"), args.pop("amount"), actor="ana", **args)
    assert words in e.value.message
    assert e.value.column == column


def test_unknown_channel_lists_the_channels_in_the_data():
    with pytest.raises(bl.BudgetRefused) as e:
        bl.check_scope(CTX, "Facebook", None, None)
    assert "channels in your data and channel rules: Email, Paid Search, Paid Social" in e.value.message


def test_a_foreign_budget_is_converted_at_the_rate_of_its_month(db):
    with session_scope(db) as s:
        r = bl.set_line(s, CTX, "2026-03", "1,000.00 USD", channel="Paid Social", actor="ana")
        assert r.line.amount_cents == 90_000 and r.line.currency == "EUR"
        assert "converted 1,000.00 USD to 900.00 EUR at 0.9 (the USD rate of 2026-03-01" in r.message
    with session_scope(db) as s, pytest.raises(bl.BudgetRefused) as e:
        bl.set_line(s, CTX, "2026-04", "1000", currency="USD", channel="Paid Social", actor="ana")
    assert "no USD rate dated in 2026-04" in e.value.message
    assert "exchange-rates export" in e.value.hint and "2026-04" in e.value.hint


def test_import_loads_good_rows_reports_bad_ones_and_is_idempotent(db):
    text = ("month,channel,platform,campaign,amount,currency\n"
            "2026-03,Paid Search,,,12 000,EUR\n"
            "2026-03,,meta_ads,Retargeting,\"1.500,50\",\n"
            "2026-03,Emial,,,100,\n"
            "2026-03,Email,,,-5,\n"
            "03/2026,Email,,,5,\n"
            "2026-03,Email,,,200,GBP\n"
            "2026-03,Paid Social,,,\"$1,000\",\n")
    with session_scope(db) as s:
        r = import_text(s, CTX, text, file="plan.csv", actor="ana")
        assert (r.created, r.updated, r.unchanged) == (3, 0, 0)
        assert [(e.row, e.column) for e in r.errors] == [(4, "channel"), (5, "amount"), (6, "month"),
                                                        (7, "currency")]
        assert str(r.errors[0]).startswith("plan.csv, row 4, column 'channel': unknown channel 'Emial'")
        assert "the amount -5 is negative" in r.errors[1].message
        assert r.conversions and r.conversions[0][0] == 8
    with session_scope(db) as s:
        events = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        again = import_text(s, CTX, text, file="plan.csv", actor="ana")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
        assert s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) == events  # nothing changed
        assert bl.total_cents(bl.list_lines(s, "2026-03")) == 1_200_000 + 150_050 + 90_000


def test_import_names_a_missing_column():
    with pytest.raises(Exception) as e, session_scope("sqlite://") as s:
        import_text(s, CTX, "month,amount\n2026-03,5\n", file="plan.csv", actor="ana")
    assert "plan.csv, row 1: the header lacks 'channel' or 'platform'" in str(e.value)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["Email", "Paid Search", "Paid Social"]), st.integers(0, 10**9),
                          st.booleans()), min_size=1, max_size=12))
def test_lines_set_then_summed_equal_the_plan_total_to_the_cent(db, lines):
    with session_scope(db) as s:
        for old in s.scalars(select(BudgetLine)):
            s.delete(old)
        s.flush()
        last: dict[str, int] = {}
        for channel, cents, comma in lines:
            whole, part = divmod(cents, 100)
            text = f"{whole:,}".replace(",", ".") + f",{part:02d}" if comma else f"{whole}.{part:02d}"
            bl.set_line(s, CTX, "2026-03", text, channel=channel, actor="ana")
            last[channel] = cents
        assert bl.total_cents(bl.list_lines(s, "2026-03")) == sum(last.values())
        assert sum(D(bl.line_json(x)["amount"]) for x in bl.list_lines(s, "2026-03")) == D(sum(last.values())) / 100


# -- pacing on plain daily series ----------------------------------------------------------------------

def test_even_curve_over_and_under_pacing():
    over = pace(D(3100), {dt.date(2026, 3, d): D(150) for d in range(1, 11)}, MARCH, today=dt.date(2026, 3, 11))
    assert (over.curve, over.expected_to_date, over.actual_to_date, over.projected, over.status) == (
        "even", D("1000.00"), D("1500.00"), D("4650.00"), "over_pacing")
    under = pace(D(3100), {dt.date(2026, 3, d): D(85) for d in range(1, 11)}, MARCH, today=dt.date(2026, 3, 11))
    assert under.status == "under_pacing" and under.projected == D("2635.00")
    on = pace(D(3100), {dt.date(2026, 3, d): D(95) for d in range(1, 11)}, MARCH, today=dt.date(2026, 3, 11))
    assert on.status == "on_pace"
    # a wider tolerance lets the same spend pass
    assert pace(D(3100), {dt.date(2026, 3, d): D(85) for d in range(1, 11)}, MARCH, today=dt.date(2026, 3, 11),
                tolerance=0.2).status == "on_pace"


def test_today_is_not_counted_and_nothing_is_judged_too_early():
    daily = {dt.date(2026, 3, d): D(500) for d in range(1, 3)}
    assert pace(D(3100), daily, MARCH, today=MARCH).status == "not_started"
    early = pace(D(3100), daily, MARCH, today=dt.date(2026, 3, 3))
    assert early.status == "too_early" and early.actual_to_date == D("1000.00")


def test_weekday_curve_from_two_earlier_months():
    history = {d: D(0 if d.weekday() >= 5 else 100) for m in (1, 2) for d in month_days(dt.date(2026, m, 1))}
    # 2 March 2026 is a Monday: through Sunday 8 March, five working days of 22 in March
    march = {dt.date(2026, 3, d): D(100) for d in range(2, 7)}
    p = pace(D(2200), {**history, **march}, MARCH, today=dt.date(2026, 3, 9))
    assert p.curve == "weekday"
    assert p.expected_to_date == D("500.00") and p.status == "on_pace"
    # the even spread would call the same spend behind: 8/31 of the plan is 567.74
    even = pace(D(2200), march, MARCH, today=dt.date(2026, 3, 9))
    assert even.curve == "even" and even.expected_to_date == D("567.74") and even.status == "under_pacing"
    # one earlier month is not enough for a pattern
    one = {d: v for d, v in history.items() if d.month == 2}
    assert pace(D(2200), {**one, **march}, MARCH, today=dt.date(2026, 3, 9)).curve == "even"


def test_a_finished_month_is_judged_on_its_whole_spend():
    p = pace(D(3100), {d: D(100) for d in month_days(MARCH)}, MARCH, today=dt.date(2026, 5, 2))
    assert p.as_of == dt.date(2026, 3, 31) and p.share_elapsed == 1 and p.projected == D("3100.00")


# -- pacing on ad spend written into a workspace ------------------------------------------------------

def test_report_and_alerts_from_constructed_ad_spend(tmp_path, db, monkeypatch):
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    root = spend_workspace(tmp_path / "acme")
    with Workspace.open(root, read_only=True) as ws, session_scope(db) as s:
        ctx = bl.budget_context(ws)
        assert "Paid Search" in ctx.data_channels and "google_ads" in ctx.platforms
        bl.set_line(s, ctx, "2026-03", "3100", channel="Paid Search", actor="ana")
        bl.set_line(s, ctx, "2026-03", "1000", platform="meta_ads", actor="ana")
        bl.set_line(s, ctx, "2026-03", "5000", platform="google_ads", campaign="brand_search", actor="ana")
        report = budget_report(ws, s, "2026-03", today=dt.date(2026, 3, 11))
        rows = {r.scope: r for r in report.rows}
        assert rows["Paid Search"].actual == D("1500.00") and rows["Paid Search"].variance == D("-1600.00")
        assert rows["meta_ads"].actual == D("450.00")  # 500 USD at 0.9
        assert rows["Paid Search"].pacing.curve == "weekday"  # January and February had spend
        alerts = pacing_alerts(ws, s, today=dt.date(2026, 3, 11))
    kinds = {a.scope: a.kind for a in alerts}
    assert kinds["Paid Search"] == "over_pacing" and kinds["meta_ads"] == "over_pacing"
    assert kinds.get("google_ads / brand_search") is None  # 1500 of 5000 after 10 days: on pace
    a = next(a for a in alerts if a.scope == "meta_ads")
    assert isinstance(a, PacingAlert) and a.currency == "EUR" and a.month == MARCH
    # 10 of 31 days on the even curve (meta_ads has no earlier months)
    assert (a.planned, a.expected_to_date, a.actual_to_date, a.projected) == (
        D("1000.00"), D("322.58"), D("450.00"), D("1395.00"))
    assert a.message.startswith("meta_ads is over-pacing: 450.00 EUR spent through 10 Mar")
    assert "at this pace the month ends at" in a.message


def test_no_alerts_outside_the_current_month(tmp_path, db, monkeypatch):
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    root = spend_workspace(tmp_path / "acme")
    with Workspace.open(root, read_only=True) as ws, session_scope(db) as s:
        bl.set_line(s, bl.budget_context(ws), "2026-03", "100", channel="Paid Search", actor="ana")
        assert pacing_alerts(ws, s, today=dt.date(2026, 4, 15)) == []
        assert budget_report(ws, s, "2026-03", today=dt.date(2026, 4, 15)).rows[0].variance == D("1400.00")


# -- reallocation -------------------------------------------------------------------------------------------

def test_reallocation_moves_capped_budget_towards_better_roas():
    plans = {"Paid Social": D(10000), "Email": D(2000), "Paid Search": D(5000)}
    returns = {"Paid Social": ChannelReturn(D(50000), D(40000), D(40)),
               "Email": ChannelReturn(D(5000), D(21000), D(60)),
               "Paid Search": ChannelReturn(D(20000), D(60000), D(80))}
    r = reallocate(MARCH, plans, returns, model="linear", currency="EUR", cap=0.1)
    assert [(m.giver, m.receiver, m.amount) for m in r.moves] == [("Paid Social", "Email", D("1000.00"))]
    assert "not applied" in r.reasoning and "Paid Social returned 0.80" in r.moves[0].reason
    assert "upper bound" in r.moves[0].reason


@pytest.mark.parametrize(("returns", "words"), [
    ({"Paid Social": ChannelReturn(D(500), D(400), D(2)), "Email": ChannelReturn(D(50), D(900), D(3))},
     "too thin"),
    ({"Paid Social": ChannelReturn(D(500), D(1000), D(20)), "Email": ChannelReturn(D(500), D(1200), D(20))},
     "less than 1.5x apart"),
    ({}, "too thin"),
])
def test_no_reallocation_hint_says_why(returns, words):
    r = reallocate(MARCH, {"Paid Social": D(1000), "Email": D(500)}, returns, model="linear", currency="EUR")
    assert not r.moves and r.reasoning.startswith("No hint") and words in r.reasoning


def test_channel_plans_do_not_count_a_plan_twice():
    lines = [BudgetLine(month=MARCH, channel="Paid Search", amount_cents=100_000),
             BudgetLine(month=MARCH, platform="google_ads", amount_cents=70_000),
             BudgetLine(month=MARCH, platform="meta_ads", campaign="a", amount_cents=10_000),
             BudgetLine(month=MARCH, platform="meta_ads", campaign="b", amount_cents=5_000)]
    assert channel_plans(lines) == {"Paid Search": D(1000), "Paid Social": D(150)}


# -- the CLI --------------------------------------------------------------------------------------------------

def test_cli_set_list_import_remove(tmp_path, monkeypatch):
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    root = spend_workspace(tmp_path / "acme")
    run = CliRunner().invoke
    w = ["--workspace", str(root)]
    out = run(cli, ["budget", "set", "2026-03", "--channel", "Paid Search", "12000", *w])
    assert out.exit_code == 0, out.output
    assert "Set the 2026-03 budget of Paid Search: 12,000.00 EUR" in out.output
    bad = run(cli, ["budget", "set", "2026-03", "--channel", "Paid Serch", "100", *w])
    assert bad.exit_code == 1 and "did you mean 'Paid Search'?" in bad.output
    plan = tmp_path / "plan.csv"
    plan.write_text("month,channel,platform,campaign,amount,currency\n2026-03,,meta_ads,,€1.000,\n"
                    "2026-03,Emial,,,5,\n", encoding="utf-8")
    out = run(cli, ["budget", "import", str(plan), *w])
    assert out.exit_code == 0 and "1 line(s) added" in out.output and "row 3" in out.output
    listed = json.loads(run(cli, ["budget", "list", "--month", "2026-03", "--json", *w]).stdout)
    assert {(x["scope"], x["amount"]) for x in listed} == {("Paid Search", "12000.00"), ("meta_ads", "1000.00")}
    report = json.loads(run(cli, ["budget", "report", "--month", "2026-03", "--today", "2026-03-11", "--json",
                                  *w]).stdout)
    assert report["totals"]["planned"] == "13000.00"
    out = run(cli, ["budget", "remove", "--month", "2026-03", "--platform", "meta_ads", *w])
    assert out.exit_code == 0 and "Removed the 2026-03 budget of meta_ads" in out.output
    assert len(json.loads(run(cli, ["budget", "list", "--json", *w]).stdout)) == 1
