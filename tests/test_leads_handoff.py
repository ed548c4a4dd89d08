"""Handoff quality on the hand-built workspace of tests/test_leads_lifecycle_data.py: MQL -> SQL ->
opportunity -> won by source, channel and campaign (hand-computed), recycled and rejected leads with
reasons, lead quality by channel on the overview, the CLI, the API and the page (a viewer reads)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.errors import ValidationFailed
from marketops.leads.handoff import facts, handoff, lead_quality, outcomes
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, app, clean_env, client, login_as, users  # noqa: F401
from tests.test_leads_lifecycle_data import build, workspace_root, ws  # noqa: F401

# channel -> mqls, sqls, opportunities, won, sql_rate, opportunity_rate, won_rate, mql_to_won, days to sql
BY_CHANNEL = {
    "Paid Search": (3, 2, 1, 0, 0.6667, 0.5, 0.0, 0.0, 6.29),  # P2 (9.58 days), P4, P7 (3 days, deal)
    "Email": (2, 1, 1, 1, 0.5, 1.0, 1.0, 0.5, 5.0),  # P1 (won), P3
}
BY_CAMPAIGN = {"brand": (2, 1, 0, 0), "spring": (2, 1, 1, 1), "generic": (1, 1, 1, 0)}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build(tmp_path_factory.mktemp("handoff") / "acme")


def _counts(rows, key):
    return {r[key]: tuple(r[k] for k in ("mqls", "sqls", "opportunities", "won")) for r in rows}


def test_rates_by_channel_match_the_hand_computed_ones(ws):
    got = {r["channel_group"]: (r["mqls"], r["sqls"], r["opportunities"], r["won"], r["sql_rate"],
                                r["opportunity_rate"], r["won_rate"], r["mql_to_won"], r["days_to_sql"])
           for r in handoff(ws, "channel").items}
    assert got == BY_CHANNEL
    email = next(r for r in handoff(ws, "channel").items if r["channel_group"] == "Email")
    assert (email["days_to_opportunity"], email["days_to_won"]) == (10.0, 30.0)


def test_rates_by_campaign_and_source_and_overall(ws):
    assert _counts(handoff(ws, "campaign").items, "campaign") == BY_CAMPAIGN
    assert _counts(handoff(ws, "source").items, "lead_source") == {"Paid": (3, 2, 1, 0), "Webinar": (2, 1, 1, 1)}
    total = handoff(ws, "channel").total
    assert (total["mqls"], total["sqls"], total["opportunities"], total["won"]) == (5, 3, 2, 1)
    assert (total["sql_rate"], total["mql_to_won"], total["days_to_sql"]) == (0.6, 0.2, 5.0)


def test_a_period_counts_mqls_by_when_they_qualified(ws):
    import datetime as dt

    h = handoff(ws, "channel", since=dt.date(2026, 1, 5), until=dt.date(2026, 1, 6))
    assert _counts(h.items, "channel_group") == {"Email": (1, 1, 1, 1), "Paid Search": (1, 0, 0, 0)}  # P1, P4


def test_every_step_is_a_subset_of_the_one_before(ws):
    for by in ("source", "channel", "campaign"):
        for r in handoff(ws, by).items:
            assert r["mqls"] >= r["sqls"] >= r["opportunities"] >= r["won"] >= 0


def test_an_unknown_grouping_says_what_is_valid(ws):
    with pytest.raises(ValidationFailed, match="did you mean 'channel'"):
        handoff(ws, "chanel")


def test_recycled_and_rejected_leads_are_counted_by_reason_and_channel(ws):
    o = outcomes(ws)
    assert {(r["outcome"], r["reason"]): (r["leads"], r["mqls"]) for r in o.by_reason} == {
        ("recycled", "No budget"): (1, 1), ("rejected", "Wrong contact"): (1, 1),
        ("rejected", "(no reason given)"): (1, 0)}  # P5: its lead status says Unqualified
    assert {(r["outcome"], r["channel_group"]): r["leads"] for r in o.by_channel} == {
        ("recycled", "Email"): 1, ("rejected", "Email"): 1, ("rejected", "Paid Search"): 1}
    assert [r["person_id"] for r in o.items] == ["P5", "P3", "P4"]  # newest first
    assert [r["person_id"] for r in outcomes(ws, outcome="recycled").items] == ["P3"]
    with pytest.raises(ValidationFailed, match="did you mean 'rejected'"):
        outcomes(ws, outcome="rejeted")


def test_lead_quality_by_channel(ws):
    card = lead_quality(ws)
    assert [(r["channel_group"], r["sql_rate"], r["mql_to_won"]) for r in card["items"]] == [
        ("Paid Search", 0.6667, 0.0), ("Email", 0.5, 0.5)]


def test_the_published_lead_stages_answer_until_the_definitions_change(tmp_path):
    from marketops.leads.handoff import TABLE, fact_rows, fingerprint
    from marketops.leads.qualification import workspace_inputs

    root = build(tmp_path / "acme")
    with Workspace.open(root) as w:
        t = fact_rows(workspace_inputs(w))
        w.engine.write(f"{TABLE}__r2", t.mutate(definitions_hash=__import__("ibis").literal(fingerprint(w))))
        w.engine.publish({TABLE: f"{TABLE}__r2"}, "r2")
    with Workspace.open(root, read_only=True) as w:
        assert facts(w).count().execute() == 7 and _counts(handoff(w, "channel").items, "channel_group")["Email"] == (2, 1, 1, 1)
    (root / "marketops.yaml").write_text((root / "marketops.yaml").read_text()
                                         + "  lifecycle:\n    mql:\n      any:\n        - {stage: mql}\n")
    with Workspace.open(root, read_only=True) as w:  # stale: computed afresh, P2 (score only) is out
        assert _counts(handoff(w, "channel").items, "channel_group")["Paid Search"] == (2, 1, 1, 0)


# -- CLI, API, page ----------------------------------------------------------------------------------------

def test_cli_handoff_and_rejected(root, tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli_app, ["leads", "handoff", "--by", "campaign", "-w", str(root), "--json"])
    assert out.exit_code == 0, out.output
    assert _counts(json.loads(out.output)["items"], "campaign") == BY_CAMPAIGN
    csv = tmp_path / "h.csv"
    out = runner.invoke(cli_app, ["leads", "handoff", "-w", str(root), "--csv", str(csv)])
    assert out.exit_code == 0 and csv.read_text(encoding="utf-8-sig").splitlines()[0].startswith("channel_group,mqls")
    out = runner.invoke(cli_app, ["leads", "handoff", "--by", "chanel", "-w", str(root)])
    assert out.exit_code != 0 and "did you mean 'channel'" in out.output
    out = runner.invoke(cli_app, ["leads", "rejected", "-w", str(root)])
    assert out.exit_code == 0 and "Wrong contact" in out.output and "No budget" in out.output


def test_api_handoff_and_rejected_for_a_viewer(client, users):
    login_as(client, "viewer")
    r = client.get("/api/v1/leads/handoff?by=channel")
    assert r.status_code == 200 and r.json()["total"]["mqls"] == 5
    assert client.get("/api/v1/leads/handoff?by=chanel").status_code == 400
    x = client.get("/api/v1/leads/handoff?by=source&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    r = client.get("/api/v1/leads/rejected")
    assert r.status_code == 200 and r.json()["total"] == 3
    c = client.get("/api/v1/leads/rejected?format=csv&table=reasons")
    assert c.status_code == 200 and "Wrong contact" in c.text


def test_the_handoff_page_shows_rates_chart_reasons_and_definitions(client, users):
    login_as(client, "viewer")
    html = client.get("/leads/handoff?by=campaign").text
    assert 'id="handoff-rates"' in html and 'data-key="generic"' in html and 'class="chart"' in html
    assert 'data-reason="Wrong contact"' in html and 'id="lead-definitions"' in html
    assert "configured in marketops.yaml" in html


def test_the_overview_has_a_lead_quality_card(client, users):
    login_as(client, "viewer")
    html = client.get("/").text
    assert 'id="lead-quality"' in html and 'data-channel="Paid Search"' in html
