"""Tasks: the steps of an initiative, with an owner, dates, an estimate, dependencies and comments.

Every change is written to the audit log with target ``task:<id>``: that log IS a task's activity,
so nothing is recorded twice. The rules (each with its own message):

- a task belongs to an existing initiative; an unknown initiative or task id is :class:`NotFound`;
- the due date may not be before the start date;
- a task cannot depend on itself, and dependencies may not form a cycle (the cycle is named:
  "task 3 'Brief' -> 5 'Design' -> 3 'Brief'");
- moving a task to in progress or done while a dependency is not done is allowed, with a warning
  that names the dependency;
- owners are free text or a user's email (a user's email is stored as the user spells it).

*Overdue*: due before today and not done. *Blocked*: status blocked, or a dependency that is not
done and is past its own due date.

Example:
    >>> from datetime import date
    >>> import tempfile, pathlib
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.state.planning import Initiative
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     s.add(Initiative(id=1, title="Spring launch")); s.flush()
    ...     brief = create_task(s, initiative_id=1, title="Brief", due_date=date(2026, 3, 1), actor="ana").task
    ...     design = create_task(s, initiative_id=1, title="Design", depends_on=[brief.id], actor="ana").task
    ...     update_task(s, design.id, actor="ana", status="in_progress").warnings
    ["task 2 'Design' depends on task 1 'Brief', which is not done (to do)"]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from marketops.errors import NotFound, ValidationFailed, unknown_name
from marketops.plan.initiatives import get_initiative
from marketops.state.audit import record
from marketops.state.models import AuditEvent, User
from marketops.state.planning import TASK_STATUSES, Task, TaskComment

#: How each status reads (the board's columns, the CSV's friendly values).
STATUS_LABELS = {"todo": "To do", "in_progress": "In progress", "blocked": "Blocked", "done": "Done"}
#: Fields a change may touch (anything else is refused).
EDITABLE = ("title", "description", "owner", "status", "start_date", "due_date", "estimate_hours", "depends_on",
            "initiative_id", "position")
TITLE_MAX = 300
COMMENT_MAX = 10_000


@dataclass
class TaskChange:
    """A task after a change, with the warnings the change deserves (nothing was refused)."""

    task: Task
    warnings: list[str] = field(default_factory=list)
    changed: dict[str, Any] = field(default_factory=dict)


def parse_status(value: str) -> str:
    """A status from what people write: ``todo``, "To do", "in progress", "In-Progress", "DONE"...

    >>> parse_status("To do"), parse_status("In progress"), parse_status("in_progress"), parse_status(" Done ")
    ('todo', 'in_progress', 'in_progress', 'done')
    >>> parse_status("finished")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: unknown task status 'finished'; valid: blocked, done, in_progress, todo
    """
    key = "".join(ch for ch in str(value).strip().lower() if ch.isalnum())
    found = {s.replace("_", ""): s for s in TASK_STATUSES}.get(key)
    if found is None:  # a bad value, not a missing thing: ValidationFailed (400), not NotFound (404)
        raise ValidationFailed(str(unknown_name("task status", str(value).strip(), TASK_STATUSES)))
    return found


def describe(task: Task) -> str:
    """How messages name a task: ``task 3 'Brief'``."""
    return f"task {task.id} '{task.title}'"


# -- reading ----------------------------------------------------------------------------------------
def get_task(session: Session, task_id: int) -> Task:
    """The task with this id, or NotFound."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def is_overdue(task: Task, today: date | None = None) -> bool:
    """Due before today and not done.

    >>> is_overdue(Task(status="todo", due_date=date(2026, 1, 1)), today=date(2026, 1, 2))
    True
    >>> is_overdue(Task(status="done", due_date=date(2026, 1, 1)), today=date(2026, 1, 2))
    False
    """
    today = today or date.today()
    return task.status != "done" and task.due_date is not None and task.due_date < today


def late_dependencies(task: Task, today: date | None = None) -> list[Task]:
    """Dependencies that are not done and past their own due date (they hold this task up)."""
    return [d for d in task.depends_on if is_overdue(d, today)]


def is_blocked(task: Task, today: date | None = None) -> bool:
    """Status blocked, or (while not done) held up by an unfinished dependency past its due date."""
    if task.status == "blocked":
        return True
    return task.status != "done" and bool(late_dependencies(task, today))


