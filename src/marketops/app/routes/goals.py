"""The goals API: list, check, create, read, change, delete and measure SMART goals.

``GET/POST /api/v1/goals``, ``POST /api/v1/goals/check`` (the SMART check, nothing saved),
``GET/PATCH/DELETE /api/v1/goals/{id}``, ``GET /api/v1/goals/{id}/progress`` and
``POST /api/v1/goals/{id}/measure``. Reading needs any signed-in user (tokens: ``read``); changes
need an editor (tokens: ``write``) and are audited (``goal.create``, ``goal.update``, ``goal.delete``,
``goal.measure`` on ``goal:<id>``). A goal whose SMART check has an error is refused with 400 and
every letter's verdict in ``error.checks``. The pages are in :mod:`marketops.app.routes.goals_pages`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from marketops.app.deps import DB, Editor, Reader, client_ip, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.goals_charts import series_rows
from marketops.app.routes.goals_pages import router as pages_router
from marketops.app.routes.metrics import file_of
from marketops.errors import MarketopsError, NotFound
from marketops.plan.goals import (
    GoalDraft,
    GoalRejected,
    check_goal,
    create_goal,
    delete_goal,
    get_goal,
    goal_json,
    goal_tree,
    history,
    initiative_ids,
    progress_json,
    saved_checks,
    update_goal,
)
from marketops.plan.progress import latest_progress, measure_now
from marketops.state.planning import GOAL_LEVELS, GOAL_STATUSES

router = APIRouter()
router.include_router(pages_router)

#: Columns of the goal list download, in order.
LIST_COLUMNS = ["id", "title", "level", "team", "owner", "parent_id", "metric", "scope", "measure", "grain",
                "baseline", "target", "start_date", "deadline", "status", "value", "progress", "forecast", "as_of",
                "message"]
SERIES_COLUMNS = ["period", "actual", "forecast", "baseline", "target"]
HISTORY_COLUMNS = ["computed_at", "run_id", "as_of", "value", "progress", "forecast", "status", "message"]


class GoalIn(BaseModel):
    """A goal to create (or to check). Give ``target`` or ``change`` (``+25%``, ``+300``)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=300, description="What the goal is, e.g. 'Raise email clicks by 25%'.")
    metric: str = Field(description="A metric of the metrics layer, e.g. email_clicks.")
    target: float | None = Field(default=None, description="Target value.")
    change: str | None = Field(default=None, description="Target as a change from the baseline: +25% or +300.")
    deadline: dt.date | None = Field(default=None, description="Date by which the target is to be reached.")
    filters: dict[str, str] = Field(default_factory=dict, description="Scope: dimension -> value, e.g. "
                                                                      "{\"channel\": \"Email\"}.")
    grain: Literal["day", "week", "month", "quarter"] = "month"
    measure: Literal["period", "cumulative"] = Field(default="period", description="period: the value per period; "
                                                     "cumulative: the total since the start.")
    baseline: float | None = Field(default=None, description="Default: measured over the period before the start.")
    start_date: dt.date | None = Field(default=None, description="Default: today.")
    owner: str = Field(default="", max_length=320)
    level: Literal["company", "team", "person"] = "company"
    team: str | None = Field(default=None, max_length=200)
    parent_id: int | None = None
    initiative_ids: list[int] = Field(default_factory=list, description="Initiatives the goal serves.")
    description: str = Field(default="", max_length=5000)

    def draft(self) -> GoalDraft:
        return GoalDraft(**self.model_dump())


