"""Routing of new MQLs: the page ``/leads/routing`` (the queue, unassigned first, with explanations and
filters; owners' load against capacity; who is out of office; the rules in words; editors route and
reassign) and its API:

- ``GET /api/v1/leads/routing``: decisions, paged, filters ``status``, ``owner`` (``-``: unassigned),
  ``rule``, ``q`` (email contains); ``format=csv|xlsx`` downloads every match;
- ``GET /api/v1/leads/routing/owners``: each owner's load, capacity and time away;
- ``GET /api/v1/leads/routing/{person}``: one decision (person id or email) with its explanation;
- ``POST /api/v1/leads/routing/run`` (editors; ``?dry_run=true``): route new MQLs now;
- ``POST /api/v1/leads/routing/{person}/reassign`` (editors; ``{"to": "Owner name"}``): audited.

This router is included before ``routes/leads.py``, whose ``/leads/{person_id}`` would take these paths.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from marketops.app.charts import bar_chart, figure_json
from marketops.app.deps import DB, Editor, Reader, client_ip, form_csrf, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of, gettext
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MarketopsError
from marketops.leads.routing_run import get_decision, owner_load, reassign, route_new, rules_in_words
from marketops.state.routing import COLUMNS, decision_json, search_decisions

router = APIRouter()
PAGE_SIZE = 50

StatusQ = Annotated[Literal["", "assigned", "unassigned", "reassigned"], Query(description="Only this status.")]
OwnerQ = Annotated[str, Query(max_length=200, description="Only this owner; '-' for unassigned leads.")]
RuleQ = Annotated[str, Query(max_length=200, description="Only decisions of this rule.")]
SearchQ = Annotated[str, Query(max_length=320, description="Email contains.")]
LOAD_COLUMNS = ["owner", "team", "email", "weight", "active", "today", "max_per_day", "total", "max_total",
                "out_of_office"]
STATUS_LABELS = {"assigned": N_("Assigned"), "unassigned": N_("Unassigned"), "reassigned": N_("Reassigned")}


class ReassignBody(BaseModel):
    to: str = Field(min_length=1, max_length=200, description="The new owner's name (in leads.routing.owners).")


def _can_edit(request: Request) -> bool:
    user = getattr(request.state, "user", None)
    return user is not None and user.role in ("admin", "editor")


def _config(request: Request) -> tuple[Any, str]:
    with read_workspace(request) as ws:
        return ws.config.leads.routing, ws.config.timezone


# -- the page -------------------------------------------------------------------------------------------

@router.get("/leads/routing")
def routing_page(request: Request, user: Reader, db: DB, status: StatusQ = "", owner: OwnerQ = "",
                 rule: RuleQ = "", q: SearchQ = "", limit: Limit = PAGE_SIZE, offset: Offset = 0) -> Response:
    cfg, tz = _config(request)
    found, total = search_decisions(db, status=status or None, owner=owner or None, rule=rule or None, q=q or None,
                                    limit=limit, offset=offset)
    unassigned = search_decisions(db, status="unassigned", limit=0)[1]
    load = owner_load(db, cfg, timezone=tz)
    t = gettext(request)
    fig = None
    if load:
        names = [r["owner"] for r in load]
        # leads held against the total capacity: "today" is empty on any day without new MQLs
        fig = figure_json(bar_chart(names, {t("Leads held"): [r["total"] for r in load],
                                            t("Capacity in all"): [r["max_total"] for r in load]},
                                    y_title=t("Leads")))
    params = {"status": status, "owner": owner, "rule": rule, "q": q}
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(request, "leads_routing.html", {
        "items": [decision_json(d) for d in found], "total": total, "unassigned": unassigned, "load": load,
        "away": [r for r in load if r["out_of_office"]], "rules": rules_in_words(cfg), "figs": {"load": fig},
        "charts": fig is not None, "editor": _can_edit(request), "params": params, "q": query,
        "owners": [o.name for o in cfg.owners], "rule_names": [r.name for r in cfg.rules],
        "limit": limit, "offset": offset, "status_labels": STATUS_LABELS, "configured": bool(cfg.owners),
        "flash": pop_flash(request)})


@router.post("/leads/routing/run", dependencies=[Depends(form_csrf)])
def run_form(request: Request, user: Editor, db: DB) -> Response:
    try:
        with read_workspace(request) as ws:
            result = route_new(ws, db, by=user.email)
        db.commit()
    except MarketopsError as e:
        db.rollback()
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/leads/routing", status_code=303)
    c = result.plan.counts()
    flash(request, N_("Routed %(n)s new MQLs: %(a)s assigned, %(u)s unassigned."), n=c["routed"], a=c["assigned"],
          u=c["unassigned"])
    return RedirectResponse("/leads/routing", status_code=303)


@router.post("/leads/routing/reassign", dependencies=[Depends(form_csrf)])
def reassign_form(request: Request, user: Editor, db: DB, person: Annotated[str, Form()],
                  to: Annotated[str, Form()]) -> Response:
    cfg, _tz = _config(request)
    try:
        decision, warnings = reassign(db, cfg, person, to, actor=user.email, ip=client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/leads/routing", status_code=303)
    # two whole sentences, not one with a tail glued on, so both are found in the catalogs
    flash(request, N_("%(lead)s now belongs to %(owner)s. %(notes)s") if warnings else
          N_("%(lead)s now belongs to %(owner)s."),
          kind="warn" if warnings else "ok", lead=decision.email or decision.person_id, owner=decision.owner,
          notes="; ".join(warnings))
    return RedirectResponse("/leads/routing", status_code=303)


# -- the API ----------------------------------------------------------------------------------------------

@router.get("/api/v1/leads/routing", response_model=None)
def decisions_api(user: Reader, db: DB, status: StatusQ = "", owner: OwnerQ = "", rule: RuleQ = "",
                  q: SearchQ = "", limit: Limit = PAGE_SIZE, offset: Offset = 0, format: Format = "json") -> Any:
    """Routing decisions, unassigned first then newest: ``person_id``, ``email``, ``mql_at``, ``owner``,
    ``team``, ``queue``, ``rule``, ``method``, ``status``, ``explanation``, ``previous_owner``,
    ``decided_at``, ``decided_by``; ``unassigned``: how many wait in the queue."""
    every = format != "json"
    found, total = search_decisions(db, status=status or None, owner=owner or None, rule=rule or None, q=q or None,
                                    limit=None if every else limit, offset=0 if every else offset)
    rows = [decision_json(d) for d in found]
    if every:
        return file_of(rows, list(COLUMNS), "routing_decisions", format)
    return page_json(rows, total, limit, offset, unassigned=search_decisions(db, status="unassigned", limit=0)[1])


@router.get("/api/v1/leads/routing/owners", response_model=None)
def owners_api(request: Request, user: Reader, db: DB, format: Format = "json") -> Any:
    """Each owner's leads today and in all against ``max_per_day`` / ``max_total``, and time away."""
    cfg, tz = _config(request)
    rows = owner_load(db, cfg, timezone=tz)
    if format != "json":
        return file_of([{c: r[c] for c in LOAD_COLUMNS} for r in rows], LOAD_COLUMNS, "routing_owners", format)
    return {"items": rows, "total": len(rows), "rules": rules_in_words(cfg)}


