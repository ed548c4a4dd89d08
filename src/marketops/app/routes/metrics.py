"""The metrics API: ``GET /api/v1/metrics`` (query_metrics' rows, or a CSV/XLSX of them) and
``GET /api/v1/metrics/catalog`` (every metric the workspace defines); plus the helpers the
analytics pages share (run an analysis over the read-only workspace, cached per data version,
with bad parameters answered 400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from marketops.app import analytics as an
from marketops.app.deps import Reader
from marketops.app.downloads import Format, download
from marketops.app.i18n import translations
from marketops.app.people import search_index
from marketops.app.render import language
from marketops.errors import MarketopsError, NotFound, WorkspaceLocked
from marketops.workspace import Workspace

router = APIRouter()


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def analysis(request: Request, name: str, fn: Callable[..., Any], **params: Any) -> Any:
    """``fn(ws, **params)`` over the workspace opened read-only for this request; the result is kept
    in the app's analysis cache until a run publishes or marketops.yaml changes (callers must not
    change it). A bad parameter answers 400 with the "did you mean" message."""
    try:
        return cached_analysis(request.app, name, fn, **params)
    except an.InvalidParameter as e:
        raise HTTPException(400, e.message) from None
    except (WorkspaceLocked, NotFound):
        raise
    except MarketopsError as e:  # data the report cannot use (e.g. no exchange rate for a day)
        raise HTTPException(422, str(e)) from None


def cached_analysis(app: Any, name: str, fn: Callable[..., Any], **params: Any) -> Any:
    """:func:`analysis` without a request: the pages and the warmer share cache entries."""
    root = app.state.workspace_root

    def compute() -> Any:
        ws = Workspace.open(root, read_only=True)
        try:
            return fn(ws, **params)
        finally:
            ws.close()

    cache = getattr(app.state, "analysis_cache", None)
    if cache is None:
        return compute()
    key = (name, tuple(sorted((k, _hashable(v)) for k, v in params.items())))
    return cache.get(root, key, compute)


#: What the pages compute with their default filters: the warmer computes these as soon as a run
#: publishes, so the first visitor after a run does not wait for attribution over every touchpoint.
WARM: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    ("kpis", an.kpis, {"grain": "month"}),
    ("channels", an.channels, {"model": None, "by": "channel"}),
    ("attribution", an.attribution, {"by": "channel", "conversion": None}),
    ("funnel", an.funnel_data, {"by": None}),
    ("people_index", search_index, {}),
]


def gettext(request: Request) -> Callable[[str], str]:
    """The reader's translation function, for chart titles and series built in Python."""
    return translations(language(request)).gettext


def file_of(rows: list[dict[str, Any]], columns: list[str], name: str, fmt: str) -> Response:
    """``rows`` as a CSV/XLSX download; with no rows, a file with just the header ``columns``."""
    if rows:
        return download(rows, name, fmt)
    return download(pa.table({c: pa.array([], pa.string()) for c in columns}), name, fmt)


@router.get("/api/v1/metrics")
def metrics_api(
    request: Request, user: Reader,
    names: Annotated[list[str] | None, Query(description="Metric names, e.g. names=clicks&names=ctr.")] = None,
    by: Annotated[list[str] | None, Query(description="Dimensions, e.g. by=channel.")] = None,
    grain: Annotated[str, Query(description="day, week, month or quarter.")] = "month",
    start: Annotated[dt.date | None, Query(alias="from", description="First day (inclusive), YYYY-MM-DD.")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="Last day (inclusive), YYYY-MM-DD.")] = None,
    compare: Annotated[list[str] | None, Query(description="previous and/or year.")] = None,
    format: Format = "json",
) -> Any:
    """Metrics per period and dimension: ``{"items": [...], "names", "by", "grain", "compare",
    "currency", "empty"}``; money as exact decimal strings, changes as ratios (0.25 = +25 %)."""
    data = analysis(request, "metrics", an.metrics, names=list(names or []), by=list(by or []), grain=grain,
                    start=start, end=end, compare_with=list(compare or []))
    if format != "json":
        columns = ["period", *data["by"], *data["names"]]
        return file_of(data["rows"], columns, "metrics_" + "_".join(data["names"]), format)
    return {"items": an.rows_json(data["rows"]), "total": len(data["rows"]),
            **{k: data[k] for k in ("names", "by", "grain", "compare", "currency", "empty")}}


@router.get("/api/v1/metrics/catalog")
def catalog_api(request: Request, user: Reader, format: Format = "json") -> Any:
    """Every metric of the workspace: name, label, description, format, higher_is_better, dimensions and
    whether its tables are loaded (``ready``)."""
    rows = analysis(request, "catalog", an.catalog_rows)
    if format != "json":
        flat = [{**r, "dimensions": ", ".join(r["dimensions"]), "ratio": ", ".join(r["ratio"] or []),
                 "difference": ", ".join(r["difference"] or [])} for r in rows]
        return download(flat, "metric_catalog", format)
    return {"items": rows, "total": len(rows)}
