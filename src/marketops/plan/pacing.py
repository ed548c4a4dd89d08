"""Pacing: is a month's spend on track to land on its budget?

**The expected curve.** By default the plan is spread evenly over the days of the month: after 10
of 30 days, a third of it should be spent. When the scope has spend in at least
:data:`MIN_HISTORY_MONTHS` earlier months (of the last :data:`HISTORY_MONTHS`), each day is
weighted by the scope's weekday pattern instead (the average spend of that weekday over those
months, against the average day): a B2B campaign that spends little at weekends is not "behind"
on a Monday morning.

**To date** means through the last complete day, yesterday: ad platforms report a day once it
is over. **Projected** month-end spend is the spend to date divided by the share of the curve
already behind us. A scope is **over-pacing** when its spend to date is more than
``1 + tolerance`` times the expected spend to date, **under-pacing** when less than
``1 - tolerance`` times it; nothing is judged in the first :data:`MIN_DAYS` days (too little
spend to tell).

Example:
    >>> from datetime import date
    >>> from decimal import Decimal as D
    >>> daily = {date(2026, 3, d): D("150") for d in range(1, 11)}
    >>> p = pace(D("3100"), daily, date(2026, 3, 1), today=date(2026, 3, 11))
    >>> p.expected_to_date, p.actual_to_date, p.projected, p.status
    (Decimal('1000.00'), Decimal('1500.00'), Decimal('4650.00'), 'over_pacing')
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from marketops.metrics.query import shift_period

CENT = Decimal("0.01")
#: Earlier months with spend needed before the weekday pattern replaces the even spread.
MIN_HISTORY_MONTHS = 2
#: How many earlier months the weekday pattern looks at, at most.
HISTORY_MONTHS = 3
#: Complete days of a month before pacing is judged.
MIN_DAYS = 3
STATUSES = ("over_pacing", "under_pacing", "on_pace", "not_started", "too_early")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Pacing:
    """A month's spend to date against its expected curve."""

    month: date
    planned: Decimal
    #: The last day counted (None: no day of the month is complete yet).
    as_of: date | None
    days_elapsed: int
    days_in_month: int
    #: Share of the month's curve behind us, 0..1.
    share_elapsed: Decimal
    expected_to_date: Decimal
    actual_to_date: Decimal
    projected: Decimal | None
    #: "even" or "weekday".
    curve: str
    status: str
    #: Actual to date / expected to date (None when nothing was expected).
    ratio: float | None
    #: Weekday (0 = Monday) -> weight, for the weekday curve.
    weights: dict[int, Decimal] = field(default_factory=dict)


def month_days(month: date) -> list[date]:
    """Every day of ``month``.

    >>> len(month_days(date(2028, 2, 1)))
    29
    """
    n = calendar.monthrange(month.year, month.month)[1]
    return [date(month.year, month.month, d) for d in range(1, n + 1)]


def weekday_weights(daily: Mapping[date, Decimal], month: date) -> dict[int, Decimal] | None:
    """Weight of each weekday (1 = an average day) from the scope's spend in the months before
    ``month``; None when fewer than :data:`MIN_HISTORY_MONTHS` of the last
    :data:`HISTORY_MONTHS` months have spend.

    >>> from decimal import Decimal as D
    >>> history = {d: D(0 if d.weekday() >= 5 else 100) for m in (1, 2) for d in month_days(date(2026, m, 1))}
    >>> w = weekday_weights(history, date(2026, 3, 1))
    >>> round(w[0], 2), w[6] == 0
    (Decimal('1.40'), True)
    """
    months = [shift_period(month, "month", -i) for i in range(1, HISTORY_MONTHS + 1)]
    with_spend = [m for m in months if sum((v for d, v in daily.items() if d.replace(day=1) == m), Decimal(0)) > 0]
    if len(with_spend) < MIN_HISTORY_MONTHS:
        return None
    totals: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, int] = defaultdict(int)
    for m in with_spend:
        for d in month_days(m):  # a day without a row spent nothing
            totals[d.weekday()] += daily.get(d, Decimal(0))
            counts[d.weekday()] += 1
    days = sum(counts.values())
    average = sum(totals.values(), Decimal(0)) / days
    return {w: (totals[w] / counts[w]) / average for w in range(7)}


def share_through(month: date, through: date | None, weights: Mapping[int, Decimal] | None) -> Decimal:
    """The share of ``month``'s curve from its first day through ``through`` (inclusive).

    >>> share_through(date(2026, 4, 1), date(2026, 4, 15), None)
    Decimal('0.5')
    """
    days = month_days(month)
    if through is None or through < days[0]:
        return Decimal(0)

    def weight(d: date) -> Decimal:
        return Decimal(1) if weights is None else weights[d.weekday()]

    total = sum((weight(d) for d in days), Decimal(0))
    if total == 0:  # a pattern of no spend at all: fall back to the even spread
        return share_through(month, through, None)
    return sum((weight(d) for d in days if d <= through), Decimal(0)) / total


def pace(planned: Decimal, daily: Mapping[date, Decimal], month: date, *, today: date,
         tolerance: float = 0.10) -> Pacing:
    """Pacing of ``month`` for one scope: ``daily`` is its spend per day, earlier months included
    (they give the weekday pattern); ``today`` is not counted (its spend is not complete)."""
    if tolerance < 0:
        raise ValueError("the tolerance cannot be negative")
    month = month.replace(day=1)
    days = month_days(month)
    as_of: date | None = min(today - timedelta(days=1), days[-1])
    if as_of < days[0]:
        as_of = None
    weights = weekday_weights(daily, month)
    share = share_through(month, as_of, weights)
    elapsed = 0 if as_of is None else (as_of - days[0]).days + 1
    actual = sum((v for d, v in daily.items() if as_of is not None and days[0] <= d <= as_of), Decimal(0))
    expected = (planned * share).quantize(CENT, ROUND_HALF_UP)
    projected = (actual / share).quantize(CENT, ROUND_HALF_UP) if share > 0 else None
    ratio = float(actual / expected) if expected > 0 else None
    tol = Decimal(str(tolerance))
    if as_of is None:
        status = "not_started"
    elif elapsed < MIN_DAYS and as_of < days[-1]:
        status = "too_early"
    elif expected == 0:
        status = "over_pacing" if actual > 0 else "on_pace"
    elif actual > expected * (1 + tol):
        status = "over_pacing"
    elif actual < expected * (1 - tol):
        status = "under_pacing"
    else:
        status = "on_pace"
    return Pacing(month=month, planned=planned, as_of=as_of, days_elapsed=elapsed, days_in_month=len(days),
                  share_elapsed=share, expected_to_date=expected, actual_to_date=actual.quantize(CENT),
                  projected=projected, curve="even" if weights is None else "weekday", status=status, ratio=ratio,
                  weights=weights or {})