@router.post("/api/v1/leads/routing/run", response_model=None)
def run_api(request: Request, user: Editor, db: DB,
            dry_run: Annotated[bool, Query(description="Answer the decisions without keeping them.")] = False) -> Any:
    """Route the MQLs without a decision (and retry unassigned ones): counts, leads per owner and rule
    (``by_owner``), and with ``dry_run`` the first 100 decisions (``sample``)."""
    with read_workspace(request) as ws:
        result = route_new(ws, db, by=user.email, dry_run=dry_run)
    if dry_run:
        db.rollback()
        return {**result.to_json(), "sample": result.plan.decisions.slice(0, 100).to_pylist()}
    db.commit()
    return result.to_json()


@router.get("/api/v1/leads/routing/{person}", response_model=None)
def decision_api(user: Reader, db: DB, person: str) -> Any:
    """One lead's decision (person id or email) with the explanation of who got it and why."""
    return decision_json(get_decision(db, person))


@router.post("/api/v1/leads/routing/{person}/reassign", response_model=None)
def reassign_api(request: Request, person: str, body: ReassignBody, user: Editor, db: DB) -> Any:
    """Give the lead to ``to`` by hand (audited as ``routing.reassign``); ``warnings`` say when the new
    owner is out of office or at capacity (allowed: a person decided it)."""
    cfg, _tz = _config(request)
    try:
        decision, warnings = reassign(db, cfg, person, body.to, actor=user.email, ip=client_ip(request))
    except MarketopsError:
        db.rollback()
        raise
    db.commit()
    return {**decision_json(decision), "warnings": warnings}
