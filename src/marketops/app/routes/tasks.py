"""Tasks: the JSON API here, the pages and their forms in :mod:`.tasks_pages`.

- ``GET /api/v1/tasks`` (filters ``initiative``, ``owner``, ``status``, ``overdue``, ``mine``;
  ``?format=csv|xlsx`` every matching task) and ``POST /api/v1/tasks``;
- ``GET/PATCH/DELETE /api/v1/tasks/{id}``; ``PATCH`` answers the task with ``warnings`` (e.g. it
  moved to in progress while a dependency is not done);
- ``GET/POST /api/v1/tasks/{id}/comments``, ``GET /api/v1/tasks/{id}/activity`` (the audit log);
- ``POST /api/v1/tasks/import`` (multipart field ``file``: a CSV): created, updated, unchanged,
  rejected and each rejected row's errors.

Viewers read; editors and admins change (tokens need ``write``). Every change is audited with
target ``task:<id>``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from marketops.app.deps import DB, Editor, Reader, client_ip
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.overview import _jsonable
from marketops.app.routes import tasks_pages
from marketops.app.routes.metrics import file_of
from marketops.errors import MarketopsError, NotFound, SourceError, ValidationFailed
from marketops.plan import task_csv, tasks
from marketops.state.models import User

router = APIRouter()

ACTIVITY_COLUMNS = ["at", "actor", "action", "detail", "ip"]
COMMENT_COLUMNS = ["id", "at", "author", "body"]


class TaskCreate(BaseModel):
    """A new task; only ``initiative_id`` and ``title`` are required."""

    model_config = ConfigDict(extra="forbid")
    initiative_id: int
    title: str = Field(max_length=300)
    description: str = ""
    owner: str = Field("", max_length=320, description="Free text or a user's email.")
    status: str = Field("todo", description="todo, in_progress, blocked or done (or 'To do', 'In progress'...).")
    start_date: date | None = None
    due_date: date | None = None
    estimate_hours: float | None = Field(None, ge=0)
    depends_on: list[int] = Field(default_factory=list, description="Ids of tasks this one waits for.")


class TaskUpdate(BaseModel):
    """The fields to change (leave the others out); ``null`` clears a date or the estimate."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=300)
    description: str | None = None
    owner: str | None = Field(None, max_length=320)
    status: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    estimate_hours: float | None = Field(None, ge=0)
    depends_on: list[int] | None = None
    initiative_id: int | None = None
    position: int | None = None


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=10_000)


def task_out(task, warnings: list[str] | None = None) -> dict[str, Any]:
    out = _jsonable(tasks.task_json(task))
    if warnings is not None:
        out["warnings"] = warnings
    return out


def _invalid(e: MarketopsError) -> JSONResponse:
    return api_error(400, e.message, code="invalid_task")


@router.get("/api/v1/tasks", response_model=None)
def tasks_api(user: Reader, db: DB,
              initiative: Annotated[int | None, Query(description="Only this initiative's tasks (its id).")] = None,
              owner: Annotated[str | None, Query(max_length=320, description="Owner, exactly.")] = None,
              status: Annotated[str | None, Query(description="todo, in_progress, blocked or done.")] = None,
              overdue: Annotated[bool | None, Query(description="true: only overdue; false: none overdue.")] = None,
              mine: Annotated[bool, Query(description="Only the signed-in user's tasks.")] = False,
              limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """Tasks by due date: ``{"items": [...], "total", "limit", "offset"}``; ``?format=csv|xlsx``
    downloads every matching task (the columns a CSV import reads back)."""
    try:
        found = tasks.list_tasks(db, initiative_id=initiative, owner=owner, status=status, overdue=overdue,
                                 mine=user.email if mine else None)
    except ValidationFailed as e:
        return _invalid(e)
    if format != "json":
        return file_of(task_csv.export_rows(db, found), list(tasks.EXPORT_COLUMNS), "tasks", format)
    return page_json([task_out(t) for t in found[offset:offset + limit]], len(found), limit, offset)


@router.post("/api/v1/tasks", status_code=201, response_model=None)
def create_api(request: Request, body: TaskCreate, user: Editor, db: DB) -> Any:
    """Add a task to an initiative; answers the task with ``warnings``."""
    try:
        change = tasks.create_task(db, actor=user.email, ip=client_ip(request), **body.model_dump())
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e)
    db.commit()
    return task_out(change.task, change.warnings)


