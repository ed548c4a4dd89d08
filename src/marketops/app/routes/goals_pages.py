"""The goal pages: ``/goals`` (the tree with progress, filters and a create form that shows the SMART
check) and ``/goals/{id}`` (progress chart, SMART check, measurements, sub-goals; edit, measure and
delete for editors). Forms post with a CSRF field and come back with a flash message; every change
is also in the JSON API (:mod:`marketops.app.routes.goals`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.app.deps import DB, CurrentUser, Editor, client_ip, form_csrf, read_workspace
from marketops.app.goals_charts import progress_chart
from marketops.app.render import N_, render
from marketops.app.routes.metrics import gettext
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MarketopsError
from marketops.metrics import GRAINS, load_catalog
from marketops.plan.goals import (
    GoalDraft,
    GoalRejected,
    check_goal,
    create_goal,
    delete_goal,
    get_goal,
    goal_tree,
    history,
    initiative_ids,
    parse_filters,
    saved_checks,
    update_goal,
)
from marketops.plan.progress import latest_progress, measure_now
from marketops.state.models import User
from marketops.state.planning import GOAL_LEVELS, GOAL_STATUSES, Goal, Initiative

router = APIRouter()
CSRF = [Depends(form_csrf)]

STATUS_LABELS = {"on_track": N_("On track"), "at_risk": N_("At risk"), "off_track": N_("Off track"),
                 "achieved": N_("Achieved"), "missed": N_("Missed"), "no_data": N_("No data")}
LEVEL_LABELS = {"company": N_("Company"), "team": N_("Team"), "person": N_("Person")}
MEASURE_LABELS = {"period": N_("Value per period"), "cumulative": N_("Total since the start")}
GRAIN_LABELS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month"), "quarter": N_("Quarter")}
EMPTY_FORM = {"title": "", "metric": "", "target": "", "change": "", "deadline": "", "start_date": "", "baseline": "",
              "filters": "", "grain": "month", "measure": "period", "owner": "", "level": "company", "team": "",
              "parent_id": "", "initiative_ids": [], "description": ""}


def can_edit(user: User | None) -> bool:
    return user is not None and user.role in ("admin", "editor")


class FormProblem(MarketopsError):
    """A form field that cannot be read (a number or a date written wrongly)."""


def _number(text: str, field: str) -> float | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FormProblem(f"{field}: '{text}' is not a number") from None


def _date(text: str, field: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FormProblem(f"{field}: '{text}' is not a date (YYYY-MM-DD)") from None


def _int(text: str, field: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise FormProblem(f"{field}: '{text}' is not an id")
    return int(text)


def draft_from_form(form: dict[str, Any]) -> GoalDraft:
    """The draft a goal form asks for; FormProblem (a plain message) for a field written wrongly."""
    scope = [part for line in (form.get("filters") or "").replace(";", ",").splitlines()
             for part in line.split(",") if part.strip()]
    return GoalDraft(
        title=(form.get("title") or "").strip(), metric=(form.get("metric") or "").strip(),
        target=None if (form.get("change") or "").strip() else _number(form.get("target", ""), "target"),
        change=(form.get("change") or "").strip() or None, deadline=_date(form.get("deadline", ""), "deadline"),
        filters=parse_filters(scope), grain=form.get("grain") or "month", measure=form.get("measure") or "period",
        baseline=_number(form.get("baseline", ""), "baseline"),
        start_date=_date(form.get("start_date", ""), "start date"), owner=(form.get("owner") or "").strip(),
        level=form.get("level") or "company", team=(form.get("team") or "").strip() or None,
        parent_id=_int(form.get("parent_id", ""), "parent goal"),
        initiative_ids=[i for i in (_int(v, "initiative") for v in form.get("initiative_ids") or []) if i is not None],
        description=(form.get("description") or "").strip())


def form_of(goal: Goal, db: Session) -> dict[str, Any]:
    """The edit form's values for a saved goal."""
    return {"title": goal.title, "metric": goal.metric, "target": _plain(goal.target), "change": "",
            "deadline": goal.deadline.isoformat() if goal.deadline else "",
            "start_date": goal.start_date.isoformat() if goal.start_date else "",
            "baseline": _plain(goal.baseline), "filters": ", ".join(f"{k}={v}" for k, v in (goal.filters or {}).items()),
            "grain": goal.grain, "measure": goal.measure, "owner": goal.owner, "level": goal.level,
            "team": goal.team or "", "parent_id": str(goal.parent_id or ""),
            "initiative_ids": [str(i) for i in initiative_ids(db, goal.id)], "description": goal.description}


