"""Alerts: ``GET /alerts`` (goals at risk or off track, budget pacing problems, SLA breaches and
overdue tasks, grouped by kind, with filters and counts; admins send the daily digest from here) and
its API:

- ``GET /api/v1/alerts`` the alerts (``kind``, ``severity``, ``owner``, ``recipient`` filters;
  ``format=csv|xlsx``);
- ``GET /api/v1/alerts/digest`` the digest each recipient would get today (admins);
- ``POST /api/v1/alerts/digest`` send it now (admins; ``force`` to send again the same day, ``to`` for
  one address). SMTP failures answer 502 with a plain message (never the password).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from marketops.app.deps import DB, CurrentUser, Reader, client_ip, form_csrf, read_workspace, require_role
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of
from marketops.app.routes.settings import ApiAdmin, flash, pop_flash
from marketops.app.routes.slas import reports_for
from marketops.errors import MarketopsError, unknown_name
from marketops.plan.alert_config import ALERT_KINDS
from marketops.plan.alerts import SEVERITIES, AlertList, collect_alerts, filter_alerts
from marketops.plan.digest import (
    DigestError,
    DigestResult,
    config_problem,
    local_today,
    plan_digests,
    send_digests,
    sent_today,
)
from marketops.state.models import User

router = APIRouter()

KIND_LABELS = {"goal": N_("Goals"), "budget": N_("Budget pacing"), "sla": N_("SLAs"), "task": N_("Overdue tasks"),
               "lead": N_("Speed to lead"), "stack": N_("Martech renewals"), "asset": N_("Asset rights")}
SEVERITY_LABELS = {"critical": N_("Critical"), "warning": N_("Warning")}
COLUMNS = ["kind", "severity", "status", "title", "message", "owner", "link", "recipients"]
KindQ = Annotated[str | None, Query(description="goal, budget, sla or task.")]
SeverityQ = Annotated[str | None, Query(description="critical or warning.")]
OwnerQ = Annotated[str | None, Query(max_length=320, description="Only alerts this person owns (email or name).")]
TodayQ = Annotated[dt.date | None, Query(description="Pretend today is this day, YYYY-MM-DD (default: today).")]
PageAdmin = Annotated[User, Depends(require_role("admin"))]


class DigestIn(BaseModel):
    """Send the digest now."""

    force: bool = Field(default=False, description="Send again to recipients already served today.")
    to: str | None = Field(default=None, max_length=320, description="Only this address (a configured recipient "
                           "gets their own alerts, any other address all of them).")
    today: dt.date | None = Field(default=None, description="The digest's day (default: today in the workspace "
                                  "time zone).")


def _day(request: Request, today: dt.date | None) -> dt.date:
    from marketops.app.render import workspace_config

    return today or local_today(workspace_config(request).timezone)


def collect(request: Request, db: Session, today: dt.date | None = None) -> AlertList:
    """Every alert of ``today`` (workspace time zone); SLA compliance comes from the SLA page's cache."""
    day = _day(request, today)
    slas = reports_for(request, today=day)
    with read_workspace(request) as ws:
        return collect_alerts(ws, db, today=day, sla_reports=slas)


def _check(kind: str | None, severity: str | None) -> None:
    if kind and kind not in ALERT_KINDS:
        raise unknown_name("alert kind", kind, ALERT_KINDS)
    if severity and severity not in SEVERITIES:
        raise unknown_name("severity", severity, SEVERITIES)


@router.get("/alerts")
def alerts_page(request: Request, user: CurrentUser, db: DB, kind: KindQ = None, severity: SeverityQ = None,
                owner: OwnerQ = None, today: TodayQ = None) -> Response:
    kind, severity, owner = kind or None, severity or None, (owner or "").strip() or None
    _check(kind, severity)
    listed = collect(request, db, today)
    shown = filter_alerts(listed.alerts, kind=kind, severity=severity, owner=owner)
    groups = [(k, [a for a in shown if a.kind == k]) for k in ALERT_KINDS]
    from marketops.app.render import workspace_config

    config = workspace_config(request).alerts
    sent = sent_today(db, listed.today) if user.role == "admin" else {}
    query = "&".join(f"{k}={v}" for k, v in (("kind", kind), ("severity", severity), ("owner", owner)) if v)
    owners = sorted({a.owner for a in listed.alerts if a.owner})
    return render(request, "alerts.html", {
        "listed": listed, "shown": shown, "groups": [(k, g) for k, g in groups if g], "counts": listed.counts(),
        "kinds": KIND_LABELS, "severities": SEVERITY_LABELS, "filters": {"kind": kind, "severity": severity,
                                                                         "owner": owner or ""},
        "owners": owners, "query": query, "api": "/api/v1/alerts" + (f"?{query}" if query else ""),
        "flash": pop_flash(request), "problem": config_problem(config), "sent": sent,
        "recipients": config.recipients})


