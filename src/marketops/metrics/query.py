"""Querying metrics: aggregates per period and dimension as Ibis expressions, then ratios and
period-over-period change computed from the aggregated sums.

Each table aggregate runs on the engine (DuckDB or PySpark) and returns one row per period and
dimension value, so what reaches Python is small; ratios, currency conversion and comparisons
are then done in exact decimal arithmetic. A ratio is always (sum of numerator) / (sum of
denominator) over the period, never an average of daily ratios.

Example:
    >>> import ibis, pyarrow as pa, datetime as dt
    >>> from decimal import Decimal as D
    >>> spend = ibis.memtable(pa.table({"date": [dt.date(2024, 1, 5), dt.date(2024, 1, 9)],
    ...     "platform": ["google_ads"] * 2, "campaign": ["a", "b"], "impressions": [1000, 3000],
    ...     "clicks": [10, 50], "cost": pa.array([D("12.5"), D("7.5")], pa.decimal128(18, 4)), "currency": ["EUR"] * 2}))
    >>> out = query_metrics({"ad_spend": spend}, ["clicks", "ctr", "spend"], grain="month")
    >>> out.to_pylist()
    [{'period': datetime.date(2024, 1, 1), 'clicks': 60, 'ctr': 1.5, 'spend': Decimal('20.00')}]
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from marketops.errors import MarketopsError, NotFound, did_you_mean
from marketops.lifecycle import stage_key_column, stage_spellings
from marketops.metrics.definitions import DIMENSIONS, Catalog, Condition, Metric, load_catalog, table_columns
from marketops.metrics.people import column_of, is_person_dimension, with_person_dimensions
from marketops.schema.base import Kind

if TYPE_CHECKING:
    from marketops.engine.base import Engine

#: Grain name -> Ibis truncation unit.
GRAINS = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
COMPARE = ("previous", "year")

#: Ad platform -> channel group, so spend lines up with traffic's GA4 channel groups.
PLATFORM_CHANNELS = {
    "google_ads": "Paid Search", "microsoft_ads": "Paid Search", "bing_ads": "Paid Search",
    "meta_ads": "Paid Social", "facebook_ads": "Paid Social", "linkedin_ads": "Paid Social",
    "tiktok_ads": "Paid Social", "twitter_ads": "Paid Social", "x_ads": "Paid Social",
    "pinterest_ads": "Paid Social", "reddit_ads": "Paid Social", "snapchat_ads": "Paid Social",
    "youtube_ads": "Paid Video",
}

CENT = Decimal("0.01")
TableSource = Any  # an Engine (anything with .table(name)) or a mapping name -> Ibis table


class Rates:
    """Exchange rates into the reporting currency: ``rate`` units of the reporting currency buy
    one unit of ``currency``; a day without a rate uses the latest earlier one.

    >>> r = Rates(pa.table({"date": [dt.date(2024, 1, 1)], "currency": ["USD"], "rate": ["0.9"]}), "EUR")
    >>> r.convert(Decimal("10"), "usd", dt.date(2024, 3, 1))
    Decimal('9.0')
    """

    def __init__(self, table: pa.Table | None, reporting_currency: str) -> None:
        self.reporting = reporting_currency.upper()
        by_currency: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for row in (table.to_pylist() if table is not None else []):
            day = row["date"].date() if isinstance(row["date"], dt.datetime) else row["date"]
            by_currency[str(row["currency"]).upper()].append((day, Decimal(str(row["rate"]))))
        self._days = {c: sorted(v) for c, v in by_currency.items()}

    def convert(self, amount: Decimal, currency: str | None, day: dt.date) -> Decimal:
        if currency is None or currency.upper() == self.reporting:
            return amount
        rates = self._days.get(currency.upper(), [])
        i = bisect.bisect_right(rates, (day, Decimal("Infinity")))
        if i == 0:
            raise NotFound(f"no exchange rate {currency.upper()} -> {self.reporting} on or before {day}",
                           hint="put an exchange-rates export (date, currency, rate) that covers it in the inbox and "
                                "`marketops run`; `marketops metrics` also takes --rates rates.csv")
        return amount * rates[i - 1][1]


def query_metrics(
    source: TableSource,
    names: Sequence[str],
    *,
    by: Sequence[str] = (),
    grain: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Iterable[str] = (),
    catalog: Catalog | None = None,
    reporting_currency: str = "EUR",
    rates: pa.Table | None = None,
    segments: Mapping[str, int] | None = None,
) -> pa.Table:
    """Metrics ``names`` per period (``grain``) and dimension values (``by``), as an Arrow table.

    Columns: ``period`` (first day), one per dimension, one per metric; with ``compare`` containing
    ``previous``: ``<m>_prev`` and ``<m>_change`` (relative: 0.25 = +25 %); with ``year``:
    ``<m>_last_year`` and ``<m>_yoy_change``. ``start`` and ``end`` are inclusive days. Money is
    converted to ``reporting_currency`` with ``rates`` and rounded to the cent at the end.
    ``segments`` (name -> fewest employees) bands accounts for the ``segment`` dimension.

    A comparison with a period before the metric's data begins is empty (unknown), not zero.
    """
    catalog = catalog or load_catalog()
    metrics = [catalog.get(n) for n in dict.fromkeys(names)]
    if not metrics:
        raise MarketopsError("name at least one metric", hint=f"valid: {', '.join(sorted(catalog))}")
    if grain not in GRAINS:
        raise NotFound(f"unknown grain '{grain}'{did_you_mean(grain, GRAINS)}; valid: {', '.join(GRAINS)}")
    compare = list(dict.fromkeys(compare))
    for c in compare:
        if c not in COMPARE:
            raise NotFound(f"unknown comparison '{c}'{did_you_mean(c, COMPARE)}; valid: {', '.join(COMPARE)}")
    check_dimensions(catalog, metrics, by)
    if start and end and end < start:
        raise MarketopsError(f"the range ends ({end}) before it starts ({start})")

    first = period_start(start, grain) if start else None
    last = period_start(end, grain) if end else None
    query_start = start
    if start and "previous" in compare:
        query_start = shift_period(first, grain, -1)
    if start and "year" in compare:
        query_start = min(query_start, _shift_year(first, grain))
    values: dict[str, dict[tuple, Any]] = {}
    money = Rates(rates, reporting_currency)
    base = []
    for m in metrics:
        base += [b for b in catalog.base_metrics(m.name) if b not in base]
    begins: dict[str, dt.date | None] = {}
    for (table, time), group in _by_table(base).items():
        t = with_person_dimensions(_table(source, table), [DIMENSIONS[table][d] for d in by],
                                   lambda name: _table(source, name, missing_ok=True), segments)
        values.update(_aggregate(t, table, time, group, by, grain, query_start, end, money))
        if compare:
            begin = _data_begins(t, table, time)
            begins |= {m.name: period_start(begin, grain) if begin else None for m in group}

    keys = set().union(*(v.keys() for v in values.values())) if values else set()
    if "previous" in compare:
        # a dimension value present last period but not now still shows, with its drop
        stop = last or max((k[0] for k in keys), default=None)
        keys |= {(shift_period(k[0], grain, 1), *k[1:]) for k in keys if shift_period(k[0], grain, 1) <= stop}
    keys = sorted((k for k in keys if (first is None or k[0] >= first) and (last is None or k[0] <= last)),
                  key=lambda k: tuple((x is None, x) for x in k))
    cache: dict[tuple[str, tuple], Decimal | None] = {}

    def value(name: str, key: tuple) -> Decimal | None:
        if (name, key) not in cache:
            cache[(name, key)] = _value(catalog, values, name, key, value)
        return cache[(name, key)]

    def compared(name: str, key: tuple) -> Decimal | None:
        # before its table's first row a metric is unknown: a zero there would read as a real drop to nothing
        if any(begins.get(b.name) is None or key[0] < begins[b.name] for b in catalog.base_metrics(name)):
            return None
        return value(name, key)

    columns: dict[str, list] = {"period": [k[0] for k in keys]}
    for i, d in enumerate(by):
        columns[d] = [k[i + 1] for k in keys]
    types: dict[str, pa.DataType] = {"period": pa.date32(), **{d: pa.string() for d in by}}
    for m in metrics:
        cur = [value(m.name, k) for k in keys]
        columns[m.name], types[m.name] = _typed(catalog, m, cur)
        for kind, prev_col, change_col in (("previous", "_prev", "_change"), ("year", "_last_year", "_yoy_change")):
            if kind not in compare:
                continue
            shift = (lambda p: shift_period(p, grain, -1)) if kind == "previous" else (lambda p: _shift_year(p, grain))
            prev = [compared(m.name, (shift(k[0]), *k[1:])) for k in keys]
            columns[m.name + prev_col], types[m.name + prev_col] = _typed(catalog, m, prev)
            columns[m.name + change_col] = [_change(c, p) for c, p in zip(cur, prev, strict=True)]
            types[m.name + change_col] = pa.float64()
    return pa.table({c: pa.array(v, type=types[c]) for c, v in columns.items()})


def metric_expression(t: ibis.Table, metric: Metric, *, by: Sequence[str] = (), grain: str = "month",
                      start: dt.date | None = None, end: dt.date | None = None) -> ibis.Table:
    """The Ibis aggregate of one table metric over ``t``: ``period``, the ``by`` dimensions and a
    column named after the metric (money stays in its own currency: use :func:`query_metrics` to
    convert). For notebooks and for building on in other capabilities.

    >>> import ibis
    >>> from marketops.metrics import load_catalog
    >>> t = ibis.table({"date": "date", "impressions": "int64"}, name="ad_spend")
    >>> metric_expression(t, load_catalog()["impressions"]).columns
    ('period', 'impressions')
    """
    if not metric.expression:
        raise MarketopsError(f"metric '{metric.name}' combines other metrics; use query_metrics")
    t = _filtered(t, metric.table, metric.time, grain, start, end, by)
    out = t.group_by(["period", *map(_dim, by)]).aggregate(**{metric.name: _agg(t, metric)})
    return out.rename({d: _dim(d) for d in by})


# -- internals ---------------------------------------------------------------------------------

def check_dimensions(catalog: Catalog, metrics: list[Metric], by: Sequence[str]) -> None:
    """NotFound (with "did you mean") when a dimension is unknown or a metric does not allow it."""
    known = sorted({d for dims in DIMENSIONS.values() for d in dims})
    for d in by:
        if d not in known:
            raise NotFound(f"unknown dimension '{d}'{did_you_mean(d, known)}; valid: {', '.join(known)}")
    for m in metrics:
        allowed = catalog.dimensions(m.name)
        for d in by:
            if d not in allowed:
                raise NotFound(f"metric '{m.name}' cannot be broken down by '{d}'{did_you_mean(d, allowed)}; "
                               f"it allows: {', '.join(allowed) or 'no dimension, only time'}")


def _by_table(metrics: list[Metric]) -> dict[tuple[str, str], list[Metric]]:
    out: dict[tuple[str, str], list[Metric]] = defaultdict(list)
    for m in metrics:
        out[(m.table, m.time)].append(m)
    return out


def _table(source: TableSource, name: str, *, missing_ok: bool = False) -> ibis.Table | None:
    if hasattr(source, "table"):
        if missing_ok and not source.has_table(name):
            return None
        return source.table(name)
    if missing_ok and name not in source:
        return None
    return source[name]


def _data_begins(t: ibis.Table, table: str, time: str) -> dt.date | None:
    """The day of the table's first row (None when it is empty)."""
    first = t[time].min().to_pyarrow().as_py()
    return first.date() if isinstance(first, dt.datetime) else first


