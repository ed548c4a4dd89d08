"""The martech registry and its audit, through the domain functions and ``marketops stack`` as a user
types it: validation, money in several currencies, tools with no cost, integration loops, renewals,
overlap, freshness from the load history, the evaluation form, and the report files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.errors import NotFound, ValidationFailed
from marketops.sample.stack import seed_stack
from marketops.stack.audit import ToolInput, build_audit, simple_cycles
from marketops.stack.catalogue import entries, find_entry
from marketops.stack.evaluation import recommend
from marketops.stack.freshness import systems_seen, tool_freshness
from marketops.stack.inputs import audit_of
from marketops.stack.registry import ToolDraft, create_tool, get_tool, link, remove_tool, update_tool
from marketops.state.db import init_db, session_scope
from marketops.state.models import AuditEvent
from marketops.state.stack import StackIntegration
from marketops.workspace import Workspace
from tests.app_fixtures import make_workspace

runner = CliRunner()
TODAY = dt.date(2026, 12, 7)


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    init_db(url)
    with session_scope(url) as s:
        yield s


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    r = tmp_path / "acme"
    assert cli("init", r).exit_code == 0
    return r


# -- the catalogue ------------------------------------------------------------------------------------------

def test_the_catalogue_has_the_common_tools_with_their_source_systems():
    names = {e.name for e in entries()}
    assert len(names) >= 30
    assert {"HubSpot", "Salesforce", "Marketo", "Google Analytics 4", "Google Ads", "Meta Ads", "LinkedIn Ads",
            "Mailchimp", "Segment", "Tableau", "Drift", "Amplitude", "Zapier", "Asana"} <= names
    assert find_entry("google analytics 4").systems == ("ga4",)
    with pytest.raises(NotFound, match="did you mean 'Salesforce'"):
        find_entry("Salesforse")


# -- the registry -------------------------------------------------------------------------------------------

def test_a_catalogue_pick_fills_vendor_category_and_systems_and_typed_fields_win(db):
    t = create_tool(db, ToolDraft(name="Our HubSpot", catalogue="HubSpot", category="CRM", cost="1,200.50",
                                  currency="usd"), actor="ana")
    assert (t.vendor, t.category, t.systems, t.cost_cents, t.currency) == ("HubSpot", "CRM", ["hubspot"], 120050,
                                                                           "USD")
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "stack.tool.create")).all()
    assert [(e.actor, e.target) for e in events] == [("ana", f"stack_tool:{t.id}")]


@pytest.mark.parametrize(("draft", "message"), [
    (dict(name=""), "a tool needs a name"),
    (dict(name="X", cost="-5"), "negative"),
    (dict(name="X", cost="lots"), "not a number"),
    (dict(name="X", currency="euro"), "not an ISO 4217 code"),
    (dict(name="X", cost_period="week"), "not one of month, year"),
    (dict(name="X", seats="-1"), "seats: -1 is negative"),
    (dict(name="X", renewal_date="31/12/2026"), r"renewal date: .* not a date \(YYYY-MM-DD\)"),
    (dict(name="X", systems=["hubspt"]), "did you mean 'hubspot'"),
    (dict(name="X", catalogue="Hubspt"), "did you mean 'HubSpot'"),
])
def test_bad_tool_fields_are_refused_naming_the_field(db, draft, message):
    with pytest.raises((ValidationFailed, NotFound), match=message):
        create_tool(db, ToolDraft(**draft), actor="cli")


def test_names_are_unique_whatever_the_case_and_tools_are_found_by_id_or_name(db):
    t = create_tool(db, ToolDraft(name="Tableau"), actor="cli")
    with pytest.raises(ValidationFailed, match="already in the registry"):
        create_tool(db, ToolDraft(name="tableau"), actor="cli")
    assert get_tool(db, t.id) is t and get_tool(db, "TABLEAU") is t
    with pytest.raises(NotFound, match="did you mean 'Tableau'"):
        get_tool(db, "Tablaeu")


def test_a_tool_cannot_feed_itself_but_loops_are_recorded(db):
    for name in ("HubSpot", "Salesforce"):
        create_tool(db, ToolDraft(name=name), actor="cli")
    with pytest.raises(ValidationFailed, match="cannot feed itself"):
        link(db, "HubSpot", "hubspot", object="contacts", actor="cli")
    link(db, "HubSpot", "Salesforce", object="contacts", actor="cli")
    link(db, "Salesforce", "HubSpot", object="deals", method="api", frequency="hourly", actor="cli")
    with pytest.raises(ValidationFailed, match="already carries 'contacts'"):
        link(db, "HubSpot", "Salesforce", object="Contacts", actor="cli")
    with pytest.raises(ValidationFailed, match="did you mean 'zapier'"):
        link(db, "HubSpot", "Salesforce", object="x", method="zapir", actor="cli")
    audit = audit_of(db, None, today=TODAY)
    assert audit.cycles == [["HubSpot", "Salesforce"]]
    assert any(f.kind == "loop" and "HubSpot -> Salesforce -> HubSpot" in f.message for f in audit.findings)


def test_removing_a_tool_removes_its_integrations_and_an_update_says_what_changed(db):
    a, b = (create_tool(db, ToolDraft(name=n), actor="cli") for n in ("A", "B"))
    link(db, "A", "B", object="x", actor="cli")
    update_tool(db, a, {"owner": "Ana", "cost": "10"}, actor="cli")
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "stack.tool.update")).one()
    assert event.detail["changed"] == ["cost_cents", "owner"]
    with pytest.raises(ValidationFailed, match="unknown field 'ownr'"):
        update_tool(db, a, {"ownr": "x"}, actor="cli")
    remove_tool(db, b, actor="cli")
    assert db.scalars(select(StackIntegration)).all() == []


# -- the audit ----------------------------------------------------------------------------------------------

def _tool(i, name, category="", **kw):
    return ToolInput(i, name, category, **kw)


def test_costs_in_several_currencies_convert_and_one_without_a_rate_is_flagged_never_summed():
    tools = [
        _tool(1, "HubSpot", "Automation", owner="Ana", cost_cents=320000, currency="EUR", seats=10, active_users=8),
        _tool(2, "Salesforce", "CRM", owner="Bo", cost_cents=5400000, cost_period="year", currency="USD", seats=40,
              active_users=30),
        _tool(3, "Pipedrive", "CRM", owner="Cy", cost_cents=10000, currency="CHF", seats=2, active_users=2),
        _tool(4, "GA4", "Analytics", owner="Di", cost_cents=None, seats=5, active_users=5),
    ]
    a = build_audit(tools, [(1, 2), (2, 4)], {"USD": Decimal("0.90")}, "EUR", today=TODAY)
    by = {t.name: t for t in a.tools}
    # USD 54,000 a year = 4,500 a month = 4,050 EUR; per active user 4,050 / 30 = 135
    assert (by["Salesforce"].monthly_reporting, by["Salesforce"].cost_per_user) == (Decimal("4050.00"),
                                                                                    Decimal("135.00"))
    assert by["HubSpot"].cost_per_user == Decimal("400.00") and by["HubSpot"].utilisation == 0.8
    assert by["Pipedrive"].monthly_reporting is None and by["Pipedrive"].monthly_own == Decimal("100.00")
    assert "no CHF rate" in by["Pipedrive"].flags
    assert a.total_monthly == Decimal("7250.00") and a.total_annual == Decimal("87000.00")
    crm = next(c for c in a.categories if c.category == "CRM")
    assert (crm.monthly, crm.unconverted, crm.overlap) == (Decimal("4050.00"), {"CHF": Decimal("100.00")}, True)
    assert a.unconverted == ["Pipedrive"] and a.no_cost == ["GA4"]
    assert by["GA4"].cost_per_user is None and "no cost recorded" in by["GA4"].flags
    assert [c.category for c in a.overlaps] == ["CRM"]
    assert a.no_data_flow == ["Pipedrive"]
    assert {f.kind for f in a.findings} >= {"no_rate", "no_cost", "overlap", "no_data_flow"}


def test_renewals_within_90_days_are_listed_soonest_first_and_30_days_is_a_warning():
    days = {"Past": -1, "Today": 0, "Soon": 30, "Edge": 90, "Later": 91, "Month": 31}
    tools = [_tool(i, n, owner="x", renewal_date=TODAY + dt.timedelta(days=d)) for i, (n, d) in enumerate(days.items())]
    a = build_audit(tools, [], {}, "EUR", today=TODAY)
    assert [(t.name, t.days_to_renewal) for t in a.renewals] == [("Today", 0), ("Soon", 30), ("Month", 31),
                                                                ("Edge", 90)]
    severity = {f.tools[0]: f.severity for f in a.findings if f.kind == "renewal"}
    assert severity == {"Today": "warning", "Soon": "warning", "Month": "info", "Edge": "info"}
    assert "renewal date passed" in next(t for t in a.tools if t.name == "Past").flags


def test_owners_utilisation_and_users_beyond_seats_are_flagged():
    tools = [_tool(1, "NoOwner", owner="  ", cost_cents=100, seats=10, active_users=4),
             _tool(2, "Crowded", owner="Ana", cost_cents=100, seats=2, active_users=3),
             _tool(3, "Unused", owner="Ana", cost_cents=100, seats=2, active_users=0)]
    a = build_audit(tools, [], {}, "EUR", today=TODAY)
    flags = {t.name: t.flags for t in a.tools}
    assert a.no_owner == ["NoOwner"] and "underused" in flags["NoOwner"]
    assert "more users than seats" in flags["Crowded"] and "nobody uses it" in flags["Unused"]
    assert next(t for t in a.tools if t.name == "Unused").cost_per_user is None


def test_loops_are_named_once_each_including_longer_ones():
    assert simple_cycles([(1, 2), (2, 3), (3, 1), (3, 2), (4, 4), (5, 1)]) == [[2, 3], [1, 2, 3]]
    assert simple_cycles([(1, 2), (2, 3)]) == []


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=14))
@settings(max_examples=150, deadline=None)
def test_every_loop_found_is_real_and_a_graph_has_one_exactly_when_it_is_cyclic(edges):
    found = simple_cycles(edges)
    real = {(a, b) for a, b in edges if a != b}
    for c in found:
        assert len(set(c)) == len(c) and c[0] == min(c)
        assert all((c[i], c[(i + 1) % len(c)]) in real for i in range(len(c)))
    assert len({tuple(c) for c in found}) == len(found)
    # Kahn's algorithm: a directed graph without self-loops is acyclic when every node can be peeled off
    nodes = {n for e in real for n in e}
    indegree = {n: sum(1 for _, b in real if b == n) for n in nodes}
    ready = [n for n, d in indegree.items() if d == 0]
    peeled = 0
    while ready:
        n = ready.pop()
        peeled += 1
        for a, b in real:
            if a == n:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    assert bool(found) == (peeled < len(nodes))


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 10_000_00)), st.sampled_from(["month", "year"]),
                          st.sampled_from(["EUR", "USD", "CHF"])), max_size=8))
@settings(max_examples=100, deadline=None)
def test_totals_are_the_sum_of_the_converted_costs_and_never_include_unconverted_ones(costs):
    tools = [_tool(i, f"T{i}", f"C{i % 3}", cost_cents=c, cost_period=p, currency=cur)
             for i, (c, p, cur) in enumerate(costs)]
    a = build_audit(tools, [], {"USD": Decimal("0.9")}, "EUR", today=TODAY)
    converted = [t.monthly_reporting for t in a.tools if t.monthly_reporting is not None]
    assert abs(a.total_monthly - sum(converted, Decimal(0))) <= Decimal("0.01") * len(converted)
    assert all(t.currency == "CHF" for t in a.tools if t.name in a.unconverted)
    assert sum(c.monthly for c in a.categories) == sum((c.monthly for c in a.categories), Decimal(0))
    assert set(a.no_cost) == {t.name for t in a.tools if t.cost is None}


# -- freshness ----------------------------------------------------------------------------------------------

def test_a_tool_linked_to_a_source_shows_when_its_data_was_last_seen(tmp_path, monkeypatch):
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    root = make_workspace(tmp_path / "acme")  # hubspot loaded 2 hours ago, google_ads 5 minutes ago
    with Workspace.open(root, read_only=True) as ws:
        seen = systems_seen(ws.engine)
    assert set(seen) == {"hubspot", "google_ads"} and seen["hubspot"].rows == 3
    fresh = tool_freshness(["hubspot"], None, seen)
    assert (fresh.status, fresh.age_days) == ("fresh", 0)
    later = fresh.last_seen + dt.timedelta(days=8)
    assert tool_freshness(["hubspot"], None, seen, later).status == "stale"
    assert tool_freshness(["hubspot"], 10, seen, later).status == "fresh"
    assert tool_freshness(["ga4", "hubspot"], None, seen).missing == ("ga4",)
    assert tool_freshness([], None, seen).status == "not_linked"
    assert tool_freshness(["mailchimp"], None, seen).status == "no_data"


# -- the evaluation form ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("answers", "expected"), [
    (("yes", "yes", "yes", "yes"), "buy"),
    (("yes", "partly", "yes", "yes"), "pilot"),
    (("no", "yes", "yes", "yes"), "do_not_buy"),
    (("yes", "no", "yes", "yes"), "do_not_buy"),
    (("yes", "yes", "no", "yes"), "defer"),
    (("partly", "yes", "yes", "no"), "defer"),
])
def test_four_answers_give_a_recommendation_with_reasons(answers, expected):
    keys = ("serves_goals", "improves_journey", "has_budget", "has_time")
    verdict = recommend(dict(zip(keys, answers, strict=True)))
    assert verdict.recommendation == expected and verdict.reasons


def test_the_evaluation_text_is_in_the_translation_catalogs():
    # the page translates the questions and verdicts: the app marks the same English text for extraction
    from marketops.app.routes.stack_pages import EVALUATION_TEXT
    from marketops.stack.evaluation import LABELS, QUESTIONS

    assert set(EVALUATION_TEXT) == {*QUESTIONS.values(), *LABELS.values()}


def test_a_tool_in_a_category_already_paid_for_is_at_most_a_pilot_and_bad_answers_are_named():
    answers = {"serves_goals": "yes", "improves_journey": "yes", "has_budget": "yes", "has_time": "yes"}
    verdict = recommend(answers, overlaps=["Amplitude"], category="Product analytics")
    assert verdict.recommendation == "pilot" and "already has Amplitude" in verdict.reasons[-1]
    with pytest.raises(ValidationFailed, match="has_time .*no answer"):
        recommend({**answers, "has_time": ""})
    with pytest.raises(ValidationFailed, match="did you mean 'partly'"):
        recommend({**answers, "has_budget": "partli"})


# -- the sample company -------------------------------------------------------------------------------------

def test_the_sample_stack_gives_the_audit_something_to_say(db):
    assert seed_stack(db, TODAY) == (15, 15)
    assert seed_stack(db, TODAY) == (0, 0)  # never twice
    a = audit_of(db, None, today=TODAY, rates={"USD": "0.92", "GBP": "1.17"}, reporting_currency="EUR")
    assert {c.category for c in a.overlaps} == {"Product analytics"}  # three ad platforms are three channels
    assert a.no_owner == ["Zapier"] and a.no_cost == ["Hotjar"] and a.no_data_flow == ["Hotjar"]
    assert [t.name for t in a.renewals][:1] == ["Drift"] and a.renewals[0].days_to_renewal == 21
    assert ["HubSpot", "Salesforce"] in a.cycles and ["HubSpot", "Salesforce", "Segment"] in a.cycles
    assert {t.currency for t in a.tools} == {"EUR", "USD", "GBP"} and a.unconverted == []
    without_gbp = audit_of(db, None, today=TODAY, rates={"USD": "0.92"}, reporting_currency="EUR")
    assert without_gbp.unconverted == ["Mixpanel"]


# -- the command line ---------------------------------------------------------------------------------------

def test_the_cli_adds_lists_shows_updates_links_and_removes(root, tmp_path):
    w = ("-w", root)
    out = cli("stack", "add", "HubSpot", "--cost", "3200", "--owner", "Ana", "--seats", "10", "--active-users", "4",
              "--renewal", "2026-12-20", "--goal", "Pipeline", *w)
    assert out.exit_code == 0 and "Added HubSpot" in out.output and "Marketing automation" in out.output
    cli("stack", "add", "Salesforce", "--cost", "54000", "--per", "year", "--currency", "USD", *w)
    listed = json.loads(cli("stack", "list", "--json", *w).output)
    assert [(t["name"], t["cost"], t["currency"]) for t in listed["items"]] == [("Salesforce", "54000.00", "USD"),
                                                                                 ("HubSpot", "3200.00", "EUR")]
    assert json.loads(cli("stack", "list", "--owner", "-", "--json", *w).output)["total"] == 1
    cli("stack", "list", "-o", tmp_path / "tools.csv", *w)
    rows = list(csv.DictReader((tmp_path / "tools.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [r["name"] for r in rows] == ["Salesforce", "HubSpot"]
    assert cli("stack", "link", "hubspot", "salesforce", "--object", "contacts", "--frequency", "realtime",
               *w).exit_code == 0
    assert cli("stack", "link", "Salesforce", "HubSpot", "--object", "deals", *w).exit_code == 0
    shown = json.loads(cli("stack", "show", "HubSpot", "--json", *w).output)
    assert shown["freshness"]["status"] == "no_data" and shown["integrations_out"][0]["to"] == "Salesforce"
    assert "Loop: HubSpot -> Salesforce -> HubSpot" in cli("stack", "map", *w).output
    assert cli("stack", "update", "Salesforce", "--owner", "Bo", "--cost", "", *w).exit_code == 0
    data = json.loads(cli("stack", "show", "salesforce", "--json", *w).output)
    assert (data["owner"], data["cost"]) == ("Bo", None)
    assert cli("stack", "unlink", "1", *w).exit_code == 0
    assert "Removed HubSpot and 1 integration(s)" in cli("stack", "remove", "HubSpot", *w).output


@pytest.mark.parametrize(("args", "message"), [
    (("add", "X", "--cost", "-3"), "negative"),
    (("add", "X", "--currency", "EURO"), "ISO 4217"),
    (("show", "Nothing"), "the registry is empty"),
    (("audit", "--rate", "USD"), "write CURRENCY=RATE"),
    (("audit", "--csv", "x.csv", "--table", "tool"), "unknown table 'tool'"),
    (("evaluate", "Drift", "--goals", "yes", "--journey", "si", "--budget", "yes", "--time", "yes"),
     "improves_journey"),
])
def test_the_cli_refuses_bad_input_in_plain_words(root, args, message):
    out = runner.invoke(app, ["stack", *[str(a) for a in args], "-w", str(root)])
    assert out.exit_code == 1 and message in out.output


def test_the_cli_audit_writes_json_csv_and_the_html_report(root, tmp_path):
    w = ("-w", root)
    cli("stack", "add", "Tableau", "--category", "BI", "--cost", "8400", "--per", "year", "--currency", "USD",
        "--seats", "10", "--active-users", "3", *w)
    cli("stack", "add", "Looker", "--category", "BI", "--cost", "100", "--currency", "CHF", *w)
    cli("stack", "add", "Hotjar", "--category", "Experience", *w)
    data = json.loads(cli("stack", "audit", "--json", "--rate", "USD=0.9", *w).output)
    assert data["total_monthly"] == "630.00" and data["unconverted"] == ["Looker"] and data["no_cost"] == ["Hotjar"]
    assert [o["category"] for o in data["overlaps"]] == ["BI"]
    tableau = next(t for t in data["tools"] if t["name"] == "Tableau")
    assert (tableau["cost_per_user"], tableau["utilisation"]) == ("210.00", 0.3)
    out = cli("stack", "audit", "--rate", "USD=0.9", "--csv", tmp_path / "a.csv", "--table", "categories",
              "--html", tmp_path / "a.html", *w)
    assert out.exit_code == 0 and "not converted (no rate): Looker" in out.output
    rows = list(csv.DictReader((tmp_path / "a.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["category"], r["monthly"], r["unconverted"]) for r in rows][0] == ("BI", "630.00", "100.00 CHF")
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Stack audit" in html and "no cost recorded" in html and "Not in the totals (no exchange rate): Looker" in html


def test_the_cli_evaluates_and_saves_evaluations(root):
    w = ("-w", root)
    cli("stack", "add", "Amplitude", "--category", "Product analytics", *w)
    out = cli("stack", "evaluate", "Mixpanel", "--goals", "yes", "--journey", "yes", "--budget", "yes", "--time",
              "yes", "--category", "Product analytics", "--save", *w)
    assert "Mixpanel: Pilot first" in out.output and "already has Amplitude" in out.output
    saved = json.loads(cli("stack", "evaluations", "--json", *w).output)["items"]
    assert [(e["tool"], e["recommendation"]) for e in saved] == [("Mixpanel", "pilot")]
    catalogue = json.loads(cli("stack", "catalogue", "--category", "crm", "--json").output)
    assert {i["name"] for i in catalogue["items"]} == {"Salesforce"}
