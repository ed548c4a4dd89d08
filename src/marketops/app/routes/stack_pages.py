"""The stack pages: ``/stack`` (the registry with filters and, for editors, the add form with the
catalogue as a picklist), ``/stack/{id}`` (one tool: cost, users, goals, integrations, data freshness;
edit and remove), ``/stack/map`` (the integration map), ``/stack/audit`` (the audit, its downloads and
the printable report) and ``/stack/evaluate`` (the four-question form and saved evaluations).
Forms post with a CSRF field and come back with a flash message; the same changes are in the API
(:mod:`marketops.app.routes.stack`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.app.deps import DB, CurrentUser, Editor, client_ip, form_csrf
from marketops.app.render import N_, render
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MarketopsError
from marketops.stack.audit import RENEWAL_WINDOW
from marketops.stack.catalogue import SYSTEMS, categories, entries
from marketops.stack.evaluation import LABELS, QUESTIONS, evaluate, evaluation_json, list_evaluations
from marketops.stack.freshness import tool_freshness
from marketops.stack.registry import (
    ToolDraft,
    create_tool,
    draft_of,
    get_integration,
    get_tool,
    integration_json,
    link,
    list_tools,
    remove_tool,
    tool_json,
    unlink,
    update_tool,
)
from marketops.state.models import User
from marketops.state.planning import Goal
from marketops.state.stack import FREQUENCIES, METHODS, StackTool

router = APIRouter()
CSRF = [Depends(form_csrf)]

FRESHNESS_LABELS = {"fresh": N_("Fresh"), "stale": N_("Stale"), "no_data": N_("No data yet"),
                    "not_linked": N_("Not linked")}
FRESHNESS_BADGES = {"fresh": "badge-ok", "stale": "badge-failed", "no_data": "badge-partial", "not_linked": ""}
ANSWER_LABELS = {"yes": N_("Yes"), "partly": N_("Partly"), "no": N_("No")}
PERIOD_LABELS = {"month": N_("per month"), "year": N_("per year")}
# The evaluation's questions and verdicts are English data of marketops.stack.evaluation; marked here so the
# catalogs carry them (the template translates them where it shows them). A test keeps the two in step.
EVALUATION_TEXT = (N_("Does it serve our goals?"), N_("Does it improve the buyer's journey?"),
                   N_("Do we have the budget?"), N_("Do we have the time to use it well?"),
                   N_("Buy"), N_("Pilot first"), N_("Not now"), N_("Do not buy"))
FORM_FIELDS = ("catalogue", "name", "vendor", "category", "owner", "cost", "cost_period", "currency", "renewal_date",
               "seats", "active_users", "contract_notes", "goals", "stale_days")
EMPTY_FORM = {**{k: "" for k in FORM_FIELDS}, "cost_period": "month", "currency": "EUR", "systems": []}


def can_edit(user: User | None) -> bool:
    return user is not None and user.role in ("admin", "editor")


def _facts(request: Request):
    from marketops.app.routes.stack import warehouse_facts

    return warehouse_facts(request)


async def read_tool_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in FORM_FIELDS}
    out["systems"] = [str(v) for v in form.getlist("systems")]
    return out


def draft_from_form(form: dict[str, Any]) -> ToolDraft:
    """The draft a tool form asks for (blank numbers are "not recorded")."""
    catalogue = form.get("catalogue") or None
    name = form.get("name") or (catalogue or "")
    return ToolDraft(name=name, catalogue=catalogue, vendor=form["vendor"], category=form["category"],
                     owner=form["owner"], cost=form["cost"], cost_period=form["cost_period"] or "month",
                     currency=form["currency"] or "EUR", renewal_date=form["renewal_date"] or None,
                     seats=form["seats"] or None, active_users=form["active_users"] or None,
                     contract_notes=form["contract_notes"],
                     goals=[g for g in form["goals"].replace(";", ",").split(",") if g.strip()],
                     systems=list(form["systems"]), stale_days=form["stale_days"] or None)


def form_of(tool: StackTool) -> dict[str, Any]:
    d = draft_of(tool)
    return {"catalogue": "", "name": d.name, "vendor": d.vendor, "category": d.category, "owner": d.owner,
            "cost": "" if d.cost is None else f"{d.cost:.2f}", "cost_period": d.cost_period, "currency": d.currency,
            "renewal_date": d.renewal_date.isoformat() if d.renewal_date else "",
            "seats": "" if d.seats is None else str(d.seats),
            "active_users": "" if d.active_users is None else str(d.active_users),
            "contract_notes": d.contract_notes, "goals": ", ".join(d.goals), "systems": list(d.systems),
            "stale_days": "" if d.stale_days is None else str(d.stale_days)}


def _choices() -> dict[str, Any]:
    return {"catalogue": [e.to_json() for e in entries()], "categories": list(categories()), "systems": SYSTEMS,
            "periods": PERIOD_LABELS, "freshness_labels": FRESHNESS_LABELS, "freshness_badges": FRESHNESS_BADGES}


# -- the registry -------------------------------------------------------------------------------------------

def _list_page(request: Request, db: Session, *, category: str = "", owner: str = "", q: str = "",
               form: dict | None = None, error: str | None = None, status_code: int = 200) -> Response:
    from marketops.app.routes.stack import stack_audit

    seen, _, busy = _facts(request)
    tools = list_tools(db, category=category or None, owner=owner or None, q=q or None)
    audit = stack_audit(request, db)
    lines = {t.id: t for t in audit.tools}
    rows = [{"tool": t, "line": lines.get(t.id), "fresh": tool_freshness(t.systems or (), t.stale_days, seen)}
            for t in tools]
    used = sorted({line.category for line in audit.tools if line.category})  # the audit has every tool
    query = "&".join(f"{k}={v}" for k, v in (("category", category), ("owner", owner), ("q", q)) if v)
    return render(request, "stack.html", {
        "rows": rows, "audit": audit, "busy": busy, "used_categories": used,
        "filters": {"category": category, "owner": owner, "q": q}, "query": query,
        "form": form or dict(EMPTY_FORM), "error": error, "flash": pop_flash(request),
        "editor": can_edit(getattr(request.state, "user", None)), **_choices()}, status_code=status_code)


@router.get("/stack")
def stack_page(request: Request, db: DB, user: CurrentUser, category: str = "", owner: str = "",
               q: str = "") -> Response:
    return _list_page(request, db, category=category[:100], owner=owner[:320], q=q[:200])


@router.post("/stack", dependencies=CSRF)
async def stack_create(request: Request, db: DB, user: Editor) -> Response:
    form = await read_tool_form(request)
    try:
        tool = create_tool(db, draft_from_form(form), actor=user.email, ip=client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        return _list_page(request, db, form=form, error=e.message, status_code=400)
    flash(request, N_("Added %(name)s to the stack."), name=tool.name)
    return RedirectResponse(f"/stack/{tool.id}", status_code=303)


# -- the map ----------------------------------------------------------------------------------------------

def _map_page(request: Request, db: Session, *, form: dict | None = None, error: str | None = None,
              status_code: int = 200) -> Response:
    from marketops.app.routes.stack import map_json
    from marketops.app.stack_charts import map_figure
    from marketops.stack.map import layout

    data = map_json(db)
    tools = list_tools(db)
    m = layout([(n["id"], n["name"], n["category"]) for n in data["nodes"]],
               [(e["from_id"], e["to_id"], e["object"], e["method"], e["frequency"]) for e in data["edges"]])
    return render(request, "stack_map.html", {
        "data": data, "figure": map_figure(m) if data["nodes"] else None, "charts": bool(data["nodes"]),
        "tools": tools, "methods": METHODS, "frequencies": FREQUENCIES, "colours": m.colours,
        "form": form or {"from_tool": "", "to_tool": "", "object": "", "method": "native", "frequency": "daily"},
        "error": error, "flash": pop_flash(request), "editor": can_edit(getattr(request.state, "user", None))},
        status_code=status_code)


@router.get("/stack/map")
def map_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return _map_page(request, db)


@router.post("/stack/map", dependencies=CSRF)
async def map_link(request: Request, db: DB, user: Editor) -> Response:
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip() for k in ("from_tool", "to_tool", "object", "method", "frequency")}
    try:
        flow = link(db, form["from_tool"], form["to_tool"], object=form["object"], method=form["method"] or "native",
                    frequency=form["frequency"] or "daily", actor=user.email, ip=client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        return _map_page(request, db, form=form, error=e.message, status_code=400)
    flash(request, N_("Linked %(source)s to %(target)s."), source=flow.source.name, target=flow.target.name)
    back = str(raw.get("back") or "/stack/map")
    return RedirectResponse(back if back.startswith("/stack") else "/stack/map", status_code=303)


@router.post("/stack/integrations/{integration_id}/delete", dependencies=CSRF)
async def unlink_page(request: Request, db: DB, user: Editor, integration_id: int) -> Response:
    flow = get_integration(db, integration_id)
    back = str((await request.form()).get("back") or "/stack/map")
    unlink(db, flow, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Removed the integration."))
    return RedirectResponse(back if back.startswith("/stack") else "/stack/map", status_code=303)


# -- the audit --------------------------------------------------------------------------------------------

@router.get("/stack/audit")
def audit_page(request: Request, db: DB, user: CurrentUser) -> Response:
    from marketops.app.charts import bar_chart
    from marketops.app.routes.stack import stack_audit

    audit = stack_audit(request, db)
    _, _, busy = _facts(request)
    cats = [c for c in reversed(audit.categories) if c.monthly]  # Plotly draws the first bar at the bottom
    figure = bar_chart([c.category for c in cats], {audit.reporting_currency: [c.monthly for c in cats]},
                       horizontal=True) if cats else None
    if figure is not None:  # room for category names on the left
        figure["layout"]["margin"] = {**figure["layout"].get("margin", {}), "l": 180}
    return render(request, "stack_audit.html", {
        "audit": audit, "busy": busy, "figure": figure, "charts": figure is not None, "window": RENEWAL_WINDOW})


# -- evaluations ------------------------------------------------------------------------------------------

EMPTY_EVALUATION = {"tool": "", "vendor": "", "category": "", **{k: "" for k in QUESTIONS},
                    **{f"note_{k}": "" for k in QUESTIONS}}


def _evaluate_page(request: Request, db: Session, *, form: dict | None = None, verdict: dict | None = None,
                   error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "stack_evaluate.html", {
        "form": form or dict(EMPTY_EVALUATION), "verdict": verdict, "error": error, "flash": pop_flash(request),
        "questions": QUESTIONS, "answers": ANSWER_LABELS, "labels": LABELS,
        "evaluations": [evaluation_json(e) for e in list_evaluations(db)], "categories": list(categories()),
        "editor": can_edit(getattr(request.state, "user", None))}, status_code=status_code)


@router.get("/stack/evaluate")
def evaluate_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return _evaluate_page(request, db)


@router.post("/stack/evaluate", dependencies=CSRF)
async def evaluate_post(request: Request, db: DB, user: CurrentUser) -> Response:
    """``action=check`` (anyone: nothing saved) or ``action=save`` (editors)."""
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip() for k in EMPTY_EVALUATION}
    save = str(raw.get("action") or "check") == "save"
    if save and not can_edit(user):
        from marketops.app.deps import Forbidden

        raise Forbidden(f"this needs the editor role; you are {user.role}")
    answers = {k: form[k] for k in QUESTIONS}
    notes = {k: form[f"note_{k}"] for k in QUESTIONS}
    try:
        verdict, row = evaluate(db, form["tool"], answers, vendor=form["vendor"], category=form["category"],
                                notes=notes, save=save, actor=user.email, ip=client_ip(request))
        if save:
            db.commit()
    except MarketopsError as e:
        db.rollback()
        return _evaluate_page(request, db, form=form, error=e.message, status_code=400)
    if save:
        flash(request, N_("Saved the evaluation of %(tool)s: %(label)s."), tool=row.tool, label=verdict.label)
        return RedirectResponse("/stack/evaluate", status_code=303)
    db.rollback()
    return _evaluate_page(request, db, form=form, verdict=verdict.to_json())


# -- one tool ------------------------------------------------------------------------------------------------

def linked_goals(db: Session, words: list[str]) -> list[dict[str, Any]]:
    """Each goal word with the plan goal it names (by id, '#id' or title), if any."""
    out = []
    for word in words:
        key = word.strip().lstrip("#")
        goal = db.get(Goal, int(key)) if key.isdigit() else db.scalar(
            select(Goal).where(func.lower(Goal.title) == word.strip().lower()).limit(1))
        out.append({"text": word, "goal": goal})
    return out


def _tool_page(request: Request, db: Session, tool: StackTool, *, form: dict | None = None,
               error: str | None = None, status_code: int = 200) -> Response:
    from marketops.app.routes.stack import stack_audit

    seen, _, busy = _facts(request)
    audit = stack_audit(request, db)
    line = next((t for t in audit.tools if t.id == tool.id), None)
    cycles = [c for c in audit.cycles if tool.name in c]
    return render(request, "stack_tool.html", {
        "tool": tool, "data": tool_json(tool), "line": line, "audit": audit, "busy": busy,
        "fresh": tool_freshness(tool.systems or (), tool.stale_days, seen),
        "outgoing": [integration_json(f) for f in tool.outgoing], "incoming": [integration_json(f) for f in tool.incoming],
        "goals": linked_goals(db, list(tool.goals or [])), "cycles": cycles, "others": [
            t for t in list_tools(db) if t.id != tool.id], "methods": METHODS, "frequencies": FREQUENCIES,
        "form": form or form_of(tool), "error": error, "flash": pop_flash(request),
        "editor": can_edit(getattr(request.state, "user", None)), **_choices()}, status_code=status_code)


@router.get("/stack/{tool_id}")
def tool_page(request: Request, db: DB, user: CurrentUser, tool_id: int) -> Response:
    return _tool_page(request, db, get_tool(db, tool_id))


@router.post("/stack/{tool_id}", dependencies=CSRF)
async def tool_edit(request: Request, db: DB, user: Editor, tool_id: int) -> Response:
    tool = get_tool(db, tool_id)
    form = await read_tool_form(request)
    try:
        draft = draft_from_form({**form, "catalogue": ""})
        changes = {k: getattr(draft, k) for k in ("name", "vendor", "category", "owner", "cost", "cost_period",
                                                   "currency", "renewal_date", "seats", "active_users",
                                                   "contract_notes", "goals", "systems", "stale_days")}
        update_tool(db, tool, changes, actor=user.email, ip=client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        db.refresh(tool)
        return _tool_page(request, db, tool, form=form, error=e.message, status_code=400)
    flash(request, N_("Saved %(name)s."), name=tool.name)
    return RedirectResponse(f"/stack/{tool_id}", status_code=303)


@router.post("/stack/{tool_id}/delete", dependencies=CSRF)
def tool_delete(request: Request, db: DB, user: Editor, tool_id: int) -> Response:
    tool = get_tool(db, tool_id)
    name = tool.name
    remove_tool(db, tool, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Removed %(name)s from the stack."), name=name)
    return RedirectResponse("/stack", status_code=303)