@router.post("/api/v1/tasks/import", response_model=None)
async def import_api(request: Request, user: Editor, db: DB,
                     file: Annotated[UploadFile, File(description="A CSV of tasks.")]) -> Any:
    """Load a CSV of tasks (see docs/tasks.md for the columns): ``{"created", "updated",
    "unchanged", "rejected", "rows", "errors": [{"row", "column", "message", "text"}], ...}``."""
    data = await file.read(task_csv.MAX_BYTES + 1)
    return run_import(db, data, file.filename or "tasks.csv", user, client_ip(request))


def run_import(db: Session, data: bytes, name: str, user: User, ip: str) -> Any:
    from pathlib import PurePath

    name = PurePath(name.replace("\\", "/")).name or "tasks.csv"
    try:
        result = task_csv.import_tasks(db, data, file=name, actor=user.email, ip=ip)
    except SourceError as e:
        db.rollback()
        return api_error(400, e.message, code="bad_file")
    db.commit()
    return result.as_dict()


def _task(db: Session, task_id: int):
    return tasks.get_task(db, task_id)


@router.get("/api/v1/tasks/{task_id}")
def task_api(task_id: int, user: Reader, db: DB) -> dict:
    """One task with its dependency ids, overdue/blocked and how many comments."""
    return task_out(_task(db, task_id))


@router.patch("/api/v1/tasks/{task_id}", response_model=None)
def update_api(request: Request, task_id: int, body: TaskUpdate, user: Editor, db: DB) -> Any:
    """Change some fields (e.g. ``{"status": "in_progress"}`` when a card is dragged on the board)."""
    changes = body.model_dump(exclude_unset=True)
    for key in ("title", "status", "initiative_id", "position", "description", "owner"):
        if key in changes and changes[key] is None:
            return api_error(400, f"{key} cannot be null", code="invalid_task")
    try:
        change = tasks.update_task(db, task_id, actor=user.email, ip=client_ip(request), **changes)
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e)
    db.commit()
    return task_out(change.task, change.warnings)


@router.delete("/api/v1/tasks/{task_id}", status_code=204)
def delete_api(request: Request, task_id: int, user: Editor, db: DB) -> Response:
    tasks.delete_task(db, task_id, actor=user.email, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


def comment_json(c) -> dict[str, Any]:
    return {"id": c.id, "at": c.at, "author": c.author, "body": c.body}


@router.get("/api/v1/tasks/{task_id}/comments", response_model=None)
def comments_api(task_id: int, user: Reader, db: DB, format: Format = "json") -> Any:
    """The task's comments, oldest first; ``?format=csv|xlsx`` as a file."""
    rows = [comment_json(c) for c in _task(db, task_id).comments]
    if format != "json":
        return file_of(rows, COMMENT_COLUMNS, f"task_{task_id}_comments", format)
    return {"items": _jsonable(rows), "total": len(rows)}


@router.post("/api/v1/tasks/{task_id}/comments", status_code=201, response_model=None)
def comment_api(request: Request, task_id: int, body: CommentCreate, user: Editor, db: DB) -> Any:
    try:
        comment = tasks.add_comment(db, task_id, author=user.email, body=body.body, ip=client_ip(request))
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e)
    db.commit()
    return _jsonable(comment_json(comment))


def activity_rows(db: Session, task_id: int) -> list[dict[str, Any]]:
    _task(db, task_id)
    return [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail, "ip": e.ip}
            for e in tasks.activity(db, task_id)]


@router.get("/api/v1/tasks/{task_id}/activity", response_model=None)
def activity_api(task_id: int, user: Reader, db: DB, format: Format = "json") -> Any:
    """What happened to the task, oldest first (the audit log's events with target ``task:<id>``)."""
    rows = activity_rows(db, task_id)
    if format != "json":
        import json

        flat = [{**r, "detail": json.dumps(r["detail"], ensure_ascii=False, default=str)} for r in rows]
        return file_of(flat, ACTIVITY_COLUMNS, f"task_{task_id}_activity", format)
    return {"items": _jsonable(rows), "total": len(rows)}


router.include_router(tasks_pages.router)

__all__ = ["NotFound", "router"]
