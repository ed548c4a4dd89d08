"""Budgets: the plan per channel or platform and month, the actual spend against it, the variance,
the pacing of the current month and its alerts. The lines themselves are kept by
:mod:`marketops.plan.budget_lines` (set, import, remove), the pacing rules are in
:mod:`marketops.plan.pacing`, the reallocation hint in :mod:`marketops.plan.reallocation`.

Money is exact: plans are integer cents, actual spend comes from the metrics layer as decimals in
the reporting currency, and variance is ``actual - plan`` (positive: over plan), its percentage
``variance / plan``.

Example:
    >>> from datetime import date
    >>> from decimal import Decimal as D
    >>> variance(D("1200.00"), D("1000.00"))
    (Decimal('200.00'), 0.2)
    >>> alert = PacingAlert("over_pacing", "Paid Search", date(2026, 3, 1), D("3100"), D("1000"), D("1500"),
    ...                     D("4650"), "EUR", "Paid Search is over-pacing")
    >>> alert.kind, alert.scope
    ('over_pacing', 'Paid Search')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from marketops.errors import MarketopsError
from marketops.metrics.query import shift_period
from marketops.plan.budget_actuals import SpendRow, channel_totals, covers, daily_spend, scope_daily
from marketops.plan.budget_lines import (
    BudgetContext,
    BudgetRefused,
    Scope,
    budget_context,
    line_json,
    list_lines,
    parse_month,
    remove_line,
    scope_of,
    set_line,
)
from marketops.plan.pacing import HISTORY_MONTHS, Pacing, month_days, pace
from marketops.workspace import Workspace

__all__ = ["BudgetContext", "BudgetRefused", "BudgetReport", "BudgetRow", "PacingAlert", "Scope", "budget_context",
           "budget_report", "line_json", "list_lines", "pacing_alerts", "parse_month", "remove_line", "set_line",
           "variance"]

CENT = Decimal("0.01")
DEFAULT_TOLERANCE = 0.10


@dataclass(frozen=True)
class PacingAlert:
    """A scope spending faster or slower than its plan's curve this month (for alerts and digests)."""

    kind: str  # "over_pacing" | "under_pacing"
    scope: str
    month: date
    planned: Decimal
    expected_to_date: Decimal
    actual_to_date: Decimal
    projected: Decimal
    currency: str
    message: str


@dataclass(frozen=True)
class BudgetRow:
    """One budget line of a month with its actual spend, variance and pacing."""

    id: int
    scope: str
    channel: str | None
    platform: str | None
    campaign: str | None
    channel_group: str
    planned: Decimal
    actual: Decimal
    variance: Decimal
    variance_pct: float | None
    note: str
    pacing: Pacing | None = None

    def to_json(self) -> dict[str, Any]:
        p = self.pacing
        return {"id": self.id, "scope": self.scope, "channel": self.channel, "platform": self.platform,
                "campaign": self.campaign, "channel_group": self.channel_group, "planned": str(self.planned),
                "actual": str(self.actual), "variance": str(self.variance), "variance_pct": self.variance_pct,
                "note": self.note, "pacing": None if p is None else pacing_json(p)}

    def flat(self) -> dict[str, Any]:
        """The row for a CSV/XLSX file."""
        p = self.pacing
        return {"scope": self.scope, "channel": self.channel, "platform": self.platform, "campaign": self.campaign,
                "planned": self.planned, "actual": self.actual, "variance": self.variance,
                "variance_pct": None if self.variance_pct is None else round(self.variance_pct, 4),
                "expected_to_date": p.expected_to_date if p else None, "actual_to_date": p.actual_to_date if p else None,
                "projected": p.projected if p else None, "pacing": p.status if p else None, "note": self.note}


@dataclass
class BudgetReport:
    month: date
    currency: str
    today: date
    rows: list[BudgetRow] = field(default_factory=list)
    #: Channels with spend in the month but no budget line covering them: channel -> spend.
    unplanned: dict[str, Decimal] = field(default_factory=dict)
    #: Why actual spend could not be read (e.g. a missing exchange rate), if so.
    problem: str | None = None
    alerts: list[PacingAlert] = field(default_factory=list)

    @property
    def planned_total(self) -> Decimal:
        return sum((r.planned for r in self.rows), Decimal(0)).quantize(CENT)

    @property
    def actual_total(self) -> Decimal:
        return sum((r.actual for r in self.rows), Decimal(0)).quantize(CENT)

    @property
    def is_current(self) -> bool:
        return self.month == self.today.replace(day=1)

    def to_json(self) -> dict[str, Any]:
        var, pct = variance(self.actual_total, self.planned_total)
        return {"month": f"{self.month:%Y-%m}", "currency": self.currency, "today": self.today.isoformat(),
                "items": [r.to_json() for r in self.rows], "total": len(self.rows),
                "totals": {"planned": str(self.planned_total), "actual": str(self.actual_total), "variance": str(var),
                           "variance_pct": pct},
                "unplanned": [{"channel": c, "actual": str(v)} for c, v in self.unplanned.items()],
                "alerts": [alert_json(a) for a in self.alerts], "problem": self.problem}