def _plain(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(round(v, 6))


async def read_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {k: str(form.get(k) or "") for k in EMPTY_FORM if k != "initiative_ids"}
    out["initiative_ids"] = [str(v) for v in form.getlist("initiative_ids")]
    return out


def _choices(request: Request, db: Session) -> dict[str, Any]:
    """What the goal forms offer: metrics, parent goals, initiatives, levels, grains, measures."""
    try:
        catalog = load_catalog(request.app.state.workspace_root / "marketops.yaml")
        metrics = {m.name: f"{m.label} ({m.name})" for m in sorted(catalog.values(), key=lambda m: m.label.lower())}
    except MarketopsError:
        metrics = {}
    return {"metrics": metrics,
            "parents": list(db.scalars(select(Goal).order_by(Goal.title))),
            "initiatives": list(db.scalars(select(Initiative).order_by(Initiative.title))),
            "levels": LEVEL_LABELS, "grains": {g: GRAIN_LABELS[g] for g in GRAINS}, "measures": MEASURE_LABELS,
            "status_labels": STATUS_LABELS}


def _list_page(request: Request, db: Session, *, status: str = "", owner: str = "", level: str = "",
               form: dict | None = None, checks: list | None = None, check_result: dict | None = None,
               error: str | None = None, status_code: int = 200) -> Response:
    rows = goal_tree(db, status=status or None, owner=owner or None, level=level or None)
    everything = goal_tree(db)
    counts = {s: sum(1 for r in everything if r.status == s) for s in GOAL_STATUSES}
    query = "&".join(f"{k}={v}" for k, v in (("status", status), ("owner", owner), ("level", level)) if v)
    return render(request, "goals.html", {
        "rows": rows, "total": len(everything), "counts": counts,
        "filters": {"status": status, "owner": owner, "level": level}, "query": query,
        "form": form or dict(EMPTY_FORM), "checks": checks, "check_result": check_result, "error": error,
        "flash": pop_flash(request), "editor": can_edit(getattr(request.state, "user", None)),
        "statuses": STATUS_LABELS, **_choices(request, db)}, status_code=status_code)


@router.get("/goals")
def goals_page(request: Request, db: DB, user: CurrentUser, status: str = "", owner: str = "",
               level: str = "") -> Response:
    status = status if status in GOAL_STATUSES else ""
    level = level if level in GOAL_LEVELS else ""
    return _list_page(request, db, status=status, owner=owner[:320], level=level)


@router.post("/goals", dependencies=CSRF)
async def goals_create(request: Request, db: DB, user: Editor) -> Response:
    """Create a goal from the form; with ``action=check`` only show the SMART check."""
    form = await read_form(request)
    action = str((await request.form()).get("action") or "create")
    try:
        draft = draft_from_form(form)
        with read_workspace(request) as ws:
            if action == "check":
                result = check_goal(db, ws, draft)
                db.rollback()
                return _list_page(request, db, form=form, checks=[c.to_json() for c in result.checks],
                                  check_result=result.to_json())
            goal, result = create_goal(db, ws, draft, actor=user.email, ip=client_ip(request))
        db.commit()
    except GoalRejected as e:
        db.rollback()
        return _list_page(request, db, form=form, checks=[c.to_json() for c in e.checks],
                          error=N_("The goal was not saved: fix the SMART errors below."), status_code=400)
    except MarketopsError as e:
        db.rollback()
        return _list_page(request, db, form=form, error=e.message, status_code=400)
    warnings = sum(1 for c in result.checks if not c.ok)
    flash(request, N_("Goal created.") if not warnings else N_("Goal created, with SMART warnings: see below."),
          kind="ok" if not warnings else "warn")
    return RedirectResponse(f"/goals/{goal.id}", status_code=303)


def _goal_page(request: Request, db: Session, goal: Goal, *, form: dict | None = None, checks: list | None = None,
               error: str | None = None, status_code: int = 200) -> Response:
    latest = latest_progress(db, [goal.id]).get(goal.id)
    t = gettext(request)
    figure = None
    if latest is not None and (latest.detail or {}).get("series"):
        figure = progress_chart(latest.detail, baseline=goal.baseline if goal.measure == "period" else None,
                                target=goal.target, labels={"actual": t("Actual"), "forecast": t("Forecast"),
                                                            "baseline": t("Baseline"), "target": t("Target")},
                                y_title=(latest.detail or {}).get("label"))
    children = goal_tree_children(db, goal)
    linked = [db.get(Initiative, i) for i in initiative_ids(db, goal.id)]
    return render(request, "goal.html", {
        "goal": goal, "latest": latest, "figure": figure, "charts": figure is not None,
        "smart": checks if checks is not None else saved_checks(db, goal.id), "history": history(db, goal.id, 50),
        "children": children, "initiatives_linked": [i for i in linked if i is not None],
        "form": form or form_of(goal, db), "error": error, "flash": pop_flash(request),
        "editor": can_edit(getattr(request.state, "user", None)), "statuses": STATUS_LABELS,
        **_choices(request, db)}, status_code=status_code)


def goal_tree_children(db: Session, goal: Goal) -> list[tuple[Goal, Any]]:
    latest = latest_progress(db, [c.id for c in goal.children])
    return [(c, latest.get(c.id)) for c in sorted(goal.children, key=lambda c: c.id)]


@router.get("/goals/{goal_id}")
def goal_page(request: Request, db: DB, user: CurrentUser, goal_id: int) -> Response:
    return _goal_page(request, db, get_goal(db, goal_id))


@router.post("/goals/{goal_id}", dependencies=CSRF)
async def goal_edit(request: Request, db: DB, user: Editor, goal_id: int) -> Response:
    goal = get_goal(db, goal_id)
    form = await read_form(request)
    try:
        draft = draft_from_form(form)
        changes = {k: getattr(draft, k) for k in ("title", "metric", "deadline", "filters", "grain", "measure",
                                                   "start_date", "owner", "level", "team", "parent_id",
                                                   "initiative_ids", "description")}
        if draft.change:
            changes["change"] = draft.change
        else:
            changes["target"] = draft.target
        if draft.baseline != goal.baseline:
            changes["baseline"] = draft.baseline
        if changes.get("start_date") is None:
            changes["start_date"] = goal.start_date
        with read_workspace(request) as ws:
            update_goal(db, ws, goal, changes, actor=user.email, ip=client_ip(request))
        db.commit()
    except GoalRejected as e:
        db.rollback()
        db.refresh(goal)
        return _goal_page(request, db, goal, form=form, checks=[c.to_json() for c in e.checks],
                          error=N_("Nothing was changed: fix the SMART errors below."), status_code=400)
    except MarketopsError as e:
        db.rollback()
        db.refresh(goal)
        return _goal_page(request, db, goal, form=form, error=e.message, status_code=400)
    flash(request, N_("Goal saved."))
    return RedirectResponse(f"/goals/{goal_id}", status_code=303)


@router.post("/goals/{goal_id}/measure", dependencies=CSRF)
def goal_measure(request: Request, db: DB, user: Editor, goal_id: int) -> Response:
    goal = get_goal(db, goal_id)
    with read_workspace(request) as ws:
        row = measure_now(db, ws, goal, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Measured again: %(status)s."), status=STATUS_LABELS[row.status])
    return RedirectResponse(f"/goals/{goal_id}", status_code=303)


@router.post("/goals/{goal_id}/delete", dependencies=CSRF)
def goal_delete(request: Request, db: DB, user: Editor, goal_id: int) -> Response:
    goal = get_goal(db, goal_id)
    title = goal.title
    delete_goal(db, goal, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Deleted the goal %(title)s."), title=title)
    return RedirectResponse("/goals", status_code=303)

