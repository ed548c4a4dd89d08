"""The martech stack API (the pages are in :mod:`marketops.app.routes.stack_pages`):

- ``GET/POST /api/v1/stack/tools``, ``GET/PATCH/DELETE /api/v1/stack/tools/{id}``: the registry;
- ``GET/POST /api/v1/stack/integrations``, ``DELETE /api/v1/stack/integrations/{id}``: who feeds whom;
- ``GET /api/v1/stack/map``: tools as nodes, integrations as edges, and the loops;
- ``GET /api/v1/stack/catalogue``: common tools and categories to pick from;
- ``GET /api/v1/stack/audit`` (``table=tools|categories|renewals|findings`` with ``format=csv|xlsx``) and
  ``GET /api/v1/stack/audit/report``: the printable HTML report as a download;
- ``GET/POST /api/v1/stack/evaluations``, ``POST /api/v1/stack/evaluations/check`` (nothing saved).

Everyone signed in reads (tokens: ``read``); changes need an editor (tokens: ``write``) and are audited.
A tool is named by id in paths; integrations name their tools by id or name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from marketops.app.deps import DB, Editor, Reader, client_ip
from marketops.app.downloads import Format, Limit, Offset, page_json, safe_filename
from marketops.app.routes.metrics import analysis, file_of
from marketops.app.routes.stack_pages import router as pages_router
from marketops.errors import WorkspaceLocked
from marketops.stack.audit import TABLE_COLUMNS, StackAudit, simple_cycles
from marketops.stack.catalogue import categories, entries
from marketops.stack.evaluation import QUESTIONS, evaluate, evaluation_json, list_evaluations
from marketops.stack.freshness import SystemSeen, systems_seen, tool_freshness
from marketops.stack.inputs import audit_from, warehouse_rates
from marketops.stack.registry import (
    ToolDraft,
    create_tool,
    get_integration,
    get_tool,
    integration_json,
    link,
    list_integrations,
    list_tools,
    remove_tool,
    tool_json,
    unlink,
    update_tool,
)
from marketops.stack.report import audit_html
from marketops.state.stack import StackTool
from marketops.workspace import Workspace

router = APIRouter()
router.include_router(pages_router)

LIST_COLUMNS = ["id", "name", "vendor", "category", "owner", "cost", "currency", "cost_period", "renewal_date",
                "seats", "active_users", "goals", "systems", "freshness", "last_seen"]
FLOW_COLUMNS = ["id", "from", "to", "object", "method", "frequency", "notes"]
EVALUATION_COLUMNS = ["id", "tool", "vendor", "category", *QUESTIONS, "recommendation", "reasons", "created_by",
                      "created_at"]
Answer = Literal["yes", "partly", "no"]


class ToolIn(BaseModel):
    """A tool to add. ``catalogue`` names a catalogue tool whose vendor, category and systems fill the blanks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="The tool's name, unique in the registry.")
    catalogue: str | None = Field(default=None, description="A catalogue tool, e.g. HubSpot.")
    vendor: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=100, description="e.g. CRM (see /api/v1/stack/catalogue).")
    owner: str = Field(default="", max_length=320, description="Who answers for it; empty = nobody.")
    cost: Decimal | None = Field(default=None, ge=0, description="Cost per period in ``currency``; null = none "
                                                                  "recorded.")
    cost_period: Literal["month", "year"] = "month"
    currency: str = Field(default="EUR", description="ISO 4217 code.")
    renewal_date: dt.date | None = None
    seats: int | None = Field(default=None, ge=0)
    active_users: int | None = Field(default=None, ge=0)
    contract_notes: str = Field(default="", max_length=5000)
    goals: list[str] = Field(default_factory=list, description="Business goals it serves.")
    systems: list[str] = Field(default_factory=list, description="marketops source systems, e.g. hubspot.")
    stale_days: int | None = Field(default=None, ge=1, description="Days without data before stale (default 7).")


