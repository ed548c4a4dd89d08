"""Escalation notices of the speed-to-lead SLA and the arithmetic behind one lead's response time.

:func:`speed_alerts` gives one notice per untouched MQL of the last ``leads.sla.alert_days`` days that
is near breach (to its owner) or past its target (to its owner and the team's ``escalate_to``). The
notices have the fields of the planning alerts (:class:`marketops.plan.alerts.Alert`: kind, severity,
title, message, link, owner, key, status, detail) so they join that list and its email digest as kind
``lead``: ``Alert(**notice.alert_fields())``; :attr:`SpeedAlert.recipients` are the addresses to notify.

Example:
    >>> a = SpeedAlert("speed_to_lead_breach", "critical", "Speed to lead breached: ana@x.io", "m", "/leads/sla?person=p1",
    ...                owner="Bo", owner_email="bo@acme.test", escalate_to="boss@acme.test", person_id="p1")
    >>> a.recipients, a.alert_fields()["key"]
    (('bo@acme.test', 'boss@acme.test'), 'speed_to_lead_breach:p1')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from marketops.errors import MarketopsError, NotFound
from marketops.leads.calendar import BusinessCalendar, ClosedDay, Segment
from marketops.leads.speed import as_of, speed_table
from marketops.workspace import Workspace

BREACH, NEAR_BREACH = "speed_to_lead_breach", "speed_to_lead_near_breach"
#: The kind these notices have in the planning alerts and their digest (breach or near by severity).
ALERT_KIND = "lead"
#: Windows and closed days an explanation lists (the first ones, from the MQL on).
WINDOWS = 60


@dataclass(frozen=True)
class SpeedAlert:
    """One escalation notice: an untouched MQL near or past its response target."""

    kind: str  # speed_to_lead_breach | speed_to_lead_near_breach
    severity: str  # critical (breach) | warning (near breach)
    title: str
    message: str
    link: str
    owner: str | None = None
    owner_email: str | None = None
    escalate_to: str | None = None  # breaches only: the team's escalation address
    person_id: str = ""
    team: str = ""
    time_left_hours: float | None = None
    deadline: dt.datetime | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """Who gets the notice: the owner, and on a breach the team's escalation address."""
        return tuple(dict.fromkeys(x for x in (self.owner_email, self.escalate_to) if x))

    def alert_fields(self) -> dict[str, Any]:
        """Keyword arguments of a planning :class:`~marketops.plan.alerts.Alert`."""
        return {"kind": ALERT_KIND, "severity": self.severity, "title": self.title, "message": self.message,
                "link": self.link, "owner": self.owner_email or self.owner, "key": f"{self.kind}:{self.person_id}",
                "status": "breached" if self.kind == BREACH else "near_breach",
                "detail": {"person_id": self.person_id, "team": self.team, "owner": self.owner,
                           "owner_email": self.owner_email, "escalate_to": self.escalate_to,
                           "time_left_hours": self.time_left_hours,
                           "deadline": self.deadline.isoformat() if self.deadline else None}}

    def to_json(self) -> dict[str, Any]:
        return {**self.alert_fields(), "recipients": list(self.recipients)}


def _hours(h: float) -> str:
    h = abs(h)
    return f"{h:.1f} business hour{'' if round(h, 1) == 1 else 's'}"


