"""The speed-to-lead SLA board: ``GET /leads/sla`` (open MQLs by time left with near breaches and breaches
highlighted, compliance by owner and by week as table and chart, each team's calendar in plain words,
and, with ``?person=``, how one MQL's response time was counted) and its API:

- ``GET /api/v1/leads/sla``: the summary and compliance ``by`` owner, team, source, channel, touch or week
  (``format=csv|xlsx``: the compliance rows);
- ``GET /api/v1/leads/sla/open``: the open MQLs, least time left first (the board);
- ``GET /api/v1/leads/sla/breaches``: breached MQLs (``near=true``: near breaches) and the notices;
- ``GET /api/v1/leads/sla/calendars``: each team's calendar, target and escalation address;
- ``GET /api/v1/leads/sla/{person_id}``: one MQL with the windows counted (email works too).

Every endpoint takes ``at`` (judge at this UTC moment; default now) and ``since`` (MQLs from this day).
Everyone signed in reads; nothing here changes anything (the rules live in marketops.yaml).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.deps import CurrentUser, Reader
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.leads_sla_charts import compliance_chart
from marketops.app.render import N_, render
from marketops.app.routes.metrics import analysis, file_of, gettext
from marketops.errors import NotFound, ValidationFailed
from marketops.leads.speed import COLUMNS, SpeedTable, speed_table, team_calendars
from marketops.leads.speed_alerts import explain_lead, speed_alerts
from marketops.leads.speed_report import BY, REPORT_COLUMNS, board, breaches, compliance, summary
from marketops.workspace import Workspace

router = APIRouter()

AtQ = Annotated[dt.datetime | None, Query(description="Judge open MQLs at this moment (UTC, ISO 8601); default now.")]
SinceQ = Annotated[dt.date | None, Query(description="Only MQLs from this day on (YYYY-MM-DD).")]
ByQ = Annotated[str, Query(description="owner, team, source, channel (lead's channel group), touch (first-touch "
                                       "type) or week.")]
STATUS_LABELS = {"met": N_("Met"), "breached": N_("Breached"), "open": N_("Open"), "near_breach": N_("Near breach"),
                 "open_breached": N_("Open, breached")}
BY_LABELS = {"owner": N_("Owner"), "team": N_("Team"), "source": N_("Lead source"), "channel": N_("Channel"),
             "touch": N_("First touch"), "week": N_("Week")}
BOARD_LIMIT = 100
CALENDAR_COLUMNS = ["team", "timezone", "target_hours", "near_breach", "weekly_hours", "hours", "holidays",
                    "closed", "escalate_to"]


def _moment(at: dt.datetime | None) -> dt.datetime:
    """``at`` as naive UTC; default the current minute (so reloads within a minute share the cache)."""
    if at is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def _compute(ws: Workspace, *, since: dt.date | None, now: dt.datetime) -> SpeedTable:
    return speed_table(ws, since=since, now=now)


def table_for(request: Request, since: dt.date | None, at: dt.datetime | None) -> SpeedTable:
    """The speed table, cached per (since, minute) until the next run or a change of marketops.yaml."""
    return analysis(request, "leads_sla", _compute, since=since, now=_moment(at))


def _check_by(by: str) -> str:
    if by not in BY:
        raise ValidationFailed(f"unknown grouping '{by}'; use one of {', '.join(BY)}")
    return by


def _calendars(request: Request) -> list[dict[str, Any]]:
    def compute(ws: Workspace) -> list[dict[str, Any]]:
        cfg = ws.config.leads.sla
        out = []
        for cal in team_calendars(ws):
            t = cal.team
            out.append({"team": t.name, "timezone": cal.zone_name, "target_hours": cfg.target_for(t),
                        "near_breach": cfg.near_breach_for(t), "weekly_hours": cal.weekly_hours(),
                        "hours": "; ".join(cal.week_lines()),
                        "holidays": (t.holiday_country or "") + (f"-{t.holiday_subdivision}" if t.holiday_subdivision else ""),
                        "closed": ", ".join(d.isoformat() for d in t.closed), "escalate_to": t.escalate_to,
                        "words": cal.describe()})
        return out

    return analysis(request, "leads_sla_calendars", compute)


def _rows(table: Any) -> list[dict[str, Any]]:
    return table.to_pylist()


# -- the page -------------------------------------------------------------------------------------------

@router.get("/leads/sla")
def sla_page(request: Request, user: CurrentUser, since: SinceQ = None, at: AtQ = None,
             owner: Annotated[str | None, Query(description="Only this owner's open MQLs.")] = None,
             team: Annotated[str | None, Query(description="Only this team's open MQLs.")] = None,
             person: Annotated[str | None, Query(description="Explain this MQL (person id or email).")] = None) -> Response:
    data = table_for(request, since, at)
    _ = gettext(request)
    rows = data.rows
    open_rows = board(rows, owner=owner or None, team=team or None)
    by_owner, by_week = compliance(rows, "owner"), compliance(rows, "week")
    labels = {"met_share": _("Met share"), "median_hours": _("Median business hours")}
    explanation, explain_error = None, None
    if person:
        try:
            explanation = analysis(request, "leads_sla_explain", _explain, who=person, now=data.now)
        except NotFound as e:
            explain_error = e.message
    query = "&".join(f"{k}={v}" for k, v in (("since", since), ("at", at.isoformat() if at else None)) if v)
    owners = sorted({o for o in rows.column("owner_name").to_pylist() if o}) if rows.num_rows else []
    return render(request, "leads_sla.html", {
        "data": data, "total": summary(rows), "open_rows": _rows(open_rows.slice(0, BOARD_LIMIT)),
        "open_total": open_rows.num_rows, "by_owner": by_owner, "by_week": by_week,
        "owner_figure": compliance_chart(by_owner[:20], "owner", labels=labels) if by_owner else None,
        "week_figure": compliance_chart(by_week, "week", labels=labels) if by_week else None,
        "calendars": _calendars(request), "status_labels": STATUS_LABELS, "explanation": explanation,
        "explain_error": explain_error, "filters": {"since": since, "at": at, "owner": owner or "", "team": team or "",
                                                     "person": person or ""},
        "owners": owners, "teams": sorted({c["team"] for c in _calendars(request)}),
        "q": ("?" + query) if query else "", "amp": ("&" + query) if query else "",
        "charts": bool(by_owner or by_week), "board_limit": BOARD_LIMIT})


def _explain(ws: Workspace, *, who: str, now: dt.datetime) -> Any:
    return explain_lead(ws, who, now=now)


# -- the API ----------------------------------------------------------------------------------------------

@router.get("/api/v1/leads/sla", response_model=None)
def sla_api(request: Request, user: Reader, by: ByQ = "owner", since: SinceQ = None, at: AtQ = None,
            format: Format = "json") -> Any:
    """The speed-to-lead summary and compliance by ``by``: ``{"as_of", "summary": {"mqls", "touched", "met",
    "breached", "open", "near_breach", "open_breached", "met_share", "median_hours", "p90_hours"}, "by",
    "items": [one row per group with the same fields]}``. ``met_share`` = met / (met + breached +
    open_breached); hours are business hours of the owner's team calendar."""
    _check_by(by)
    data = table_for(request, since, at)
    groups = compliance(data.rows, by)
    if format != "json":
        return file_of(groups, [by, *REPORT_COLUMNS], f"speed_to_lead_by_{by}", format)
    return {"as_of": data.now, "summary": summary(data.rows), "by": by, "items": groups, "total": len(groups)}


