"""The lifecycle funnel: ``GET /funnel`` (page) and ``GET /api/v1/funnel`` (the report as JSON, or one of
its tables as CSV/XLSX: ``table=steps|cohorts|groups|stages``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from marketops.app import analytics as an
from marketops.app.charts import funnel_chart
from marketops.app.deps import CurrentUser, Reader
from marketops.app.downloads import Format
from marketops.app.render import render
from marketops.app.routes.metrics import analysis, file_of, gettext

router = APIRouter()

#: Cohort months the page shows, newest last (the files have them all).
COHORTS = 6
STEP_COLUMNS = ["from", "to", "reached", "moved_on", "conversion", "median_days"]

By = Annotated[str | None, Query(description="Split by the first touch's channel, source or campaign.")]
Table = Annotated[Literal["steps", "cohorts", "groups", "stages"],
                  Query(description="Which table a CSV/XLSX download holds.")]


def _pivot(steps_by_key: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One row per cohort (or group) with its steps in order, for the page's wide tables."""
    return [{"key": key, "steps": steps} for key, steps in steps_by_key.items() if any(s.reached for s in steps)]


@router.get("/funnel")
def funnel_page(request: Request, user: CurrentUser, by: By = None) -> Response:
    data = analysis(request, "funnel", an.funnel_data, by=by or None)
    report = data["report"]
    _ = gettext(request)
    figure = None
    if data["stages"]:
        figure = funnel_chart([_(an.STAGE_LABELS.get(s["stage"], s["stage"])) for s in data["stages"]],
                              [s["people"] for s in data["stages"]])
    neck = report.bottleneck if report else None
    flags = {(lag.group, lag.stage): lag for lag in (report.laggards if report else [])}
    if neck is not None:
        flags[(None, neck.stage)] = neck
    base = "/api/v1/funnel" + (f"?by={data['by']}" if data["by"] else "")
    sep = "&" if data["by"] else "?"
    return render(request, "funnel.html", {
        "d": data, "r": report, "charts": True, "figure": figure, "neck": neck, "flags": flags,
        "cohorts": _pivot(report.cohorts)[-COHORTS:] if report else [],
        "groups": _pivot(report.groups) if report else [],
        "stage_labels": an.STAGE_LABELS, "dimensions": an.BY_LABELS,
        "api": {t: f"{base}{sep}table={t}" for t in ("steps", "cohorts", "groups", "stages")},
    })


@router.get("/api/v1/funnel")
def funnel_api(request: Request, user: Reader, by: By = None, table: Table = "steps", format: Format = "json") -> Any:
    """The funnel: ``{"stages": [{"stage", "people"}], "steps", "cohorts", "groups", "bottleneck", "laggards",
    "unmatched_stages", "by", "empty"}`` (steps with reached, converted, conversion, median_days)."""
    data = analysis(request, "funnel", an.funnel_data, by=by or None)
    report = data["report"]
    if format != "json":
        label = data["by"] or "group"
        rows = {"steps": lambda: an.step_rows(report.steps) if report else [],
                "cohorts": lambda: an.cohort_rows(report) if report else [],
                "groups": lambda: an.group_rows(report, label) if report else [],
                "stages": lambda: data["stages"]}[table]()
        columns = {"steps": STEP_COLUMNS, "cohorts": ["cohort", *STEP_COLUMNS], "groups": [label, *STEP_COLUMNS],
                   "stages": ["stage", "people"]}[table]
        return file_of(rows, columns, f"funnel_{table}" + (f"_by_{data['by']}" if data["by"] else ""), format)
    body = report.to_json() if report else {"stages": [], "steps": [], "cohorts": {}, "groups": {},
                                            "bottleneck": None, "laggards": [], "unmatched_stages": {}}
    body["stage_names"] = body.pop("stages")
    return {**body, "stages": data["stages"], "by": data["by"], "empty": data["empty"], "notes": data["notes"]}