def list_tasks(session: Session, *, initiative_id: int | None = None, owner: str | None = None,
               status: str | None = None, overdue: bool | None = None, mine: str | None = None,
               today: date | None = None) -> list[Task]:
    """Tasks matching every filter given, by due date (undated last), then id.

    ``owner`` matches the owner exactly (case-insensitively); ``mine`` takes a user's email and
    matches tasks owned by that email or by the user's name.
    """
    query = select(Task).options(selectinload(Task.depends_on), selectinload(Task.initiative))
    if initiative_id is not None:
        get_initiative(session, initiative_id)
        query = query.where(Task.initiative_id == initiative_id)
    if owner:
        query = query.where(func.lower(Task.owner) == owner.strip().lower())
    if mine:
        names = owner_names(session, mine)
        query = query.where(or_(*(func.lower(Task.owner) == n for n in names)))
    if status:
        query = query.where(Task.status == parse_status(status))
    tasks = list(session.scalars(query.order_by(Task.id)))
    if overdue is not None:
        tasks = [t for t in tasks if is_overdue(t, today) == overdue]
    return sorted(tasks, key=lambda t: (t.due_date is None, t.due_date or date.max, t.id))


def owner_names(session: Session, email: str) -> list[str]:
    """The lower-case names a user's tasks may carry as owner: their email, and their name if set."""
    email = email.strip().lower()
    names = [email]
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None and user.name.strip():
        names.append(user.name.strip().lower())
    return names


def my_tasks(session: Session, email: str, *, include_done: bool = False, today: date | None = None) -> list[Task]:
    """A user's tasks, overdue first, then by due date (undated last); done ones only if asked."""
    today = today or date.today()
    tasks = [t for t in list_tasks(session, mine=email, today=today) if include_done or t.status != "done"]
    return sorted(tasks, key=lambda t: (not is_overdue(t, today), t.due_date is None, t.due_date or date.max, t.id))


def owners(session: Session) -> list[str]:
    """Every owner named on a task, sorted (for filter menus)."""
    return sorted(o for o in session.scalars(select(Task.owner).distinct()) if o)


