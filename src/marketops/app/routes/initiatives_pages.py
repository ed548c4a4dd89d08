"""``/initiatives`` (the list, its filters and the "new initiative from a story" form) and
``/initiatives/{id}`` (the story with its parts highlighted, stakeholders, communication plan,
linked goals, task summary and history; edit forms for editors).

Forms post with the CSRF field and redirect back with a notice; a refused change draws the page
again with the message (400) and what was typed. The same changes are in the API
(:mod:`marketops.app.routes.initiatives`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.app.deps import DB, Editor, Reader, client_ip, form_csrf
from marketops.app.render import N_, render
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import NotFound, ValidationFailed
from marketops.plan import initiatives as plan
from marketops.plan.initiative_fields import CHANNELS, FREQUENCIES
from marketops.plan.initiative_summary import describe, goal_statuses, story_segments, task_summaries
from marketops.plan.stories import FORMS, StoryFormatError, parse_story
from marketops.state.models import AuditEvent
from marketops.state.planning import TASK_STATUSES

router = APIRouter()
CSRF = [Depends(form_csrf)]

#: Status names as the pages show them (translated in the templates).
STATUS_LABELS = {"proposed": N_("proposed"), "planned": N_("planned"), "active": N_("ongoing"), "done": N_("done"),
                 "cancelled": N_("cancelled")}
TASK_LABELS = {"todo": N_("to do"), "in_progress": N_("in progress"), "blocked": N_("blocked"), "done": N_("done")}
GOAL_LABELS = {"on_track": N_("on track"), "at_risk": N_("at risk"), "off_track": N_("off track"),
               "achieved": N_("achieved"), "missed": N_("missed"), "no_data": N_("no data")}
# Marked here so that the catalogs carry them; the templates translate the stored values.
FREQUENCY_LABELS = dict(zip(FREQUENCIES, (N_("daily"), N_("weekly"), N_("every two weeks"), N_("monthly"),
                                          N_("quarterly"), N_("at milestones"), N_("once")), strict=True))
CHANNEL_LABELS = dict(zip(CHANNELS, (N_("email"), N_("Slack"), N_("Teams"), N_("meeting"), N_("report"),
                                     N_("dashboard"), N_("newsletter"), N_("intranet"), N_("call"),
                                     N_("presentation")), strict=True))
NEW_FORM = {"story": "", "title": "", "owner": "", "status": "proposed", "start_date": "", "end_date": ""}


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


def _check(story: str) -> dict[str, Any]:
    """What the "new initiative" form shows under the story: its parts, or why it does not parse."""
    try:
        parsed = parse_story(story)
    except StoryFormatError as e:
        return {"ok": False, "message": e.message, "expected": e.expected}
    return {"ok": True, "language": parsed.language, "parts": parsed.parts,
            "segments": [{"part": p, "text": t} for p, t in parsed.segments]}


def _list_page(request: Request, db: Session, *, status: str = "", owner: str = "", form: dict | None = None,
               check: dict | None = None, error: str | None = None, status_code: int = 200) -> Response:
    filter_error = None
    try:
        items = plan.list_initiatives(db, status=status or None, owner=owner or None)
    except ValidationFailed as e:
        items, filter_error = plan.list_initiatives(db, owner=owner or None), e.message
    query = urlencode({k: v for k, v in {"status": status, "owner": owner}.items() if v})
    return render(request, "initiatives.html", {
        "initiatives": describe(db, items), "status": status, "owner": owner, "owners": plan.owners(db),
        "statuses": STATUS_LABELS, "task_labels": TASK_LABELS, "goal_labels": GOAL_LABELS, "query": query,
        "form": form or dict(NEW_FORM), "check": check, "error": error or filter_error, "forms": FORMS.values(),
        "flash": pop_flash(request), "any": bool(items) or bool(status or owner), "day": _day}, status_code=status_code)


@router.get("/initiatives")
def initiatives_page(request: Request, db: DB, user: Reader,
                     status: Annotated[str, Query(max_length=32)] = "",
                     owner: Annotated[str, Query(max_length=320)] = "") -> Response:
    return _list_page(request, db, status=status, owner=owner)


@router.post("/initiatives", dependencies=CSRF)
def initiatives_create(request: Request, db: DB, user: Editor, story: Annotated[str, Form()] = "",
                       title: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
                       status: Annotated[str, Form()] = "proposed", start_date: Annotated[str, Form()] = "",
                       end_date: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "create") -> Response:
    """Create from the form, or (``action=check``) only show how the story parses."""
    form = {"story": story, "title": title, "owner": owner, "status": status, "start_date": start_date,
            "end_date": end_date}
    check = _check(story)
    if action == "check":
        return _list_page(request, db, form=form, check=check)
    try:
        initiative = plan.create_initiative(db, story, actor=user.email, title=title, owner=owner, status=status,
                                            start_date=start_date, end_date=end_date, ip=client_ip(request))
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        return _list_page(request, db, form=form, check=check if not check["ok"] else None, error=e.message,
                          status_code=400)
    flash(request, N_("Created the initiative “%(title)s”."), title=initiative.title)
    return RedirectResponse(f"/initiatives/{initiative.id}", status_code=303)


# -- one initiative --------------------------------------------------------------------------------
def _history(db: Session, initiative_id: int, limit: int = 20) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.target == plan.target(initiative_id))
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def _detail_page(request: Request, db: Session, initiative_id: int, *, error: str | None = None,
                 forms: dict[str, dict] | None = None, status_code: int = 200) -> Response:
    initiative = plan.get_initiative(db, initiative_id)
    tasks = task_summaries(db, [initiative.id])[initiative.id]
    progress = goal_statuses(db, [g.id for g in initiative.goals])
    linked = {g.id for g in initiative.goals}
    forms = forms or {}
    edit = forms.get("edit") or {
        "title": initiative.title, "story": initiative.story, "owner": initiative.owner, "status": initiative.status,
        "start_date": initiative.start_date.isoformat() if initiative.start_date else "",
        "end_date": initiative.end_date.isoformat() if initiative.end_date else ""}
    return render(request, "initiative.html", {
        "i": initiative, "segments": story_segments(initiative), "tasks": tasks, "progress": progress,
        "goal_choices": [g for g in plan.search_goals(db) if g.id not in linked],
        "statuses": STATUS_LABELS, "task_labels": TASK_LABELS, "task_statuses": TASK_STATUSES,
        "goal_labels": GOAL_LABELS, "channels": CHANNEL_LABELS, "frequencies": FREQUENCY_LABELS,
        "history": _history(db, initiative.id), "error": error, "edit": edit,
        "stakeholder_form": forms.get("stakeholder") or {"name": "", "role": "", "email": ""},
        "comms_form": forms.get("comms") or {"audience": "", "message": "", "channel": "email",
                                             "frequency": "weekly"},
        "open_form": next(iter(forms), None), "flash": pop_flash(request)}, status_code=status_code)


@router.get("/initiatives/{initiative_id}")
def initiative_page(request: Request, db: DB, user: Reader, initiative_id: int) -> Response:
    return _detail_page(request, db, initiative_id)


def _change(request: Request, db: Session, initiative_id: int, change: Callable[[], Any], done: str,
            form_name: str, form: dict, **args: Any) -> Response:
    """Apply ``change``; on success back to the page with ``done``, else the page with the message."""
    try:
        change()
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        return _detail_page(request, db, initiative_id, error=e.message, forms={form_name: form}, status_code=400)
    except NotFound as e:
        db.rollback()
        plan.get_initiative(db, initiative_id)  # the initiative itself is gone: 404
        return _detail_page(request, db, initiative_id, error=e.message, status_code=409)
    flash(request, done, **args)
    return RedirectResponse(f"/initiatives/{initiative_id}", status_code=303)


@router.post("/initiatives/{initiative_id}/edit", dependencies=CSRF)
def initiative_edit(request: Request, db: DB, user: Editor, initiative_id: int, story: Annotated[str, Form()] = "",
                    title: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
                    status: Annotated[str, Form()] = "", start_date: Annotated[str, Form()] = "",
                    end_date: Annotated[str, Form()] = "") -> Response:
    form = {"story": story, "title": title, "owner": owner, "status": status, "start_date": start_date,
            "end_date": end_date}
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.update_initiative(
        db, initiative_id, form, actor=user.email, ip=client_ip(request)), N_("Saved."), "edit", form)


@router.post("/initiatives/{initiative_id}/status", dependencies=CSRF)
def initiative_status(request: Request, db: DB, user: Editor, initiative_id: int,
                      status: Annotated[str, Form()] = "") -> Response:
    """The header's quick status change."""
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.update_initiative(
        db, initiative_id, {"status": status}, actor=user.email, ip=client_ip(request)),
        N_("The status is now %(status)s."), "status", {}, status=STATUS_LABELS.get(status, status))


