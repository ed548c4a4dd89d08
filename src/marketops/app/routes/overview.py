"""The overview: ``GET /`` (page), ``GET /api/v1/overview`` (the same facts and KPIs as JSON) and
``GET /api/v1/overview/kpis`` (the KPI tiles or their sparklines as JSON, CSV or XLSX)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from marketops.app import analytics as an
from marketops.app.charts import sparkline
from marketops.app.deps import CurrentUser, Reader, require_scope
from marketops.app.downloads import Format
from marketops.app.overview import build_overview, overview_json
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
    # the hook for goals (issue 6): None until goals exist, and the page then shows no goal section
    goals = analysis(request, "goals", an.goal_summary)
    return {**data, "kpis": kpis, "goals": goals}


@router.get("/")
async def overview_page(request: Request, user: CurrentUser, grain: Grain = "month") -> Response:
    # DuckDB work blocks: keep it off the event loop.
    data = await run_in_threadpool(_overview, request, grain)
    sparks = {t["name"]: sparkline([p["period"] for p in t["series"]], [p["value"] for p in t["series"]])
              for t in data["kpis"]["tiles"]}
    return render(request, "overview.html", {"o": data, "sparks": sparks, "charts": bool(sparks),
                                             "grains": an.GRAIN_LABELS})


@router.get("/api/v1/overview")
async def overview_api(request: Request, user: Annotated[User, Depends(require_scope("read"))],
                       grain: Grain = "month") -> dict:
    """Workspace, last run, rows per canonical table, quarantined rows, recent loads and runs, and the KPI
    tiles (``kpis``: period, tiles with value, previous, change, tone and the last 12 periods)."""
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