def variance(actual: Decimal, planned: Decimal) -> tuple[Decimal, float | None]:
    """``actual - planned`` and its share of the plan (None when nothing was planned)."""
    diff = (actual - planned).quantize(CENT, ROUND_HALF_UP)
    return diff, (float(diff / planned) if planned else None)


def pacing_json(p: Pacing) -> dict[str, Any]:
    return {"status": p.status, "as_of": p.as_of.isoformat() if p.as_of else None, "days_elapsed": p.days_elapsed,
            "days_in_month": p.days_in_month, "share_elapsed": round(float(p.share_elapsed), 4),
            "expected_to_date": str(p.expected_to_date), "actual_to_date": str(p.actual_to_date),
            "projected": None if p.projected is None else str(p.projected), "curve": p.curve,
            "ratio": None if p.ratio is None else round(p.ratio, 4)}


def alert_json(a: PacingAlert) -> dict[str, Any]:
    return {"kind": a.kind, "scope": a.scope, "month": f"{a.month:%Y-%m}", "planned": str(a.planned),
            "expected_to_date": str(a.expected_to_date), "actual_to_date": str(a.actual_to_date),
            "projected": str(a.projected), "currency": a.currency, "message": a.message}


def _spend(ws: Workspace, month: date, end: date) -> tuple[list[SpendRow], str | None]:
    try:
        return daily_spend(ws, shift_period(month, "month", -HISTORY_MONTHS), end), None
    except MarketopsError as e:  # a missing exchange rate: the plan still shows, the actuals say why not
        return [], str(e)


def budget_report(ws: Workspace, session: Session, month: str | date | None = None, *, today: date | None = None,
                  tolerance: float = DEFAULT_TOLERANCE) -> BudgetReport:
    """Plan, actual, variance and pacing of every budget line of ``month`` (default: this month)."""
    today = today or date.today()
    first = parse_month(month) if month is not None else today.replace(day=1)
    days = month_days(first)
    report = BudgetReport(first, ws.config.reporting_currency.upper(), today)
    lines = list_lines(session, first)
    rows, report.problem = _spend(ws, first, days[-1])
    in_month = [r for r in rows if r.day >= first]
    for line in lines:
        scope = scope_of(line)
        daily = scope_daily(rows, scope)
        planned = Decimal(line.amount_cents) / 100
        actual = sum((v for d, v in daily.items() if d >= first), Decimal(0)).quantize(CENT)
        diff, pct = variance(actual, planned)
        pacing = pace(planned, daily, first, today=today, tolerance=tolerance) if today > first else None
        report.rows.append(BudgetRow(line.id, scope.label, line.channel, line.platform, line.campaign,
                                     scope.channel_group, planned.quantize(CENT), actual, diff, pct, line.note, pacing))
    covered = [scope_of(line) for line in lines]
    for channel, spent in sorted(channel_totals(in_month, first, days[-1]).items()):
        rows_of_channel = [r for r in in_month if (r.channel or "Paid Other") == channel]
        uncovered = sum((r.spend for r in rows_of_channel if not any(covers(s, r) for s in covered)), Decimal(0))
        if uncovered > 0:
            report.unplanned[channel] = uncovered.quantize(CENT)
    if report.is_current:
        report.alerts = [a for r in report.rows if (a := _alert(r, report.currency)) is not None]
    return report


def _alert(row: BudgetRow, currency: str) -> PacingAlert | None:
    p = row.pacing
    if p is None or p.status not in ("over_pacing", "under_pacing") or p.as_of is None:
        return None
    projected = p.projected if p.projected is not None else p.actual_to_date
    direction = "over" if p.status == "over_pacing" else "under"
    if p.expected_to_date:
        off = f"{abs(p.actual_to_date / p.expected_to_date - 1):.0%} {'ahead of' if direction == 'over' else 'behind'}"
    else:
        off = "with nothing expected yet"
    end = (f"at this pace the month ends at {projected:,.2f} {currency}"
           + (f", {abs(projected / p.planned - 1):.0%} {direction} the plan" if p.planned else "") + ".")
    message = (f"{row.scope} is {direction}-pacing: {p.actual_to_date:,.2f} {currency} spent through "
               f"{p.as_of:%d %b}, {off} the {p.expected_to_date:,.2f} {currency} expected by then "
               f"(plan {p.planned:,.2f} {currency} for {p.month:%B %Y}); {end}")
    return PacingAlert(p.status, row.scope, p.month, p.planned.quantize(CENT), p.expected_to_date, p.actual_to_date,
                       projected, currency, message)


def pacing_alerts(ws: Workspace, session: Session, today: date | None = None,
                  tolerance: float = DEFAULT_TOLERANCE) -> list[PacingAlert]:
    """Over- and under-pacing alerts of the current month (the month of ``today``), one per budget
    line spending more than ``1 + tolerance`` or less than ``1 - tolerance`` times its expected
    curve to date (see :mod:`marketops.plan.pacing`)."""
    today = today or date.today()
    return budget_report(ws, session, today.replace(day=1), today=today, tolerance=tolerance).alerts
