"""Attribution on a workspace: conversion definitions from marketops.yaml, journeys from the
stitched touchpoints, and `marketops attribution` (one model, or every model side by side)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.pipeline import run_pipeline
from marketops.settings import load_config
from marketops.errors import ConfigError

CONTACTS = "Record ID,Email,First Name\n1,ann@acme-analytics.com,Ann\n2,bo@acme-analytics.com,Bo\n"
VISITS = ("Event ID,Timestamp,Contact ID,UTM Source,UTM Medium\n"
          "e1,2024-01-01T10:00:00Z,1,google,cpc\n"
          "e2,2024-01-03T10:00:00Z,1,newsletter,email\n"
          "e3,2024-01-02T09:00:00+01:00,2,facebook,paid_social\n"
          "e4,2024-01-20T10:00:00Z,1,google,cpc\n")  # after Ann's purchase: must not count
ORDERS = ("Conversion ID,Timestamp,Conversion Type,Contact ID,Value,Currency\n"
          "o1,2024-01-04T10:00:00Z,purchase,1,100.00,EUR\n"
          "o2,2024-01-05T10:00:00Z,purchase,2,50.00,USD\n"
          "d1,2024-01-03T12:00:00Z,demo_request,2,,\n")
RATES = "Date,Currency,Rate\n2024-01-01,USD,0.9000\n"
SPEND = ("Day,Platform,Campaign,Impressions,Clicks,Cost,Currency\n"
         "2024-01-01,google_ads,Brand,1000,50,100.00,EUR\n2024-01-01,meta_ads,Prospecting,2000,40,50.00,USD\n")


@pytest.fixture
def root(ws):
    for name, text in {"contacts.csv": CONTACTS, "visits.csv": VISITS, "orders.csv": ORDERS,
                       "exchange_rates.csv": RATES, "ad_spend.csv": SPEND}.items():
        (ws.inbox / name).write_text(text)
    config = ws.root / "marketops.yaml"
    config.write_text(config.read_text() + (
        "attribution:\n  lookback_days: 30\n  conversions:\n"
        "    - name: purchase\n      table: conversions\n      match: {type: purchase}\n      revenue: true\n"
        "    - name: demo\n      table: conversions\n      match: {type: demo_request}\n"))
    ws.close()
    from marketops.workspace import Workspace

    with Workspace.open(ws.root) as fresh:
        assert run_pipeline(fresh).status == "succeeded"
    return ws.root


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_linear_credits_follow_the_journeys_and_add_up_to_the_cent(root):
    out = _cli("attribution", "-w", root, "--model", "linear", "--conversion", "purchase", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    credits = {c["channel"]: (Decimal(c["conversions"]), Decimal(c["revenue"])) for c in data["credits"]}
    # Ann: Paid Search then Email before her 100.00 EUR purchase (her later visit does not count);
    # Bo: Paid Social before 50.00 USD = 45.00 EUR at the workspace's rate.
    assert credits == {"Paid Search": (Decimal("0.5"), Decimal("50.00")), "Email": (Decimal("0.5"), Decimal("50.00")),
                       "Paid Social": (Decimal("1"), Decimal("45.00"))}
    assert data["conversions"] == 2 and data["revenue"] == "145.00"


def test_compare_lists_every_model_and_each_sums_to_the_conversions(root):
    out = _cli("attribution", "-w", root, "--compare", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    by_model: dict[str, Decimal] = {}
    for r in rows:
        by_model[r["model"]] = by_model.get(r["model"], Decimal(0)) + Decimal(r["conversions"])
    assert len(by_model) == 9 and set(by_model.values()) == {Decimal(3)}


def test_attribution_by_source_and_an_unknown_model_is_a_plain_error(root):
    out = _cli("attribution", "-w", root, "--by", "source", "--model", "first_touch", "--json")
    assert {c["source"] for c in json.loads(out.output)["credits"]} == {"google", "facebook"}
    bad = _cli("attribution", "-w", root, "--model", "markv")
    assert bad.exit_code == 1 and "did you mean 'markov'" in str(bad.exception)  # main() prints it plainly


def test_a_bad_conversion_definition_names_the_file_and_line(tmp_path):
    p = tmp_path / "marketops.yaml"
    p.write_text("name: Acme\nattribution:\n  conversions:\n    - name: x\n      table: peple\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "marketops.yaml:5" in str(e.value) and "not 'peple'" in str(e.value)


def test_channel_report_puts_cost_beside_credited_revenue_and_flags_the_far_worse_channel(root):
    out = _cli("channels", "report", "-w", root, "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    rows = {r["channel"]: r for r in data["rows"]}
    assert data["model"] == "last_non_direct" and data["currency"] == "EUR"
    # Ann's purchase goes to Email (her last touch before it), Bo's purchase and demo to Paid Social
    social, search = rows["Paid Social"], rows["Paid Search"]
    assert (social["spend"], Decimal(social["conversions"]), social["revenue"]) == ("45.00", 2, "45.00")  # 50 USD
    assert (social["cac"], social["roas"]) == ("22.50", "1.00")
    assert (search["spend"], Decimal(search["conversions"]), search["roas"]) == ("100.00", 0, "0.00")
    assert search["cac"] is None and "ROAS 0.00" in search["flag"]
    assert data["rows"][0]["channel"] == "Paid Search"  # flagged channels come first
    assert rows["Email"]["spend"] is None and rows["Email"]["revenue"] == "100.00"


LIFECYCLE = ("Contact ID,Stage,Entered At\n"
             "1,Lead,2024-01-01T12:00:00Z\n"
             "1,lead,2024-01-03T12:00:00Z\n"  # the CRM repeats the stage: still one lead
             "2,Lead,2024-01-02T10:00:00Z\n"
             "2,Marketing Qualified Lead,2024-01-03T10:00:00Z\n")
DEALS = ("Deal ID,Deal Name,Contact ID,Amount,Currency,Create Date,Close Date,Won\n"
         "D1,Acme renewal,1,1000.00,EUR,2024-01-03T11:00:00Z,2024-02-01T10:00:00Z,true\n"
         "D2,Bo upsell,2,200.00,USD,2024-01-04T10:00:00Z,,false\n")


def test_channel_report_credits_leads_once_per_person_and_pipeline_when_deals_are_created(root):
    (root / "inbox" / "lifecycle.csv").write_text(LIFECYCLE)
    (root / "inbox" / "deals.csv").write_text(DEALS)
    from marketops.workspace import Workspace

    with Workspace.open(root) as ws:
        assert run_pipeline(ws).status == "succeeded"
    out = _cli("channels", "report", "-w", root, "--json", "-o", root / "report.csv")
    assert out.exit_code == 0, out.output
    rows = {r["channel"]: r for r in json.loads(out.output)["rows"]}
    # last non-direct touch: Ann became a lead on Jan 1 after her Paid Search visit (once, though the CRM
    # lists two lead rows); Bo on Jan 2 from Paid Social. Ann's deal was created on Jan 3 after her
    # Email visit, Bo's (200 USD = 180.00 EUR) after Paid Social.
    assert {c: (Decimal(r["leads"]), Decimal(r["pipeline"])) for c, r in rows.items()} == {
        "Paid Search": (1, 0), "Paid Social": (1, Decimal("180.00")), "Email": (0, Decimal("1000.00"))}
    assert rows["Paid Search"]["cpl"] == "100.00" and rows["Paid Social"]["cpl"] == "45.00"
    exported = (root / "report.csv").read_text(encoding="utf-8-sig").splitlines()
    assert exported[0].startswith("channel,spend,sessions,leads,pipeline,conversions,revenue,cpl,cac,roas")
    assert len(exported) == 1 + len(rows)


def test_channel_report_leaves_leads_and_pipeline_empty_without_crm_history(root):
    rows = json.loads(_cli("channels", "report", "-w", root, "--json").output)["rows"]
    assert all(r["leads"] is None and r["pipeline"] is None and r["cpl"] is None for r in rows)


def test_a_visitor_who_never_identified_is_attributed_on_their_own_visits_and_nothing_vanishes(ws):
    (ws.inbox / "contacts.csv").write_text(CONTACTS)
    (ws.inbox / "visits.csv").write_text(
        "Event ID,Timestamp,Client ID,UTM Source,UTM Medium\n"
        "v1,2024-01-01T10:00:00Z,GA1.111,bing,cpc\n"
        "v2,2024-01-02T10:00:00Z,GA1.222,newsletter,email\n")
    (ws.inbox / "orders.csv").write_text(
        "Conversion ID,Timestamp,Conversion Type,Client ID,Value,Currency\n"
        "o1,2024-01-03T10:00:00Z,demo_request,GA1.111,,\n"  # an anonymous visitor converts
        "o2,2024-01-03T11:00:00Z,demo_request,,,\n")  # nobody at all: counted, not silently dropped
    root = ws.root
    ws.close()
    from marketops.workspace import Workspace

    with Workspace.open(root) as fresh:
        assert run_pipeline(fresh).status == "succeeded"
    out = _cli("attribution", "-w", root, "--model", "last_touch", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    credits = {c["channel"]: Decimal(c["conversions"]) for c in data["credits"]}
    assert credits == {"Paid Search": 1}  # the visitor's own Bing ad click before the demo request
    assert data["conversions_without_person"] == 1
    assert "1 conversion(s) left out" in _cli("attribution", "-w", root).output
