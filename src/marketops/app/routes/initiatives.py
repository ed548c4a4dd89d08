"""Initiatives through the API: ``/api/v1/stories/parse`` and ``/api/v1/initiatives`` (list, create,
read, change, delete, plus stakeholders, communication plan and goal links one at a time). The
pages live in :mod:`marketops.app.routes.initiatives_pages`, included here.

Reading needs any signed-in user (tokens: ``read``); every change needs an editor (tokens:
``write``) and is audited with target ``initiative:<id>``. Refusals use the error envelope with
the domain's message (400), e.g. ``the end date 2026-01-31 is before the start date 2026-03-01; …``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from marketops.app.deps import DB, Editor, Reader, client_ip
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.routes import initiatives_pages
from marketops.app.routes.metrics import file_of
from marketops.errors import ValidationFailed
from marketops.plan import initiatives as plan
from marketops.plan.initiative_summary import (
    COMMUNICATION_COLUMNS,
    LIST_COLUMNS,
    STAKEHOLDER_COLUMNS,
    communication_rows,
    describe,
    list_rows,
    stakeholder_rows,
)
from marketops.plan.stories import StoryFormatError, parse_story

router = APIRouter()
router.include_router(initiatives_pages.router)

DATE_HELP = "YYYY-MM-DD, or null for none."
TAGS: list[str | Enum] = ["initiatives"]


class StoryIn(BaseModel):
    story: str = Field(description="A user story, e.g. 'As a sales rep, I want faster lead routing, so that I "
                                   "call leads sooner' (English, Italian, Spanish or Russian).")


class Stakeholder(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown fields get the domain's message, not pydantic's
    name: Any = Field("", description="Who they are, e.g. 'Ana Rossi'.")
    role: Any = Field("", description="Their role, e.g. 'Head of Sales'.")
    email: Any = Field("", description="Their email (optional).")


class Communication(BaseModel):
    model_config = ConfigDict(extra="allow")
    audience: Any = Field("", description="Who is told, e.g. 'Sales team'.")
    message: Any = Field("", description="What they are told, e.g. 'progress against the goals'.")
    channel: Any = Field("", description="email, slack, teams, meeting, report, dashboard, newsletter, intranet, "
                                         "call or presentation.")
    frequency: Any = Field("", description="daily, weekly, every two weeks, monthly, quarterly, at milestones "
                                           "or once.")


class InitiativeChange(BaseModel):
    """Fields to change; lists replace the whole list."""

    model_config = ConfigDict(extra="forbid")
    story: str | None = Field(None, description="A new story (parsed again).")
    title: str | None = Field(None, description="Empty: the story's want.")
    owner: str | None = None
    status: str | None = Field(None, description="proposed, planned, active, done or cancelled.")
    start_date: str | None = Field(None, description=DATE_HELP)
    end_date: str | None = Field(None, description=DATE_HELP)
    stakeholders: list[Any] | None = Field(None, description="[{name, role, email}]")
    communication_plan: list[Any] | None = Field(None, description="[{audience, message, channel, frequency}]")
    goal_ids: list[Any] | None = Field(None, description="Ids of the goals the initiative serves.")


class InitiativeIn(InitiativeChange):
    story: str = Field(description=StoryIn.model_fields["story"].description)  # type: ignore[assignment]
    status: str = Field("proposed", description="proposed, planned, active, done or cancelled.")


class GoalLink(BaseModel):
    goal_id: Any = Field(description="The goal's id.")


@contextmanager
def refused() -> Iterator[None]:
    """A refused change answers 400 with the domain's message (the session is rolled back when closed)."""
    try:
        yield
    except ValidationFailed as e:
        raise HTTPException(400, e.message) from None


def _one(db: Session, initiative_id: int, today: date | None = None) -> dict[str, Any]:
    return describe(db, [plan.get_initiative(db, initiative_id)], today, detail=True)[0]


def _done(db: Session, initiative_id: int) -> dict[str, Any]:
    db.commit()
    return _one(db, initiative_id)