def activity(session: Session, task_id: int) -> list[AuditEvent]:
    """The task's history from the audit log, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.target == f"task:{task_id}")
                                .order_by(AuditEvent.at, AuditEvent.id)))


# -- checks -----------------------------------------------------------------------------------------
def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise ValidationFailed("a task needs a title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"a task title has at most {TITLE_MAX} characters; this one has {len(title)}")
    return title


def _estimate(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"the estimate must be a number of hours like 4 or 2.5, not '{value}'") from None
    if not math.isfinite(hours) or hours < 0:
        raise ValidationFailed(f"the estimate must be zero or more hours, not {value}")
    return hours


def check_dates(start: date | None, due: date | None) -> None:
    """Refuse a due date before the start date.

    >>> check_dates(date(2026, 5, 2), date(2026, 5, 1))
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: the due date 2026-05-01 is before the start date 2026-05-02: a task is due on or after it starts
    """
    if start is not None and due is not None and due < start:
        raise ValidationFailed(f"the due date {due.isoformat()} is before the start date {start.isoformat()}: "
                               "a task is due on or after it starts")


def find_cycle(edges: dict[Any, Iterable[Any]], start: Any) -> list[Any] | None:
    """A path ``start -> ... -> start`` through ``edges`` (node -> the nodes it depends on), or None.

    >>> find_cycle({1: [2], 2: [3], 3: [1]}, 1)
    [1, 2, 3, 1]
    >>> find_cycle({1: [2], 2: []}, 1) is None
    True
    """
    path: list[Any] = [start]
    seen: set[Any] = set()

    def walk(node: Any) -> bool:
        for nxt in edges.get(node, ()):
            if nxt == start:
                path.append(nxt)
                return True
            if nxt in seen:
                continue
            seen.add(nxt)
            path.append(nxt)
            if walk(nxt):
                return True
            path.pop()
        return False

    return path if walk(start) else None


def cycle_text(names: Sequence[str]) -> str:
    """``task 3 'Brief' -> 5 'Design' -> 3 'Brief'`` from ``["3 'Brief'", "5 'Design'", "3 'Brief'"]``."""
    return "task " + " -> ".join(names)


def _dependency_graph(session: Session) -> dict[int, list[int]]:
    from marketops.state.planning import TaskDependency

    graph: dict[int, list[int]] = {}
    for task_id, dep in session.execute(select(TaskDependency.task_id, TaskDependency.depends_on_id)):
        graph.setdefault(task_id, []).append(dep)
    return graph


def _dependencies(session: Session, task: Task | None, ids: Iterable[Any]) -> list[Task]:
    """The tasks ``ids`` name, checked: they exist, are not the task itself, make no cycle."""
    wanted: list[int] = []
    for raw in ids:
        try:
            dep_id = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(f"dependencies are task ids (numbers), not '{raw}'") from None
        if dep_id not in wanted:
            wanted.append(dep_id)
    if task is not None and task.id in wanted:
        raise ValidationFailed(f"a task cannot depend on itself ({describe(task)})")
    deps = [get_task(session, i) for i in wanted]
    if task is not None and task.id is not None:
        graph = _dependency_graph(session)
        graph[task.id] = [d.id for d in deps]
        cycle = find_cycle(graph, task.id)
        if cycle:
            titles = {t.id: t.title for t in session.scalars(select(Task).where(Task.id.in_(cycle)))}
            raise ValidationFailed("circular dependency: " + cycle_text([f"{i} '{titles[i]}'" for i in cycle])
                                   + "; remove one of these dependencies")
    return deps


def normalise_owner(session: Session, value: Any) -> str:
    owner = " ".join(str(value or "").split())[:320]
    if "@" in owner:
        user = session.scalar(select(User).where(func.lower(User.email) == owner.lower()))
        if user is not None:
            return user.email
    return owner


def dependency_warnings(task: Task) -> list[str]:
    """Why starting or finishing ``task`` now is premature: its dependencies that are not done."""
    if task.status not in ("in_progress", "done"):
        return []
    return [f"{describe(task)} depends on {describe(d)}, which is not done ({STATUS_LABELS[d.status].lower()})"
            for d in task.depends_on if d.status != "done"]


def _clean(session: Session, task: Task | None, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}; a task's fields are: {', '.join(EDITABLE)}")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "title":
            out[key] = _title(value)
        elif key == "description":
            out[key] = str(value or "")
        elif key == "owner":
            out[key] = normalise_owner(session, value)
        elif key == "status":
            out[key] = parse_status(value)
        elif key == "estimate_hours":
            out[key] = _estimate(value)
        elif key in ("start_date", "due_date"):
            out[key] = _date(value, key)
        elif key == "initiative_id":
            out[key] = get_initiative(session, int(value)).id
        elif key == "position":
            out[key] = int(value)
        elif key == "depends_on":
            out[key] = _dependencies(session, task, value or [])
    start = out.get("start_date", task.start_date if task else None)
    due = out.get("due_date", task.due_date if task else None)
    check_dates(start, due)
    return out


def _date(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        label = "start date" if name == "start_date" else "due date"
        raise ValidationFailed(f"the {label} must be a date like 2026-05-31, not '{value}'") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [v.id if isinstance(v, Task) else v for v in value]
    return value


# -- changing ---------------------------------------------------------------------------------------
def create_task(session: Session, *, initiative_id: int, title: str, actor: str, description: str = "",
                owner: str = "", status: str = "todo", start_date: date | str | None = None,
                due_date: date | str | None = None, estimate_hours: float | str | None = None,
                depends_on: Iterable[int] = (), ip: str | None = None, today: date | None = None) -> TaskChange:
    """Add a task to an initiative (audited as ``task.create``); warnings say what is premature."""
    fields = _clean(session, None, {"initiative_id": initiative_id, "title": title, "description": description,
                                    "owner": owner, "status": status or "todo", "start_date": start_date,
                                    "due_date": due_date, "estimate_hours": estimate_hours,
                                    "depends_on": list(depends_on)})
    deps = fields.pop("depends_on")
    position = session.scalar(select(func.coalesce(func.max(Task.position), -1) + 1)
                              .where(Task.status == fields["status"]))
    task = Task(**fields, position=position, created_by=actor)
    if task.status == "done":
        task.completed_at = datetime.now(UTC)
    task.depends_on = deps
    session.add(task)
    session.flush()
    record(session, actor, "task.create", f"task:{task.id}",
           {k: _jsonable(v) for k, v in {**fields, "depends_on": deps}.items() if v not in (None, "", [])}, ip)
    return TaskChange(task, dependency_warnings(task), fields)


def update_task(session: Session, task_id: int, *, actor: str, ip: str | None = None,
                today: date | None = None, **changes: Any) -> TaskChange:
    """Change some fields of a task (audited as ``task.update`` with before/after of what changed).

    Moving a task to done sets ``completed_at``; moving it back clears it. A change that changes
    nothing records nothing.
    """
    task = get_task(session, task_id)
    return apply_changes(session, task, _clean(session, task, changes), actor=actor, ip=ip)


def apply_changes(session: Session, task: Task, fields: dict[str, Any], *, actor: str,
                  ip: str | None = None) -> TaskChange:
    """Write already-checked ``fields`` to ``task`` and audit what changed (the CSV import checks a
    whole file's dependencies at once, then applies each row with this)."""
    changed: dict[str, Any] = {}
    for key, value in fields.items():
        before = getattr(task, key)
        if key == "depends_on":
            if [d.id for d in before] != sorted(d.id for d in value):
                changed[key] = {"from": [d.id for d in before], "to": sorted(d.id for d in value)}
                task.depends_on = sorted(value, key=lambda d: d.id)
        elif before != value:
            changed[key] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(task, key, value)
    if "status" in changed:
        task.completed_at = datetime.now(UTC) if task.status == "done" else None
    warnings = dependency_warnings(task) if "status" in changed else []
    if changed:
        session.flush()
        action = "task.status" if set(changed) == {"status"} else "task.update"
        record(session, actor, action, f"task:{task.id}", changed, ip)
    return TaskChange(task, warnings, changed)


def delete_task(session: Session, task_id: int, *, actor: str, ip: str | None = None) -> None:
    """Delete a task (its comments go with it; its activity stays in the audit log)."""
    task = get_task(session, task_id)
    record(session, actor, "task.delete", f"task:{task.id}", {"title": task.title, "initiative_id": task.initiative_id},
           ip)
    session.delete(task)
    session.flush()


def add_comment(session: Session, task_id: int, *, author: str, body: str, ip: str | None = None) -> TaskComment:
    """Comment on a task (audited as ``task.comment``)."""
    task = get_task(session, task_id)
    text = str(body or "").strip()
    if not text:
        raise ValidationFailed("a comment needs some text")
    if len(text) > COMMENT_MAX:
        raise ValidationFailed(f"a comment has at most {COMMENT_MAX:,} characters; this one has {len(text):,}")
    comment = TaskComment(task=task, author=author, body=text)
    session.add(comment)
    session.flush()
    record(session, author, "task.comment", f"task:{task.id}", {"comment_id": comment.id, "length": len(text)}, ip)
    return comment


# -- one row per task: the API, the CSV export, the timeline ----------------------------------------
#: The columns of an export (a re-import of the file changes nothing).
EXPORT_COLUMNS = ("id", "title", "initiative_id", "initiative", "description", "owner", "status", "start", "due",
                  "estimate", "depends_on", "overdue", "blocked", "completed_at", "created_at")


def task_row(task: Task, today: date | None = None) -> dict[str, Any]:
    """A task as one flat row (dependencies as ids joined by ";")."""
    return {"id": task.id, "title": task.title, "initiative_id": task.initiative_id,
            "initiative": task.initiative.title if task.initiative else None, "description": task.description,
            "owner": task.owner, "status": task.status, "start": task.start_date, "due": task.due_date,
            "estimate": task.estimate_hours, "depends_on": ";".join(str(d.id) for d in task.depends_on),
            "overdue": is_overdue(task, today), "blocked": is_blocked(task, today),
            "completed_at": task.completed_at, "created_at": task.created_at}


def task_json(task: Task, today: date | None = None) -> dict[str, Any]:
    """A task for the API: its fields, dependency ids, overdue/blocked and what blocks it."""
    row = task_row(task, today)
    row["depends_on"] = [d.id for d in task.depends_on]
    row["status_label"] = STATUS_LABELS[task.status]
    row["late_dependencies"] = [d.id for d in late_dependencies(task, today)]
    row["position"] = task.position
    row["comments"] = len(task.comments)
    return row


__all__ = [
    "EXPORT_COLUMNS",
    "STATUS_LABELS",
    "TaskChange",
    "activity",
    "add_comment",
    "apply_changes",
    "check_dates",
    "create_task",
    "cycle_text",
    "delete_task",
    "dependency_warnings",
    "describe",
    "find_cycle",
    "get_initiative",
    "get_task",
    "is_blocked",
    "is_overdue",
    "late_dependencies",
    "list_tasks",
    "my_tasks",
    "normalise_owner",
    "owner_names",
    "owners",
    "parse_status",
    "task_json",
    "task_row",
    "update_task",
]
