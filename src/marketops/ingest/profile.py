"""The profile of a raw text column: counts of values matching candidate local formats.

Each statistic counts the values of the whole column that match one candidate pattern;
:func:`marketops.ingest.values.infer_formats` joins one such query per column into a single
statement (DuckDB stores columns apart, so each part reads only its own column) and
:func:`marketops.ingest.formats.decide_format` turns the counts into a format.

Example:
    >>> from sqlglot import exp
    >>> from marketops.schema import Kind
    >>> query, names = profile_query("amount", Kind.INTEGER, exp.to_table("raw"), "c0",
    ...                              trimmed=exp.column, blank=lambda c: exp.false())
    >>> names[:5]
    ['nonblank', 'point_proof', 'comma_proof', 'dot3', 'comma3']
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from marketops.ingest.formats import (
    COMMA3_RE,
    COMMA_PROOF_RE,
    DAY_MONTH_RE,
    DOT3_RE,
    EXCEL_SERIAL_RANGE,
    GROUPING,
    MONTH_FIRST_RE,
    POINT_PROOF_RE,
    SEPARATORS,
    TIME_FORMS,
    YFIRST_RE,
    ZONED_RE,
)
from marketops.schema.base import Kind


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _count_if(condition: exp.Expression) -> exp.Expression:
    return exp.CountIf(this=condition)


def _full(v: exp.Expression, pattern: str) -> exp.Expression:
    return _fn("regexp_full_match", v, _s(pattern))


def _matches(v: exp.Expression, pattern: str) -> exp.Expression:
    return _fn("regexp_matches", v, _s(pattern))


def _digit_shape(v: exp.Expression) -> exp.Expression:
    # Digits 1-9 become 9, zeros and everything else stay: "12/03/2024" -> "99/09/9099". A column
    # has few shapes, and the shape keeps what the format patterns look at (zeros matter for
    # "0.123" and 9 is still a digit for \d), so patterns run once per shape instead of per row.
    return _fn("translate", v, _s("123456789"), _s("999999999"))


def profile_query(column: str, kind: Kind, table: exp.Expression, prefix: str, *,
                  trimmed: Callable[[str], exp.Expression], blank: Callable[[str], exp.Expression],
                  ) -> tuple[exp.Select | None, list[str]]:
    """A one-row query profiling one raw column, and the statistic names in its output order.

    Distinct raw values are counted first (marketing columns repeat a lot: days, channels,
    round amounts), then trimmed (``trimmed``), blanks dropped (``blank``) and values grouped
    by shape; the few statistics that need the digits themselves (a day above 12, an Excel
    serial in range) are counted on the distinct values. Output columns are named
    ``{prefix}_{statistic}``. (None, []) for kinds with nothing to decide.
    """
    row_stats, shape_stats = _statistics(kind)
    if not shape_stats:
        return None, []
    n = exp.column("n", quoted=True)
    distinct = (exp.select(exp.alias_(exp.column(column, quoted=True), "raw", quoted=True),
                           exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True))
                .from_(table, copy=False).group_by(exp.column(column, quoted=True), copy=False)
                .subquery("distinct_cells", copy=False))
    cells = (exp.select(exp.alias_(trimmed("raw"), "v", quoted=True), n)
             .from_(distinct, copy=False).where(exp.not_(blank("raw")), copy=False).subquery("cells", copy=False))
    value = exp.column("v", quoted=True)

    def weighted(condition: exp.Expression) -> exp.Expression:
        total = exp.Filter(this=exp.Sum(this=n), expression=exp.Where(this=condition))
        return exp.Coalesce(this=total, expressions=[exp.Literal.number(0)])

    shapes = (exp.select(exp.alias_(_digit_shape(value), "shape", quoted=True),
                         exp.alias_(exp.Sum(this=n), "n", quoted=True),
                         *[exp.alias_(weighted(condition(value)), f"r_{name}", quoted=True)
                           for name, condition in row_stats])
              .from_(cells, copy=False).group_by(exp.column("shape", quoted=True), copy=False)
              .subquery("shapes", copy=False))
    shape = exp.column("shape", quoted=True)
    selects, names = [], []
    for name, condition in shape_stats:
        total = exp.Coalesce(this=exp.Sum(this=n), expressions=[exp.Literal.number(0)]) if condition is None \
            else weighted(condition(shape))
        selects.append(exp.alias_(total, f"{prefix}_{name}", quoted=True))
        names.append(name)
    for name, _ in row_stats:
        total = exp.Sum(this=exp.column(f"r_{name}", quoted=True))
        selects.append(exp.alias_(exp.Coalesce(this=total, expressions=[exp.Literal.number(0)]),
                                  f"{prefix}_{name}", quoted=True))
        names.append(name)
    return exp.select(*selects).from_(shapes, copy=False), names


def _statistics(kind: Kind):
    """(row statistics, shape statistics): name -> condition builder (None: every value)."""
    if kind in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY):
        # Digits and separators only, without separators at either end: "€ 9.999,90" -> "9.999,90".
        def digits(shape):
            inner = _fn("regexp_replace", shape, _s(r"[^0-9.,]"), _s(""), _s("g"))
            return _fn("regexp_replace", inner, _s(r"^[.,]+|[.,]+$"), _s(""), _s("g"))
        shape_stats = [("nonblank", None)] + [
            (name, lambda sh, p=pattern: _full(digits(sh), p)) for name, pattern in (
                ("point_proof", POINT_PROOF_RE), ("comma_proof", COMMA_PROOF_RE), ("dot3", DOT3_RE),
                ("comma3", COMMA3_RE))]
        shape_stats += [(f"group_{i}", lambda sh, c=ch: _fn("contains", sh, _s(c)))
                        for i, ch in enumerate(GROUPING)]
        return [], shape_stats
    if kind not in (Kind.DATE, Kind.TIMESTAMP):
        return [], []
    lo, hi = EXCEL_SERIAL_RANGE
    above = r"(?:1[3-9]|2\d|3[01])"  # only a day 13..31 proves which part is the day
    tail = r"[/.-](?:\d{4}|\d{2})(?:$|[ T,])"
    row_stats = [
        # The cheap pattern first: a failing cast is slow, and AND skips it for other values.
        ("serial", lambda v: exp.and_(_full(v, r"\d{5}(?:\.\d+)?"), exp.Between(
            this=exp.TryCast(this=v, to=exp.DataType.build("DOUBLE")),
            low=exp.Literal.number(lo), high=exp.Literal.number(hi)))),
        ("compact", lambda v: _full(v, r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")),
        ("first_gt12", lambda v: _matches(v, rf"^{above}[/.-]\d{{1,2}}{tail}")),
        ("second_gt12", lambda v: _matches(v, rf"^\d{{1,2}}[/.-]{above}{tail}")),
    ]

    def other(sh):  # year-first values are read by DuckDB's cast: no strptime format needed
        return exp.not_(_matches(sh, YFIRST_RE))

    shape_stats = [
        ("nonblank", None),
        ("numeric", lambda sh: _full(sh, r"\d+(?:\.\d+)?")),
        ("yfirst", lambda sh: _matches(sh, YFIRST_RE)),
        ("ymd_slash_dot", lambda sh: _matches(sh, r"^\d{4}\.\d{1,2}\.\d{1,2}(?:$|[ T])")),
        ("month_first", lambda sh: _matches(sh, MONTH_FIRST_RE)),
        ("day_month", lambda sh: _matches(sh, DAY_MONTH_RE)),
        ("t_sep", lambda sh: exp.and_(other(sh), _matches(sh, r"\dT\d"))),
        ("dateonly", lambda sh: exp.not_(_fn("contains", sh, _s(":")))),
        ("zoned", lambda sh: _matches(sh, ZONED_RE)),
        ("zoned_other", lambda sh: exp.and_(other(sh), _matches(sh, ZONED_RE))),
    ]
    for name, sep in SEPARATORS.items():
        esc = "\\" + sep if sep == "." else sep
        for n in (4, 2):
            pattern = rf"^\d{{1,2}}{esc}\d{{1,2}}{esc}\d{{{n}}}(?:$|[ T,])"
            shape_stats.append((f"ylast_{name}_{n}", lambda sh, p=pattern: _matches(sh, p)))
    shape_stats += [(f"time_{name}", lambda sh, p=pattern: exp.and_(other(sh), _matches(sh, p)))
                    for name, (pattern, _) in TIME_FORMS.items()]
    return row_stats, shape_stats