@router.post("/initiatives/{initiative_id}/stakeholders", dependencies=CSRF)
def stakeholder_add(request: Request, db: DB, user: Editor, initiative_id: int, name: Annotated[str, Form()] = "",
                    role: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "role": role, "email": email}
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.add_stakeholder(
        db, initiative_id, form, actor=user.email, ip=client_ip(request)),
        N_("Added %(name)s to the stakeholders."), "stakeholder", form, name=name.strip())


@router.post("/initiatives/{initiative_id}/stakeholders/{index}/remove", dependencies=CSRF)
def stakeholder_remove(request: Request, db: DB, user: Editor, initiative_id: int, index: int,
                       name: Annotated[str, Form()] = "") -> Response:
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.remove_stakeholder(
        db, initiative_id, index, actor=user.email, ip=client_ip(request), expected=name),
        N_("Removed %(name)s from the stakeholders."), "stakeholders", {}, name=name)


@router.post("/initiatives/{initiative_id}/comms", dependencies=CSRF)
def comms_add(request: Request, db: DB, user: Editor, initiative_id: int, audience: Annotated[str, Form()] = "",
              message: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "",
              frequency: Annotated[str, Form()] = "") -> Response:
    form = {"audience": audience, "message": message, "channel": channel, "frequency": frequency}
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.add_communication(
        db, initiative_id, form, actor=user.email, ip=client_ip(request)),
        N_("Added to the communication plan."), "comms", form)


