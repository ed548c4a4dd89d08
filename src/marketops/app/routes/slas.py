"""Internal SLAs: ``GET /slas`` (each SLA with its rule in words, teams, current compliance, a chart of
value against threshold per period and the compliance rate) and its API:

- ``GET /api/v1/slas`` every SLA with its current and last complete period (``format=csv|xlsx``: one
  row per SLA);
- ``GET /api/v1/slas/{name}`` one SLA with its history (``format=csv|xlsx``: one row per period).

The rules live in marketops.yaml (reviewed like code); everyone signed in reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.deps import CurrentUser, Reader
from marketops.app.downloads import Format
from marketops.app.render import N_, render
from marketops.app.routes.metrics import cached_analysis, file_of, gettext
from marketops.app.slas_charts import compliance_chart
from marketops.plan.slas import DEFAULT_PERIODS, SlaReport, period_label, rows, sla_reports
from marketops.workspace import Workspace

router = APIRouter()

PeriodsQ = Annotated[int, Query(ge=1, le=120, description="How many periods, the current one included.")]
TodayQ = Annotated[dt.date | None, Query(description="Pretend today is this day, YYYY-MM-DD (default: today).")]
STATUS_LABELS = {"met": N_("Met"), "breached": N_("Breached"), "in_progress": N_("In progress"),
                 "no_data": N_("No data"), "at_risk": N_("At risk")}
SUMMARY_COLUMNS = ["sla", "from_team", "to_team", "rule", "per", "threshold", "status", "current_period",
                   "current_value", "near_breach", "last_period", "last_value", "last_status", "last_margin",
                   "compliance_rate", "as_of"]
HISTORY_COLUMNS = ["sla", "from_team", "to_team", "period", "value", "threshold", "status", "margin", "projected",
                   "near_breach", "in_time", "late", "pending", "median_hours"]


def _compute(ws: Workspace, *, periods: int, today: dt.date) -> list[SlaReport]:
    return sla_reports(ws, periods=periods, today=today)


def reports_for(request: Request, periods: int = DEFAULT_PERIODS, today: dt.date | None = None) -> list[SlaReport]:
    """Every SLA's compliance, cached until the next run (or a change of marketops.yaml) per day."""
    return cached_analysis(request.app, "slas", _compute, periods=periods, today=today or dt.date.today())


def _summary(r: SlaReport) -> dict[str, Any]:
    cur, last = r.current, r.last_complete
    return {"sla": r.name, "from_team": r.rule.from_team, "to_team": r.rule.to_team, "rule": r.words,
            "per": r.rule.per, "threshold": r.rule.threshold, "status": r.status,
            "current_period": cur.period.isoformat() if cur else None, "current_value": cur.value if cur else None,
            "near_breach": cur.near_breach if cur else None,
            "last_period": last.period.isoformat() if last else None, "last_value": last.value if last else None,
            "last_status": last.status if last else None, "last_margin": last.margin if last else None,
            "compliance_rate": r.compliance_rate, "as_of": r.as_of.isoformat() if r.as_of else None}


def _named(reports: list[SlaReport], name: str, request: Request) -> SlaReport:
    for r in reports:
        if r.name == name:
            return r
    from marketops.app.render import workspace_config

    workspace_config(request).slas.rule(name)  # NotFound with "did you mean"
    raise AssertionError("unreachable")


@router.get("/slas")
def slas_page(request: Request, user: CurrentUser, periods: PeriodsQ = DEFAULT_PERIODS) -> Response:
    reports = reports_for(request, periods)
    _ = gettext(request)
    cards = []
    for r in reports:
        figure = compliance_chart(r.periods, per=r.rule.per, percent=r.rule.kind == "response",
                                  labels={"value": _("Value"), "threshold": _("Threshold")}) if r.periods else None
        cards.append({"r": r, "figure": figure, "labels": [period_label(p.period, r.rule.per) for p in r.periods]})
    counts = {s: sum(r.status == s for r in reports) for s in ("met", "at_risk", "breached", "no_data", "in_progress")}
    return render(request, "slas.html", {"cards": cards, "periods": periods, "counts": counts,
                                         "status_labels": STATUS_LABELS, "charts": any(c["figure"] for c in cards),
                                         "api": f"/api/v1/slas?periods={periods}"})


@router.get("/api/v1/slas", response_model=None)
def slas_api(request: Request, user: Reader, periods: PeriodsQ = DEFAULT_PERIODS, today: TodayQ = None,
             history: Annotated[bool, Query(description="Include every period of each SLA.")] = False,
             format: Format = "json") -> Any:
    """Every SLA: ``{"items": [{"name", "from_team", "to_team", "rule", "kind", "per", "threshold", "status",
    "compliance_rate", "current", "last_complete", ("periods")}], "total"}``. Status: met, breached (the
    last complete period), at_risk (the period in progress is heading for a breach), no_data."""
    reports = reports_for(request, periods, today)
    if format != "json":
        return file_of([_summary(r) for r in reports], SUMMARY_COLUMNS, "slas", format)
    items = [r.to_json(history=history) for r in reports]
    return {"items": items, "total": len(items), "periods": periods}


@router.get("/api/v1/slas/{name}", response_model=None)
def sla_api(request: Request, user: Reader, name: str, periods: PeriodsQ = DEFAULT_PERIODS, today: TodayQ = None,
            format: Format = "json") -> Any:
    """One SLA with its history: per period the value, threshold, status (met, breached, in_progress,
    no_data), margin, and for the period in progress the projection and ``near_breach``."""
    r = _named(reports_for(request, periods, today), name, request)
    if format != "json":
        return file_of(rows([r]), HISTORY_COLUMNS, f"sla_{r.name}", format)
    return r.to_json(history=True)
