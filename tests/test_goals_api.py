"""Goals through the web: the API (every rule, roles, downloads), the pages, the overview's goal
summary, and goal progress recomputed by a pipeline run, on the sample company; the create and
progress path on PostgreSQL too."""

from __future__ import annotations

import datetime as dt
import io
import shutil

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from marketops.app import create_app
from marketops.pipeline import run_pipeline
from marketops.plan.goals import GoalDraft, create_goal
from marketops.plan.progress import measure_after_run
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import Goal, GoalProgress, Initiative, InitiativeGoal
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, csrf_from, login_as
from tests.test_app_database import postgres_url  # noqa: F401  (fixture used by name)
from tests.test_goals import build_workspace

ENV = ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL", "MARKETOPS_ADMIN_PASSWORD",
       "MARKETOPS_ENGINE")
DEADLINE = (dt.date.today() + dt.timedelta(days=400)).isoformat()


@pytest.fixture(scope="module")
def sample(tmp_path_factory, sample_dir):
    """The sample company after one pipeline run, served by an app with one user per role."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        ws = Workspace.init(tmp_path_factory.mktemp("goals") / "acme", name="Acme Goals")
        shutil.rmtree(ws.inbox)
        shutil.copytree(sample_dir / "inbox", ws.inbox)
        assert run_pipeline(ws).status == "succeeded"
        root = ws.root
        ws.close()
        application = create_app(root, warm=False)
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
            s.add(Initiative(title="Newsletter relaunch"))
        yield application, root
        dispose(application.state.database_url)


@pytest.fixture
def editor(sample):
    with TestClient(sample[0], follow_redirects=False) as c:
        login_as(c, "editor")
        c.headers["X-CSRF-Token"] = csrf_from(c.get("/goals").text)
        yield c


@pytest.fixture
def viewer(sample):
    with TestClient(sample[0], follow_redirects=False) as c:
        login_as(c, "viewer")
        c.headers["X-CSRF-Token"] = csrf_from(c.get("/goals").text)
        yield c


def goal_body(**kw):
    return {"title": "More email clicks", "metric": "email_clicks", "filters": {"channel": "Email"},
            "change": "+25%", "deadline": DEADLINE, "owner": "ana@acme.test", **kw}


def test_create_goal_through_the_api(editor, sample):
    r = editor.post("/api/v1/goals", json=goal_body(initiative_ids=[1]))
    assert r.status_code == 201, r.text
    goal = r.json()
    assert {c["letter"]: c["ok"] for c in goal["smart"]} == {"S": True, "M": True, "A": True, "R": True, "T": True}
    assert goal["target"] == pytest.approx(goal["baseline"] * 1.25)
    assert goal["scope"] == "channel = Email" and goal["initiative_ids"] == [1]
    assert goal["status"] in ("on_track", "at_risk", "off_track")
    assert goal["progress"]["message"].startswith("Goal 'More email clicks' is ")
    with session_scope(sample[0].state.database_url) as s:
        assert s.scalars(select(InitiativeGoal).where(InitiativeGoal.goal_id == goal["id"])).one()
        event = s.scalars(select(AuditEvent).where(AuditEvent.target == f"goal:{goal['id']}")).one()
        assert event.action == "goal.create" and event.actor == EMAILS["editor"]


def test_check_saves_nothing_and_says_every_letter(editor):
    before = editor.get("/api/v1/goals").json()["total"]
    r = editor.post("/api/v1/goals/check", json=goal_body(deadline="2020-01-01", filters={"channel": "Emial"}))
    assert r.status_code == 200
    checks = {c["letter"]: c for c in r.json()["checks"]}
    assert r.json()["ok"] is False
    assert checks["T"]["severity"] == "error" and "is in the past" in checks["T"]["message"]
    assert "did you mean 'Email'" in checks["M"]["message"]
    assert checks["R"]["severity"] == "warning" and not checks["R"]["ok"]
    assert editor.get("/api/v1/goals").json()["total"] == before


@pytest.mark.parametrize("body, letter, words", [
    (goal_body(deadline="2020-01-01"), "T", "The deadline 2020-01-01 is in the past"),
    (goal_body(filters={"channel": "Paid Search"}), "M", "has no data for channel = Paid Search"),
    (goal_body(change=None, target=1), "A", "is not above the baseline"),
    (goal_body(metric="unsubscribe_rate", change="+50%"), "A", "is not below the baseline"),
    (goal_body(metric="email_clikcs"), "M", "did you mean 'email_clicks'"),
])
def test_bad_goals_are_refused_with_a_specific_message(editor, body, letter, words):
    r = editor.post("/api/v1/goals", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "smart_check_failed"
    check = next(c for c in error["checks"] if c["letter"] == letter)
    assert check["severity"] == "error" and not check["ok"] and words in check["message"]


def test_shape_errors_are_400(editor):
    r = editor.post("/api/v1/goals", json=goal_body(change="twice"))
    assert r.status_code == 400 and "is not a change" in r.json()["error"]["message"]
    assert editor.post("/api/v1/goals", json=goal_body(level="galaxy")).status_code == 422


def test_viewers_read_but_cannot_change(viewer, editor):
    gid = editor.post("/api/v1/goals", json=goal_body(title="Viewer test")).json()["id"]
    assert viewer.get(f"/api/v1/goals/{gid}").status_code == 200
    assert viewer.post("/api/v1/goals", json=goal_body()).status_code == 403
    assert viewer.patch(f"/api/v1/goals/{gid}", json={"owner": "x"}).status_code == 403
    assert viewer.delete(f"/api/v1/goals/{gid}").status_code == 403
    assert viewer.post(f"/api/v1/goals/{gid}/measure").status_code == 403
    page = viewer.get("/goals").text
    assert 'id="new-goal"' not in page


def test_patch_rechecks_and_audits(editor, sample):
    gid = editor.post("/api/v1/goals", json=goal_body(title="Patch me")).json()["id"]
    r = editor.patch(f"/api/v1/goals/{gid}", json={"owner": "bo@acme.test", "deadline": "2020-01-01"})
    assert r.status_code == 400 and "in the past" in r.json()["error"]["message"]
    r = editor.patch(f"/api/v1/goals/{gid}", json={"owner": "bo@acme.test", "change": "+30%"})
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == "bo@acme.test" and r.json()["target"] == pytest.approx(r.json()["baseline"] * 1.3)
    with session_scope(sample[0].state.database_url) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.target == f"goal:{gid}",
                                                   AuditEvent.action == "goal.update")).one()
        assert event.detail["changes"]["owner"] == {"from": "ana@acme.test", "to": "bo@acme.test"}
    # a parent cannot be the goal's own child
    child = editor.post("/api/v1/goals", json=goal_body(title="Child", parent_id=gid, level="team")).json()["id"]
    r = editor.patch(f"/api/v1/goals/{gid}", json={"parent_id": child})
    assert r.status_code == 400 and "circle" in r.json()["error"]["message"]


def test_progress_measure_and_downloads(editor):
    gid = editor.post("/api/v1/goals", json=goal_body(title="Series")).json()["id"]
    r = editor.post(f"/api/v1/goals/{gid}/measure")
    assert r.status_code == 200 and r.json()["status"] in ("on_track", "at_risk", "off_track")
    progress = editor.get(f"/api/v1/goals/{gid}/progress").json()
    assert len(progress["history"]) == 2
    assert progress["latest"]["detail"]["method"] in ("flat", "linear", "seasonal")
    actual = [row for row in progress["series"] if row["actual"] is not None]
    assert actual and progress["series"][-1]["forecast"] is not None
    csv = editor.get(f"/api/v1/goals/{gid}/progress?format=csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "period,actual,forecast,baseline,target" and len(lines) == len(progress["series"]) + 1
    xlsx = editor.get(f"/api/v1/goals/{gid}/progress?table=history&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:3] == ["computed_at", "run_id", "as_of"] and sheet.max_row == 3
    listing = editor.get("/api/v1/goals?format=csv").content.decode("utf-8-sig").splitlines()
    assert listing[0].startswith("id,title,level,team,owner") and any(",Series," in line for line in listing)


def test_list_filters(editor):
    editor.post("/api/v1/goals", json=goal_body(title="Person goal", level="person", owner="zed@acme.test"))
    people = editor.get("/api/v1/goals?level=person").json()["items"]
    assert people and all(g["level"] == "person" for g in people)
    assert [g["owner"] for g in editor.get("/api/v1/goals?owner=ZED").json()["items"]] == ["zed@acme.test"]
    assert editor.get("/api/v1/goals?status=lost").status_code == 400


def test_delete_keeps_children(editor):
    parent = editor.post("/api/v1/goals", json=goal_body(title="Parent")).json()["id"]
    child = editor.post("/api/v1/goals", json=goal_body(title="Kid", parent_id=parent, level="team")).json()["id"]
    assert editor.delete(f"/api/v1/goals/{parent}").status_code == 204
    assert editor.get(f"/api/v1/goals/{parent}").status_code == 404
    assert editor.get(f"/api/v1/goals/{child}").json()["parent_id"] is None


def test_pages_escape_html_and_show_the_chart(editor):
    gid = editor.post("/api/v1/goals", json=goal_body(title="<script>alert(1)</script>")).json()["id"]
    listing = editor.get("/goals").text
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing
    page = editor.get(f"/goals/{gid}")
    assert page.status_code == 200
    assert 'data-figure="' in page.text and 'id="smart"' in page.text and 'id="measurements"' in page.text
    assert "<script>alert(1)</script>" not in page.text


def test_form_create_check_and_csrf(editor):
    token = editor.headers["X-CSRF-Token"]
    form = {"title": "Form goal", "metric": "email_clicks", "filters": "channel=Email", "change": "+20%",
            "deadline": DEADLINE, "level": "company", "grain": "month", "measure": "period"}
    checked = editor.post("/goals", data={**form, "action": "check", "csrf_token": token})
    assert checked.status_code == 200 and 'id="smart-check"' in checked.text and "can be saved" in checked.text
    refused = editor.post("/goals", data={**form, "deadline": "2020-01-01", "csrf_token": token})
    assert refused.status_code == 400 and "is in the past" in refused.text
    assert editor.post("/goals", data={**form, "csrf_token": "forged"}).status_code == 403
    created = editor.post("/goals", data={**form, "csrf_token": token})
    assert created.status_code == 303 and created.headers["location"].startswith("/goals/")
    gid = int(created.headers["location"].rsplit("/", 1)[1])
    edited = editor.post(f"/goals/{gid}", data={**form, "title": "Form goal renamed", "csrf_token": token})
    assert edited.status_code == 303
    assert editor.get(f"/api/v1/goals/{gid}").json()["title"] == "Form goal renamed"
    assert editor.post(f"/goals/{gid}/measure", data={"csrf_token": token}).status_code == 303
    assert editor.post(f"/goals/{gid}/delete", data={"csrf_token": token}).status_code == 303
    assert editor.get(f"/api/v1/goals/{gid}").status_code == 404


def test_overview_shows_the_goal_summary(editor):
    editor.post("/api/v1/goals", json=goal_body(title="Stretch", change="+400%"))
    page = editor.get("/").text
    assert 'id="goal-summary"' in page and 'href="/goals?status=' in page
    summary = editor.get("/api/v1/overview").json()["goal_summary"]
    assert summary["total"] >= 1 and sum(summary["counts"].values()) == summary["total"]
    assert all(g["status"] in ("at_risk", "off_track") for g in summary["attention"])


def test_every_run_measures_every_goal_and_a_broken_goal_never_fails_it(sample):
    application, root = sample
    with session_scope(application.state.database_url) as s:
        s.add(Goal(title="Broken", metric="email_clicks", filters={"country": "IT"}, target=1,
                   deadline=dt.date.today() + dt.timedelta(days=30)))
        goals = len(s.scalars(select(Goal)).all())
    with Workspace.open(root) as ws:
        run = run_pipeline(ws)
    assert run.status == "succeeded"
    with session_scope(application.state.database_url) as s:
        rows = s.scalars(select(GoalProgress).where(GoalProgress.run_id == run.run_id)).all()
        assert len(rows) == goals
        broken = next(r for r in rows if r.goal.title == "Broken")
        assert broken.status == "no_data" and "cannot be broken down by 'country'" in broken.detail["message"]


def test_create_and_progress_on_postgresql(tmp_path, monkeypatch, postgres_url):  # noqa: F811
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MARKETOPS_DATABASE_URL", postgres_url)
    root = build_workspace(tmp_path / "acme")
    with Workspace.open(root, read_only=True) as ws:
        assert ws.app_database_url == postgres_url
        init_db(postgres_url)
        today = dt.date(2026, 7, 10)
        with session_scope(postgres_url) as s:
            _, result = create_goal(s, ws, GoalDraft(
                title="Postgres clicks", metric="clicks", filters={"channel": "Paid Search"}, target=540,
                deadline=dt.date(2026, 12, 31), start_date=dt.date(2026, 7, 1)), actor="t", today=today)
            assert result.baseline == 490
        assert measure_after_run(ws, "rpg", today=today) == {"measured": 1, "statuses": {"on_track": 1}}
        with session_scope(postgres_url) as s:
            rows = s.scalars(select(GoalProgress).order_by(GoalProgress.id)).all()
            assert [r.run_id for r in rows] == [None, "rpg"]
            assert rows[-1].forecast == pytest.approx(550) and rows[-1].detail["series"][-1]["value"] == 490
    dispose(postgres_url)
