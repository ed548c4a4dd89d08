"""A goal's metric as a series: its value per period at the goal's grain, within the goal's scope.

The metrics layer has no filter argument: the series is queried broken down ``by`` the scope's
dimensions and the matching rows are kept (values compared without regard to case, as the
metrics layer compares text). Periods with no rows in the scope are zero for counts and sums
(nothing happened) and unknown for ratios and averages.

Example:
    >>> scope_label({"channel": "Email", "country": "IT"})
    'channel = Email, country = IT'
    >>> scope_label({})
    'the whole business'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from marketops.errors import MarketopsError, did_you_mean
from marketops.metrics import Catalog, load_catalog, query_metrics
from marketops.metrics.query import check_dimensions, engine_rates, period_start, shift_period
from marketops.workspace import Workspace


class NoData(MarketopsError):
    """The metric cannot be measured for this scope (its tables are not loaded, or no rows match)."""


@dataclass
class Series:
    """Values per period (oldest first); ``complete`` is the first day of the newest complete period."""

    metric: str
    grain: str
    periods: list[dt.date] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    #: The last day the data covers (the earliest newest day of the metric's tables).
    as_of: dt.date | None = None
    complete: dt.date | None = None

    def value_at(self, period: dt.date) -> float | None:
        return dict(zip(self.periods, self.values)).get(period)

    def known(self, *, through: dt.date | None = None, since: dt.date | None = None) -> list[tuple[dt.date, float]]:
        """(period, value) pairs with a value, within ``since``..``through`` (period starts)."""
        return [(p, v) for p, v in zip(self.periods, self.values) if v is not None
                and (through is None or p <= through) and (since is None or p >= since)]


def scope_label(filters: dict[str, Any]) -> str:
    """The scope in words, for messages."""
    if not filters:
        return "the whole business"
    return ", ".join(f"{k} = {v}" for k, v in sorted(filters.items()))


def catalog_of(ws: Workspace) -> Catalog:
    """The workspace's metrics: built-ins plus ``metrics:`` of marketops.yaml."""
    return load_catalog(ws.root / "marketops.yaml")


def additive(catalog: Catalog, name: str) -> bool:
    """Whether values of ``name`` add up across periods (sums, counts and their differences), so
    that a total since the start means something. Distinct counts add up too: the people who
    became MQLs in each month, summed, are the MQLs since the start (someone counted in two
    periods counts twice, which for lifecycle stages, entered once, does not happen).

    >>> cat = load_catalog()
    >>> additive(cat, "clicks"), additive(cat, "ctr")
    (True, False)
    """
    m = catalog.get(name)
    if m.expression:
        return m.aggregate.func in ("sum", "count", "count_distinct")
    if m.difference:
        return all(additive(catalog, p) for p in m.parts)
    return False


def data_as_of(ws: Workspace, catalog: Catalog, name: str) -> dt.date | None:
    """The last day every table of ``name`` covers; NoData when one is not loaded."""
    days = []
    for base in catalog.base_metrics(name):
        if not ws.engine.has_table(base.table):
            raise NoData(f"metric '{name}' has no data: the table {base.table} is not loaded",
                         hint=f"load an export with {base.table.replace('_', ' ')} and run the pipeline")
        newest = ws.table(base.table)[base.time].max().to_pyarrow().as_py()
        if newest is None:
            raise NoData(f"metric '{name}' has no data: the table {base.table} is empty")
        days.append(newest.date() if isinstance(newest, dt.datetime) else newest)
    return min(days) if days else None


def latest_complete(as_of: dt.date, grain: str) -> dt.date:
    """The first day of the newest period that ends on or before ``as_of``.

    >>> latest_complete(dt.date(2024, 7, 2), "month"), latest_complete(dt.date(2024, 6, 30), "month")
    (datetime.date(2024, 6, 1), datetime.date(2024, 6, 1))
    """
    current = period_start(as_of, grain)
    return current if period_start(as_of + dt.timedelta(days=1), grain) != current else shift_period(current, grain, -1)


def _same(a: Any, b: Any) -> bool:
    return a is not None and str(a).strip().casefold() == str(b).strip().casefold()


def metric_series(ws: Workspace, metric: str, filters: dict[str, Any] | None = None, grain: str = "month", *,
                  catalog: Catalog | None = None) -> Series:
    """The series of ``metric`` in scope ``filters`` at ``grain``, from its first period with data
    to the newest one (which may be incomplete: see ``Series.complete``).

    Raises NotFound for an unknown metric or a dimension the metric does not allow, and
    :class:`NoData` (saying why) when nothing can be measured.
    """
    catalog = catalog or catalog_of(ws)
    filters = dict(filters or {})
    m = catalog.get(metric)
    dims = sorted(filters)
    check_dimensions(catalog, [m], dims)
    as_of = data_as_of(ws, catalog, metric)
    table = query_metrics(ws.engine, [metric], by=dims, grain=grain, catalog=catalog, end=as_of,
                          reporting_currency=ws.config.reporting_currency, rates=engine_rates(ws.engine),
                          segments=ws.config.segments).to_pylist()
    rows = [r for r in table if all(_same(r.get(d), filters[d]) for d in dims)]
    if not rows or all(r[metric] in (None, 0) for r in rows):
        message = f"metric '{metric}' has no data for {scope_label(filters)}"
        for d in dims:
            seen = sorted({str(r[d]) for r in table if r.get(d) is not None})
            if seen and not any(_same(v, filters[d]) for v in seen):
                message += (f": no {d} is '{filters[d]}'{did_you_mean(str(filters[d]), seen)}; "
                            f"values seen: {', '.join(seen[:12])}{'...' if len(seen) > 12 else ''}")
                break
        raise NoData(message)
    by_period: dict[dt.date, float | None] = {}
    for r in rows:
        v = r[metric]
        by_period[r["period"]] = None if v is None else float(v)
    first = min(by_period)
    last = period_start(as_of, grain)
    fill = 0.0 if additive(catalog, metric) else None
    out = Series(metric, grain, as_of=as_of, complete=latest_complete(as_of, grain))
    p = first
    while p <= last:
        out.periods.append(p)
        out.values.append(by_period.get(p, fill))
        p = shift_period(p, grain, 1)
    return out
