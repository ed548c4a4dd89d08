"""Actual spend for budgets: the metrics layer's ``spend`` per day, channel, platform and campaign,
already converted to the reporting currency, and the part of it a budget scope covers.

Example:
    >>> from datetime import date
    >>> from decimal import Decimal as D
    >>> from marketops.plan.budget_lines import Scope
    >>> rows = [SpendRow(date(2026, 3, 1), "Paid Search", "google_ads", "brand", D("10")),
    ...         SpendRow(date(2026, 3, 1), "Paid Search", "microsoft_ads", "brand", D("5"))]
    >>> scope_daily(rows, Scope(channel="Paid Search")), scope_daily(rows, Scope(platform="google_ads"))
    ({datetime.date(2026, 3, 1): Decimal('15')}, {datetime.date(2026, 3, 1): Decimal('10')})
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from marketops.plan.budget_lines import Scope

if TYPE_CHECKING:
    from marketops.workspace import Workspace


@dataclass(frozen=True)
class SpendRow:
    day: date
    channel: str | None
    platform: str | None
    campaign: str | None
    spend: Decimal


def daily_spend(ws: Workspace, start: date, end: date) -> list[SpendRow]:
    """Spend per day, channel, platform and campaign from ``start`` to ``end`` (inclusive), in the
    reporting currency; empty when no ad spend is loaded. A day without a rate for its currency
    raises NotFound (with the hint to load rates), as every report does."""
    from marketops.metrics import query_metrics
    from marketops.metrics.query import engine_rates

    if not ws.engine.has_table("ad_spend"):
        return []
    table = query_metrics(ws.engine, ["spend"], by=["channel", "platform", "campaign"], grain="day", start=start,
                          end=end, reporting_currency=ws.config.reporting_currency, rates=engine_rates(ws.engine))
    return [SpendRow(r["period"], r["channel"], (r["platform"] or "").lower() or None, r["campaign"],
                     Decimal(r["spend"]))
            for r in table.to_pylist() if r["spend"] is not None]


def covers(scope: Scope, row: SpendRow) -> bool:
    """Whether ``row``'s spend counts against ``scope``."""
    if scope.platform is not None and row.platform != scope.platform:
        return False
    if scope.channel is not None and (row.channel or "").lower() != scope.channel.lower():
        return False
    return scope.campaign is None or row.campaign == scope.campaign


def scope_daily(rows: Iterable[SpendRow], scope: Scope) -> dict[date, Decimal]:
    """The scope's spend per day."""
    out: dict[date, Decimal] = defaultdict(Decimal)
    for r in rows:
        if covers(scope, r):
            out[r.day] += r.spend
    return dict(out)


def channel_totals(rows: Iterable[SpendRow], start: date, end: date) -> dict[str, Decimal]:
    """Spend per channel between two days (inclusive)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if start <= r.day <= end:
            out[r.channel or "Paid Other"] += r.spend
    return dict(out)