def speed_alerts(ws: Workspace, today: dt.date | None = None, *, now: dt.datetime | None = None) -> list[SpeedAlert]:
    """Notices for the untouched MQLs of the last ``alert_days`` days that are near breach or breached,
    breaches first, least time left first."""
    moment = as_of(today, now)
    cfg = ws.config.leads.sla
    table = speed_table(ws, since=moment - dt.timedelta(days=cfg.alert_days), now=moment)
    rows = table.rows.filter(pc.is_in(table.rows.column("status"), pa.array(["near_breach", "open_breached"])))
    escalate = {t.name.lower(): t.escalate_to for t in cfg.teams}
    out = []
    for r in sorted(rows.to_pylist(), key=lambda r: (r["status"] != "open_breached", r["time_left_hours"],
                                                       r["person_id"])):
        breach = r["status"] == "open_breached"
        who = r["email"] or r["person_id"]
        owner = r["owner_name"] or "nobody"
        target = f"{r['target_hours']:g} business hours"
        when = f"{r['mql_at']:%Y-%m-%d %H:%M} UTC"
        if breach:
            msg = (f"{who} became an MQL on {when} and has had no sales touch for {_hours(r['elapsed_hours'])}, "
                   f"past the target of {target} by {_hours(r['time_left_hours'])}; owner: {owner}.")
        else:
            msg = (f"{who} became an MQL on {when}: {_hours(r['time_left_hours'])} left of the target of "
                   f"{target} for a first sales touch; owner: {owner}.")
        out.append(SpeedAlert(
            BREACH if breach else NEAR_BREACH, "critical" if breach else "warning",
            f"Speed to lead {'breached' if breach else 'near breach'}: {who}", msg,
            f"/leads/sla?person={r['person_id']}", r["owner_name"], r["owner_email"],
            escalate.get(r["team"].lower()) if breach else None, r["person_id"], r["team"],
            r["time_left_hours"], r["deadline"]))
    return out


# -- explaining one lead --------------------------------------------------------------------------------

@dataclass
class SpeedExplanation:
    """The arithmetic of one MQL's response time: the calendar, the windows counted, the closed days."""

    lead: dict[str, Any]
    now: dt.datetime
    calendar: list[str]
    timezone: str
    clock_starts: dt.datetime | None
    counted_until: dt.datetime
    segments: list[Segment] = field(default_factory=list)
    closed_days: list[ClosedDay] = field(default_factory=list)
    #: more windows (or closed days) than listed: a lead open for months
    truncated: bool = False

    @property
    def counted_hours(self) -> float:
        """The business hours counted (the response time, or the time elapsed while untouched)."""
        return float(self.lead["elapsed_hours"] or 0.0)

    def to_json(self) -> dict[str, Any]:
        return {"lead": self.lead, "now": self.now, "timezone": self.timezone, "calendar": self.calendar,
                "clock_starts": self.clock_starts, "counted_until": self.counted_until,
                "counted_hours": self.counted_hours, "truncated": self.truncated,
                "windows": [{"day": s.day, "from": s.start, "to": s.end, "hours": round(s.hours, 4)}
                            for s in self.segments],
                "closed_days": [{"day": d.day, "reason": d.reason} for d in self.closed_days]}


def explain_lead(ws: Workspace, who: str, *, today: dt.date | None = None,
                 now: dt.datetime | None = None) -> SpeedExplanation:
    """How the response time of the MQL ``who`` (email or person id) was counted."""
    table = speed_table(ws, person=who, today=today, now=now)
    rows = table.rows.to_pylist()
    if not rows:
        raise NotFound(f"no MQL with email or id '{who}'; `marketops leads sla breaches` lists the MQLs")
    lead = min(rows, key=lambda r: r["mql_at"])
    team = ws.config.leads.sla.team(lead["team"])
    cal = table.calendars.get(team.name.lower()) or BusinessCalendar(team, ws.config.timezone)
    start = lead["mql_at"].replace(tzinfo=dt.UTC)
    stop = (lead["touch_at"] or table.now).replace(tzinfo=dt.UTC)
    try:
        clock = cal.next_working(start)
    except MarketopsError:  # a calendar closed for good: explained by its closed days
        clock = None
    segments = cal.segments(start, stop, limit=WINDOWS + 1)
    truncated = len(segments) > WINDOWS
    segments = segments[:WINDOWS]
    # the closed days of the stretch the listed windows cover
    until = segments[-1].end.replace(tzinfo=cal.zone) if truncated else stop
    closed = cal.closed_days(start, until, limit=WINDOWS)
    return SpeedExplanation(lead, table.now, cal.describe(), cal.zone_name, clock, stop, segments, closed,
                            truncated=truncated)