class GoalPatch(BaseModel):
    """Fields to change; the SMART check runs again on the result."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=300)
    metric: str | None = None
    target: float | None = None
    change: str | None = None
    deadline: dt.date | None = None
    filters: dict[str, str] | None = None
    grain: Literal["day", "week", "month", "quarter"] | None = None
    measure: Literal["period", "cumulative"] | None = None
    baseline: float | None = None
    start_date: dt.date | None = None
    owner: str | None = Field(default=None, max_length=320)
    level: Literal["company", "team", "person"] | None = None
    team: str | None = Field(default=None, max_length=200)
    parent_id: int | None = None
    initiative_ids: list[int] | None = None
    description: str | None = Field(default=None, max_length=5000)


def rejected(e: GoalRejected) -> JSONResponse:
    """400 in the API's error envelope, with every SMART letter's verdict."""
    return JSONResponse({"error": {"code": "smart_check_failed", "message": e.message,
                                   "checks": [c.to_json() for c in e.checks]}}, status_code=400)


def list_row(goal_data: dict[str, Any]) -> dict[str, Any]:
    p = goal_data.get("progress") or {}
    measured = {"value": p.get("value"), "progress": p.get("progress"), "forecast": p.get("forecast"),
                "as_of": p.get("as_of"), "message": p.get("message", "")}
    return {c: measured[c] if c in measured else goal_data.get(c) for c in LIST_COLUMNS}


def goal_detail(db, goal) -> dict[str, Any]:
    """Everything the API says about one goal."""
    progress = latest_progress(db, [goal.id]).get(goal.id)
    return {**goal_json(goal, progress), "smart": saved_checks(db, goal.id),
            "initiative_ids": initiative_ids(db, goal.id),
            "children": [{"id": c.id, "title": c.title, "level": c.level} for c in goal.children]}


@router.get("/api/v1/goals", response_model=None)
def goals_api(db: DB, user: Reader,
              status: Annotated[str | None, Query(description=f"One of {', '.join(GOAL_STATUSES)}.")] = None,
              owner: Annotated[str | None, Query(max_length=320, description="Part of the owner.")] = None,
              level: Annotated[str | None, Query(description=f"One of {', '.join(GOAL_LEVELS)}.")] = None,
              limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """Goals in tree order (company -> team -> person; ``depth`` says how deep), each with its newest
    status, value, progress and forecast; ``?format=csv|xlsx`` downloads every matching goal."""
    if status and status not in GOAL_STATUSES:
        return api_error(400, f"unknown status '{status}'; valid: {', '.join(GOAL_STATUSES)}")
    if level and level not in GOAL_LEVELS:
        return api_error(400, f"unknown level '{level}'; valid: {', '.join(GOAL_LEVELS)}")
    rows = [goal_json(r.goal, r.progress, depth=r.depth) for r in goal_tree(db, status=status, owner=owner,
                                                                             level=level)]
    if format != "json":
        return file_of([list_row(r) for r in rows], LIST_COLUMNS, "goals", format)
    return page_json(rows[offset:offset + limit], len(rows), limit, offset)


@router.post("/api/v1/goals/check")
def check_api(request: Request, db: DB, user: Reader, body: GoalIn) -> Any:
    """The SMART check of a goal, nothing saved: each letter's verdict (``ok``, ``severity`` error or
    warning, ``message``), and the baseline and target the goal would get."""
    try:
        with read_workspace(request) as ws:
            result = check_goal(db, ws, body.draft())
    except MarketopsError as e:
        return api_error(400, e.message)
    finally:
        db.rollback()
    return result.to_json()


@router.post("/api/v1/goals", status_code=201, response_model=None)
def create_api(request: Request, db: DB, user: Editor, body: GoalIn) -> Any:
    """Create a goal: 201 with the goal and its SMART check; 400 with every verdict when a letter has an error."""
    try:
        with read_workspace(request) as ws:
            goal, result = create_goal(db, ws, body.draft(), actor=user.email, ip=client_ip(request))
        db.commit()
    except GoalRejected as e:
        db.rollback()
        return rejected(e)
    except MarketopsError as e:
        db.rollback()
        return api_error(400, e.message)
    return {**goal_detail(db, goal), "smart": [c.to_json() for c in result.checks]}


@router.get("/api/v1/goals/{goal_id}")
def goal_api(db: DB, user: Reader, goal_id: int) -> dict[str, Any]:
    """One goal: its numbers, the SMART check it was saved with, its newest measurement, children and initiatives."""
    return goal_detail(db, get_goal(db, goal_id))


@router.patch("/api/v1/goals/{goal_id}", response_model=None)
def patch_api(request: Request, db: DB, user: Editor, goal_id: int, body: GoalPatch) -> Any:
    """Change a goal; the SMART check runs again (400 with every verdict when a letter has an error)."""
    goal = get_goal(db, goal_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("title", "metric", "grain", "measure", "level", "owner", "filters", "initiative_ids", "description"):
        if key in changes and changes[key] is None:
            return api_error(400, f"{key} cannot be empty")
    try:
        with read_workspace(request) as ws:
            goal, result = update_goal(db, ws, goal, changes, actor=user.email, ip=client_ip(request))
        db.commit()
    except GoalRejected as e:
        db.rollback()
        return rejected(e)
    except NotFound:
        raise
    except MarketopsError as e:
        db.rollback()
        return api_error(400, e.message)
    return {**goal_detail(db, goal), "smart": [c.to_json() for c in result.checks]}


@router.delete("/api/v1/goals/{goal_id}", status_code=204)
def delete_api(request: Request, db: DB, user: Editor, goal_id: int) -> Response:
    """Delete a goal and its measurements; its sub-goals stay, without a parent."""
    delete_goal(db, get_goal(db, goal_id), actor=user.email, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


@router.get("/api/v1/goals/{goal_id}/progress", response_model=None)
def progress_api(db: DB, user: Reader, goal_id: int,
                 table: Annotated[Literal["series", "history"], Query(
                     description="With format=csv|xlsx: series (actual and forecast per period) or history "
                                 "(every measurement).")] = "series",
                 format: Format = "json") -> Any:
    """The newest measurement with its detail (series, forecast, method, message), the series as rows
    (period, actual, forecast, baseline, target) and the history of measurements, newest first."""
    goal = get_goal(db, goal_id)
    latest = latest_progress(db, [goal.id]).get(goal.id)
    rows = series_rows(latest.detail or {}, baseline=goal.baseline, target=goal.target) if latest else []
    past = [progress_json(p) for p in history(db, goal.id)]
    if format != "json":
        if table == "history":
            return file_of([{c: h.get(c) for c in HISTORY_COLUMNS} for h in past], HISTORY_COLUMNS,
                           f"goal_{goal.id}_history", format)
        return file_of(rows, SERIES_COLUMNS, f"goal_{goal.id}_series", format)
    return {"goal_id": goal.id, "status": latest.status if latest else "no_data",
            "latest": progress_json(latest, detail=True), "series": rows, "history": past}


@router.post("/api/v1/goals/{goal_id}/measure", response_model=None)
def measure_api(request: Request, db: DB, user: Editor, goal_id: int) -> Any:
    """Measure the goal now on the published data; returns the new measurement."""
    goal = get_goal(db, goal_id)
    with read_workspace(request) as ws:
        row = measure_now(db, ws, goal, actor=user.email, ip=client_ip(request))
    db.commit()
    return progress_json(row, detail=True)