class ToolPatch(BaseModel):
    """Fields to change (``cost: null`` clears the cost)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    vendor: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    owner: str | None = Field(default=None, max_length=320)
    cost: Decimal | None = Field(default=None, ge=0)
    cost_period: Literal["month", "year"] | None = None
    currency: str | None = None
    renewal_date: dt.date | None = None
    seats: int | None = Field(default=None, ge=0)
    active_users: int | None = Field(default=None, ge=0)
    contract_notes: str | None = Field(default=None, max_length=5000)
    goals: list[str] | None = None
    systems: list[str] | None = None
    stale_days: int | None = Field(default=None, ge=1)


class IntegrationIn(BaseModel):
    """``object`` flows from one tool to another (tools by id or name)."""

    model_config = ConfigDict(extra="forbid")

    from_tool: int | str = Field(description="The tool the data leaves.")
    to_tool: int | str = Field(description="The tool the data arrives in.")
    object: str = Field(max_length=200, description="What flows: contacts, deals, conversions...")
    method: Literal["native", "zapier", "file", "api"] = "native"
    frequency: Literal["realtime", "hourly", "daily", "weekly", "monthly", "manual"] = "daily"
    notes: str = Field(default="", max_length=5000)


class EvaluationIn(BaseModel):
    """A tool under consideration, answered on the four questions."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(max_length=200)
    vendor: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=100)
    serves_goals: Answer = Field(description=QUESTIONS["serves_goals"])
    improves_journey: Answer = Field(description=QUESTIONS["improves_journey"])
    has_budget: Answer = Field(description=QUESTIONS["has_budget"])
    has_time: Answer = Field(description=QUESTIONS["has_time"])
    notes: dict[str, str] = Field(default_factory=dict, description="question -> why that answer.")

    def answers(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in QUESTIONS}


# -- the warehouse's facts, cached until the next run -------------------------------------------------

def _seen(ws: Workspace) -> dict[str, SystemSeen]:
    return systems_seen(ws.engine)


def _rates(ws: Workspace) -> dict[str, Decimal]:
    return {k: v for k, (_, v) in warehouse_rates(ws).items()}


def warehouse_facts(request: Request) -> tuple[dict[str, SystemSeen], dict[str, Decimal], bool]:
    """Load history per system and exchange rates; ``busy`` when a run holds the warehouse (the registry
    still shows, freshness and conversion wait)."""
    try:
        return analysis(request, "stack_seen", _seen), analysis(request, "stack_rates", _rates), False
    except WorkspaceLocked:
        return {}, {}, True


def reporting_currency(request: Request) -> str:
    from marketops.app.render import workspace_config

    return workspace_config(request).reporting_currency


def stack_audit(request: Request, db: Session, today: dt.date | None = None) -> StackAudit:
    seen, rates, _ = warehouse_facts(request)
    return audit_from(db, seen=seen, rates=rates, reporting_currency=reporting_currency(request), today=today)


def tool_row(tool: StackTool, seen: dict[str, SystemSeen]) -> dict[str, Any]:
    """A tool with its data freshness."""
    fresh = tool_freshness(tool.systems or (), tool.stale_days, seen)
    return {**tool_json(tool), "freshness": fresh.status, "last_seen": fresh.last_seen,
            "freshness_detail": fresh.to_json()}


def tool_detail(db: Session, tool: StackTool, seen: dict[str, SystemSeen]) -> dict[str, Any]:
    return {**tool_row(tool, seen), "integrations_out": [integration_json(f) for f in tool.outgoing],
            "integrations_in": [integration_json(f) for f in tool.incoming]}


# -- tools ----------------------------------------------------------------------------------------------

