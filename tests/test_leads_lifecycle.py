"""Lifecycle: the MQL/SQL definitions (validation with file and line, words), who qualifies and when on a
hand-built workspace (tests/test_leads_lifecycle_data.py), stage history per person and account, the CLI
and the API, and the speed-to-lead SLA reading MQLs through the shared definition."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.errors import ConfigError
from marketops.leads.lifecycle_config import DEFAULT_STAGES, LifecycleConfig
from marketops.leads.qualification import definitions, mql_people, sql_people
from marketops.leads.stage_history import account_history, person_history
from marketops.lifecycle import spelling_map, stage_key
from marketops.settings import WorkspaceConfig, load_config
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, app, clean_env, client, login_as, users  # noqa: F401
from tests.test_leads_lifecycle_data import CONFIG, MQLS, SQLS, build, workspace_root, ws, d  # noqa: F401


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build(tmp_path_factory.mktemp("life") / "acme")


# -- the definitions ------------------------------------------------------------------------------------

def _config_error(tmp_path, lifecycle: str, scoring: str = "") -> ConfigError:
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\nleads:\n" + scoring + "  lifecycle:\n" + lifecycle, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    return e.value


def test_a_definition_naming_an_unknown_stage_fails_with_file_line_and_did_you_mean(tmp_path):
    err = _config_error(tmp_path, "    mql:\n      any:\n        - {stage: mqll}\n")
    assert err.location.line == 6 and str(err).startswith(f"{tmp_path / 'marketops.yaml'}:6:")
    assert "unknown stage 'mqll' (did you mean 'mql'?)" in str(err)


def test_unknown_score_group_and_field_fail_at_load_time(tmp_path):
    scoring = "  scoring:\n    groups:\n      - {name: core}\n"
    err = _config_error(tmp_path, "    mql:\n      any:\n        - {score_at_least: 40, group: cor}\n", scoring)
    assert "unknown score group 'cor' (did you mean 'core'?)" in str(err) and err.location.line == 9
    err = _config_error(tmp_path, "    sql:\n      any:\n        - {field: lead_statsu, value: x}\n")
    assert "unknown field 'lead_statsu' (did you mean 'lead_status'?)" in str(err)


def test_a_clause_with_two_conditions_or_none_is_refused(tmp_path):
    err = _config_error(tmp_path, "    mql:\n      any:\n        - {stage: mql, opportunity: true}\n")
    assert "exactly one of" in str(err) and "stage, opportunity" in str(err)


def test_renamed_stages_are_checked_against_the_section_itself(tmp_path):
    err = _config_error(tmp_path, "    stages: [lead, qualified, won]\n")
    assert "default MQL definition reads the stage 'mql'" in str(err)
    path = tmp_path / "marketops.yaml"
    path.write_text("leads:\n  lifecycle:\n    stages: [lead, qualified, won]\n    mql: {any: [{stage: qualified}]}\n"
                    "    sql: {any: [{reached: won}]}\n", encoding="utf-8")
    assert load_config(path).leads.lifecycle.stage_names() == ["lead", "qualified", "won"]


def test_the_definitions_read_in_plain_words():
    cfg = WorkspaceConfig.model_validate({"leads": {"scoring": {"groups": [{"name": "core", "mql_threshold": 30}]},
                                                    "lifecycle": {"mql": {"any": [
                                                        {"all": [{"score_at_least": "threshold"},
                                                                 {"field": "lead_status", "op": "not_in",
                                                                  "value": ["Unqualified"]}]},
                                                        {"stage": "mql"}]}}}})
    words = definitions(cfg)
    assert words["mql"]["words"] == ("A person is an MQL when all of: their score in group core reaches 30 (the MQL "
                                     "threshold of core); their lead status is not any of 'Unqualified', or they "
                                     "entered the stage mql.")
    assert words["sql"]["words"] == "A person is an SQL when they entered the stage sql, or a deal names them as its contact."


def test_the_funnel_reads_its_default_stages_from_the_lifecycle_section():
    from marketops.funnel import DEFAULT_STAGES as FUNNEL_STAGES

    assert FUNNEL_STAGES == tuple(LifecycleConfig().stage_names()) == tuple(n for n, _ in DEFAULT_STAGES)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(spelling_map(LifecycleConfig()))), st.sampled_from(["upper", "title", "under"]))
def test_every_spelling_maps_however_it_is_cased_or_underscored(spelling, style):
    m = spelling_map(LifecycleConfig())
    written = {"upper": spelling.upper(), "title": spelling.title(), "under": spelling.replace(" ", "_")}[style]
    assert m[stage_key(written)] == m[spelling]


# -- who qualifies, and when ----------------------------------------------------------------------------

def test_mqls_and_sqls_match_the_hand_computed_ones(ws):
    mqls = {r["person_id"]: (r["mql_at"], r["how"]) for r in mql_people(ws).to_pylist()}
    assert mqls == MQLS  # P2 by score at its first form fill; P6 (SQL only) and P5 are no MQLs
    sqls = {r["person_id"]: (r["sql_at"], r["how"]) for r in sql_people(ws).to_pylist()}
    assert sqls == SQLS  # P7 by its deal


def test_mqls_carry_what_the_speed_to_lead_sla_and_routing_read(ws):
    rows = {r["person_id"]: r for r in mql_people(ws).to_pylist()}
    assert (rows["P1"]["channel_group"], rows["P1"]["segment"], rows["P1"]["account_id"]) == ("Email", "Mid-market", "A1")
    assert rows["P2"]["lead_source"] == "Paid" and rows["P2"]["owner"] == "Ana Rossi"
    assert [r["person_id"] for r in mql_people(ws, since=d(1, 6)).to_pylist()] == ["P4", "P7"]


def test_the_runs_lead_stages_give_the_same_mqls_and_sqls_until_the_definitions_change(root, tmp_path):
    import ibis
    import pyarrow.compute as pc

    from marketops.leads.handoff import fact_rows, fingerprint, published_facts
    from marketops.leads.qualification import workspace_inputs

    copy = tmp_path / "acme"
    shutil.copytree(root, copy)
    with Workspace.open(copy) as w:
        computed = (mql_people(w), sql_people(w))
        # what the pipeline's lead_stages step publishes with a run
        w.engine.write("lead_stages__r2", fact_rows(workspace_inputs(w)).mutate(
            definitions_hash=ibis.literal(fingerprint(w))))
        w.engine.publish({"lead_stages": "lead_stages__r2"}, "r2")
        assert published_facts(w) is not None
        assert mql_people(w).equals(computed[0]) and sql_people(w).equals(computed[1])
        since = d(1, 10)
        assert mql_people(w, since=since).equals(
            computed[0].filter(pc.greater_equal(computed[0].column("mql_at"), since)))
    # a changed definition is not answered from the run's table
    (copy / "marketops.yaml").write_text(CONFIG + "  lifecycle:\n    mql:\n      any:\n        - {reached: sql}\n",
                                         encoding="utf-8")
    with Workspace.open(copy, read_only=True) as w:
        assert published_facts(w) is None
        assert {r["person_id"] for r in mql_people(w).to_pylist()} == {"P1", "P2", "P6", "P7"}


def test_a_definition_change_in_the_yaml_changes_who_qualifies(tmp_path):
    root = build(tmp_path / "acme", CONFIG + "  lifecycle:\n    mql:\n      any:\n        - {reached: sql}\n")
    with Workspace.open(root, read_only=True) as w:
        got = {r["person_id"]: r["mql_at"] for r in mql_people(w).to_pylist()}
    # everyone who entered SQL or later, at the earliest such moment (P1's SQL; P7's deal)
    assert got == {"P1": d(1, 10), "P2": d(1, 13), "P6": d(1, 8), "P7": d(1, 12)}


# -- stage history ---------------------------------------------------------------------------------------

def test_a_persons_timeline_holds_crm_stages_events_and_the_definitions(ws):
    h = person_history(ws, "p1@client.test")
    seen = [(e["stage"], e["entered_at"], e["origin"]) for e in h.events]
    assert ("opportunity", d(1, 20), "deal created") in seen and ("customer", d(2, 19), "deal won") in seen
    assert ("mql", d(1, 5), "definition") in seen and ("sql", d(1, 10), "definition") in seen
    assert (h.stage, h.stage_at) == ("customer", d(2, 19))
    reasons = {e["stage"]: e["reason"] for e in person_history(ws, "P3").events if e["origin"] == "crm"}
    assert reasons["recycled"] == "No budget"


def test_an_account_is_at_its_most_advanced_persons_stage(ws):
    h = account_history(ws, "acme corp")
    assert (h.stage, h.stage_at) == ("customer", d(2, 19))
    assert {e["email"] for e in h.events} == {"p1@client.test", "p3@client.test"}
    mql = next(r for r in h.reached if r["stage"] == "mql")
    assert (mql["at"], mql["people"]) == (d(1, 4), 2)  # P3 first; P1 reached it (and more) too


def test_unknown_people_and_accounts_are_named(ws):
    from marketops.errors import NotFound

    with pytest.raises(NotFound, match="no person"):
        person_history(ws, "nobody@client.test")
    with pytest.raises(NotFound, match="did you mean 'Acme Corp'"):
        account_history(ws, "acme")


# -- CLI and API -----------------------------------------------------------------------------------------

def test_cli_definitions_and_stages(root):
    runner = CliRunner()
    out = runner.invoke(cli_app, ["leads", "definitions", "-w", str(root)])
    assert out.exit_code == 0, out.output
    assert "MQL: A person is an MQL when their score in group core reaches 30" in " ".join(out.output.split())
    data = json.loads(runner.invoke(cli_app, ["leads", "definitions", "-w", str(root), "--json"]).output)
    assert [c["label"] for c in data["mql"]["clauses"]] == ["score", "stage mql"]
    out = runner.invoke(cli_app, ["leads", "stages", "p3@client.test", "-w", str(root), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["stage"] == "mql"
    out = runner.invoke(cli_app, ["leads", "stages", "--account", "Acme Corp", "-w", str(root)])
    assert out.exit_code == 0 and "customer" in out.output
    out = runner.invoke(cli_app, ["leads", "stages", "-w", str(root)])
    assert out.exit_code != 0


def test_api_definitions_and_stages_for_a_viewer(client, users):
    login_as(client, "viewer")
    r = client.get("/api/v1/leads/definitions")
    assert r.status_code == 200 and r.json()["mql"]["words"].startswith("A person is an MQL when")
    r = client.get("/api/v1/leads/p1@client.test/stages")
    assert r.status_code == 200 and r.json()["stage"] == "customer"
    csv = client.get("/api/v1/leads/P1/stages?format=csv")
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").splitlines()[0].startswith("person_id,stage,entered_at")
    page = client.get("/leads/P1/stages")
    assert page.status_code == 200 and 'id="stage-history"' in page.text and "deal won" in page.text
    assert client.get("/api/v1/leads/nobody/stages").status_code == 404


def test_leads_and_lead_pages_show_the_definitions_and_the_stages(client, users):
    login_as(client, "viewer")
    html = client.get("/leads").text
    assert 'id="lead-definitions"' in html and "configured in marketops.yaml" in html
    html = client.get("/leads/P1").text
    assert 'id="lead-stages"' in html and 'data-stage="customer"' in html


def test_anonymous_users_read_nothing(client):
    assert client.get("/api/v1/leads/definitions").status_code == 401


# -- the speed-to-lead SLA reads MQLs through the definition ----------------------------------------------

def test_speed_to_lead_reads_the_shared_mqls(ws):
    from marketops.leads.speed import mql_rows

    rows = {r["person_id"]: (r["mql_at"], r["how"]) for r in mql_rows(ws).to_pylist()}
    assert rows == MQLS
