"""Channel performance: ``GET /channels`` (page) and ``GET /api/v1/channels`` (the same rows as JSON,
CSV or XLSX): spend, sessions and what the chosen attribution model credits each channel, source or
campaign with, and the channels doing far worse than the others."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from marketops.app import analytics as an
from marketops.app.charts import bar_chart
from marketops.app.deps import CurrentUser, Reader
from marketops.app.downloads import Format
from marketops.app.render import render
from marketops.app.routes.metrics import analysis, file_of, gettext

router = APIRouter()

COLUMNS = ["channel", "spend", "sessions", "leads", "pipeline", "conversions", "revenue", "cpl", "cac", "roas", "flag"]
#: Bars a chart shows at most (campaigns can be hundreds; the table and the files have them all).
CHART_BARS = 15

Model = Annotated[str | None, Query(description="Attribution model (default: the workspace's).")]
By = Annotated[str, Query(description="channel, source or campaign.")]


def _charts(data: dict[str, Any], _: Any) -> list[dict[str, Any]]:
    rows = sorted(data["rows"], key=lambda r: -(r["revenue"] + (r["spend"] or Decimal(0))))[:CHART_BARS]
    if not rows:
        return []
    names = [r["channel"] for r in rows]
    money = {_("Credited revenue"): [r["revenue"] for r in rows]}
    if any(r["spend"] is not None for r in rows):
        money = {_("Spend"): [r["spend"] or 0 for r in rows], **money}
    currency = data["currency"]
    charts = [{"id": "chart-money", "label": _("Spend and credited revenue"),
               "figure": bar_chart(names, money, y_title=currency)}]
    with_roas = [r for r in rows if r["roas"] is not None]
    if with_roas:
        charts.append({"id": "chart-roas", "label": _("Return on ad spend (credited revenue / spend)"),
                       "figure": bar_chart([r["channel"] for r in with_roas], {_("ROAS"): [r["roas"] for r in with_roas]},
                                           y_title=_("ROAS"))})
    else:
        charts.append({"id": "chart-conversions", "label": _("Credited conversions"),
                       "figure": bar_chart(names, {_("Conversions"): [r["conversions"] for r in rows]},
                                           y_title=_("Conversions"))})
    return charts


@router.get("/channels")
def channels_page(request: Request, user: CurrentUser, model: Model = None, by: By = "channel") -> Response:
    data = analysis(request, "channels", an.channels, model=model, by=by)
    return render(request, "channels.html", {
        "d": data, "charts": True, "chart_list": _charts(data, gettext(request)),
        "models": an.MODEL_LABELS, "dimensions": an.BY_LABELS,
        "api": f"/api/v1/channels?model={data['model']}&by={data['by']}",
    })


@router.get("/api/v1/channels")
def channels_api(request: Request, user: Reader, model: Model = None, by: By = "channel",
                 format: Format = "json") -> Any:
    """One row per channel (source, campaign): ``{"items", "total", "model", "by", "currency", "flagged",
    "empty", "notes"}``; money and credited counts as exact decimal strings."""
    data = analysis(request, "channels", an.channels, model=model, by=by)
    if format != "json":
        rows = [{(by if k == "channel" else k): v for k, v in r.items()} for r in data["rows"]]
        return file_of(rows, [by, *COLUMNS[1:]], f"channels_by_{data['by']}_{data['model']}", format)
    return {"items": an.rows_json(data["rows"]), "total": len(data["rows"]),
            **{k: data[k] for k in ("model", "by", "currency", "flagged", "empty", "notes")}}
