"""Task pages: ``/tasks`` the kanban board, ``/tasks/timeline`` the Gantt chart, ``/tasks/mine``
the signed-in user's tasks, ``/tasks/{id}`` one task; and their forms (editors only, CSRF-checked,
answered with a redirect and a one-off notice).

The board's cards are dragged between columns by ``static/board.js``, which sends
``PATCH /api/v1/tasks/{id}``; without JavaScript each card has a status select and a Move button
posting ``/tasks/{id}/status``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketops.app.deps import DB, CurrentUser, Forbidden, client_ip, form_csrf
from marketops.app.render import N_, render
from marketops.app.routes.settings import flash, pop_flash
from marketops.app.tasks_charts import STATUS_NAMES, timeline_figure
from marketops.errors import MarketopsError, NotFound, SourceError, ValidationFailed
from marketops.plan import task_csv, tasks
from marketops.state.models import User
from marketops.state.planning import TASK_STATUSES, Initiative, Task, TaskDependency

router = APIRouter()
CSRF = [Depends(form_csrf)]
EDIT_ROLES = ("admin", "editor")

# The board's and the legend's words, marked for the catalogs (the templates translate them).
STATUS_TEXT = {"todo": N_("To do"), "in_progress": N_("In progress"), "blocked": N_("Blocked"), "done": N_("Done")}
N_("Overdue"), N_("Today")


def can_edit(user: User) -> bool:
    return user.role in EDIT_ROLES


def _editor(user: User) -> None:
    if not can_edit(user):
        raise Forbidden(f"this needs the editor role; you are {user.role}")


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _filters(request: Request, db: Session) -> dict[str, Any]:
    q = request.query_params
    initiative = _int(q.get("initiative"))
    if initiative is not None:
        tasks.get_initiative(db, initiative)  # an unknown id is a 404, not an empty board
    return {"initiative": initiative, "owner": (q.get("owner") or "").strip()[:320]}


def _initiatives(db: Session) -> list[Initiative]:
    return list(db.scalars(select(Initiative).order_by(Initiative.title, Initiative.id)))


def _card(task: Task, today: date) -> dict[str, Any]:
    return {"task": task, "overdue": tasks.is_overdue(task, today), "blocked": tasks.is_blocked(task, today),
            "late": tasks.late_dependencies(task, today), "deps": len(task.depends_on)}


def _query(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v not in (None, "")}


def board_context(request: Request, db: Session, user: User, **extra: Any) -> dict[str, Any]:
    today = date.today()
    filters = _filters(request, db)
    found = tasks.list_tasks(db, initiative_id=filters["initiative"], owner=filters["owner"] or None, today=today)
    columns = [{"status": s, "label": STATUS_TEXT[s],
                "cards": [_card(t, today) for t in sorted((t for t in found if t.status == s),
                                                          key=lambda t: (t.position, t.id))]}
               for s in TASK_STATUSES]
    initiatives = _initiatives(db)
    return {"columns": columns, "filters": filters, "query": _query(filters), "initiatives": initiatives,
            "owners": tasks.owners(db), "statuses": STATUS_TEXT, "editable": can_edit(user), "today": today,
            "total": len(found), "overdue": sum(c["overdue"] for col in columns for c in col["cards"]),
            "blocked": sum(c["blocked"] for col in columns for c in col["cards"]),
            "flash": pop_flash(request), **extra}


@router.get("/tasks")
def board_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return render(request, "tasks.html", board_context(request, db, user))


@router.get("/tasks/timeline")
def timeline_page(request: Request, db: DB, user: CurrentUser) -> Response:
    today = date.today()
    filters = _filters(request, db)
    found = tasks.list_tasks(db, initiative_id=filters["initiative"], owner=filters["owner"] or None, today=today)
    from marketops.app.i18n import translations
    from marketops.app.render import language

    t = translations(language(request))
    names = {k: t.gettext(v) for k, v in {**STATUS_NAMES, "today": "Today"}.items()}
    figure = timeline_figure(found, today=today, labels=names)
    undated = [x for x in found if x.start_date is None and x.due_date is None]
    return render(request, "tasks_timeline.html", {
        "figure": figure, "charts": bool(len(found) - len(undated)), "tasks": found, "undated": undated,
        "cards": {x.id: _card(x, today) for x in found}, "filters": filters, "query": _query(filters),
        "initiatives": _initiatives(db), "owners": tasks.owners(db), "statuses": STATUS_TEXT, "today": today})


@router.get("/tasks/mine")
def mine_page(request: Request, db: DB, user: CurrentUser) -> Response:
    today = date.today()
    show_done = request.query_params.get("done") in ("1", "true", "on")
    mine = tasks.my_tasks(db, user.email, include_done=show_done, today=today)
    return render(request, "tasks_mine.html", {
        "cards": [_card(t, today) for t in mine], "statuses": STATUS_TEXT, "show_done": show_done,
        "today": today, "flash": pop_flash(request)})


@router.post("/tasks/new", dependencies=CSRF)
async def create_form(request: Request, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    try:
        initiative = _int(form.get("initiative_id"))
        if initiative is None:
            raise ValidationFailed("choose the initiative the task belongs to")
        change = tasks.create_task(
            db, initiative_id=initiative, title=str(form.get("title") or ""), owner=str(form.get("owner") or ""),
            description=str(form.get("description") or ""), start_date=str(form.get("start_date") or "") or None,
            due_date=str(form.get("due_date") or "") or None,
            estimate_hours=str(form.get("estimate_hours") or "") or None,
            depends_on=_ids(form.get("depends_on")), actor=user.email, ip=client_ip(request))
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        return render(request, "tasks.html", board_context(request, db, user, error=e.message, new=dict(form),
                                                           open_new=True), status_code=400)
    _saved(request, change, N_("Task “%(title)s” added."))
    return RedirectResponse(f"/tasks/{change.task.id}", status_code=303)


def _ids(value: Any) -> list[str]:
    return [p for p in re.split(r"[\s,;]+", str(value or "")) if p]


def _saved(request: Request, change: tasks.TaskChange, text: str) -> None:
    if change.warnings:
        flash(request, N_("Saved, but note: %(warnings)s"), "warn", warnings="; ".join(change.warnings))
    else:
        flash(request, text, title=change.task.title or "-")


def _back(request: Request, default: str) -> str:
    target = str(request.query_params.get("next") or "")
    return target if target.startswith("/tasks") and not target.startswith("//") else default


@router.post("/tasks/import", dependencies=CSRF)
async def import_form(request: Request, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(request, "tasks.html", board_context(request, db, user, error=N_("Choose a CSV file to import.")),
                      status_code=400)
    data = await upload.read(task_csv.MAX_BYTES + 1)
    try:
        result = task_csv.import_tasks(db, data, file=upload.filename.rsplit("/", 1)[-1], actor=user.email,
                                       ip=client_ip(request))
        db.commit()
    except SourceError as e:
        db.rollback()
        return render(request, "tasks.html", board_context(request, db, user, error=e.message), status_code=400)
    return render(request, "tasks.html", board_context(request, db, user, imported=result))


@router.get("/tasks/{task_id}")
def task_page_route(request: Request, task_id: int, db: DB, user: CurrentUser) -> Response:
    return task_page(request, task_id, db, user)


def task_page(request: Request, task_id: int, db: Session, user: User, error: str | None = None,
              status_code: int = 200) -> Response:
    today = date.today()
    task = db.scalar(select(Task).where(Task.id == task_id)
                     .options(selectinload(Task.depends_on), selectinload(Task.comments)))
    if task is None:
        raise NotFound(f"no task {task_id}")
    dependents = list(db.scalars(select(Task).join(TaskDependency, TaskDependency.task_id == Task.id)
                                 .where(TaskDependency.depends_on_id == task_id).order_by(Task.id)))
    return render(request, "task.html", {
        "task": task, "card": _card(task, today), "deps": [_card(d, today) for d in task.depends_on],
        "dependents": [_card(d, today) for d in dependents], "activity": tasks.activity(db, task_id),
        "statuses": STATUS_TEXT, "editable": can_edit(user), "initiatives": _initiatives(db),
        "flash": pop_flash(request), "error": error, "today": today}, status_code=status_code)


@router.post("/tasks/{task_id}/status", dependencies=CSRF)
async def status_form(request: Request, task_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    try:
        change = tasks.update_task(db, task_id, actor=user.email, ip=client_ip(request),
                                   status=str(form.get("status") or ""))
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        flash(request, N_("Not moved: %(reason)s"), "warn", reason=e.message)
        return RedirectResponse(_back(request, "/tasks"), status_code=303)
    _saved(request, change, N_("Task “%(title)s” moved."))
    return RedirectResponse(_back(request, "/tasks"), status_code=303)


@router.post("/tasks/{task_id}/edit", dependencies=CSRF)
async def edit_form(request: Request, task_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    fields = {k: str(form.get(k) or "") for k in ("title", "description", "owner", "status", "start_date",
                                                  "due_date", "estimate_hours", "initiative_id") if k in form}
    fields = {k: (v or None) if k in ("start_date", "due_date", "estimate_hours") else v for k, v in fields.items()}
    if "depends_on" in form:
        fields["depends_on"] = _ids(form.get("depends_on"))
    try:
        change = tasks.update_task(db, task_id, actor=user.email, ip=client_ip(request), **fields)
        db.commit()
    except NotFound:
        db.rollback()
        raise
    except MarketopsError as e:
        db.rollback()
        return task_page(request, task_id, db, user, error=e.message, status_code=400)
    _saved(request, change, N_("Task “%(title)s” saved."))
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/comments", dependencies=CSRF)
async def comment_form(request: Request, task_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    try:
        tasks.add_comment(db, task_id, author=user.email, body=str(form.get("body") or ""), ip=client_ip(request))
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        return task_page(request, task_id, db, user, error=e.message, status_code=400)
    flash(request, N_("Comment added."))
    return RedirectResponse(f"/tasks/{task_id}#comments", status_code=303)


@router.post("/tasks/{task_id}/delete", dependencies=CSRF)
def delete_form(request: Request, task_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    title = tasks.get_task(db, task_id).title
    tasks.delete_task(db, task_id, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Task “%(title)s” deleted."), title=title or "-")
    return RedirectResponse("/tasks", status_code=303)