# -- stories ---------------------------------------------------------------------------------------
@router.post("/api/v1/stories/parse", tags=TAGS)
def parse_api(user: Reader, body: Annotated[StoryIn, Body()]) -> dict:
    """Parse a story without saving anything: ``{"ok": true, "persona", "want", "outcome", "language",
    "segments", "text"}``, or ``{"ok": false, "message", "language", "found", "missing", "expected"}``
    saying which part is missing (``language`` null: the story is in none of the four forms)."""
    try:
        story = parse_story(body.story)
    except StoryFormatError as e:
        return {"ok": False, "message": e.message, "language": e.language, "found": list(e.found),
                "missing": list(e.missing), "expected": e.expected}
    return {"ok": True, "persona": story.persona, "want": story.want, "outcome": story.outcome,
            "language": story.language, "text": story.text,
            "segments": [{"part": p, "text": t} for p, t in story.segments]}


# -- initiatives -----------------------------------------------------------------------------------
@router.get("/api/v1/initiatives", tags=TAGS, response_model=None)
def list_api(db: DB, user: Reader,
             status: Annotated[str | None, Query(description="proposed, planned, active, done or cancelled.")] = None,
             owner: Annotated[str | None, Query(max_length=320, description="Part of the owner.")] = None,
             limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> dict | Response:
    """Initiatives (active first) with their goals' status and task progress; ``?format=csv|xlsx``
    downloads every matching one."""
    with refused():
        items = plan.list_initiatives(db, status=status or None, owner=owner)
    if format != "json":
        return file_of(list_rows(describe(db, items)), LIST_COLUMNS, "initiatives", format)
    page = items[offset:offset + limit]
    return page_json(describe(db, page), len(items), limit, offset)


@router.post("/api/v1/initiatives", tags=TAGS, status_code=201)
def create_api(request: Request, db: DB, user: Editor, body: Annotated[InitiativeIn, Body()]) -> dict:
    """Create an initiative from a story; everything else is optional."""
    with refused():
        initiative = plan.create_initiative(
            db, body.story, actor=user.email, title=body.title, owner=body.owner or "", status=body.status,
            start_date=body.start_date, end_date=body.end_date, stakeholders=body.stakeholders or [],
            communication_plan=body.communication_plan or [], goal_ids=body.goal_ids or [], ip=client_ip(request))
    return _done(db, initiative.id)


@router.get("/api/v1/initiatives/{initiative_id}", tags=TAGS)
def show_api(db: DB, user: Reader, initiative_id: int) -> dict:
    """One initiative, its story cut into ``segments`` (persona, want, outcome) for highlighting."""
    return _one(db, initiative_id)


@router.patch("/api/v1/initiatives/{initiative_id}", tags=TAGS)
def change_api(request: Request, db: DB, user: Editor, initiative_id: int,
               body: Annotated[InitiativeChange, Body()]) -> dict:
    """Change the fields given (``null`` clears a date or the owner); the rest stay."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("story", "status", "stakeholders", "communication_plan", "goal_ids"):
        if name in changes and changes[name] is None:
            raise HTTPException(400, f"{name} cannot be null")
    with refused():
        plan.update_initiative(db, initiative_id, changes, actor=user.email, ip=client_ip(request))
    return _done(db, initiative_id)


@router.delete("/api/v1/initiatives/{initiative_id}", tags=TAGS)
def delete_api(request: Request, db: DB, user: Editor, initiative_id: int) -> dict:
    """Delete an initiative and its tasks."""
    plan.delete_initiative(db, initiative_id, actor=user.email, ip=client_ip(request))
    db.commit()
    return {"deleted": initiative_id}


# -- stakeholders, communication plan, goals -------------------------------------------------------
@router.get("/api/v1/initiatives/{initiative_id}/stakeholders", tags=TAGS, response_model=None)
def stakeholders_api(db: DB, user: Reader, initiative_id: int, format: Format = "json") -> dict | Response:
    """The initiative's stakeholders; ``?format=csv|xlsx`` downloads them."""
    initiative = plan.get_initiative(db, initiative_id)
    if format != "json":
        return file_of(stakeholder_rows([initiative]), STAKEHOLDER_COLUMNS, f"initiative_{initiative_id}_stakeholders",
                       format)
    items = list(initiative.stakeholders)
    return page_json(items, len(items), len(items), 0)


@router.post("/api/v1/initiatives/{initiative_id}/stakeholders", tags=TAGS, status_code=201)
def stakeholder_add_api(request: Request, db: DB, user: Editor, initiative_id: int,
                        body: Annotated[Stakeholder, Body()]) -> dict:
    """Add a stakeholder ``{name, role, email}``."""
    with refused():
        plan.add_stakeholder(db, initiative_id, body.model_dump(), actor=user.email, ip=client_ip(request))
    return _done(db, initiative_id)


@router.delete("/api/v1/initiatives/{initiative_id}/stakeholders/{index}", tags=TAGS)
def stakeholder_remove_api(request: Request, db: DB, user: Editor, initiative_id: int, index: int,
                           name: Annotated[str | None, Query(description="Their name, to make sure the list did not "
                                                                         "change meanwhile.")] = None) -> dict:
    """Remove the stakeholder at ``index`` (0-based, the order of the list)."""
    with refused():
        plan.remove_stakeholder(db, initiative_id, index, actor=user.email, ip=client_ip(request), expected=name)
    return _done(db, initiative_id)


@router.get("/api/v1/initiatives/{initiative_id}/communication-plan", tags=TAGS, response_model=None)
def comms_api(db: DB, user: Reader, initiative_id: int, format: Format = "json") -> dict | Response:
    """Who is told what, how and how often; ``?format=csv|xlsx`` downloads it."""
    initiative = plan.get_initiative(db, initiative_id)
    if format != "json":
        return file_of(communication_rows([initiative]), COMMUNICATION_COLUMNS,
                       f"initiative_{initiative_id}_communication_plan", format)
    items = list(initiative.communication_plan)
    return page_json(items, len(items), len(items), 0)


@router.post("/api/v1/initiatives/{initiative_id}/communication-plan", tags=TAGS, status_code=201)
def comms_add_api(request: Request, db: DB, user: Editor, initiative_id: int,
                  body: Annotated[Communication, Body()]) -> dict:
    """Add an entry ``{audience, message, channel, frequency}`` to the communication plan."""
    with refused():
        plan.add_communication(db, initiative_id, body.model_dump(), actor=user.email, ip=client_ip(request))
    return _done(db, initiative_id)


@router.delete("/api/v1/initiatives/{initiative_id}/communication-plan/{index}", tags=TAGS)
def comms_remove_api(request: Request, db: DB, user: Editor, initiative_id: int, index: int,
                     audience: Annotated[str | None, Query(description="Its audience, to make sure the plan did "
                                                                       "not change meanwhile.")] = None) -> dict:
    """Remove the communication-plan entry at ``index`` (0-based)."""
    with refused():
        plan.remove_communication(db, initiative_id, index, actor=user.email, ip=client_ip(request), expected=audience)
    return _done(db, initiative_id)


@router.get("/api/v1/stakeholders", tags=TAGS, response_model=None)
def all_stakeholders_api(db: DB, user: Reader, status: str | None = None, owner: str | None = None,
                         format: Format = "json") -> dict | Response:
    """Every initiative's stakeholders (the list page's filters apply); ``?format=csv|xlsx``."""
    with refused():
        rows = stakeholder_rows(plan.list_initiatives(db, status=status or None, owner=owner))
    if format != "json":
        return file_of(rows, STAKEHOLDER_COLUMNS, "stakeholders", format)
    return page_json(rows, len(rows), len(rows), 0)


@router.get("/api/v1/communication-plan", tags=TAGS, response_model=None)
def all_comms_api(db: DB, user: Reader, status: str | None = None, owner: str | None = None,
                  format: Format = "json") -> dict | Response:
    """Every initiative's communication plan (the list page's filters apply); ``?format=csv|xlsx``."""
    with refused():
        rows = communication_rows(plan.list_initiatives(db, status=status or None, owner=owner))
    if format != "json":
        return file_of(rows, COMMUNICATION_COLUMNS, "communication_plan", format)
    return page_json(rows, len(rows), len(rows), 0)


@router.post("/api/v1/initiatives/{initiative_id}/goals", tags=TAGS, status_code=201)
def goal_link_api(request: Request, db: DB, user: Editor, initiative_id: int,
                  body: Annotated[GoalLink, Body()]) -> dict:
    """Link a goal the initiative serves."""
    with refused():
        plan.link_goal(db, initiative_id, body.goal_id, actor=user.email, ip=client_ip(request))
    return _done(db, initiative_id)


@router.delete("/api/v1/initiatives/{initiative_id}/goals/{goal_id}", tags=TAGS)
def goal_unlink_api(request: Request, db: DB, user: Editor, initiative_id: int, goal_id: int) -> dict:
    """Unlink a goal."""
    with refused():
        plan.unlink_goal(db, initiative_id, goal_id, actor=user.email, ip=client_ip(request))
    return _done(db, initiative_id)
