"""The profile of a raw text column: counts of values matching candidate local formats.

Each statistic is one aggregate (``count_if`` over the whole column) so that
:func:`marketops.ingest.values.infer_formats` profiles every column of a file in a single scan;
:func:`marketops.ingest.formats.decide_format` turns the counts into a format.

Example:
    >>> from sqlglot import exp
    >>> from marketops.schema import Kind
    >>> stats = profile_expressions(exp.column("v"), exp.false(), Kind.INTEGER)
    >>> [name for name, _ in stats]
    ['nonblank', 'point_proof', 'comma_proof', 'dot3', 'comma3']
"""

from __future__ import annotations

from sqlglot import exp

from marketops.ingest.formats import (
    COMMA3_RE,
    COMMA_PROOF_RE,
    DAY_MONTH_RE,
    DOT3_RE,
    EXCEL_SERIAL_RANGE,
    MONTH_FIRST_RE,
    POINT_PROOF_RE,
    SEPARATORS,
    TIME_FORMS,
    YFIRST_RE,
    YLAST_RE,
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


def profile_expressions(v: exp.Expression, blank: exp.Expression, kind: Kind) -> list[tuple[str, exp.Expression]]:
    """(statistic, aggregate) pairs profiling trimmed value ``v``; [] for kinds with nothing to decide."""
    nonblank = ("nonblank", _count_if(exp.not_(blank)))
    if kind in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY):
        # Digits and separators only, without separators at either end: "€ 1.234,50" -> "1.234,50".
        digits = _fn("regexp_replace", _fn("regexp_replace", v, _s(r"[^0-9.,]"), _s(""), _s("g")),
                     _s(r"^[.,]+|[.,]+$"), _s(""), _s("g"))
        return [nonblank] + [(name, _count_if(_full(digits, pattern))) for name, pattern in (
            ("point_proof", POINT_PROOF_RE), ("comma_proof", COMMA_PROOF_RE), ("dot3", DOT3_RE),
            ("comma3", COMMA3_RE))]
    if kind not in (Kind.DATE, Kind.TIMESTAMP):
        return []
    lo, hi = EXCEL_SERIAL_RANGE
    as_number = exp.TryCast(this=v, to=exp.DataType.build("DOUBLE"))
    serial = exp.and_(_full(v, r"\d{5}(?:\.\d+)?"),
                      exp.Between(this=as_number, low=exp.Literal.number(lo), high=exp.Literal.number(hi)))
    # A cheap stand-in for YFIRST_RE (2024-03-12, 2024/03/12): the fifth character.
    not_year_first = exp.not_(exp.In(this=_fn("substr", v, exp.Literal.number(5), exp.Literal.number(1)),
                                     expressions=[_s("-"), _s("/")]))
    out = [
        nonblank,
        ("serial", _count_if(serial)),
        ("numeric", _count_if(_full(v, r"\d+(?:\.\d+)?"))),
        ("yfirst", _count_if(_matches(v, YFIRST_RE))),
        ("ymd_slash_dot", _count_if(_matches(v, r"^\d{4}\.\d{1,2}\.\d{1,2}(?:$|[ T])"))),
        ("compact", _count_if(_full(v, r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"))),
    ]
    for name, sep in SEPARATORS.items():
        esc = "\\" + sep if sep == "." else sep
        for digits in (4, 2):
            pattern = rf"^\d{{1,2}}{esc}\d{{1,2}}{esc}\d{{{digits}}}(?:$|[ T,])"
            out.append((f"ylast_{name}_{digits}", _count_if(_matches(v, pattern))))
    for group, stat in ((1, "first_gt12"), (2, "second_gt12")):
        part = exp.TryCast(this=_fn("regexp_extract", v, _s(YLAST_RE), exp.Literal.number(group)),
                           to=exp.DataType.build("INTEGER"))
        out.append((stat, _count_if(exp.GT(this=part, expression=exp.Literal.number(12)))))
    out += [
        ("month_first", _count_if(_matches(v, MONTH_FIRST_RE))),
        ("day_month", _count_if(_matches(v, DAY_MONTH_RE))),
        ("t_sep", _count_if(exp.and_(not_year_first, _matches(v, r"\dT\d")))),
        ("dateonly", _count_if(exp.and_(exp.not_(blank), exp.not_(_fn("contains", v, _s(":")))))),
        ("zoned", _count_if(_matches(v, ZONED_RE))),
        ("zoned_other", _count_if(exp.and_(_matches(v, ZONED_RE), exp.not_(_matches(v, YFIRST_RE))))),
    ]
    # Year-first values are read by DuckDB's cast: only the others need strptime time formats.
    out += [(f"time_{name}", _count_if(exp.and_(not_year_first, _matches(v, pattern))))
            for name, (pattern, _) in TIME_FORMS.items()]
    return out