@router.get("/api/v1/stack/tools", response_model=None)
def tools_api(request: Request, db: DB, user: Reader,
              category: Annotated[str | None, Query(description="Only this category.")] = None,
              owner: Annotated[str | None, Query(description="Part of the owner; '-' = tools with no owner.")] = None,
              q: Annotated[str | None, Query(max_length=200, description="Part of the name or vendor.")] = None,
              limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """The registry, by category then name, each tool with its data freshness."""
    seen, _, _ = warehouse_facts(request)
    rows = [tool_row(t, seen) for t in list_tools(db, category=category, owner=owner, q=q)]
    if format != "json":
        return file_of([{c: _flat(r[c]) for c in LIST_COLUMNS} for r in rows], LIST_COLUMNS, "stack_tools", format)
    return page_json(rows[offset:offset + limit], len(rows), limit, offset)


def _flat(v: Any) -> Any:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dt.datetime) and v.tzinfo:
        return v.replace(tzinfo=None)
    return v


@router.post("/api/v1/stack/tools", status_code=201)
def create_api(request: Request, db: DB, user: Editor, body: ToolIn) -> dict[str, Any]:
    """Add a tool: 201 with the tool; 422 naming the field that is wrong (a duplicate name too)."""
    data = body.model_dump()
    tool = create_tool(db, ToolDraft(**data), actor=user.email, ip=client_ip(request))
    db.commit()
    return tool_detail(db, tool, warehouse_facts(request)[0])


@router.get("/api/v1/stack/tools/{tool_id}")
def tool_api(request: Request, db: DB, user: Reader, tool_id: int) -> dict[str, Any]:
    """One tool: cost, users, goals, systems and data freshness, integrations in and out."""
    return tool_detail(db, get_tool(db, tool_id), warehouse_facts(request)[0])


@router.patch("/api/v1/stack/tools/{tool_id}")
def patch_api(request: Request, db: DB, user: Editor, tool_id: int, body: ToolPatch) -> dict[str, Any]:
    """Change a tool's fields."""
    tool = get_tool(db, tool_id)
    changes = body.model_dump(exclude_unset=True)
    update_tool(db, tool, changes, actor=user.email, ip=client_ip(request))
    db.commit()
    return tool_detail(db, tool, warehouse_facts(request)[0])


