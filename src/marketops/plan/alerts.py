"""Alerts: one list of what needs attention, collected from the plan.

* **goal**: goals whose newest measurement is ``at_risk`` (warning) or ``off_track`` (critical); the
  message is the measurement's own sentence; owner: the goal's owner.
* **budget**: over- and under-pacing budget lines of the current month (warning), from
  :func:`marketops.plan.budgets.pacing_alerts` with ``alerts.pacing_tolerance``; no owner.
* **sla**: an SLA breached in its last complete period (critical), or heading for a breach in the
  period in progress (warning); owner: the SLA's ``owner``.
* **task**: tasks due before today and not done (warning; critical when overdue by more than
  ``alerts.overdue_critical_days``); owner: the task's owner.

Each alert names its recipients: the ``alerts.recipients`` whose kinds include it and, for
``only_own`` recipients, only when they own it (the owner is their email or their user name).

Example:
    >>> a = Alert("task", "warning", "Overdue: Launch page", "Due 2026-03-01.", "/tasks/4", owner="Ana",
    ...           key="task:4", status="overdue")
    >>> a.to_json()["link"], SEVERITY_ORDER[a.severity]
    ('/tasks/4', 1)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.errors import MarketopsError
from marketops.plan.alert_config import ALERT_KINDS, AlertsConfig, Recipient
from marketops.state.models import User
from marketops.state.planning import Goal

log = logging.getLogger(__name__)

SEVERITIES = ("critical", "warning")
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
KIND_TITLES = {"goal": "Goals", "budget": "Budget pacing", "sla": "SLAs", "task": "Overdue tasks",
               "lead": "Speed to lead", "stack": "Martech renewals", "asset": "Asset rights"}


@dataclass(frozen=True)
class Alert:
    """One thing that needs attention."""

    kind: str  # goal | budget | sla | task | lead
    severity: str  # critical | warning
    title: str
    message: str
    link: str  # path in the web app, e.g. /goals/3
    owner: str | None = None
    key: str = ""  # stable identity, e.g. goal:3
    status: str = ""  # at_risk, off_track, over_pacing, under_pacing, breached, near_breach, overdue
    recipients: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "status": self.status, "title": self.title,
                "message": self.message, "link": self.link, "owner": self.owner, "key": self.key,
                "recipients": list(self.recipients), "detail": self.detail}

    def row(self) -> dict[str, Any]:
        """A flat row for CSV/XLSX."""
        return {"kind": self.kind, "severity": self.severity, "status": self.status, "title": self.title,
                "message": self.message, "owner": self.owner or "", "link": self.link,
                "recipients": ", ".join(self.recipients)}


@dataclass
class AlertList:
    """The alerts, most severe first, and what could not be checked (and why)."""

    alerts: list[Alert]
    problems: list[str] = field(default_factory=list)
    today: dt.date | None = None

    def counts(self) -> dict[str, int]:
        """Alerts per kind (every kind, zero included) and per severity."""
        out = {k: 0 for k in (*ALERT_KINDS, *SEVERITIES)}
        for a in self.alerts:
            out[a.kind] += 1
            out[a.severity] += 1
        return out


# -- the sources -------------------------------------------------------------------------------------------

def goal_alerts(session: Session) -> list[Alert]:
    """Goals whose newest measurement says at risk or off track."""
    from marketops.plan.progress import latest_progress

    newest = latest_progress(session)
    out = []
    for goal_id, p in sorted(newest.items()):
        if p.status not in ("at_risk", "off_track"):
            continue
        goal = session.get(Goal, goal_id)
        if goal is None:
            continue
        words = "off track" if p.status == "off_track" else "at risk"
        message = (p.detail or {}).get("message") or f"{goal.title} is {words}."
        out.append(Alert("goal", "critical" if p.status == "off_track" else "warning", f"Goal {words}: {goal.title}",
                         message, f"/goals/{goal.id}", goal.owner or None, f"goal:{goal.id}", p.status,
                         detail={"goal_id": goal.id, "value": p.value, "forecast": p.forecast,
                                 "target": goal.target, "as_of": p.as_of.isoformat() if p.as_of else None}))
    return out


def task_alerts(session: Session, today: dt.date, critical_days: int = 7) -> list[Alert]:
    """Tasks due before ``today`` that are not done."""
    from marketops.plan.tasks import list_tasks

    out = []
    for t in list_tasks(session, overdue=True, today=today):
        late = (today - t.due_date).days
        initiative = t.initiative.title if t.initiative is not None else ""
        days = f"{late} day{'s' if late != 1 else ''}"
        message = (f"'{t.title}' was due on {t.due_date.isoformat()} ({days} ago) and is still "
                   f"{ {'todo': 'to do'}.get(t.status, t.status.replace('_', ' '))}" + (f"; initiative: {initiative}" if initiative else "")
                   + (f"; owner: {t.owner}." if t.owner else "; nobody owns it."))
        out.append(Alert("task", "critical" if late > critical_days else "warning", f"Overdue task: {t.title}",
                         message, f"/tasks/{t.id}", t.owner or None, f"task:{t.id}", "overdue",
                         detail={"task_id": t.id, "due_date": t.due_date.isoformat(), "days_overdue": late,
                                 "status": t.status, "initiative": initiative}))
    return out


def sla_alerts(reports: Sequence[Any]) -> list[Alert]:
    """Breaches of the last complete period, and near-breaches of the period in progress."""
    from marketops.plan.slas import period_label

    out = []
    for r in reports:
        rule, last, cur = r.rule, r.last_complete, r.current
        teams = f"{rule.from_team} → {rule.to_team}"
        shown = (lambda v: f"{v:.0%}") if rule.kind == "response" else (lambda v: f"{v:,.0f}")
        if last is not None and last.status == "breached":
            label = period_label(last.period, rule.per)
            out.append(Alert("sla", "critical", f"SLA breached: {rule.name}",
                             f"{teams}: {shown(last.value)} in {label} against {shown(last.threshold)} "
                             f"({r.words.rstrip('.')}).", f"/slas#sla-{rule.name}", rule.owner,
                             f"sla:{rule.name}:{last.period.isoformat()}", "breached",
                             detail={"sla": rule.name, "period": last.period.isoformat(), "value": last.value,
                                     "threshold": last.threshold, "margin": last.margin}))
        if cur is not None and cur.near_breach:
            label = period_label(cur.period, rule.per)
            heading = (f", heading for {shown(cur.projected)} at the period's end"
                       if cur.projected is not None and cur.projected != cur.value else "")
            out.append(Alert("sla", "warning", f"SLA near breach: {rule.name}",
                             f"{teams}: {shown(cur.value)} so far in {label}{heading}, against "
                             f"{shown(cur.threshold)} ({r.words.rstrip('.')}).", f"/slas#sla-{rule.name}",
                             rule.owner, f"sla:{rule.name}:{cur.period.isoformat()}", "near_breach",
                             detail={"sla": rule.name, "period": cur.period.isoformat(), "value": cur.value,
                                     "projected": cur.projected, "threshold": cur.threshold}))
    return out


def budget_alerts(pacing: Sequence[Any]) -> list[Alert]:
    """Alerts of :func:`marketops.plan.budgets.pacing_alerts` (over- and under-pacing lines)."""
    out = []
    for p in pacing:
        word = "Over-pacing" if p.kind == "over_pacing" else "Under-pacing"
        out.append(Alert("budget", "warning", f"{word}: {p.scope}", p.message, f"/budgets?month={p.month:%Y-%m}",
                         None, f"budget:{p.scope}:{p.month:%Y-%m}", p.kind,
                         detail={"scope": p.scope, "month": f"{p.month:%Y-%m}", "planned": str(p.planned),
                                 "expected_to_date": str(p.expected_to_date), "actual_to_date": str(p.actual_to_date),
                                 "projected": str(p.projected), "currency": p.currency}))
    return out


def _pacing_alerts(ws: Any, session: Session, today: dt.date, tolerance: float) -> list[Any]:
    # imported here: budgets pull in the metrics layer, and alerts must work while it is absent
    from marketops.plan.budgets import pacing_alerts

    return pacing_alerts(ws, session, today=today, tolerance=tolerance)


# -- routing ---------------------------------------------------------------------------------------------------

def owner_aliases(session: Session, email: str) -> set[str]:
    """What an owner field may hold for this person: their email and their user name (lower case)."""
    email = email.strip().lower()
    names = {email}
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None and user.name.strip():
        names.add(user.name.strip().lower())
    return names


def receives(recipient: Recipient, alert: Alert, aliases: set[str]) -> bool:
    """Whether ``recipient`` (whose owner spellings are ``aliases``) gets ``alert``.

    >>> r = Recipient(email="ana@acme.test", kinds=["task"], only_own=True)
    >>> a = Alert("task", "warning", "t", "m", "/tasks/1", owner="Ana")
    >>> receives(r, a, {"ana@acme.test", "ana"}), receives(r, a, {"bo@acme.test"})
    (True, False)
    """
    if alert.kind not in recipient.kinds:
        return False
    if recipient.only_own:
        return alert.owner is not None and alert.owner.strip().lower() in aliases
    return True


def route(session: Session, alerts: Sequence[Alert], recipients: Sequence[Recipient]) -> list[Alert]:
    """``alerts`` with their ``recipients`` filled in.

    A speed-to-lead notice also goes to the lead's owner and, on a breach, to the team's escalation
    address, whoever is configured: that is the escalation the SLA promises.
    """
    aliases = {r.email: owner_aliases(session, r.email) for r in recipients}
    out = []
    for a in alerts:
        to = [r.email for r in recipients if receives(r, a, aliases[r.email])]
        to += [a.detail.get(k) for k in ("owner_email", "escalate_to")] if a.kind == "lead" else []
        out.append(replace(a, recipients=tuple(dict.fromkeys(x for x in to if x))))
    return out


def _lead_alerts(ws: Any, today: dt.date, now: dt.datetime | None) -> list[Alert]:
    """The speed-to-lead notices of MQLs near or past their target."""
    from marketops.leads.speed_alerts import speed_alerts

    return [Alert(**n.alert_fields()) for n in speed_alerts(ws, today, now=now)]


# -- all together ------------------------------------------------------------------------------------------------

PacingSource = Callable[[Any, Session, dt.date, float], Sequence[Any]]


def _governance_alerts(ws: Any, session: Session, today: dt.date) -> list[Alert]:
    """Martech renewals within 30 days and assets whose usage rights expire within the library's warning
    window (the stack and the library keep their own rules; the alerts list only gathers them)."""
    from marketops.library.assets import asset_alerts
    from marketops.library.config import LibraryConfig
    from marketops.stack.alerts import renewal_alerts

    days = (ws.config.library if ws is not None else LibraryConfig()).asset_expiry_warning_days
    return renewal_alerts(session, today) + asset_alerts(session, today, days)


def collect_alerts(ws: Any, session: Session, *, today: dt.date | None = None, config: AlertsConfig | None = None,
                   sla_reports: Sequence[Any] | None = None, pacing: PacingSource | None = None,
                   now: dt.datetime | None = None) -> AlertList:
    """Every alert, most severe first, with recipients.

    ``sla_reports`` may be passed when already computed (the web app caches them); ``pacing`` replaces
    the budget pacing source (tests); ``now`` pins the moment speed-to-lead is judged at. A source that cannot be checked (no ad data, a broken metric)
    adds a line to ``problems`` instead of failing the list.
    """
    today = today or dt.date.today()
    config = config or (ws.config.alerts if ws is not None else AlertsConfig())
    problems: list[str] = []
    alerts = goal_alerts(session) + task_alerts(session, today, config.overdue_critical_days)
    if sla_reports is None and ws is not None:
        from marketops.plan.slas import sla_reports as compute

        try:
            sla_reports = compute(ws, today=today)
        except MarketopsError as e:
            problems.append(f"SLAs could not be checked: {e.message}")
    alerts += sla_alerts(sla_reports or [])
    try:
        alerts += budget_alerts((pacing or _pacing_alerts)(ws, session, today, config.pacing_tolerance))
    except (MarketopsError, ImportError) as e:
        problems.append(f"Budget pacing could not be checked: {getattr(e, 'message', e)}")
    except Exception as e:  # pacing must never take the alerts page down
        log.exception("budget pacing alerts failed")
        problems.append(f"Budget pacing could not be checked: {type(e).__name__}: {e}")
    if ws is not None:
        try:
            alerts += _lead_alerts(ws, today, now)
        except MarketopsError as e:
            problems.append(f"Speed to lead could not be checked: {e.message}")
    alerts += _governance_alerts(ws, session, today)
    alerts.sort(key=lambda a: (SEVERITY_ORDER[a.severity], ALERT_KINDS.index(a.kind), a.key))
    return AlertList(route(session, alerts, config.recipients), problems, today)


def filter_alerts(alerts: Sequence[Alert], *, kind: str | None = None, severity: str | None = None,
                  owner: str | None = None, recipient: str | None = None) -> list[Alert]:
    """The alerts matching every filter given (owner and recipient case-insensitively)."""
    out = list(alerts)
    if kind:
        out = [a for a in out if a.kind == kind]
    if severity:
        out = [a for a in out if a.severity == severity]
    if owner:
        out = [a for a in out if (a.owner or "").strip().lower() == owner.strip().lower()]
    if recipient:
        out = [a for a in out if recipient.strip().lower() in a.recipients]
    return out