def _dimension(t: ibis.Table, table: str, dim: str) -> ibis.Value:
    source = DIMENSIONS[table][dim]
    if is_person_dimension(source):
        return t[column_of(source)]
    if source == "@email":
        return ibis.literal("Email")
    if source == "@platform_channel":
        return t.platform.lower().substitute(PLATFORM_CHANNELS, else_="Paid Other")
    return t[source].cast("string")


def _filtered(t: ibis.Table, table: str, time: str, grain: str, start: dt.date | None,
              end: dt.date | None, by: Sequence[str]) -> ibis.Table:
    col = t[time]
    is_date = table_columns(table).get(time) == Kind.DATE
    if start is not None:
        t = t.filter(col >= (ibis.date(start) if is_date else ibis.timestamp(dt.datetime.combine(start, dt.time()))))
    if end is not None:
        stop = end + dt.timedelta(days=1)
        t = t.filter(col < (ibis.date(stop) if is_date else ibis.timestamp(dt.datetime.combine(stop, dt.time()))))
    col = t[time]
    period = col.truncate(GRAINS[grain]) if is_date else col.truncate(GRAINS[grain]).date()
    day = col if is_date else col.date()
    # dimensions get private names: "channel" must not hide a table column of that name from filters
    return t.mutate(period=period, _day=day, **{_dim(d): _dimension(t, table, d) for d in by})