@router.delete("/api/v1/stack/tools/{tool_id}", status_code=204)
def delete_api(request: Request, db: DB, user: Editor, tool_id: int) -> Response:
    """Remove a tool and every integration from or to it."""
    remove_tool(db, get_tool(db, tool_id), actor=user.email, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


# -- integrations and the map -----------------------------------------------------------------------------

@router.get("/api/v1/stack/integrations", response_model=None)
def integrations_api(db: DB, user: Reader, format: Format = "json") -> Any:
    """Every integration (from, to, object, method, frequency)."""
    rows = [integration_json(f) for f in list_integrations(db)]
    if format != "json":
        return file_of([{c: r[c] for c in FLOW_COLUMNS} for r in rows], FLOW_COLUMNS, "stack_integrations", format)
    return {"items": rows, "total": len(rows)}


@router.post("/api/v1/stack/integrations", status_code=201)
def link_api(request: Request, db: DB, user: Editor, body: IntegrationIn) -> dict[str, Any]:
    """Record an integration; 422 for a tool feeding itself or a flow already recorded. Loops are allowed
    (the audit names them)."""
    flow = link(db, body.from_tool, body.to_tool, object=body.object, method=body.method,
                frequency=body.frequency, notes=body.notes, actor=user.email, ip=client_ip(request))
    db.commit()
    return integration_json(flow)


@router.delete("/api/v1/stack/integrations/{integration_id}", status_code=204)
def unlink_api(request: Request, db: DB, user: Editor, integration_id: int) -> Response:
    unlink(db, get_integration(db, integration_id), actor=user.email, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


def map_json(db: Session) -> dict[str, Any]:
    tools = list_tools(db)
    flows = [integration_json(f) for f in list_integrations(db)]
    names = {t.id: t.name for t in tools}
    cycles = [[names[n] for n in c] for c in simple_cycles((f["from_id"], f["to_id"]) for f in flows)]
    return {"nodes": [{"id": t.id, "name": t.name, "category": t.category} for t in tools], "edges": flows,
            "cycles": cycles}


@router.get("/api/v1/stack/map", response_model=None)
def map_api(db: DB, user: Reader, format: Format = "json") -> Any:
    """The integration map: ``nodes`` (tools), ``edges`` (integrations) and ``cycles`` (loops, each a list of
    tool names; A -> B -> A is one). ``format=csv|xlsx``: the edges."""
    data = map_json(db)
    if format != "json":
        return file_of([{c: r[c] for c in FLOW_COLUMNS} for r in data["edges"]], FLOW_COLUMNS, "stack_map", format)
    return data


@router.get("/api/v1/stack/catalogue")
def catalogue_api(user: Reader, category: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    """Common marketing tools (name, vendor, category, systems) and the categories."""
    return {"categories": list(categories()), "items": [e.to_json() for e in entries(category)]}


# -- the audit --------------------------------------------------------------------------------------------

@router.get("/api/v1/stack/audit", response_model=None)
def audit_api(request: Request, db: DB, user: Reader,
              table: Annotated[Literal["tools", "categories", "renewals", "findings"], Query(
                  description="With format=csv|xlsx: which table.")] = "tools",
              today: Annotated[dt.date | None, Query(description="Judge renewals from this day (default today).")] = None,
              format: Format = "json") -> Any:
    """The stack audit: totals in the reporting currency, tools (cost per month and per active user,
    utilisation, flags), categories (totals, overlap), renewals in 90 days, findings, loops. Costs in a
    currency with no exchange rate are listed in ``unconverted`` and left out of every total."""
    audit = stack_audit(request, db, today)
    if format != "json":
        return file_of(audit.tables()[table], TABLE_COLUMNS[table], f"stack_audit_{table}", format)
    return audit.to_json()


@router.get("/api/v1/stack/audit/report")
def report_api(request: Request, db: DB, user: Reader,
               today: Annotated[dt.date | None, Query()] = None) -> Response:
    """The audit as a printable HTML file (print it to PDF from the browser)."""
    from marketops.app.render import workspace_config

    audit = stack_audit(request, db, today)
    html = audit_html(audit, [integration_json(f) for f in list_integrations(db)],
                      workspace=workspace_config(request).name)
    name = safe_filename(f"stack_audit_{audit.as_of.isoformat()}.html")
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- evaluations ------------------------------------------------------------------------------------------

@router.get("/api/v1/stack/evaluations", response_model=None)
def evaluations_api(db: DB, user: Reader, format: Format = "json") -> Any:
    """Saved evaluations, newest first."""
    rows = [evaluation_json(e) for e in list_evaluations(db)]
    if format != "json":
        return file_of([{c: _flat(r[c]) for c in EVALUATION_COLUMNS} for r in rows], EVALUATION_COLUMNS,
                       "stack_evaluations", format)
    return {"items": rows, "total": len(rows)}


@router.post("/api/v1/stack/evaluations/check")
def check_api(db: DB, user: Reader, body: EvaluationIn) -> dict[str, Any]:
    """The recommendation for the answers, nothing saved."""
    verdict, _ = evaluate(db, body.tool, body.answers(), vendor=body.vendor, category=body.category)
    return verdict.to_json()


@router.post("/api/v1/stack/evaluations", status_code=201)
def evaluate_api(request: Request, db: DB, user: Editor, body: EvaluationIn) -> dict[str, Any]:
    """Save an evaluation: 201 with the recommendation and its reasons."""
    verdict, row = evaluate(db, body.tool, body.answers(), vendor=body.vendor, category=body.category,
                            notes=body.notes, save=True, actor=user.email, ip=client_ip(request))
    db.commit()
    return {**evaluation_json(row), **verdict.to_json()}
