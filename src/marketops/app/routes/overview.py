"""The overview: ``GET /`` (page), ``GET /api/v1/overview`` (the same facts and KPIs as JSON) and
``GET /api/v1/overview/kpis`` (the KPI tiles or their sparklines as JSON, CSV or XLSX)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from marketops.app import analytics as an
from marketops.app.charts import sparkline
from marketops.app.deps import CurrentUser, Reader, require_scope
from marketops.app.downloads import Format
from marketops.app.errors import api_error
from marketops.app.overview import LOAD_COLUMNS, build_overview, overview_json
from marketops.app.render import render
from marketops.app.routes.metrics import analysis, file_of
from marketops.errors import WorkspaceLocked
from marketops.state.models import User

router = APIRouter()

Grain = Annotated[str, Query(description="day, week, month (default) or quarter.")]


def _overview(request: Request, grain: str) -> dict[str, Any]:
    # the KPIs first: a bad grain answers 400 before anything else is read
    kpis = analysis(request, "kpis", an.kpis, grain=grain)
    try:
        data = build_overview(request.app.state.workspace_root, getattr(request.app.state, "analysis_cache", None))
        request.app.state.last_overview = data
    except WorkspaceLocked:
        # a CLI run is writing: the home page keeps showing the last facts it read, and says so
        last = getattr(request.app.state, "last_overview", None)
        if last is None:
            raise
        data = {**last, "busy": True}
    return {**data, "kpis": kpis, "lead_quality": _lead_quality(request)}


def _lead_quality(request: Request) -> dict[str, Any] | None:
    """Lead quality by channel (once per run, from the published lead_stages); None hides the card."""
    from marketops.app.routes.leads_handoff import lead_quality_card
    from marketops.errors import MarketopsError

    try:
        card = lead_quality_card(request)
    except (MarketopsError, HTTPException):  # no card rather than no overview
        return None
    return card if card["items"] else None


@router.get("/")
async def overview_page(request: Request, user: CurrentUser, grain: Grain = "month") -> Response:
    # DuckDB work blocks: keep it off the event loop.
    data = await run_in_threadpool(_overview, request, grain)
    sparks = {t["name"]: sparkline([p["period"] for p in t["series"]], [p["value"] for p in t["series"]])
              for t in data["kpis"]["tiles"]}
    return render(request, "overview.html", {"o": data, "sparks": sparks, "charts": bool(sparks),
                                             "grains": an.GRAIN_LABELS})


#: The overview's tables as files: their columns, in order.
OVERVIEW_TABLES = {
    "tables": ["table", "rows"],
    "loads": list(LOAD_COLUMNS),
    "runs": ["run_id", "status", "started_at", "finished_at", "seconds", "engine", "error"],
}
OverviewTable = Annotated[Literal["tables", "loads", "runs"] | None,
                          Query(description="With format=csv|xlsx: tables (rows per table), loads or runs.")]


def overview_rows(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The rows of one of the overview's tables, as the page shows them (the recent ones only)."""
    if table == "tables":
        return [{"table": t["name"], "rows": t["rows"]} for t in data["tables"]]
    if table == "loads":
        return [{c: r.get(c) for c in OVERVIEW_TABLES["loads"]} for r in data["recent_loads"]]
    return [{"run_id": r.run_id, "status": r.status, "started_at": r.started_at, "finished_at": r.finished_at,
             "seconds": r.seconds, "engine": r.engine, "error": r.error} for r in data["runs"]]


def _facts(request: Request) -> dict[str, Any]:
    """What build_overview reads (no KPIs), or the last facts read while a CLI run holds the lock."""
    try:
        return build_overview(request.app.state.workspace_root, getattr(request.app.state, "analysis_cache", None))
    except WorkspaceLocked:
        last = getattr(request.app.state, "last_overview", None)
        if last is None:
            raise
        return last


@router.get("/api/v1/overview", response_model=None)
async def overview_api(request: Request, user: Annotated[User, Depends(require_scope("read"))],
                       grain: Grain = "month", table: OverviewTable = None, format: Format = "json") -> Any:
    """Workspace, last run, rows per canonical table, quarantined rows, recent loads and runs, and the KPI
    tiles (``kpis``: period, tiles with value, previous, change, tone and the last 12 periods).
    ``?table=tables|loads|runs&format=csv|xlsx`` downloads one of the page's tables."""
    if format != "json":
        if table is None:
            return api_error(400, "say which table to download: table=tables, loads or runs")
        data = await run_in_threadpool(_facts, request)
        return file_of(overview_rows(data, table), OVERVIEW_TABLES[table], f"overview_{table}", format)
    data = await run_in_threadpool(_overview, request, grain)
    return overview_json(data)


@router.get("/api/v1/overview/kpis")
def kpis_api(request: Request, user: Reader, grain: Grain = "month",
             table: Annotated[Literal["tiles", "series"], Query(description="tiles or series (the sparklines).")]
             = "tiles", format: Format = "json") -> Any:
    """The KPI tiles as a table (metric, label, period, value, previous, change) or their series (one row
    per period, one column per metric)."""
    data = analysis(request, "kpis", an.kpis, grain=grain)
    rows = an.kpi_rows(data) if table == "tiles" else an.kpi_series_rows(data)
    if format != "json":
        columns = (["metric", "label", "period", "value", "previous", "change"] if table == "tiles"
                   else ["period", *(t["name"] for t in data["tiles"])])
        return file_of(rows, columns, f"kpis_{table}_{data['grain']}", format)
    return {"items": an.rows_json(rows), "total": len(rows), "grain": data["grain"],
            "period": an.money_json(data["period"]), "currency": data["currency"], "empty": data["empty"]}