def _dim(name: str) -> str:
    return f"_dim_{name}"


def _condition(t: ibis.Table, c: Condition, table: str) -> ibis.BooleanValue:
    col = t[c.column]
    text = col.type().is_string()
    if table == "lifecycle_stages" and c.column == "stage" and c.op in ("=", "!=", "in", "not in"):
        # stage = 'mql' also counts "Marketing Qualified Lead": CRMs spell stages their own way
        values = [c.value] if c.op in ("=", "!=") else list(c.value)
        cond = stage_key_column(col).isin(stage_spellings(values))
        return cond if c.op in ("=", "in") else ~cond

    def lit(v: Any) -> Any:
        if isinstance(v, str) and text:
            return v.lower()
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else float(v)
        return v

    left = col.lower() if text else col
    if c.op == "is null":
        return col.isnull()
    if c.op == "is not null":
        return col.notnull()
    if c.op in ("in", "not in"):
        cond = left.isin([lit(v) for v in c.value])
        return ~cond if c.op == "not in" else cond
    ops = {"=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
    return getattr(left, ops[c.op])(lit(c.value))


def _agg(t: ibis.Table, m: Metric) -> ibis.Value:
    agg = m.aggregate
    where = None
    for c in m.conditions:
        cond = _condition(t, c, m.table)
        where = cond if where is None else where & cond
    if agg.days:
        a, b = (t[x].cast("timestamp") for x in agg.days)
        arg = (b.epoch_seconds() - a.epoch_seconds()) / 86400
    elif agg.column:
        arg = t[agg.column]
    else:
        return t.count(where=where)
    fn = {"sum": "sum", "count": "count", "count_distinct": "nunique", "avg": "mean", "min": "min", "max": "max"}
    return getattr(arg, fn[agg.func])(where=where)


def _aggregate(t: ibis.Table, table: str, time: str, metrics: list[Metric], by: Sequence[str], grain: str,
               start: dt.date | None, end: dt.date | None, rates: Rates) -> dict[str, dict[tuple, Any]]:
    t = _filtered(t, table, time, grain, start, end, by)
    keys = ["period", *map(_dim, by)]
    out: dict[str, dict[tuple, Any]] = {}
    plain = [m for m in metrics if not m.money]
    money = [m for m in metrics if m.money]
    if plain:
        rows = t.group_by(keys).aggregate(**{m.name: _agg(t, m) for m in plain}).to_pyarrow().to_pylist()
        for m in plain:
            out[m.name] = {tuple(r[k] for k in keys): r[m.name] for r in rows}
    if money:
        # summed per day and currency so that each amount meets the rate of its own day
        currency = t.currency.cast("string") if "currency" in t.columns else ibis.null("string")
        grouped = t.mutate(_currency=currency).group_by([*keys, "_day", "_currency"])
        rows = grouped.aggregate(**{m.name: _agg(t, m) for m in money}).to_pyarrow().to_pylist()
        for m in money:
            acc: dict[tuple, Decimal] = defaultdict(Decimal)
            for r in rows:
                if r[m.name] is not None:
                    acc[tuple(r[k] for k in keys)] += rates.convert(Decimal(str(r[m.name])), r["_currency"], r["_day"])
            out[m.name] = dict(acc)
    return out


def _value(catalog: Catalog, values: dict[str, dict[tuple, Any]], name: str, key: tuple,
           recurse: Callable[[str, tuple], Decimal | None]) -> Decimal | None:
    m = catalog[name]
    if m.expression:
        v = values.get(name, {}).get(key)
        if v is None:
            # no rows: a sum or count is zero, an average or extreme is unknown
            return Decimal(0) if m.aggregate.func in ("sum", "count", "count_distinct") else None
        return v if isinstance(v, Decimal) else Decimal(str(v))
    a, b = (recurse(p, key) for p in m.parts)
    if a is None or b is None:
        return None
    if m.difference:
        return a - b
    return None if b == 0 else a / b * m.multiplier


def _typed(catalog: Catalog, m: Metric, vals: list[Decimal | None]) -> tuple[list, pa.DataType]:
    if m.format == "currency":
        return [None if v is None else v.quantize(CENT, ROUND_HALF_UP) for v in vals], pa.decimal128(20, 2)
    counted = m.expression and m.aggregate.func in ("count", "count_distinct", "sum")
    if counted and all(v is None or v == v.to_integral_value() for v in vals):
        return [None if v is None else int(v) for v in vals], pa.int64()
    return [None if v is None else float(v) for v in vals], pa.float64()


def _change(cur: Decimal | None, prev: Decimal | None) -> float | None:
    if cur is None or prev is None or prev == 0:
        return None
    return float((cur - prev) / abs(prev))


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period (day, ISO week, month, quarter) holding ``day``.

    >>> period_start(dt.date(2024, 5, 17), "quarter"), period_start(dt.date(2024, 5, 17), "week")
    (datetime.date(2024, 4, 1), datetime.date(2024, 5, 13))
    """
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def shift_period(period: dt.date, grain: str, n: int) -> dt.date:
    """The period ``n`` periods after ``period`` (before, for negative ``n``).

    >>> shift_period(dt.date(2024, 1, 1), "quarter", -1)
    datetime.date(2023, 10, 1)
    """
    if grain == "day":
        return period + dt.timedelta(days=n)
    if grain == "week":
        return period + dt.timedelta(weeks=n)
    months = n * (3 if grain == "quarter" else 1)
    index = period.year * 12 + period.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _shift_year(period: dt.date, grain: str) -> dt.date:
    """The same period a year earlier: 52 weeks back for weeks (so it is a Monday again)."""
    if grain == "week":
        return period - dt.timedelta(weeks=52)
    if period.month == 2 and period.day == 29:
        return dt.date(period.year - 1, 2, 28)
    return period.replace(year=period.year - 1)


def engine_rates(engine: Engine) -> pa.Table | None:
    """The ``exchange_rates`` table the workspace loaded (date, currency, rate), or None."""
    if not engine.has_table("exchange_rates"):
        return None
    return rates_from_rows(engine.table("exchange_rates").select("date", "currency", "rate").to_pyarrow().to_pylist())


def rates_from_rows(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """A rates table from (date, currency, rate) rows, e.g. read from a CSV file.

    >>> rates_from_rows([{"date": "2024-01-01", "currency": "USD", "rate": "0.91"}]).num_rows
    1
    """
    rows = list(rows)
    return pa.table({
        "date": pa.array([r["date"] if isinstance(r["date"], dt.date) else dt.date.fromisoformat(str(r["date"]).strip())
                          for r in rows], pa.date32()),
        "currency": pa.array([str(r["currency"]).strip().upper() for r in rows], pa.string()),
        "rate": pa.array([str(r["rate"]).strip() for r in rows], pa.string()),
    })