@router.post("/initiatives/{initiative_id}/comms/{index}/remove", dependencies=CSRF)
def comms_remove(request: Request, db: DB, user: Editor, initiative_id: int, index: int,
                 audience: Annotated[str, Form()] = "") -> Response:
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.remove_communication(
        db, initiative_id, index, actor=user.email, ip=client_ip(request), expected=audience),
        N_("Removed from the communication plan."), "comms_list", {})


@router.post("/initiatives/{initiative_id}/goals", dependencies=CSRF)
def goal_link(request: Request, db: DB, user: Editor, initiative_id: int,
              goal_id: Annotated[str, Form()] = "") -> Response:
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.link_goal(
        db, initiative_id, goal_id, actor=user.email, ip=client_ip(request)), N_("Goal linked."), "goal", {})


@router.post("/initiatives/{initiative_id}/goals/{goal_id}/remove", dependencies=CSRF)
def goal_unlink(request: Request, db: DB, user: Editor, initiative_id: int, goal_id: int) -> Response:
    plan.get_initiative(db, initiative_id)
    return _change(request, db, initiative_id, lambda: plan.unlink_goal(
        db, initiative_id, goal_id, actor=user.email, ip=client_ip(request)), N_("Goal unlinked."), "goals", {})


@router.post("/initiatives/{initiative_id}/delete", dependencies=CSRF)
def initiative_delete(request: Request, db: DB, user: Editor, initiative_id: int) -> Response:
    initiative = plan.get_initiative(db, initiative_id)
    title = initiative.title
    plan.delete_initiative(db, initiative_id, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Deleted the initiative “%(title)s” and its tasks."), title=title)
    return RedirectResponse("/initiatives", status_code=303)