@router.get("/api/v1/leads/sla/open", response_model=None)
def open_api(request: Request, user: Reader, since: SinceQ = None, at: AtQ = None,
             owner: Annotated[str | None, Query(description="Only this owner (name or email as on the lead).")] = None,
             team: Annotated[str | None, Query(description="Only this team.")] = None,
             limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """Open MQLs (status open, near_breach or open_breached), least time left first: the SLA board."""
    data = table_for(request, since, at)
    rows = board(data.rows, owner=owner, team=team)
    if format != "json":
        return file_of(_rows(rows), list(COLUMNS), "speed_to_lead_open", format)
    return page_json(_rows(rows.slice(offset, limit)), rows.num_rows, limit, offset, as_of=data.now)


@router.get("/api/v1/leads/sla/breaches", response_model=None)
def breaches_api(request: Request, user: Reader, since: SinceQ = None, at: AtQ = None,
                 near: Annotated[bool, Query(description="Near breaches instead of breaches.")] = False,
                 limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """Breached MQLs (untouched first, least time left first; then touched too late, newest first), or with
    ``near=true`` the near breaches; ``notices`` are the escalation notices of the last ``alert_days``
    days (kind, severity, title, message, link, owner, recipients, detail.escalate_to)."""
    data = table_for(request, since, at)
    rows = breaches(data.rows, near=near)
    if format != "json":
        return file_of(_rows(rows), list(COLUMNS), "speed_to_lead_near_breaches" if near else
                       "speed_to_lead_breaches", format)
    kind = "speed_to_lead_near_breach" if near else "speed_to_lead_breach"
    notices = analysis(request, "leads_sla_alerts", _alerts, now=data.now)
    return page_json(_rows(rows.slice(offset, limit)), rows.num_rows, limit, offset, as_of=data.now, near=near,
                     notices=[n.to_json() for n in notices if n.kind == kind])


def _alerts(ws: Workspace, *, now: dt.datetime) -> list[Any]:
    return speed_alerts(ws, now=now)


@router.get("/api/v1/leads/sla/calendars", response_model=None)
def calendars_api(request: Request, user: Reader, format: Format = "json") -> Any:
    """Each team's working calendar (in words), time zone, target, near-breach share and escalation address."""
    cals = _calendars(request)
    if format != "json":
        return file_of([{c: r[c] for c in CALENDAR_COLUMNS} for r in cals], CALENDAR_COLUMNS,
                       "speed_to_lead_calendars", format)
    return {"items": cals, "total": len(cals)}


@router.get("/api/v1/leads/sla/{person_id}", response_model=None)
def lead_api(request: Request, user: Reader, person_id: str, at: AtQ = None, format: Format = "json") -> Any:
    """One MQL (person id or email): its response time, status, deadline, the team's calendar, and the
    working windows counted and closed days skipped (``format=csv|xlsx``: the windows)."""
    result = analysis(request, "leads_sla_explain", _explain, who=person_id, now=_moment(at))
    if format != "json":
        rows = [{"day": s.day, "from": s.start, "to": s.end, "hours": round(s.hours, 4)} for s in result.segments]
        return file_of(rows, ["day", "from", "to", "hours"], f"speed_to_lead_{person_id}", format)
    return result.to_json()
