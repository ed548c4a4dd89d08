"""Tasks in and out of CSV, and the rules of the tasks module on constructed dates, on SQLite and
PostgreSQL: row errors that name file, row and column; re-imports that change nothing; cycles named;
every row counted once (a hypothesis property)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from marketops.errors import NotFound, SourceError, ValidationFailed
from marketops.plan import task_csv, tasks
from marketops.state.db import dispose, init_db, make_engine, session_scope
from marketops.state.models import Base
from marketops.state.planning import Initiative, Task
from tests.test_app_database import postgres_url  # noqa: F401  (fixture: a fresh PostgreSQL database)

TODAY = date(2026, 6, 15)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path):
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'app.sqlite'}"
        init_db(database)
        yield database
        dispose(database)
        return
    database = request.getfixturevalue("postgres_url")
    init_db(database)
    yield database
    with make_engine(database).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def session(url):
    with session_scope(url) as s:
        s.add_all([Initiative(title="Spring launch"), Initiative(title="Webinars")])
        s.flush()
        yield s


def initiative_id(session, title: str) -> int:
    return next(i.id for i in session.query(Initiative) if i.title == title)


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def load(session, rows: list[list[str]], name: str = "plan.csv") -> task_csv.ImportResult:
    return task_csv.import_tasks(session, csv_bytes(rows), file=name, actor="ana@acme.test", today=TODAY)


HEADER = ["title", "initiative", "description", "owner", "status", "start", "due", "estimate", "depends_on"]


# -- the import -------------------------------------------------------------------------------------
def test_good_rows_load_bad_rows_are_named_by_file_row_and_column(session):
    result = load(session, [
        HEADER,
        ["Brief", "Spring launch", "What and why", "Ana", "To do", "2026-06-01", "2026-06-05", "4", ""],
        [],  # a blank line: no task, but the rows after it keep their spreadsheet numbers
        ["Design", "spring launch", "", "Bo", "In progress", "2026-06-08", "2026-06-12", "6", "Brief"],
        ["Copy", "Marketing", "", "", "", "", "", "", ""],
        ["Video", "Webinars", "", "", "filming", "", "", "", ""],
        ["Ads", "Spring launch", "", "", "", "2026-06-10", "2026-06-09", "", ""],
        ["Landing page", "Spring launch", "", "", "", "", "", "a lot", ""],
        ["", "Spring launch", "", "", "", "", "", "", ""],
        ["Email", "Spring launch", "", "", "", "", "", "", "Nonexistent"],
        ["Brief", "Spring launch", "", "", "", "", "", "", ""],
    ])
    assert result.counts() == {"rows": 9, "created": 2, "updated": 0, "unchanged": 0, "rejected": 7}
    by_row = {e.row: (e.column, e.message) for e in result.errors}
    assert by_row[5] == ("initiative", ("no initiative called 'Marketing'; expected an existing initiative's id "
                                       "or title"))
    assert by_row[6] == ("status", "expected To do, In progress, Blocked or Done, got 'filming'")
    assert by_row[7] == ("due", "expected a due date on or after the start date 2026-06-10, got 2026-06-09")
    assert by_row[8] == ("estimate", "expected a number of hours like 4 or 2.5, got 'a lot'")
    assert by_row[9] == ("title", "expected a title; the cell is empty")
    assert by_row[10][0] == "depends_on" and "no task called 'Nonexistent'" in by_row[10][1]
    assert by_row[11] == ("title", "the same task (initiative 'Spring launch', title 'Brief') is already on row 2")
    assert str(result.errors[0]).startswith("plan.csv, row 5, column 'initiative': ")
    design = session.get(Task, result.created[1])
    assert (design.title, design.status, design.owner, design.estimate_hours) == ("Design", "in_progress", "Bo", 6.0)
    assert [d.title for d in design.depends_on] == ["Brief"]
    assert result.warnings == [(f"task {design.id} 'Design' depends on task {result.created[0]} 'Brief', "
                               "which is not done (to do)")]


def test_reimporting_the_same_file_changes_nothing_and_a_changed_row_updates(session):
    rows = [HEADER, ["Brief", "Spring launch", "", "Ana", "todo", "", "2026-06-05", "", ""],
            ["Design", "Spring launch", "", "", "", "", "", "", "Brief"]]
    first = load(session, rows)
    assert first.counts() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    again = load(session, rows)
    assert again.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    rows[1][4] = "Done"
    changed = load(session, rows)
    assert changed.counts()["updated"] == 1 and changed.updated == [first.created[0]]
    assert session.get(Task, first.created[0]).completed_at is not None


def test_an_export_imports_back_unchanged(session):
    launch = initiative_id(session, "Spring launch")
    brief = tasks.create_task(session, initiative_id=launch, title="Brief, v2", owner="Ana", due_date=date(2026, 6, 5),
                              estimate_hours=2.5, description='Quotes "and" commas', actor="ana").task
    tasks.create_task(session, initiative_id=launch, title="Design", depends_on=[brief.id], status="blocked",
                      start_date=date(2026, 6, 1), due_date=date(2026, 6, 9), actor="ana")
    rows = task_csv.export_rows(session, today=TODAY)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(tasks.EXPORT_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    result = task_csv.import_tasks(session, out.getvalue().encode(), file="export.csv", actor="ana")
    assert result.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0}


def test_a_cycle_in_the_file_is_refused_with_the_cycle_named(session):
    result = load(session, [HEADER,
                            ["Brief", "Spring launch", "", "", "", "", "", "", "Copy"],
                            ["Design", "Spring launch", "", "", "", "", "", "", "Brief"],
                            ["Copy", "Spring launch", "", "", "", "", "", "", "Design"],
                            ["Ads", "Spring launch", "", "", "", "", "", "", "Copy"]])
    assert result.counts() == {"rows": 4, "created": 0, "updated": 0, "unchanged": 0, "rejected": 4}
    messages = {e.row: e.message for e in result.errors}
    assert messages[4] == ("circular dependency: task 'Copy' (row 4) -> 'Design' (row 3) -> 'Brief' (row 2) -> "
                           "'Copy' (row 4); remove one of these dependencies")
    assert messages[2] == "depends on row 4, which was rejected"
    assert session.query(Task).count() == 0


def test_a_cycle_through_existing_tasks_is_named_with_their_ids(session):
    launch = initiative_id(session, "Spring launch")
    brief = tasks.create_task(session, initiative_id=launch, title="Brief", actor="ana").task
    design = tasks.create_task(session, initiative_id=launch, title="Design", depends_on=[brief.id], actor="ana").task
    result = load(session, [HEADER, ["Brief", "Spring launch", "", "", "", "", "", "", f"{design.id}"]])
    assert result.errors[0].message == (f"circular dependency: task {brief.id} 'Brief' -> {design.id} 'Design' -> "
                                        f"{brief.id} 'Brief'; remove one of these dependencies")
    result = load(session, [HEADER, ["Brief", "Spring launch", "", "", "", "", "", "", "Brief"]])
    assert result.errors[0].message == "a task cannot depend on itself ('Brief')"


def test_semicolon_files_friendly_headers_and_ids(session):
    webinars = initiative_id(session, "Webinars")
    text = (f"Title;Initiative;Due date;Estimate hours;Dependencies\n"
            f"Book room;{webinars};2026-07-01;1,5;\n"
            f"Invite;Webinars;2026-07-02;2;\"Book room\"\n").replace("1,5", "1.5")
    result = task_csv.import_tasks(session, text.encode("utf-8-sig"), file="webinars.csv", actor="ana")
    assert result.counts()["created"] == 2, result.errors
    invite = session.get(Task, result.created[1])
    assert invite.due_date == date(2026, 7, 2) and [d.title for d in invite.depends_on] == ["Book room"]


def test_files_that_cannot_be_read_are_refused_whole(session):
    with pytest.raises(SourceError, match=r"^plan.csv, row 1: the header lacks 'initiative'"):
        task_csv.import_tasks(session, b"title,owner\nA,B\n", file="plan.csv", actor="ana")
    with pytest.raises(SourceError, match="the file is empty"):
        task_csv.import_tasks(session, b"", file="plan.csv", actor="ana")


ROW = st.fixed_dictionaries({
    "title": st.sampled_from(["Brief", "Design", "Copy", "Ads", "", "Brief "]),
    "initiative": st.sampled_from(["Spring launch", "Webinars", "Nope", "", "spring launch"]),
    "status": st.sampled_from(["", "To do", "in progress", "DONE", "blocked", "later"]),
    "start": st.sampled_from(["", "2026-06-01", "2026-06-10", "June"]),
    "due": st.sampled_from(["", "2026-06-05", "2026-06-20", "32/13/2026"]),
    "estimate": st.sampled_from(["", "3", "-1", "x", "2.5"]),
    "depends_on": st.sampled_from(["", "Brief", "Design", "Copy; Ads", "999", "Brief;Copy"]),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(ROW, min_size=1, max_size=8), min_size=1, max_size=3))
def test_every_row_is_created_updated_unchanged_or_rejected(session, batches):
    """rows in = created + updated + unchanged + rejected, whatever the file holds and holds already."""
    session.query(Task).delete()
    for batch in batches:
        rows = [HEADER] + [[r["title"], r["initiative"], "", "", r["status"], r["start"], r["due"], r["estimate"],
                            r["depends_on"]] for r in batch]
        result = load(session, rows)
        c = result.counts()
        assert c["rows"] == len(batch)
        assert c["created"] + c["updated"] + c["unchanged"] + c["rejected"] == c["rows"]
        assert all(e.file == "plan.csv" and 2 <= e.row <= len(batch) + 1 and e.column for e in result.errors)
        again = load(session, rows)  # the same file again changes nothing
        assert again.counts()["created"] == again.counts()["updated"] == 0


# -- the rules on constructed dates -----------------------------------------------------------------
def test_overdue_blocked_and_my_tasks_on_a_given_day(session):
    launch = initiative_id(session, "Spring launch")

    def add(title, **kw):
        return tasks.create_task(session, initiative_id=launch, title=title, actor="ana", **kw).task

    late = add("Late", due_date=date(2026, 6, 14), owner="ana@acme.test")
    waiting = add("Waiting", due_date=date(2026, 6, 30), depends_on=[late.id], owner="Ana@Acme.test")
    later = add("Later", due_date=date(2026, 7, 30), owner="ana@acme.test")
    add("Undated", owner="ana@acme.test")
    assert tasks.is_overdue(late, TODAY) and not tasks.is_overdue(late, date(2026, 6, 14))
    assert tasks.is_blocked(waiting, TODAY) and not tasks.is_blocked(waiting, date(2026, 6, 14))
    assert [t.title for t in tasks.my_tasks(session, "ANA@acme.test", today=TODAY)] == [
        "Late", "Waiting", "Later", "Undated"]
    tasks.update_task(session, late.id, actor="ana", status="done")
    assert not tasks.is_blocked(waiting, TODAY) and late.completed_at is not None
    assert [t.title for t in tasks.list_tasks(session, overdue=True, today=date(2026, 8, 1))] == [
        "Waiting", "Later"]
    assert late.id not in [t.id for t in tasks.my_tasks(session, "ana@acme.test", today=TODAY)]
    assert late.id in [t.id for t in tasks.my_tasks(session, "ana@acme.test", include_done=True, today=TODAY)]
    assert later.due_date == date(2026, 7, 30)


def test_unknown_things_are_not_found_and_bad_values_are_refused(session):
    with pytest.raises(NotFound, match="there is no initiative with id 999"):
        tasks.create_task(session, initiative_id=999, title="X", actor="ana")
    with pytest.raises(NotFound, match="no task 5"):
        tasks.update_task(session, 5, actor="ana", status="done")
    launch = initiative_id(session, "Spring launch")
    with pytest.raises(ValidationFailed, match="the estimate must be zero or more hours"):
        tasks.create_task(session, initiative_id=launch, title="X", estimate_hours=-1, actor="ana")
    task = tasks.create_task(session, initiative_id=launch, title="X", actor="ana").task
    with pytest.raises(ValidationFailed, match="cannot change colour"):
        tasks.update_task(session, task.id, actor="ana", colour="red")
    with pytest.raises(ValidationFailed, match="dependencies are task ids"):
        tasks.update_task(session, task.id, actor="ana", depends_on=["Brief"])
