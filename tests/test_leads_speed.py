"""The speed-to-lead SLA on constructed leads (see tests/test_leads_speed_data.py for the hand-computed
cases): first touches, statuses, reports, escalation notices, the explanation, the CLI, the API, the
board page, roles and downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.errors import NotFound
from marketops.leads.calendar import BusinessCalendar
from marketops.leads.sla_config import SpeedToLeadConfig, TeamCalendar
from marketops.leads.speed import speed_rows, speed_table
from marketops.leads.speed_alerts import explain_lead, speed_alerts
from marketops.leads.speed_report import breaches, compliance, summary
from marketops.plan.alerts import collect_alerts
from marketops.state.db import init_db, session_scope
from marketops.state.tokens import create_token
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, app, clean_env, client, login_as, users  # noqa: F401
from tests.exports_reading import read_export
from tests.test_leads_speed_data import HOSTILE, LEADS, NOW, build

AT = NOW.isoformat()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build(tmp_path_factory.mktemp("stl") / "acme")


@pytest.fixture
def workspace_root(root, clean_env, tmp_path):
    """The app fixture serves a copy (each test gets its own app database)."""
    copy = tmp_path / "acme"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("app.sqlite*"))
    return copy


@pytest.fixture
def ws(root):
    with Workspace.open(root, read_only=True) as w:
        yield w


# -- the capability ---------------------------------------------------------------------------------------

def test_statuses_and_response_times_match_the_hand_computed_ones(ws):
    rows = {r["person_id"]: r for r in speed_table(ws, now=NOW).items()}
    assert set(rows) == set(LEADS)  # P8 (SQL only) is no MQL; P9 became an MQL after "now"
    for pid, (_email, _owner, mql_at, _src, status, hours) in LEADS.items():
        r = rows[pid]
        assert r["mql_at"] == mql_at, pid
        assert r["status"] == status, pid
        assert r["elapsed_hours"] == hours, pid
    assert rows["P4"]["time_left_hours"] == -0.5 and rows["P5"]["time_left_hours"] == 2.0
    assert rows["P3"]["time_left_hours"] == 5.0 and rows["P1"]["time_left_hours"] is None


def test_the_first_touch_is_the_earliest_outbound_or_undirected_activity_after_the_mql(ws):
    rows = {r["person_id"]: r for r in speed_table(ws, now=NOW).items()}
    p1 = rows["P1"]  # not the email before the MQL, not the inbound reply: the Wednesday call
    assert (p1["touch_type"], p1["touch_by"], p1["touch_subject"]) == ("call", "Ana Rossi", "Discovery call")
    assert rows["P2"]["touch_subject"] == "Hello"  # direction unknown counts
    assert rows["P3"]["touch_at"] is None  # its call is after "now"
    assert rows["P6"]["touch_type"] == "meeting" and rows["P6"]["response_hours"] == 2.0  # across Thanksgiving


def test_owners_map_to_teams_by_name_or_email_and_unknown_owners_get_the_default_team(ws):
    rows = {r["person_id"]: r for r in speed_table(ws, now=NOW).items()}
    assert (rows["P3"]["team"], rows["P3"]["owner_email"]) == ("italy", "ana@acme.test")  # owner given as email
    assert (rows["P6"]["team"], rows["P6"]["target_hours"]) == ("us", 4.0)
    assert (rows["P7"]["team"], rows["P7"]["owner_email"]) == ("italy", None)


def test_judged_later_the_open_leads_move_on(ws):
    later = {r["person_id"]: r["status"] for r in speed_table(ws, now=NOW + dt.timedelta(days=2)).items()}
    assert later["P3"] == "met"  # the afternoon call now counts: 5 business hours
    assert later["P5"] == later["P7"] == "open_breached"


def test_reports_by_owner_source_channel_and_week(ws):
    rows = speed_table(ws, now=NOW).rows
    total = summary(rows)
    assert (total["mqls"], total["met"], total["breached"], total["open_breached"], total["near_breach"]) == (7, 2, 1, 1, 1)
    assert total["met_share"] == 0.5 and total["median_hours"] == 2.0 and total["p90_hours"] == 10.0
    by_owner = {r["owner"]: r for r in compliance(rows, "owner")}
    assert set(by_owner) == {"Ana Rossi", "Bob Stone", HOSTILE}  # P3's owner was spelled as an email
    assert by_owner["Ana Rossi"]["mqls"] == 5 and by_owner["Ana Rossi"]["met_share"] == pytest.approx(1 / 3, abs=1e-4)
    by_source = {r["source"]: r["mqls"] for r in compliance(rows, "source")}
    assert by_source == {"paid": 3, "webinar": 2, "organic": 1, "(none)": 1}
    assert [r["week"] for r in compliance(rows, "week")] == ["2026-11-23", "2026-11-30", "2026-12-07"]
    assert {r["touch"]: r["mqls"] for r in compliance(rows, "touch")}["(none)"] == 4
    assert [r["person_id"] for r in breaches(rows).to_pylist()] == ["P4", "P2"]
    assert [r["person_id"] for r in breaches(rows, near=True).to_pylist()] == ["P5"]


def test_escalation_notices_go_to_the_owner_and_on_breach_to_the_team(ws):
    notices = speed_alerts(ws, now=NOW)
    assert [(n.kind, n.person_id, n.severity) for n in notices] == [
        ("speed_to_lead_breach", "P4", "critical"), ("speed_to_lead_near_breach", "P5", "warning")]
    breach, near = notices
    assert breach.recipients == ("ana@acme.test", "boss.it@acme.test")
    assert near.recipients == ("ana@acme.test",) and near.escalate_to is None
    assert "past the target of 8 business hours by 0.5 business hours" in breach.message
    fields = breach.alert_fields()
    assert fields["link"] == "/leads/sla?person=P4" and fields["status"] == "breached" and fields["kind"] == "lead"
    assert speed_alerts(ws, now=NOW + dt.timedelta(days=60)) == []  # older than alert_days: no notices


def test_the_notices_join_the_alerts_and_reach_owner_and_escalation(ws, tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    init_db(url)
    with session_scope(url) as s:
        listed = collect_alerts(ws, s, today=NOW.date(), now=NOW)
    leads = [a for a in listed.alerts if a.kind == "lead"]
    assert [(a.key, a.severity) for a in leads] == [("speed_to_lead_breach:P4", "critical"),
                                                    ("speed_to_lead_near_breach:P5", "warning")]
    assert leads[0].recipients == ("ana@acme.test", "boss.it@acme.test")  # nobody configured: owner + escalation
    assert leads[1].recipients == ("ana@acme.test",)


def test_explain_lists_the_windows_and_the_closed_days(ws):
    e = explain_lead(ws, "P2@client.it", now=NOW)
    assert e.counted_hours == 12.0 and e.timezone == "Europe/Rome"
    assert [(s.day.day, s.hours) for s in e.segments] == [(4, 2.0), (7, 4.0), (7, 4.0), (9, 2.0)]
    assert [d.reason for d in e.closed_days][-1] == "holiday: Immaculate Conception"
    with pytest.raises(NotFound):
        explain_lead(ws, "nobody@client.it", now=NOW)


def test_speed_rows_vectorised_on_constructed_leads_across_a_dst_change():
    cfg = SpeedToLeadConfig(target_hours=2, teams=[TeamCalendar(name="ny", timezone="America/New_York",
                                                                hours={"mon": "09:00-18:00", "fri": "09:00-18:00"})])
    friday_5pm_est = dt.datetime(2026, 3, 6, 22)  # 17:00 EST
    mqls = pa.table({"person_id": ["a", "b"], "email": ["a@x", "b@x"], "owner": [None, None],
                     "mql_at": [friday_5pm_est] * 2,
                     "touch_at": [dt.datetime(2026, 3, 9, 14), dt.datetime(2026, 3, 9, 14, 30)]})  # 10:00 / 10:30 EDT
    t = speed_rows(mqls, cfg, [], now=dt.datetime(2026, 3, 10))
    assert t.column("response_hours").to_pylist() == [2.0, 2.5]
    assert t.column("status").to_pylist() == ["met", "breached"]
    assert t.column("deadline").to_pylist()[0] == dt.datetime(2026, 3, 9, 14)


def test_a_big_batch_is_computed_per_team_not_per_lead():
    n = 200_000
    rng = np.random.default_rng(1)
    starts = np.datetime64("2026-01-01T00:00:00", "s") + rng.integers(0, 300 * 86400, n).astype("timedelta64[s]")
    cfg = SpeedToLeadConfig(teams=[TeamCalendar(name="it", timezone="Europe/Rome", holiday_country="IT")])
    mqls = pa.table({"person_id": [str(i) for i in range(n)], "mql_at": pa.array(starts.astype("datetime64[us]")),
                     "touch_at": pa.array((starts + np.timedelta64(20, "h")).astype("datetime64[us]"))})
    calls = []
    real = BusinessCalendar._build_year

    def counting(self, year):
        calls.append(year)
        return real(self, year)

    BusinessCalendar._build_year = counting
    try:
        t = speed_rows(mqls, cfg, [], now=dt.datetime(2027, 1, 1))
    finally:
        BusinessCalendar._build_year = real
    assert t.num_rows == n and len(calls) <= 4  # a few years of windows, not one lookup per lead
    assert set(t.column("status").to_pylist()) <= {"met", "breached"}


# -- the CLI ---------------------------------------------------------------------------------------------

def run(root, *args):
    return CliRunner().invoke(cli_app, ["leads", "sla", *args, "--workspace", str(root)], catch_exceptions=False)


def test_cli_report_json_and_file(root, tmp_path):
    r = run(root, "--by", "week", "--at", "2026-12-09T11:00", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["met_share"] == 0.5 and [g["week"] for g in data["groups"]][-1] == "2026-12-07"
    out = tmp_path / "stl.csv"
    r = run(root, "--at", "2026-12-09T11:00", "-o", str(out))
    assert r.exit_code == 0 and "Speed to lead" in r.output and "Ana" in r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["person_id"]: r["status"] for r in rows}["P4"] == "open_breached"
    r = run(root, "--by", "ownr")
    assert r.exit_code == 1 and "did you mean 'owner'" in r.output


def test_cli_breaches_and_explain(root):
    r = run(root, "breaches", "--at", "2026-12-09T11:00", "--json")
    data = json.loads(r.output)
    assert [i["person_id"] for i in data["items"]] == ["P4", "P2"]
    assert data["notices"][0]["recipients"] == ["ana@acme.test", "boss.it@acme.test"]
    r = run(root, "breaches", "--near", "--at", "2026-12-09T11:00")
    assert r.exit_code == 0 and "p5@client.it" in r.output
    r = run(root, "explain", "p2@client.it", "--at", "2026-12-09T11:00")
    assert r.exit_code == 0, r.output
    assert "holiday: Immaculate Conception" in r.output and "12 business hours" in r.output
    assert "Mon-Fri: 09:00-13:00, 14:00-18:00" in r.output
    r = run(root, "explain", "ghost@client.it")
    assert r.exit_code == 1 and "no MQL with email or id 'ghost@client.it'" in r.output


# -- the API, the page, roles and downloads ------------------------------------------------------------------

def test_api_summary_by_and_breaches(client, users):
    login_as(client, "viewer")
    r = client.get(f"/api/v1/leads/sla?by=owner&at={AT}")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["summary"]["mqls"] == 7 and data["items"][0]["owner"] == "Ana Rossi"
    assert client.get("/api/v1/leads/sla?by=colour").status_code in (400, 422)
    b = client.get(f"/api/v1/leads/sla/breaches?at={AT}").json()
    assert [i["person_id"] for i in b["items"]] == ["P4", "P2"] and b["notices"][0]["status"] == "breached"
    near = client.get(f"/api/v1/leads/sla/breaches?near=true&at={AT}").json()
    assert [i["person_id"] for i in near["items"]] == ["P5"]
    board = client.get(f"/api/v1/leads/sla/open?at={AT}").json()
    assert [i["person_id"] for i in board["items"]] == ["P4", "P5", "P3", "P7"] and board["total"] == 4


def test_api_one_lead_and_calendars(client, users):
    login_as(client, "viewer")
    r = client.get(f"/api/v1/leads/sla/P2?at={AT}").json()
    assert r["counted_hours"] == 12.0 and r["lead"]["status"] == "breached"
    assert r["closed_days"][-1] == {"day": "2026-12-08", "reason": "holiday: Immaculate Conception"}
    assert client.get(f"/api/v1/leads/sla/p1@client.it?at={AT}").json()["lead"]["person_id"] == "P1"
    missing = client.get("/api/v1/leads/sla/ghost")
    assert missing.status_code == 404 and "error" in missing.json()
    cals = {c["team"]: c for c in client.get("/api/v1/leads/sla/calendars").json()["items"]}
    assert cals["us"]["target_hours"] == 4.0 and cals["us"]["timezone"] == "America/New_York"
    assert cals["italy"]["hours"].startswith("Mon-Fri: 09:00-13:00, 14:00-18:00")


def test_signed_out_is_refused_and_tokens_need_read(app, client, users):
    assert client.get("/api/v1/leads/sla").status_code == 401
    assert client.get("/leads/sla").status_code in (303, 307, 401)
    with session_scope(app.state.database_url) as s:
        from marketops.state.users import get_user

        _, token = create_token(s, get_user(s, EMAILS["viewer"]), "ci", scopes=["read"])
    r = client.get(f"/api/v1/leads/sla?at={AT}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["summary"]["mqls"] == 7


@pytest.mark.parametrize("url", ["/api/v1/leads/sla?by=week", "/api/v1/leads/sla/open", "/api/v1/leads/sla/breaches",
                                 "/api/v1/leads/sla/calendars", "/api/v1/leads/sla/P2"])
def test_every_table_downloads_as_csv_and_xlsx(client, users, url, tmp_path):
    login_as(client, "viewer")
    sep = "&" if "?" in url else "?"
    for fmt in ("csv", "xlsx"):
        r = client.get(f"{url}{sep}at={AT}&format={fmt}")
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
        path = tmp_path / f"out.{fmt}"
        path.write_bytes(r.content)
        header, rows = read_export(path)
        assert header and rows, url


def test_board_page_shows_open_leads_compliance_and_calendars(client, users):
    login_as(client, "viewer")
    r = client.get(f"/leads/sla?at={AT}")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'id="stl-board"' in html and 'id="stl-by-owner"' in html and 'id="stl-by-week"' in html
    order = [html.index(f'data-person="{p}"') for p in ("P4", "P5", "P3", "P7")]
    assert order == sorted(order)  # least time left first
    assert 'class="stl-row stl-open_breached"' in html and 'class="stl-row stl-near_breach"' in html
    assert "Closed on the public holidays of IT" in html and "boss.us@acme.test" in html
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="chart"' in html
    explained = client.get(f"/leads/sla?at={AT}&person=P2").text
    assert 'id="stl-explain"' in explained and "Immaculate Conception" in explained
    only = client.get(f"/leads/sla?at={AT}&owner=Ana+Rossi").text
    assert 'data-person="P4"' in only and 'data-person="P7"' not in only


def test_empty_workspace_page_says_what_to_do(tmp_path, clean_env):
    from fastapi.testclient import TestClient

    from marketops.app import create_app
    from marketops.state.db import dispose
    from marketops.state.users import create_user

    root = tmp_path / "empty"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Empty\nlanguage: en\n", encoding="utf-8")
    Workspace.init(root).close()
    application = create_app(root, warm=False)
    try:
        with session_scope(application.state.database_url) as s:
            create_user(s, EMAILS["viewer"], PASSWORDS["viewer"], role="viewer", name="Viewer")
        with TestClient(application, follow_redirects=False) as c:
            login_as(c, "viewer")
            r = c.get("/leads/sla")
            assert r.status_code == 200 and 'id="stl-empty"' in r.text and "Mon-Fri: 09:00-17:00" in r.text
            assert c.get("/api/v1/leads/sla").json()["summary"]["mqls"] == 0
    finally:
        dispose(application.state.database_url)


def test_without_sales_activities_every_mql_is_untouched_and_the_page_says_why(tmp_path, clean_env):
    from fastapi.testclient import TestClient

    from marketops.app import create_app
    from marketops.state.db import dispose
    from marketops.state.users import create_user

    root = build(tmp_path / "acme")
    with Workspace.open(root) as w:  # a workspace that never imported activities
        published = w.engine.published()
        published.pop("sales_activities")
        w.engine.manifest_path.write_text(json.dumps({"run_id": "r1", "tables": published}))
    with Workspace.open(root, read_only=True) as w:
        t = speed_table(w, now=NOW)
        assert not t.has_activities and t.rows.column("touch_at").null_count == t.rows.num_rows
        assert {r["person_id"]: r["status"] for r in t.items()}["P2"] == "open_breached"
    application = create_app(root, warm=False)
    try:
        with session_scope(application.state.database_url) as s:
            create_user(s, EMAILS["viewer"], PASSWORDS["viewer"], role="viewer", name="Viewer")
        with TestClient(application, follow_redirects=False) as c:
            login_as(c, "viewer")
            assert 'id="stl-no-activities"' in c.get(f"/leads/sla?at={AT}").text
    finally:
        dispose(application.state.database_url)
