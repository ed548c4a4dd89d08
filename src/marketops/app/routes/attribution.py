"""Attribution: ``GET /attribution`` (every model side by side) and ``GET /api/v1/attribution`` (the same
credits as JSON, CSV or XLSX; ``compare=false`` gives one model's)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from marketops.app import analytics as an
from marketops.app.charts import PALETTE, bar_chart
from marketops.app.deps import CurrentUser, Reader
from marketops.app.downloads import Format
from marketops.app.render import render
from marketops.app.routes.metrics import analysis, file_of, gettext

router = APIRouter()

#: Channels the chart shows at most (the table and the files have them all).
CHART_CHANNELS = 12
#: Colours for the series beyond the shared palette (grey, then a dark teal).
EXTRA_COLOURS = ("#999999", "#005f5f")

By = Annotated[str, Query(description="channel, source or campaign.")]
Conversion = Annotated[str | None, Query(description="Only this conversion definition (default: all).")]


def _query(by: str, conversion: str | None, **extra: Any) -> str:
    return urlencode({"by": by, **({"conversion": conversion} if conversion else {}), **extra})


@router.get("/attribution")
def attribution_page(request: Request, user: CurrentUser, by: By = "channel", conversion: Conversion = None) -> Response:
    data = analysis(request, "attribution", an.attribution, by=by, conversion=conversion or None)
    _ = gettext(request)
    figure = None
    if data["table"]:
        top = data["table"][:CHART_CHANNELS]
        figure = bar_chart([r["channel"] for r in top],
                           {_(an.MODEL_LABELS[m]): [r[m] * 100 for r in top] for m in data["models"]},
                           y_title=_("Share of conversions"), percent=True)
        # nine models, eight colours in the palette: the last model gets its own instead of the first's
        for trace, colour in zip(figure["data"][len(PALETTE):], EXTRA_COLOURS, strict=False):
            trace["marker"] = {**trace.get("marker", {}), "color": colour}
    return render(request, "attribution.html", {
        "d": data, "charts": True, "figure": figure, "models": an.MODEL_LABELS, "dimensions": an.BY_LABELS,
        "api": "/api/v1/attribution?" + _query(data["by"], data["conversion"], compare="true"),
    })


@router.get("/api/v1/attribution")
def attribution_api(request: Request, user: Reader, by: By = "channel", conversion: Conversion = None,
                    model: Annotated[str | None, Query(description="The model (default: the workspace's).")] = None,
                    compare: Annotated[bool, Query(description="Every model side by side.")] = False,
                    format: Format = "json") -> Any:
    """Credits per (model, channel): ``{"items": [{"model", "channel", "conversions", "revenue", "share"}],
    "table": [{"channel", <model>: share...}], "models", "by", "conversion", "conversions", "revenue"}``.
    Files: with ``compare`` the table of shares (channels x models), else the model's credits."""
    data = analysis(request, "attribution", an.attribution, by=by, conversion=conversion or None,
                    model=model, side_by_side=compare)
    if format != "json":
        name = f"attribution_by_{data['by']}_" + ("models" if compare else data["model"])
        if compare:
            rows = [{(data["by"] if k == "channel" else k): v for k, v in r.items()} for r in data["table"]]
            return file_of(rows, [data["by"], *data["models"]], name, format)
        rows = [{data["by"]: r["channel"], "conversions": r["conversions"], "revenue": r["revenue"],
                 "share": r["share"]} for r in data["items"]]
        return file_of(rows, [data["by"], "conversions", "revenue", "share"], name, format)
    return {"items": an.rows_json(data["items"]), "total": len(data["items"]), "table": data["table"],
            "revenue": str(data["revenue"]),
            **{k: data[k] for k in ("model", "models", "by", "conversion", "conversion_names", "conversions",
                                    "currency", "empty")}}
