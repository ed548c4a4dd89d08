"""Tasks in and out of spreadsheets: export every task as rows, import a CSV of tasks.

The import reads the columns ``title``, ``initiative`` (an id or a title), ``description``,
``owner``, ``status`` (``todo`` or "To do", "In progress", ...), ``start``, ``due`` (dates like
2026-05-31), ``estimate`` (hours) and ``depends_on`` (task ids, or titles of tasks in the file or
the initiative, separated by ";"). Other columns (``id``, ``overdue``... of an export) are ignored.

- A bad row is rejected with a message naming the file, the row as a spreadsheet numbers it (the
  header is row 1) and the column, and what was expected; the good rows still load.
- A task is matched on initiative + title: importing the same file again changes nothing.
- A dependency cycle in the file is refused on the row that closes it, with the cycle named.
- Every row read ends up in exactly one of created, updated, unchanged or rejected.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.state.planning import Initiative
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
    >>> _ = init_db(url)
    >>> text = "title,initiative,due,depends_on\\nBrief,Launch,2026-03-01,\\nDesign,Launch,31/03/2026,Brief\\n"
    >>> with session_scope(url) as s:
    ...     s.add(Initiative(id=1, title="Launch")); s.flush()
    ...     result = import_tasks(s, text.encode(), file="plan.csv", actor="ana")
    ...     result.counts(), [str(e) for e in result.errors]
    ({'rows': 2, 'created': 1, 'updated': 0, 'unchanged': 0, 'rejected': 1}, ["plan.csv, row 3, column 'due': expected a date like 2026-05-31, got '31/03/2026'"])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketops.errors import MarketopsError, did_you_mean
from marketops.plan.plan_csv import MAX_BYTES, RowError, read_csv
from marketops.plan.tasks import (
    EXPORT_COLUMNS,
    TITLE_MAX,
    apply_changes,
    create_task,
    cycle_text,
    find_cycle,
    normalise_owner,
    parse_status,
    task_row,
)
from marketops.state.audit import record
from marketops.state.planning import Initiative, Task, TaskDependency

COLUMNS = ("title", "initiative", "description", "owner", "status", "start", "due", "estimate", "depends_on")
REQUIRED = ("title", "initiative")
# Headers people (and other tools) write for the same columns.
ALIASES = {"start_date": "start", "due_date": "due", "deadline": "due", "estimate_hours": "estimate",
           "hours": "estimate", "dependencies": "depends_on", "depends": "depends_on", "initiative_id": None,
           "assignee": "owner", "name": "title", "task": "title"}


@dataclass
class ImportResult:
    """What an import did: task ids created, updated, unchanged; the rows rejected and why."""

    file: str
    rows: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "created": len(self.created), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "rejected": self.rejected}

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, **self.counts(), "created_ids": self.created, "updated_ids": self.updated,
                "unchanged_ids": self.unchanged, "errors": [e.to_json() for e in self.errors],
                "warnings": self.warnings}


class _Reject(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


@dataclass
class _Row:
    number: int
    fields: dict[str, Any]
    initiative: Initiative
    deps_raw: list[str] | None  # None: the file has no depends_on column
    existing: Task | None = None
    deps: list[Any] = field(default_factory=list)  # nodes: task ids (int) or "row:N" (new rows)

    @property
    def node(self) -> Any:
        return self.existing.id if self.existing is not None else f"row:{self.number}"

    @property
    def key(self) -> tuple[int, str]:
        return self.initiative.id, self.fields["title"].casefold()


# -- export -----------------------------------------------------------------------------------------
def export_rows(session: Session, tasks: Iterable[Task] | None = None, today: date | None = None) -> list[dict]:
    """Every task (or ``tasks``) as export rows, by id: the columns of :data:`EXPORT_COLUMNS`."""
    if tasks is None:
        tasks = session.scalars(select(Task).options(selectinload(Task.depends_on), selectinload(Task.initiative))
                                .order_by(Task.id))
    return [task_row(t, today) for t in tasks]


# -- reading the file -------------------------------------------------------------------------------
def read_rows(data: bytes, file: str) -> tuple[list[str | None], list[tuple[int, dict[str, str]]]]:
    """The canonical column names and the non-empty rows with their spreadsheet row numbers."""
    return read_csv(data, file, columns=COLUMNS, required=REQUIRED, aliases=ALIASES,
                    example="title,initiative,due")


def _date(value: str, column: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _Reject(column, f"expected a date like 2026-05-31, got '{value}'") from None


def _estimate(value: str) -> float | None:
    if not value:
        return None
    try:
        hours = float(value)
    except ValueError:
        raise _Reject("estimate", f"expected a number of hours like 4 or 2.5, got '{value}'") from None
    if not math.isfinite(hours) or hours < 0:
        raise _Reject("estimate", f"expected zero or more hours, got '{value}'")
    return hours


class _Initiatives:
    def __init__(self, session: Session) -> None:
        self.all = list(session.scalars(select(Initiative).order_by(Initiative.id)))
        self.by_id = {i.id: i for i in self.all}
        self.by_title: dict[str, list[Initiative]] = {}
        for i in self.all:
            self.by_title.setdefault(i.title.strip().casefold(), []).append(i)

    def find(self, value: str) -> Initiative:
        if not value:
            raise _Reject("initiative", "expected the initiative's id or title; the cell is empty")
        if value.isdigit():
            if int(value) in self.by_id:
                return self.by_id[int(value)]
            raise _Reject("initiative", f"no initiative {value}; expected an existing initiative's id or title")
        found = self.by_title.get(value.casefold(), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise _Reject("initiative", f"{len(found)} initiatives are called '{value}' "
                                        f"(ids {', '.join(str(i.id) for i in found)}); use the id")
        hint = did_you_mean(value, [i.title for i in self.all])
        raise _Reject("initiative", f"no initiative called '{value}'{hint}; expected an existing initiative's "
                                    "id or title")


def _fields(session: Session, cells: dict[str, str]) -> dict[str, Any]:
    title = " ".join(cells.get("title", "").split())
    if not title:
        raise _Reject("title", "expected a title; the cell is empty")
    if len(title) > TITLE_MAX:
        raise _Reject("title", f"expected at most {TITLE_MAX} characters, got {len(title)}")
    out: dict[str, Any] = {"title": title}
    if "description" in cells:
        out["description"] = cells["description"]
    if "owner" in cells:
        out["owner"] = normalise_owner(session, cells["owner"])
    if cells.get("status"):
        try:
            out["status"] = parse_status(cells["status"])
        except MarketopsError:
            raise _Reject("status", f"expected To do, In progress, Blocked or Done, got '{cells['status']}'") from None
    for column, name in (("start", "start_date"), ("due", "due_date")):
        if column in cells:
            out[name] = _date(cells[column], column)
    if "estimate" in cells:
        out["estimate_hours"] = _estimate(cells["estimate"])
    start, due = out.get("start_date"), out.get("due_date")
    if start and due and due < start:
        raise _Reject("due", f"expected a due date on or after the start date {start.isoformat()}, "
                             f"got {due.isoformat()}")
    return out


# -- resolving dependencies -------------------------------------------------------------------------
def _resolve(row: _Row, by_key: dict[tuple[int, str], _Row], tasks: dict[int, Task],
             by_title: dict[str, list[Task]]) -> list[Any]:
    nodes: list[Any] = []
    for ref in row.deps_raw or []:
        if ref.isdigit():
            if int(ref) not in tasks:
                raise _Reject("depends_on", f"no task {ref}; expected task ids or titles separated by ';'")
            node: Any = int(ref)
        else:
            node = _by_title(row, ref, by_key, by_title)
        if node == row.node:
            raise _Reject("depends_on", f"a task cannot depend on itself ('{row.fields['title']}')")
        if node not in nodes:
            nodes.append(node)
    return nodes


def _by_title(row: _Row, ref: str, by_key: dict[tuple[int, str], _Row], by_title: dict[str, list[Task]]) -> Any:
    key = (row.initiative.id, ref.casefold())
    if key in by_key:
        return by_key[key].node
    same = [t for t in by_title.get(ref.casefold(), []) if t.initiative_id == row.initiative.id]
    if len(same) == 1:
        return same[0].id
    elsewhere = [r for k, r in by_key.items() if k[1] == ref.casefold()]
    known = {r.node for r in elsewhere} | {t.id for t in by_title.get(ref.casefold(), [])}
    if len(known) == 1:
        return known.pop()
    if known:
        raise _Reject("depends_on", f"several tasks are called '{ref}'; use the task's id")
    raise _Reject("depends_on", f"no task called '{ref}' in this file or in initiative '{row.initiative.title}'; "
                                "expected task ids or titles separated by ';'")


def _name(node: Any, rows: dict[Any, _Row], tasks: dict[int, Task]) -> str:
    if isinstance(node, int):
        return f"{node} '{tasks[node].title if node in tasks else '?'}'"
    row = rows[node]
    return f"'{row.fields['title']}' (row {row.number})"


def _topological(rows: list[_Row]) -> list[_Row]:
    """New rows ordered so each comes after the new rows it depends on (the graph has no cycle)."""
    new = {r.node: r for r in rows if r.existing is None}
    done: set[Any] = set()
    ordered: list[_Row] = []

    def visit(row: _Row) -> None:
        if row.node in done:
            return
        done.add(row.node)
        for dep in row.deps:
            if dep in new:
                visit(new[dep])
        ordered.append(row)

    for row in new.values():
        visit(row)
    return ordered


# -- the import -------------------------------------------------------------------------------------
def import_tasks(session: Session, data: bytes, *, file: str, actor: str, ip: str | None = None,
                 today: date | None = None) -> ImportResult:
    """Load a CSV of tasks: create new ones, update changed ones, leave the rest (see the module)."""
    header, raw_rows = read_rows(data, file)
    result = ImportResult(file=file, rows=len(raw_rows))
    initiatives = _Initiatives(session)
    tasks = {t.id: t for t in session.scalars(select(Task).options(selectinload(Task.depends_on)))}
    by_title: dict[str, list[Task]] = {}
    for t in tasks.values():
        by_title.setdefault(t.title.strip().casefold(), []).append(t)
    existing = {(t.initiative_id, t.title.strip().casefold()): t for t in tasks.values()}

    def reject(number: int, problem: _Reject) -> None:
        result.errors.append(RowError(file, number, problem.column, problem.message))

    # 1. each row on its own: values, initiative, the task it updates, duplicates in the file
    rows: list[_Row] = []
    by_key: dict[tuple[int, str], _Row] = {}
    for number, cells in raw_rows:
        try:
            initiative = initiatives.find(cells.get("initiative", ""))
            row = _Row(number, _fields(session, cells), initiative,
                       [p.strip() for p in cells["depends_on"].split(";") if p.strip()]
                       if "depends_on" in header else None)
            if row.key in by_key:
                raise _Reject("title", f"the same task (initiative '{initiative.title}', title "
                                       f"'{row.fields['title']}') is already on row {by_key[row.key].number}")
        except _Reject as problem:
            reject(number, problem)
            continue
        row.existing = existing.get(row.key)
        by_key[row.key] = row
        rows.append(row)

    # 2. dependencies: resolve names, then add each row's edges in file order, refusing a cycle
    graph: dict[Any, list[Any]] = {}
    for task_id, dep in session.execute(select(TaskDependency.task_id, TaskDependency.depends_on_id)):
        graph.setdefault(task_id, []).append(dep)
    row_of = {r.node: r for r in rows}
    accepted: list[_Row] = []
    previous: dict[Any, list[Any]] = {}
    for row in rows:
        try:
            if row.deps_raw is None:
                row.deps = list(graph.get(row.node, []))
                accepted.append(row)
                continue
            row.deps = _resolve(row, by_key, tasks, by_title)
            previous[row.node] = graph.get(row.node, [])
            graph[row.node] = row.deps
            cycle = find_cycle(graph, row.node)
            if cycle:
                graph[row.node] = previous[row.node]
                names = [_name(n, row_of, tasks) for n in cycle]
                raise _Reject("depends_on", f"circular dependency: {cycle_text(names)}; remove one of these "
                                            "dependencies")
        except _Reject as problem:
            reject(row.number, problem)
            continue
        accepted.append(row)

    # 3. rows depending on a new row that was rejected cannot load either (repeat until none is left)
    while True:
        live = {r.node for r in accepted}
        dropped = [r for r in accepted if any(isinstance(d, str) and d not in live for d in r.deps)]
        if not dropped:
            break
        for r in dropped:
            missing = next(d for d in r.deps if isinstance(d, str) and d not in live)
            reject(r.number, _Reject("depends_on", f"depends on {missing.replace(':', ' ')}, which was rejected"))
            graph[r.node] = previous.get(r.node, [])
            accepted.remove(r)

    # 4. write: new tasks (dependencies first), then changes to existing ones
    created: dict[Any, Task] = {}
    for row in _topological(accepted):
        ids = [created[d].id if isinstance(d, str) else d for d in row.deps]
        change = create_task(session, initiative_id=row.initiative.id, actor=actor, ip=ip, depends_on=ids,
                             **{k: v for k, v in row.fields.items()}, today=today)
        created[row.node] = change.task
        result.created.append(change.task.id)
        result.warnings += change.warnings
    for row in accepted:
        if row.existing is None:
            continue
        fields = dict(row.fields)
        if row.deps_raw is not None:
            fields["depends_on"] = [created[d] if isinstance(d, str) else tasks[d] for d in row.deps]
        change = apply_changes(session, row.existing, fields, actor=actor, ip=ip)
        (result.updated if change.changed else result.unchanged).append(row.existing.id)
        result.warnings += change.warnings
    result.created.sort()
    if result.created or result.updated:
        record(session, actor, "task.import", f"file:{file[:200]}", result.counts(), ip)
    return result


__all__ = ["COLUMNS", "EXPORT_COLUMNS", "MAX_BYTES", "ImportResult", "RowError", "export_rows", "import_tasks", "read_rows"]
