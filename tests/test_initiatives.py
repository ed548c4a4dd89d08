# ruff: noqa: F811  (pytest fixtures imported from app_fixtures are used by name)
"""Initiatives through the API and the pages: created from stories in four languages, every rule's
message, stakeholders, communication plan, goal links, the task summary, roles, CSRF, hostile
input, downloads and the audit log; the create path on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from marketops.app import create_app
from marketops.state.db import dispose, init_db, make_engine, session_scope
from marketops.state.models import AuditEvent, Base
from marketops.state.planning import Goal, GoalProgress, Initiative, Task
from marketops.state.users import create_user
from tests.app_fixtures import (  # noqa: F401
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    make_workspace,
    users,
    workspace_root,
)
from tests.test_app_database import postgres_url  # noqa: F401

STORIES = {
    "en": ("As a sales rep, I want faster lead routing, so that I call new leads within the hour.",
           "sales rep", "faster lead routing", "I call new leads within the hour"),
    "it": ("Come responsabile marketing, voglio un report settimanale, in modo da vedere i cali in tempo.",
           "responsabile marketing", "un report settimanale", "vedere i cali in tempo"),
    "es": ("Como analista, quiero un panel de ROAS, para decidir el presupuesto.",
           "analista", "un panel de ROAS", "decidir el presupuesto"),
    "ru": ("Как менеджер по продажам, я хочу получать лиды быстрее, чтобы закрывать больше сделок.",
           "менеджер по продажам", "получать лиды быстрее", "закрывать больше сделок"),
}
STORY = STORIES["en"][0]
HOSTILE = '<script>alert("x")</script>'


def token(client) -> str:
    return csrf_from(client.get("/initiatives").text)


def call(client, method: str, url: str, **kw):
    """An API call from the signed-in browser session (unsafe methods carry X-CSRF-Token)."""
    headers = {"X-CSRF-Token": token(client)} if method not in ("GET",) else {}
    return client.request(method, url, headers=headers, **kw)


def create(client, story: str = STORY, **fields):
    response = call(client, "POST", "/api/v1/initiatives", json={"story": story, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def audit_events(app, initiative_id: int) -> list[AuditEvent]:
    with session_scope(app.state.database_url) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.target == f"initiative:{initiative_id}")
                              .order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


@pytest.fixture
def editor(client, users):
    login_as(client, "editor")
    return client


# -- stories -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", list(STORIES))
def test_an_initiative_is_created_from_a_story_in_each_language(editor, app, language):
    story, persona, want, outcome = STORIES[language]
    d = create(editor, story)
    assert (d["persona"], d["want"], d["outcome"], d["story_language"]) == (persona, want, outcome, language)
    assert d["title"] == want[0].upper() + want[1:]  # the title defaults to the want
    assert d["status"] == "proposed" and d["created_by"] == EMAILS["editor"]
    assert [s["part"] for s in d["segments"] if s["part"]] == ["persona", "want", "outcome"]
    [event] = audit_events(app, d["id"])
    assert event.action == "initiative.create" and event.actor == EMAILS["editor"]


def test_parse_only_gives_the_parts_or_says_what_is_missing(editor):
    ok = call(editor, "POST", "/api/v1/stories/parse",
              json={"story": "“come PM  vorrei un report affinché il team decida”"}).json()
    assert ok["ok"] and (ok["persona"], ok["want"], ok["outcome"], ok["language"]) == (
        "PM", "un report", "il team decida", "it")

    missing = call(editor, "POST", "/api/v1/stories/parse", json={"story": "As a marketer, I want more leads"}).json()
    assert not missing["ok"] and missing["missing"] == ["outcome"] and missing["language"] == "en"
    assert missing["message"].startswith("the story has 'As a …' and 'I want …' but no 'so that …' part")

    italian = call(editor, "POST", "/api/v1/stories/parse", json={"story": "Come responsabile, in modo da vendere"}).json()
    assert "no 'voglio …' part" in italian["message"]
    assert italian["expected"] == "Come [persona], voglio [obiettivo], in modo da [risultato]"

    unknown = call(editor, "POST", "/api/v1/stories/parse", json={"story": "We need more leads."}).json()
    assert unknown["language"] is None and "none of the known forms" in unknown["message"]
    for form in ("As a [persona]", "Come [persona]", "Como [persona]", "Как [персона]"):
        assert form in unknown["message"]


def test_a_story_in_no_known_form_is_refused_with_the_four_forms(editor):
    r = call(editor, "POST", "/api/v1/initiatives", json={"story": "Make the website faster"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"
    assert "none of the known forms" in r.json()["error"]["message"] and "Как [персона]" in r.json()["error"]["message"]


# -- every rule has its message ---------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "message"), [
    ({"start_date": "2026-03-01", "end_date": "2026-01-31"},
     "the end date 2026-01-31 is before the start date 2026-03-01"),
    ({"start_date": "31/03/2026"}, "the start date '31/03/2026' is not a date; use YYYY-MM-DD"),
    ({"status": "activ"}, ("unknown status 'activ' (did you mean 'active'?); valid: proposed, planned, active, "
                           "done, cancelled")),
    ({"title": "x" * 301}, "the title is too long (301 characters; at most 300)"),
    ({"stakeholders": [{"role": "CMO"}]}, "stakeholder 1 has no name"),
    ({"stakeholders": [{"name": "Ana", "email": "ana@"}]}, "stakeholder 1 (Ana): 'ana@' is not an email address"),
    ({"stakeholders": [{"name": "Ana", "email": "a@x.io"}, {"name": "Ana R", "email": "A@x.io"}]},
     "the stakeholder 'a@x.io' is listed twice"),
    ({"stakeholders": [{"name": "Ana", "phone": "1"}]}, "stakeholder 1 has an unknown field 'phone'"),
    ({"stakeholders": ["Ana"]}, "stakeholder 1 must be an object with name, role and email"),
    ({"communication_plan": [{"message": "m", "channel": "email", "frequency": "weekly"}]},
     "communication plan entry 1 has no audience"),
    ({"communication_plan": [{"audience": "Sales", "channel": "email", "frequency": "weekly"}]},
     "communication plan entry 1 has no message"),
    ({"communication_plan": [{"audience": "Sales", "message": "m", "channel": "slak", "frequency": "weekly"}]},
     "communication plan entry 1: unknown channel 'slak' (did you mean 'slack'?)"),
    ({"communication_plan": [{"audience": "Sales", "message": "m", "channel": "email", "frequency": "hourly"}]},
     "communication plan entry 1: unknown frequency 'hourly'"),
    ({"communication_plan": [{"audience": "Sales", "message": "m", "channel": "email"}]},
     "communication plan entry 1 has no frequency; valid: daily, weekly, every two weeks"),
    ({"goal_ids": [999]}, "there is no goal with id 999"),
    ({"goal_ids": ["abc"]}, "'abc' is not a goal id"),
])
def test_each_rule_refuses_with_its_own_message(editor, fields, message):
    r = call(editor, "POST", "/api/v1/initiatives", json={"story": STORY, **fields})
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]["message"]
    assert call(editor, "GET", "/api/v1/initiatives").json()["total"] == 0  # nothing half-written


def test_patch_refuses_an_end_before_the_existing_start_and_unknown_fields(editor):
    d = create(editor, start_date="2026-03-01")
    r = call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}", json={"end_date": "2026-02-01"})
    assert r.status_code == 400 and "is before the start date 2026-03-01" in r.json()["error"]["message"]
    r = call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}", json={"colour": "red"})
    assert r.status_code == 422 and "colour" in r.json()["error"]["message"]
    r = call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}", json={"story": "As a rep I want leads"})
    assert r.status_code == 400 and "no 'so that …' part" in r.json()["error"]["message"]


def test_unknown_initiative_is_404(editor):
    r = call(editor, "GET", "/api/v1/initiatives/4242")
    assert r.status_code == 404 and "no initiative with id 4242" in r.json()["error"]["message"]
    assert editor.get("/initiatives/4242").status_code == 404


# -- changing an initiative ----------------------------------------------------------------------------
def test_patch_changes_fields_follows_the_story_and_is_audited(editor, app):
    d = create(editor, owner="ana@acme.test")
    r = call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}",
             json={"status": "Active", "start_date": "2026-01-05", "end_date": "2026-06-30", "owner": None,
                   "story": "As a sales rep, I want lead scoring, so that I call the best leads first"})
    assert r.status_code == 200, r.text
    d2 = r.json()
    assert (d2["status"], d2["start_date"], d2["end_date"], d2["owner"]) == ("active", "2026-01-05", "2026-06-30", "")
    assert d2["want"] == "lead scoring" and d2["title"] == "Lead scoring"  # the default title follows the story
    r = call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}", json={"title": "Scoring v1", "end_date": None})
    assert r.json()["title"] == "Scoring v1" and r.json()["end_date"] is None
    events = audit_events(app, d["id"])
    assert [e.action for e in events] == ["initiative.create", "initiative.update", "initiative.update"]
    changes = events[1].detail["changes"]
    assert changes["status"] == {"from": "proposed", "to": "active"}
    assert changes["start_date"] == {"from": None, "to": "2026-01-05"}
    # an update that changes nothing is not recorded
    call(editor, "PATCH", f"/api/v1/initiatives/{d['id']}", json={"title": "Scoring v1"})
    assert len(audit_events(app, d["id"])) == 3


def test_stakeholders_communication_plan_and_goal_links(editor, app):
    with session_scope(app.state.database_url) as s:
        goal = Goal(title="More email clicks", metric="email_clicks", target=1250.0)
        s.add(goal)
        s.flush()
        goal_id = goal.id
    d = create(editor, stakeholders=[{"name": "Ana Rossi", "role": "Head of Sales", "email": "Ana@Acme.test"}])
    base = f"/api/v1/initiatives/{d['id']}"
    assert d["stakeholders"] == [{"name": "Ana Rossi", "role": "Head of Sales", "email": "ana@acme.test"}]
    r = call(editor, "POST", base + "/stakeholders", json={"name": "Bo Chen", "role": "CMO"})
    assert r.status_code == 201 and [p["name"] for p in r.json()["stakeholders"]] == ["Ana Rossi", "Bo Chen"]
    r = call(editor, "POST", base + "/stakeholders", json={"name": "Ana again", "email": "ana@acme.test"})
    assert r.status_code == 400 and "listed twice" in r.json()["error"]["message"]

    r = call(editor, "POST", base + "/communication-plan",
             json={"audience": "Sales team", "message": "Routing times", "channel": "Slack", "frequency": "biweekly"})
    assert r.status_code == 201
    assert r.json()["communication_plan"] == [{"audience": "Sales team", "message": "Routing times",
                                                "channel": "slack", "frequency": "every two weeks"}]

    r = call(editor, "POST", base + "/goals", json={"goal_id": goal_id})
    assert r.status_code == 201 and r.json()["goals"][0]["id"] == goal_id and r.json()["goals"][0]["status"] is None

    # a removal names what it removes, so a list changed meanwhile is not silently cut
    r = call(editor, "DELETE", base + "/stakeholders/0?name=Bo%20Chen")
    assert r.status_code == 400 and "changed while you were looking" in r.json()["error"]["message"]
    r = call(editor, "DELETE", base + "/stakeholders/1?name=Bo%20Chen")
    assert [p["name"] for p in r.json()["stakeholders"]] == ["Ana Rossi"]
    assert call(editor, "DELETE", base + "/stakeholders/5").status_code == 404
    assert call(editor, "DELETE", base + "/communication-plan/0?audience=Sales%20team").json()["communication_plan"] == []
    assert call(editor, "DELETE", base + f"/goals/{goal_id}").json()["goals"] == []
    assert call(editor, "DELETE", base + f"/goals/{goal_id}").status_code == 404

    actions = [e.action for e in audit_events(app, d["id"])]
    assert actions == ["initiative.create", "initiative.stakeholder_add", "initiative.comms_add",
                       "initiative.goal_link", "initiative.stakeholder_remove", "initiative.comms_remove",
                       "initiative.goal_unlink"]


def test_task_summary_and_goal_status_come_from_tasks_and_newest_progress(editor, app):
    d = create(editor)
    today = date.today()
    with session_scope(app.state.database_url) as s:
        goal = Goal(title="Faster routing", metric="leads", target=10.0)
        s.add(goal)
        s.flush()
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        s.add_all([GoalProgress(goal_id=goal.id, computed_at=t0, status="off_track"),
                   GoalProgress(goal_id=goal.id, computed_at=t0 + timedelta(days=1), status="at_risk")])
        s.add_all([Task(initiative_id=d["id"], title="Brief", status="done", due_date=today - timedelta(days=9)),
                   Task(initiative_id=d["id"], title="Rules", status="in_progress", due_date=today - timedelta(days=1)),
                   Task(initiative_id=d["id"], title="Blocked", status="blocked"),
                   Task(initiative_id=d["id"], title="Launch", due_date=today + timedelta(days=5))])
        goal_id = goal.id
    call(editor, "POST", f"/api/v1/initiatives/{d['id']}/goals", json={"goal_id": goal_id})
    got = call(editor, "GET", f"/api/v1/initiatives/{d['id']}").json()
    assert got["tasks"] == {"total": 4, "by_status": {"todo": 1, "in_progress": 1, "blocked": 1, "done": 1},
                            "done": 1, "done_share": 0.25, "overdue": 1}
    assert got["goals"][0]["status"] == "at_risk"

    page = editor.get(f"/initiatives/{d['id']}").text
    assert f'href="/tasks?initiative={d["id"]}"' in page and f'href="/tasks/timeline?initiative={d["id"]}"' in page
    assert 'id="overdue-count" data-value="1"' in page and 'data-goal-status="at_risk"' in page
    listing = editor.get("/initiatives").text
    assert 'data-total="4" data-done="1" data-overdue="1"' in listing


def test_delete_removes_the_initiative_and_its_tasks(editor, app):
    d = create(editor)
    with session_scope(app.state.database_url) as s:
        s.add(Task(initiative_id=d["id"], title="Brief"))
    assert call(editor, "DELETE", f"/api/v1/initiatives/{d['id']}").json() == {"deleted": d["id"]}
    with session_scope(app.state.database_url) as s:
        assert s.scalar(select(Task).where(Task.initiative_id == d["id"])) is None
    assert audit_events(app, d["id"])[-1].action == "initiative.delete"


# -- the list, filters and downloads ------------------------------------------------------------------
def test_list_filters_and_downloads(editor):
    a = create(editor, owner="ana@acme.test", status="active",
               stakeholders=[{"name": "Bo", "role": "CMO", "email": "bo@acme.test"}],
               communication_plan=[{"audience": "Board", "message": "Results", "channel": "report",
                                    "frequency": "monthly"}])
    create(editor, STORIES["it"][0], owner="luca@acme.test")
    assert call(editor, "GET", "/api/v1/initiatives?status=active").json()["items"][0]["id"] == a["id"]
    assert [i["owner"] for i in call(editor, "GET", "/api/v1/initiatives?owner=LUCA").json()["items"]] == [
        "luca@acme.test"]
    bad = call(editor, "GET", "/api/v1/initiatives?status=open")
    assert bad.status_code == 400 and "unknown status 'open'" in bad.json()["error"]["message"]

    csv = editor.get("/api/v1/initiatives?format=csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="initiatives.csv"'
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,title,status,owner,start_date,end_date,persona,want,outcome") and len(lines) == 3

    xlsx = editor.get(f"/api/v1/initiatives/{a['id']}/stakeholders?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["initiative_id", "initiative", "name", "role", "email"]
    assert [c.value for c in sheet[2]][2:] == ["Bo", "CMO", "bo@acme.test"]
    comms = editor.get(f"/api/v1/initiatives/{a['id']}/communication-plan?format=csv").content.decode("utf-8-sig")
    assert comms.splitlines()[1].endswith("Board,Results,report,monthly")
    everyone = editor.get("/api/v1/stakeholders?format=csv").content.decode("utf-8-sig").splitlines()
    assert len(everyone) == 2
    empty = editor.get("/api/v1/communication-plan?format=csv&owner=luca").content.decode("utf-8-sig")
    assert empty.strip() == "initiative_id,initiative,audience,message,channel,frequency"

    page = editor.get("/initiatives?status=active").text
    assert f'data-initiative="{a["id"]}"' in page and "Un report settimanale" not in page
    assert "/api/v1/initiatives?status=active&amp;format=csv" in page or "/api/v1/initiatives?status=active&format=csv" in page


# -- roles and CSRF ---------------------------------------------------------------------------------------
def test_viewers_read_but_cannot_change(client, users, app):
    login_as(client, "editor")
    d = create(client)
    client.post("/logout", data={"csrf_token": token(client)})
    login_as(client, "viewer")
    assert call(client, "GET", f"/api/v1/initiatives/{d['id']}").status_code == 200
    page = client.get("/initiatives").text
    assert "Only editors and admins can create initiatives" in page and 'id="story-form"' not in page
    detail = client.get(f"/initiatives/{d['id']}").text
    assert 'id="edit-initiative"' not in detail and 'id="delete-initiative"' not in detail
    assert call(client, "POST", "/api/v1/stories/parse", json={"story": STORY}).status_code == 200  # reading
    for method, url, body in [("POST", "/api/v1/initiatives", {"story": STORY}),
                              ("PATCH", f"/api/v1/initiatives/{d['id']}", {"status": "done"}),
                              ("DELETE", f"/api/v1/initiatives/{d['id']}", None),
                              ("POST", f"/api/v1/initiatives/{d['id']}/stakeholders", {"name": "X"}),
                              ("POST", f"/api/v1/initiatives/{d['id']}/communication-plan", {"audience": "X"}),
                              ("POST", f"/api/v1/initiatives/{d['id']}/goals", {"goal_id": 1})]:
        r = call(client, method, url, json=body)
        assert r.status_code == 403, (method, url)
        assert "editor role" in r.json()["error"]["message"]
    csrf = token(client)
    for url, data in [("/initiatives", {"story": STORY}), (f"/initiatives/{d['id']}/edit", {"story": STORY}),
                      (f"/initiatives/{d['id']}/delete", {})]:
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 403
    assert [e.action for e in audit_events(app, d["id"])] == ["initiative.create"]


def test_forms_without_the_csrf_token_are_refused(editor):
    assert editor.post("/initiatives", data={"story": STORY}).status_code == 403
    assert call(editor, "GET", "/api/v1/initiatives").json()["total"] == 0
    # the API with the session cookie needs the header
    assert editor.post("/api/v1/initiatives", json={"story": STORY}).status_code == 403
    r = editor.post("/initiatives", data={"story": STORY, "csrf_token": token(editor)})
    assert r.status_code == 303 and r.headers["location"].startswith("/initiatives/")


def test_html_in_a_story_is_escaped_on_the_pages(editor):
    d = create(editor, f"As a {HOSTILE}, I want {HOSTILE} reports, so that {HOSTILE}",
               stakeholders=[{"name": HOSTILE}],
               communication_plan=[{"audience": HOSTILE, "message": HOSTILE, "channel": "email", "frequency": "once"}])
    for url in (f"/initiatives/{d['id']}", "/initiatives"):
        page = editor.get(url).text
        assert HOSTILE not in page and "&lt;script&gt;" in page


# -- the pages' forms -------------------------------------------------------------------------------------
def test_new_initiative_form_checks_the_story_then_creates(editor):
    csrf = token(editor)
    checked = editor.post("/initiatives", data={"csrf_token": csrf, "story": STORIES["es"][0], "action": "check"})
    assert checked.status_code == 200
    assert 'data-ok="true" data-language="es"' in checked.text and '<dd data-part="want">un panel de ROAS</dd>' in checked.text
    bad = editor.post("/initiatives", data={"csrf_token": csrf, "story": "Como analista, quiero un panel",
                                            "action": "check"})
    assert 'data-ok="false"' in bad.text and "no &#39;para …&#39; part" in bad.text
    refused = editor.post("/initiatives", data={"csrf_token": csrf, "story": STORY, "start_date": "2026-05-01",
                                                "end_date": "2026-04-01", "owner": "ana@acme.test"})
    assert refused.status_code == 400 and "is before the start date" in refused.text
    assert 'value="ana@acme.test"' in refused.text  # what was typed stays
    created = editor.post("/initiatives", data={"csrf_token": csrf, "story": STORY, "status": "planned"})
    assert created.status_code == 303
    page = editor.get(created.headers["location"]).text
    assert "Created the initiative" in page and '<mark class="story-part story-persona" data-part="persona">sales rep</mark>' in page


def test_detail_page_forms_change_the_initiative(editor, app):
    d = create(editor, start_date="2026-03-01")
    url = f"/initiatives/{d['id']}"
    csrf = token(editor)
    r = editor.post(url + "/edit", data={"csrf_token": csrf, "story": STORY, "title": "Routing", "owner": "bo",
                                         "status": "active", "start_date": "2026-03-01", "end_date": "2026-01-01"})
    assert r.status_code == 400 and "the end date 2026-01-01 is before the start date 2026-03-01" in r.text
    r = editor.post(url + "/edit", data={"csrf_token": csrf, "story": STORY, "title": "Routing", "owner": "bo",
                                         "status": "active", "start_date": "2026-03-01", "end_date": "2026-09-30"})
    assert r.status_code == 303
    r = editor.post(url + "/stakeholders", data={"csrf_token": csrf, "name": "Ana", "email": "nope"})
    assert r.status_code == 400 and "is not an email address" in r.text
    assert editor.post(url + "/stakeholders", data={"csrf_token": csrf, "name": "Ana", "role": "VP"}).status_code == 303
    r = editor.post(url + "/comms", data={"csrf_token": csrf, "audience": "Sales", "message": "Status",
                                          "channel": "meeting", "frequency": "at milestones"})
    assert r.status_code == 303
    assert editor.post(url + "/status", data={"csrf_token": csrf, "status": "done"}).status_code == 303
    got = call(editor, "GET", f"/api/v1/initiatives/{d['id']}").json()
    assert (got["title"], got["owner"], got["status"], got["end_date"]) == ("Routing", "bo", "done", "2026-09-30")
    assert got["stakeholders"] == [{"name": "Ana", "role": "VP", "email": ""}]
    assert got["communication_plan"][0]["frequency"] == "at milestones"
    r = editor.post(url + "/stakeholders/0/remove", data={"csrf_token": csrf, "name": "Someone else"})
    assert r.status_code == 400 and "changed while you were looking" in r.text
    assert editor.post(url + "/stakeholders/0/remove", data={"csrf_token": csrf, "name": "Ana"}).status_code == 303
    assert editor.post(url + "/comms/0/remove", data={"csrf_token": csrf, "audience": "Sales"}).status_code == 303
    r = editor.post(url + "/delete", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/initiatives"
    assert editor.get(url).status_code == 404
    assert "initiative.delete" in [e.action for e in audit_events(app, d["id"])]


def test_empty_list_says_what_to_do(editor):
    page = editor.get("/initiatives").text
    assert "No initiatives yet" in page and 'id="story-form"' in page


# -- PostgreSQL ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_create_path_on_each_database(backend, request, tmp_path, monkeypatch, clean_env):
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("MARKETOPS_DATABASE_URL", url)
    application = create_app(make_workspace(tmp_path / "acme"), warm=False)
    try:
        with session_scope(application.state.database_url) as s:
            create_user(s, EMAILS["editor"], PASSWORDS["editor"], role="editor")
            goal = Goal(title="More clicks", metric="email_clicks", target=10.0)
            s.add(goal)
            s.flush()
            goal_id = goal.id
        from fastapi.testclient import TestClient

        with TestClient(application, follow_redirects=False) as c:
            login_as(c, "editor")
            d = create(c, STORIES["ru"][0], goal_ids=[goal_id], start_date="2026-01-01",
                       stakeholders=[{"name": "Анна", "email": "anna@acme.test"}])
            got = call(c, "GET", f"/api/v1/initiatives/{d['id']}").json()
            assert got["persona"] == "менеджер по продажам" and got["goals"][0]["id"] == goal_id
            assert got["stakeholders"][0]["name"] == "Анна"
            assert call(c, "GET", "/api/v1/initiatives?owner=").json()["total"] == 1
        with session_scope(application.state.database_url) as s:
            assert s.get(Initiative, d["id"]).story_language == "ru"
    finally:
        if backend == "postgresql":
            init_db(application.state.database_url)
            with make_engine(application.state.database_url).begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(delete(table))
        dispose(application.state.database_url)