@router.post("/alerts/digest", dependencies=[Depends(form_csrf)])
async def digest_form(request: Request, user: PageAdmin, db: DB) -> Response:
    form = await request.form()
    force = form.get("force") in ("1", "on", "true")
    try:
        result = _send(request, db, user, force=force, to=None, today=None)
    except MarketopsError as e:
        db.rollback()
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/alerts#digest", status_code=303)
    flash(request, "%(message)s", kind="ok" if result.sent else "warn", message=result.message)
    return RedirectResponse("/alerts#digest", status_code=303)


def _send(request: Request, db: Session, user: User, *, force: bool, to: str | None,
          today: dt.date | None) -> DigestResult:
    from marketops.app.render import workspace_config

    cfg = workspace_config(request)
    listed = collect(request, db, today)
    digests = plan_digests(listed.alerts, cfg.alerts, day=listed.today, workspace=cfg.name, to=to)
    result = send_digests(db, cfg.alerts.smtp, digests, day=listed.today, actor=user.email, force=force,
                          ip=client_ip(request))
    db.commit()
    return result


@router.get("/api/v1/alerts", response_model=None)
def alerts_api(request: Request, user: Reader, db: DB, kind: KindQ = None, severity: SeverityQ = None,
               owner: OwnerQ = None, recipient: Annotated[str | None, Query(max_length=320, description=(
                   "Only alerts this digest recipient receives."))] = None, today: TodayQ = None,
               limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """The alerts, most severe first: ``{"items": [{"kind", "severity", "status", "title", "message", "link",
    "owner", "recipients", "detail"}], "total", "counts", "problems"}``."""
    _check(kind, severity)
    listed = collect(request, db, today)
    shown = filter_alerts(listed.alerts, kind=kind, severity=severity, owner=owner, recipient=recipient)
    if format != "json":
        return file_of([a.row() for a in shown], COLUMNS, f"alerts_{listed.today.isoformat()}", format)
    return page_json([a.to_json() for a in shown[offset:offset + limit]], len(shown), limit, offset,
                     counts=listed.counts(), problems=listed.problems, today=listed.today.isoformat())


@router.get("/api/v1/alerts/digest")
def digest_preview_api(request: Request, user: ApiAdmin, db: DB, today: TodayQ = None,
                       to: Annotated[str | None, Query(max_length=320)] = None) -> dict[str, Any]:
    """The digest each recipient would get today (subject, alerts, text and HTML), and who was already
    sent it today."""
    from marketops.app.render import workspace_config

    cfg = workspace_config(request)
    listed = collect(request, db, today)
    digests = plan_digests(listed.alerts, cfg.alerts, day=listed.today, workspace=cfg.name, to=to)
    return {"day": listed.today.isoformat(), "digests": [d.to_json(body=True) for d in digests],
            "sent_today": sorted(sent_today(db, listed.today)), "problem": config_problem(cfg.alerts)}


@router.post("/api/v1/alerts/digest")
def digest_api(request: Request, user: ApiAdmin, db: DB, body: DigestIn | None = None) -> Any:
    """Send the digest now (admins): ``{"day", "sent": [{"recipient", "subject", "alerts"}], "already_sent",
    "empty", "message"}``. A second send the same day skips recipients already served unless ``force``."""
    body = body or DigestIn()
    try:
        result = _send(request, db, user, force=body.force, to=body.to, today=body.today)
    except DigestError as e:
        db.rollback()
        return api_error(502, e.message, code="smtp_failed")
    except MarketopsError as e:
        db.rollback()
        return api_error(400, e.message)
    return result.to_json()
