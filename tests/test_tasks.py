"""Tasks through the API and the pages: every rule and its message, roles, CSRF, downloads, hostile text.

Initiatives are made directly through the model (the initiatives module is built beside this one).
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketops.state.db import session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import Initiative, Task
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    EMAILS,
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    users,
    workspace_root,
)

TODAY = date.today()
HOSTILE = '<script>alert("x")</script>'


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
def initiatives(app):
    with session_scope(app.state.database_url) as s:
        s.add_all([Initiative(id=1, title="Spring launch"), Initiative(id=2, title="Webinar series")])
    return {"launch": 1, "webinars": 2}


def sign_in(client, role: str = "editor") -> dict[str, str]:
    """Sign in; returns the headers an API call with the session cookie needs."""
    login_as(client, role)
    return {"X-CSRF-Token": csrf_from(client.get("/tasks").text)}


@pytest.fixture
def editor(client, users, initiatives):
    return sign_in(client, "editor")


def add(client, headers, title, **fields):
    r = client.post("/api/v1/tasks", json={"initiative_id": 1, "title": title, **fields}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def error_of(response) -> str:
    return response.json()["error"]["message"]


# -- the rules --------------------------------------------------------------------------------------
def test_a_task_is_created_read_listed_and_filtered(client, editor):
    brief = add(client, editor, "Brief", owner="Ana", due_date=days(5), start_date=days(1), estimate_hours=4,
                description="What we launch and why")
    add(client, editor, "Invite speakers", initiative_id=2, owner="Bo", due_date=days(9))
    got = client.get(f"/api/v1/tasks/{brief['id']}").json()
    assert (got["title"], got["owner"], got["status"], got["due"], got["estimate"], got["initiative"]) == (
        "Brief", "Ana", "todo", days(5), 4.0, "Spring launch")
    listed = client.get("/api/v1/tasks").json()
    assert listed["total"] == 2 and [t["title"] for t in listed["items"]] == ["Brief", "Invite speakers"]
    assert [t["title"] for t in client.get("/api/v1/tasks?initiative=2").json()["items"]] == ["Invite speakers"]
    assert [t["title"] for t in client.get("/api/v1/tasks?owner=ana").json()["items"]] == ["Brief"]
    assert client.get("/api/v1/tasks?status=In progress").json()["total"] == 0
    assert client.get("/api/v1/tasks?initiative=99").status_code == 404


def test_a_dependency_cycle_is_refused_naming_the_cycle(client, editor):
    brief = add(client, editor, "Brief")
    design = add(client, editor, "Design", depends_on=[brief["id"]])
    copy = add(client, editor, "Copy", depends_on=[design["id"]])
    r = client.patch(f"/api/v1/tasks/{brief['id']}", json={"depends_on": [copy["id"]]}, headers=editor)
    assert r.status_code == 400
    assert error_of(r) == (f"circular dependency: task {brief['id']} 'Brief' -> {copy['id']} 'Copy' -> "
                           f"{design['id']} 'Design' -> {brief['id']} 'Brief'; remove one of these dependencies")
    r = client.patch(f"/api/v1/tasks/{brief['id']}", json={"depends_on": [design["id"]]}, headers=editor)
    assert f"task {brief['id']} 'Brief' -> {design['id']} 'Design' -> {brief['id']} 'Brief'" in error_of(r)
    assert client.get(f"/api/v1/tasks/{brief['id']}").json()["depends_on"] == []


def test_a_task_cannot_depend_on_itself(client, editor):
    brief = add(client, editor, "Brief")
    r = client.patch(f"/api/v1/tasks/{brief['id']}", json={"depends_on": [brief["id"]]}, headers=editor)
    assert r.status_code == 400 and error_of(r) == f"a task cannot depend on itself (task {brief['id']} 'Brief')"


def test_due_before_start_is_refused(client, editor):
    r = client.post("/api/v1/tasks", json={"initiative_id": 1, "title": "Brief", "start_date": "2026-05-02",
                                           "due_date": "2026-05-01"}, headers=editor)
    assert r.status_code == 400
    assert error_of(r) == ("the due date 2026-05-01 is before the start date 2026-05-02: "
                           "a task is due on or after it starts")
    brief = add(client, editor, "Brief", start_date="2026-05-02")
    r = client.patch(f"/api/v1/tasks/{brief['id']}", json={"due_date": "2026-04-30"}, headers=editor)
    assert r.status_code == 400 and "before the start date 2026-05-02" in error_of(r)


def test_unknown_ids_are_not_found_but_unknown_owners_are_fine(client, editor):
    r = client.post("/api/v1/tasks", json={"initiative_id": 42, "title": "Brief"}, headers=editor)
    assert r.status_code == 404 and error_of(r).startswith("there is no initiative with id 42")
    assert client.get("/api/v1/tasks/999").status_code == 404
    assert error_of(client.patch("/api/v1/tasks/999", json={"status": "done"}, headers=editor)) == "no task 999"
    r = client.post("/api/v1/tasks", json={"initiative_id": 1, "title": "Brief", "depends_on": [77]}, headers=editor)
    assert r.status_code == 404 and error_of(r) == "no task 77"
    # owners are free text, or a user's email (stored as the user spells it)
    assert add(client, editor, "Brief", owner="Someone From Sales")["owner"] == "Someone From Sales"
    assert add(client, editor, "Copy", owner=EMAILS["viewer"].upper())["owner"] == EMAILS["viewer"]


def test_bad_values_get_specific_messages(client, editor):
    brief = add(client, editor, "Brief")
    r = client.patch(f"/api/v1/tasks/{brief['id']}", json={"status": "finished"}, headers=editor)
    assert r.status_code == 400
    assert error_of(r) == "unknown task status 'finished'; valid: blocked, done, in_progress, todo"
    r = client.post("/api/v1/tasks", json={"initiative_id": 1, "title": "   "}, headers=editor)
    assert r.status_code == 400 and error_of(r) == "a task needs a title"
    assert client.patch(f"/api/v1/tasks/{brief['id']}", json={"title": None}, headers=editor).status_code == 400
    assert client.patch(f"/api/v1/tasks/{brief['id']}", json={"colour": "red"}, headers=editor).status_code == 422


def test_starting_before_a_dependency_is_done_warns_and_done_sets_completed_at(client, editor):
    brief = add(client, editor, "Brief")
    design = add(client, editor, "Design", depends_on=[brief["id"]])
    r = client.patch(f"/api/v1/tasks/{design['id']}", json={"status": "In progress"}, headers=editor)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert r.json()["warnings"] == [(f"task {design['id']} 'Design' depends on task {brief['id']} 'Brief', "
                                    "which is not done (to do)")]
    done = client.patch(f"/api/v1/tasks/{brief['id']}", json={"status": "done"}, headers=editor).json()
    assert done["warnings"] == [] and done["completed_at"]
    r = client.patch(f"/api/v1/tasks/{design['id']}", json={"status": "done"}, headers=editor)
    assert r.json()["warnings"] == [] and r.json()["completed_at"]
    reopened = client.patch(f"/api/v1/tasks/{brief['id']}", json={"status": "todo"}, headers=editor).json()
    assert reopened["completed_at"] is None


def test_overdue_and_blocked(client, editor):
    late = add(client, editor, "Late brief", due_date=days(-3))
    waiting = add(client, editor, "Design", depends_on=[late["id"]], due_date=days(10))
    stuck = add(client, editor, "Legal review", status="blocked")
    finished = add(client, editor, "Old task", due_date=days(-10), status="done")
    by_id = {t["id"]: t for t in client.get("/api/v1/tasks").json()["items"]}
    assert (by_id[late["id"]]["overdue"], by_id[late["id"]]["blocked"]) == (True, False)
    assert (by_id[waiting["id"]]["overdue"], by_id[waiting["id"]]["blocked"]) == (False, True)
    assert by_id[waiting["id"]]["late_dependencies"] == [late["id"]]
    assert by_id[stuck["id"]]["blocked"] is True
    assert (by_id[finished["id"]]["overdue"], by_id[finished["id"]]["blocked"]) == (False, False)
    assert [t["id"] for t in client.get("/api/v1/tasks?overdue=true").json()["items"]] == [late["id"]]
    board = client.get("/tasks").text
    assert board.count("task-card is-overdue") == 1 and board.count(" is-blocked") == 2


def test_comments_and_activity_come_from_the_audit_log(app, client, editor):
    brief = add(client, editor, "Brief")
    client.patch(f"/api/v1/tasks/{brief['id']}", json={"owner": "Ana", "due_date": days(3)}, headers=editor)
    r = client.post(f"/api/v1/tasks/{brief['id']}/comments", json={"body": "Draft is in the drive"}, headers=editor)
    assert r.status_code == 201 and r.json()["author"] == EMAILS["editor"]
    assert client.get(f"/api/v1/tasks/{brief['id']}/comments").json()["items"][0]["body"] == "Draft is in the drive"
    activity = client.get(f"/api/v1/tasks/{brief['id']}/activity").json()["items"]
    assert [e["action"] for e in activity] == ["task.create", "task.update", "task.comment"]
    assert activity[1]["detail"]["owner"] == {"from": "", "to": "Ana"} and activity[1]["actor"] == EMAILS["editor"]
    # a change that changes nothing records nothing
    client.patch(f"/api/v1/tasks/{brief['id']}", json={"owner": "Ana"}, headers=editor)
    assert len(client.get(f"/api/v1/tasks/{brief['id']}/activity").json()["items"]) == 3
    assert client.delete(f"/api/v1/tasks/{brief['id']}", headers=editor).status_code == 204
    assert client.get(f"/api/v1/tasks/{brief['id']}").status_code == 404
    with session_scope(app.state.database_url) as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target == f"task:{brief['id']}")).all()
    assert actions[-1] == "task.delete"


# -- roles and CSRF ---------------------------------------------------------------------------------
def test_viewers_read_but_cannot_change(app, client, users, initiatives):
    with session_scope(app.state.database_url) as s:
        s.add(Task(id=1, initiative_id=1, title="Brief"))
    viewer = sign_in(client, "viewer")
    assert client.get("/api/v1/tasks").json()["total"] == 1
    assert client.get("/api/v1/tasks/1/activity").status_code == 200
    assert client.post("/api/v1/tasks", json={"initiative_id": 1, "title": "X"}, headers=viewer).status_code == 403
    assert client.patch("/api/v1/tasks/1", json={"status": "done"}, headers=viewer).status_code == 403
    assert client.delete("/api/v1/tasks/1", headers=viewer).status_code == 403
    assert client.post("/api/v1/tasks/1/comments", json={"body": "hi"}, headers=viewer).status_code == 403
    files = {"file": ("t.csv", b"title,initiative\nX,1\n", "text/csv")}
    assert client.post("/api/v1/tasks/import", files=files, headers=viewer).status_code == 403
    token = viewer["X-CSRF-Token"]
    assert client.post("/tasks/1/status", data={"csrf_token": token, "status": "done"}).status_code == 403
    assert client.post("/tasks/1/comments", data={"csrf_token": token, "body": "hi"}).status_code == 403
    board = client.get("/tasks").text
    assert 'draggable="true"' not in board and "/static/board.js" not in board and 'class="task-move"' not in board
    assert 'data-task-id="1"' in board
    page = client.get("/tasks/1").text
    assert 'id="edit-form"' not in page and 'id="comment-form"' not in page
    assert client.get("/api/v1/tasks/1").json()["status"] == "todo"


def test_anonymous_requests_are_refused(client, initiatives):
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/tasks").status_code == 303


def test_unsafe_calls_need_the_csrf_token(client, editor):
    brief = add(client, editor, "Brief")
    assert client.patch(f"/api/v1/tasks/{brief['id']}", json={"status": "done"}).status_code == 403
    assert client.post(f"/tasks/{brief['id']}/status", data={"status": "done"}).status_code == 403
    assert client.post(f"/tasks/{brief['id']}/status", data={"status": "done", "csrf_token": "forged"}).status_code == 403
    assert client.post("/tasks/new", data={"initiative_id": "1", "title": "X"}).status_code == 403
    assert client.get(f"/api/v1/tasks/{brief['id']}").json()["status"] == "todo"


# -- pages and forms --------------------------------------------------------------------------------
def test_the_board_has_a_column_per_status_and_cards_with_their_facts(client, editor):
    brief = add(client, editor, "Brief", owner="Ana", due_date="2031-03-05")
    add(client, editor, "Design", depends_on=[brief["id"]], status="in_progress")
    html = client.get("/tasks").text
    for status in ("todo", "in_progress", "blocked", "done"):
        assert f'id="column-{status}"' in html
    todo = html.split('id="column-todo"')[1].split('id="column-in_progress"')[0]
    assert "Brief" in todo and "Ana" in todo and "Mar 5, 2031" in todo and "Spring launch" in todo
    doing = html.split('id="column-in_progress"')[1].split('id="column-blocked"')[0]
    assert "Design" in doing and "1 dependency" in doing
    assert 'draggable="true"' in html and "/static/board.js" in html
    # filters are a GET form: shareable URLs
    assert "Brief" not in client.get("/tasks?initiative=2").text.split('id="board"')[1]
    assert "Design" not in client.get("/tasks?owner=Ana").text.split('id="board"')[1]


def test_the_no_js_form_moves_a_card_and_says_which_dependency_is_not_done(client, editor):
    brief = add(client, editor, "Brief")
    design = add(client, editor, "Design", depends_on=[brief["id"]])
    token = editor["X-CSRF-Token"]
    r = client.post(f"/tasks/{design['id']}/status", data={"csrf_token": token, "status": "in_progress"})
    assert r.status_code == 303 and r.headers["location"] == "/tasks"
    assert client.get(f"/api/v1/tasks/{design['id']}").json()["status"] == "in_progress"
    notice = client.get("/tasks").text
    assert "depends on task" in notice and "&#39;Brief&#39;, which is not done" in notice


def test_forms_create_edit_comment_and_delete(client, editor):
    token = editor["X-CSRF-Token"]
    r = client.post("/tasks/new", data={"csrf_token": token, "initiative_id": "1", "title": "Brief",
                                        "owner": "Ana", "due_date": days(4), "estimate_hours": "3"})
    assert r.status_code == 303
    task_id = int(r.headers["location"].rsplit("/", 1)[1])
    r = client.post("/tasks/new", data={"csrf_token": token, "initiative_id": "1", "title": "Bad",
                                        "start_date": "2026-05-02", "due_date": "2026-05-01"})
    assert r.status_code == 400 and "is before the start date" in r.text
    r = client.post(f"/tasks/{task_id}/edit", data={"csrf_token": token, "title": "Brief v2", "status": "blocked",
                                                    "owner": "Bo", "start_date": "", "due_date": days(6),
                                                    "estimate_hours": "", "depends_on": str(task_id),
                                                    "description": "", "initiative_id": "1"})
    assert r.status_code == 400 and "cannot depend on itself" in r.text
    r = client.post(f"/tasks/{task_id}/edit", data={"csrf_token": token, "title": "Brief v2", "status": "blocked",
                                                    "owner": "Bo", "start_date": "", "due_date": days(6),
                                                    "estimate_hours": "", "depends_on": "", "description": "Why",
                                                    "initiative_id": "2"})
    assert r.status_code == 303
    got = client.get(f"/api/v1/tasks/{task_id}").json()
    assert (got["title"], got["status"], got["owner"], got["initiative_id"], got["estimate"]) == (
        "Brief v2", "blocked", "Bo", 2, None)
    assert client.post(f"/tasks/{task_id}/comments", data={"csrf_token": token, "body": "On it"}).status_code == 303
    page = client.get(f"/tasks/{task_id}").text
    assert "On it" in page and "task.update" in page and 'id="edit-form"' in page
    assert client.post(f"/tasks/{task_id}/delete", data={"csrf_token": token}).status_code == 303
    assert client.get(f"/tasks/{task_id}").status_code == 404


def test_my_tasks_lists_the_users_tasks_overdue_first(client, editor):
    me = EMAILS["editor"]
    add(client, editor, "Later", owner=me, due_date=days(20))
    add(client, editor, "Sooner", owner="Editor", due_date=days(2))  # the user's name counts too
    add(client, editor, "Overdue", owner=me.upper(), due_date=days(-1))
    add(client, editor, "Not mine", owner="Ana", due_date=days(-5))
    add(client, editor, "Finished", owner=me, status="done")
    html = client.get("/tasks/mine").text
    rows = html.split('id="my-tasks"')[1]
    assert rows.index("Overdue") < rows.index("Sooner") < rows.index("Later")
    assert "Not mine" not in rows and "Finished" not in rows
    assert "Finished" in client.get("/tasks/mine?done=1").text
    assert {t["title"] for t in client.get("/api/v1/tasks?mine=true").json()["items"]} == {
        "Later", "Sooner", "Overdue", "Finished"}


def test_the_timeline_has_one_bar_per_dated_task_and_an_arrow_per_dependency(client, editor):
    import html as htmllib
    import json
    import re

    brief = add(client, editor, "Brief", start_date=days(-5), due_date=days(-1))
    add(client, editor, "Design", start_date=days(1), due_date=days(6), depends_on=[brief["id"]])
    add(client, editor, "Someday")
    page = client.get("/tasks/timeline").text
    figure = json.loads(htmllib.unescape(re.search(r'data-figure="([^"]+)"', page).group(1)))
    bars = [y for trace in figure["data"] for y in trace["y"]]
    assert sorted(bars) == sorted([f"#{brief['id']} Brief", f"#{brief['id'] + 1} Design"])
    overdue = next(t for t in figure["data"] if t["name"] == "Overdue")
    assert overdue["y"] == [f"#{brief['id']} Brief"] and overdue["marker"]["color"] == "#d93f4c"
    assert len([a for a in figure["layout"]["annotations"] if a.get("arrowhead")]) == 1
    assert figure["layout"]["shapes"][0]["x0"] == TODAY.isoformat()
    assert "/static/charts.js" in page and "1 task has no dates" in page


def test_empty_pages_say_what_to_do(client, users):
    sign_in(client, "editor")
    assert "No initiatives yet" in client.get("/tasks").text
    assert "Nothing to show on the timeline yet" in client.get("/tasks/timeline").text
    assert 'id="mine-empty"' in client.get("/tasks/mine").text


def test_hostile_titles_are_escaped_everywhere(app, client, editor):
    with session_scope(app.state.database_url) as s:
        s.get(Initiative, 1).title = HOSTILE
    evil = add(client, editor, HOSTILE, owner=HOSTILE, due_date=days(-1), start_date=days(-2))
    client.post(f"/api/v1/tasks/{evil['id']}/comments", json={"body": HOSTILE}, headers=editor)
    for url in ("/tasks", "/tasks/timeline", f"/tasks/{evil['id']}", "/tasks?initiative=1"):
        html = client.get(url).text
        assert HOSTILE not in html, url
        assert "&lt;script&gt;" in html, url


# -- downloads --------------------------------------------------------------------------------------
def test_every_table_downloads_as_csv_and_xlsx(client, editor):
    brief = add(client, editor, "Brief, with a comma", owner="Ana", due_date="2031-01-10", estimate_hours=2.5)
    add(client, editor, "Design", depends_on=[brief["id"]])
    client.post(f"/api/v1/tasks/{brief['id']}/comments", json={"body": "ok"}, headers=editor)
    r = client.get("/api/v1/tasks?format=csv")
    assert r.headers["content-disposition"] == 'attachment; filename="tasks.csv"'
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,title,initiative_id,initiative,description,owner,status,start,due,estimate,depends_on")
    assert lines[1].startswith(f'{brief["id"]},"Brief, with a comma",1,Spring launch,,Ana,todo,,2031-01-10,2.5,')
    assert lines[2].split(",")[10] == str(brief["id"])
    xlsx = client.get("/api/v1/tasks?format=xlsx&initiative=1")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "title", "initiative_id") and len(rows) == 3
    for url in (f"/api/v1/tasks/{brief['id']}/activity", f"/api/v1/tasks/{brief['id']}/comments"):
        csv_text = client.get(url + "?format=csv").content.decode("utf-8-sig")
        assert len(csv_text.splitlines()) >= 2, url
        assert client.get(url + "?format=xlsx").content[:2] == b"PK"
    empty = client.get("/api/v1/tasks?owner=nobody&format=csv").content.decode("utf-8-sig")
    assert empty.splitlines() == ["id,title,initiative_id,initiative,description,owner,status,start,due,estimate,depends_on,overdue,blocked,completed_at,created_at"]


def test_import_through_the_api(client, editor):
    add(client, editor, "Brief")
    csv_text = ("title,initiative,status,due,depends_on\n"
                "Brief,Spring launch,Done,,\n"
                "Design,1,In progress,2031-02-30,Brief\n"
                "Copy,Spring launch,To do,2031-03-01,Brief\n")
    files = {"file": ("plan.csv", csv_text.encode(), "text/csv")}
    result = client.post("/api/v1/tasks/import", files=files, headers=editor).json()
    assert (result["created"], result["updated"], result["unchanged"], result["rejected"]) == (1, 1, 0, 1)
    assert result["errors"] == [{"file": "plan.csv", "row": 3, "column": "due",
                                 "message": "expected a date like 2026-05-31, got '2031-02-30'",
                                 "text": "plan.csv, row 3, column 'due': expected a date like 2026-05-31, "
                                         "got '2031-02-30'"}]
    again = client.post("/api/v1/tasks/import", files=files, headers=editor).json()
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 2, 1)
    bad = client.post("/api/v1/tasks/import", files={"file": ("x.csv", b"name;owner\nA;B\n", "text/csv")},
                      headers=editor)
    assert bad.status_code == 400 and "x.csv, row 1: the header lacks 'initiative'" in error_of(bad)


def test_import_form_shows_the_rejected_rows(client, editor):
    token = editor["X-CSRF-Token"]
    files = {"file": ("plan.csv", b"title,initiative,estimate\nBrief,1,4\nDesign,Nowhere,2\n", "text/csv")}
    r = client.post("/tasks/import", data={"csrf_token": token}, files=files)
    assert r.status_code == 200
    assert 'id="import-created">1<' in r.text and 'id="import-rejected">1<' in r.text
    assert "no initiative called &#39;Nowhere&#39;" in r.text
    assert client.post("/tasks/import", files=files).status_code == 403
