"""Typed parsing of raw text columns written in local formats, as vectorised DuckDB SQL.

A file is first read with every column as text. :func:`infer_formats` profiles all columns of
that raw table in one aggregate query and decides, from the whole column, how each one is
written (decimal comma or point, day or month first, Excel serials, time zones...).
:func:`parse_expression` then gives the sqlglot expression that turns the raw text into the
typed value; it never raises at query time: a value that cannot be read becomes NULL, and
:func:`blank_expression` tells the loader which NULLs were blank cells rather than errors.

Example:
    >>> import duckdb
    >>> from marketops.schema import Kind
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE raw AS SELECT * FROM (VALUES ('1.234,56'), ('3,5')) t(amount)")
    >>> fmt = infer_formats(con, "raw", {"amount": Kind.DECIMAL})["amount"]
    >>> con.sql(f"SELECT {parse_expression('amount', fmt).sql('duckdb')} FROM raw").fetchall()
    [(1234.56,), (3.5,)]
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from marketops.errors import ConfigError
from marketops.ingest.formats import (
    BLANKS,
    CURRENCY_TOKEN_RE,
    CURRENCY_TOKENS,
    DATE_ORDERS,
    EXCEL_SERIAL_RANGE,
    FALSE_WORDS,
    GROUPING,
    TRUE_WORDS,
    WHITESPACE,
    ZONE_SUFFIX_RE,
    ZONED_RE,
    ColumnFormat,
    number_pattern,
    decide_format,
    default_formats,
)
from marketops.ingest.profile import profile_query
from marketops.schema.base import Kind

__all__ = ["ColumnFormat", "blank_expression", "currency_expression", "infer_formats", "parse_expression"]

#: Names of UTC: naive values in these zones need no conversion (and none is generated).
_UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "universal"}
_TYPES = {
    Kind.INTEGER: "BIGINT",
    Kind.DECIMAL: "DOUBLE",
    Kind.MONEY: "DECIMAL(18, 4)",
}
_NUMERIC = r"\d+(?:\.\d+)?"


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    # DuckDB functions rendered verbatim: the expressions are DuckDB dialect by contract.
    return exp.Anonymous(this=name, expressions=list(args))


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _try_cast(e: exp.Expression, to: str) -> exp.Expression:
    return exp.TryCast(this=e, to=exp.DataType.build(to, dialect="duckdb"))


def _in(e: exp.Expression, words: tuple[str, ...]) -> exp.Expression:
    return exp.In(this=e, expressions=[_s(w) for w in words])


def _trimmed(column: str) -> exp.Expression:
    # Spreadsheets leave no-break spaces around values; plain trim() would keep them.
    return _fn("trim", exp.column(column, quoted=True), _s(WHITESPACE))


def blank_expression(column: str) -> exp.Expression:
    """TRUE when the raw cell is empty, whitespace or a placeholder such as 'n/a' or '(not set)'.

    Example:
        >>> import duckdb
        >>> con = duckdb.connect()
        >>> e = blank_expression("v").sql("duckdb")
        >>> con.sql(f"SELECT v, {e} FROM (VALUES (' N/A '), ('x'), (NULL)) t(v)").fetchall()
        [(' N/A ', True), ('x', False), (None, True)]
    """
    raw = exp.column(column, quoted=True)
    return exp.or_(exp.Is(this=raw, expression=exp.Null()), _in(exp.Lower(this=_trimmed(column)), BLANKS))


def parse_expression(column: str, fmt: ColumnFormat) -> exp.Expression:
    """DuckDB expression turning raw text column ``column`` into its typed value per ``fmt``.

    Types: INTEGER -> BIGINT, DECIMAL -> DOUBLE, MONEY -> DECIMAL(18,4), DATE -> DATE,
    TIMESTAMP -> naive TIMESTAMP in UTC, BOOLEAN -> BOOLEAN, STRING -> trimmed VARCHAR.
    Blank, placeholder and unreadable cells give NULL.

    Example:
        >>> import duckdb
        >>> e = parse_expression("v", ColumnFormat(Kind.MONEY, decimal_sep=",")).sql("duckdb")
        >>> duckdb.sql(f"SELECT {e} FROM (VALUES ('1.234,56 €'), ('(12,50)'), ('n/a')) t(v)").fetchall()
        [(Decimal('1234.5600'),), (Decimal('-12.5000'),), (None,)]
    """
    kind = fmt.kind
    if kind is Kind.STRING:
        return exp.Case(ifs=[exp.If(this=blank_expression(column), true=exp.Null())],
                        default=_trimmed(column))
    if kind is Kind.BOOLEAN:
        word = exp.Lower(this=_trimmed(column))
        return exp.Case(ifs=[exp.If(this=_in(word, TRUE_WORDS), true=exp.true()),
                             exp.If(this=_in(word, FALSE_WORDS), true=exp.false())])
    if kind in _TYPES:
        return _number(column, fmt)
    if kind in (Kind.DATE, Kind.TIMESTAMP):
        return _moment(column, fmt)
    raise ValueError(f"no parser for kind {kind!r}")


def _number(column: str, fmt: ColumnFormat) -> exp.Expression:
    raw = exp.column(column, quoted=True)
    # One regular expression both validates the whole cell and captures the digits, so a stray
    # "1,5" in a decimal-point column fails (and is reported) instead of becoming 15; sign,
    # brackets, currency and % around the digits are allowed where the kind allows them.
    body = _fn("regexp_extract", raw, _s(number_pattern(fmt)), exp.Literal.number(1))
    for ch in fmt.thousands_sep + (GROUPING if fmt.grouping is None else fmt.grouping):
        body = exp.Anonymous(this="replace", expressions=[body, _s(ch), _s("")])
    if fmt.decimal_sep == ",":
        body = exp.Anonymous(this="replace", expressions=[body, _s(","), _s(".")])
    value = _try_cast(body, _TYPES[fmt.kind])
    # Negative when a minus or an opening bracket (accounting style) comes before the digits.
    negative = _fn("regexp_matches", raw, _s(r"^[^0-9]*[-(]"))
    return exp.Case(ifs=[exp.If(this=negative, true=exp.Neg(this=value))], default=value)


def _to_utc(local: exp.Expression, timezone: str) -> exp.Expression:
    if timezone.lower() in _UTC_NAMES:
        return local
    return _fn("timezone", _s("UTC"), _fn("timezone", _s(timezone), local))


def _moment(column: str, fmt: ColumnFormat) -> exp.Expression:
    v = _trimmed(column)
    is_date = fmt.kind is Kind.DATE
    target = "DATE" if is_date else "TIMESTAMP"
    formats = default_formats(fmt.date_order) if fmt.formats is None else fmt.formats
    fmt_list = exp.Array(expressions=[_s(f) for f in formats])
    naive: list[exp.Expression] = []
    if formats:
        parsed = _fn("try_strptime", v, fmt_list)
        naive.append(exp.Cast(this=parsed, to=exp.DataType.build("DATE")) if is_date else parsed)
    if fmt.iso:
        # DuckDB's own cast reads 2024-03-12, 2024/03/12 and 2024-03-12T14:03:00.123 fastest, but
        # it also reads 12-03-24 as the year 12: next to other formats it only sees year-first values.
        cast = _try_cast(v, target)
        if formats:
            year_first = _in(_fn("substr", v, exp.Literal.number(5), exp.Literal.number(1)), ("-", "/"))
            cast = exp.Case(ifs=[exp.If(this=year_first, true=cast)])
        naive.insert(0, cast)
    if is_date and fmt.zoned and fmt.zoned_formats and formats:
        # A date column keeps the date as written: drop the zone, do not shift the day.
        bare = _fn("regexp_replace", v, _s(ZONE_SUFFIX_RE), _s(""))
        naive.append(exp.Cast(this=_fn("try_strptime", bare, fmt_list), to=exp.DataType.build("DATE")))
    value = _coalesce(naive)
    if not is_date:
        value = _to_utc(value, fmt.timezone) if value is not None else None
        if fmt.zoned:
            value = exp.Case(ifs=[exp.If(this=_fn("regexp_matches", v, _s(ZONED_RE)), true=_zoned(v, fmt))],
                             default=value)
    if fmt.excel_serial:
        serial = _excel_serial(v, fmt)
        if value is None:
            return serial
        value = exp.Case(ifs=[exp.If(this=_fn("regexp_full_match", v, _s(_NUMERIC)), true=serial)],
                         default=value)
    if value is None:
        return exp.Cast(this=exp.Null(), to=exp.DataType.build(target))
    return value


def _coalesce(parts: list[exp.Expression]) -> exp.Expression | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])


def _zoned(v: exp.Expression, fmt: ColumnFormat) -> exp.Expression:
    """A value with a UTC offset, as naive UTC."""
    parts = [_try_cast(v, "TIMESTAMPTZ")]
    if fmt.zoned_formats:
        # strptime's %z wants an offset: Z, UTC and GMT become +00:00.
        vz = _fn("regexp_replace", v, _s(r"\s?(?:Z|UTC|GMT)$"), _s("+00:00"))
        parts.append(_fn("try_strptime", vz, exp.Array(expressions=[_s(f) for f in fmt.zoned_formats])))
    return _fn("timezone", _s("UTC"), _coalesce(parts))


def _excel_serial(v: exp.Expression, fmt: ColumnFormat) -> exp.Expression:
    """Excel day serial -> date or local date-time (days since 1899-12-30, Excel's day zero)."""
    lo, hi = EXCEL_SERIAL_RANGE
    number = _try_cast(v, "DOUBLE")
    in_range = exp.Between(this=number, low=exp.Literal.number(lo), high=exp.Literal.number(hi))
    if fmt.kind is Kind.DATE:
        days = exp.Cast(this=exp.Floor(this=number), to=exp.DataType.build("INTEGER"))
        value = exp.Add(this=exp.Cast(this=_s("1899-12-30"), to=exp.DataType.build("DATE")), expression=days)
    else:
        day = exp.Literal.number(86_400_000_000)
        micros = exp.Cast(this=exp.Round(this=exp.Mul(this=number, expression=day)),
                          to=exp.DataType.build("BIGINT"))
        local = exp.Add(this=exp.Cast(this=_s("1899-12-30"), to=exp.DataType.build("TIMESTAMP")),
                        expression=_fn("to_microseconds", micros))
        value = _to_utc(local, fmt.timezone)
    return exp.Case(ifs=[exp.If(this=in_range, true=value)])


def currency_expression(column: str, fmt: ColumnFormat) -> exp.Expression | None:
    """For a MONEY column: the ISO 4217 code written in the cell ("$1,200" -> 'USD'), else NULL.

    None for columns of other kinds.

    Example:
        >>> import duckdb
        >>> e = currency_expression("v", ColumnFormat(Kind.MONEY)).sql("duckdb")
        >>> cells = "(VALUES ('$1,200'), ('1 200 €'), ('500 руб.'), ('12')) t(v)"
        >>> duckdb.sql(f"SELECT {e} FROM {cells}").fetchall()
        [('USD',), ('EUR',), ('RUB',), (None,)]
    """
    if fmt.kind is not Kind.MONEY:
        return None
    # The first run of characters that are not digits, separators or signs is the currency token.
    token = exp.Upper(this=_fn("regexp_extract", exp.column(column, quoted=True), _s(CURRENCY_TOKEN_RE)))
    # Group tokens by code so that the CASE has one branch per currency, not per spelling.
    by_code: dict[str, list[str]] = {}
    for token_text, code in CURRENCY_TOKENS.items():
        by_code.setdefault(code, []).append(token_text)
    return exp.Case(ifs=[exp.If(this=_in(token, tuple(tokens)), true=_s(code))
                         for code, tokens in by_code.items()])


def infer_formats(con: duckdb.DuckDBPyConnection, relation: str, columns: dict[str, Kind], *,
                  timezone: str = "UTC", default_date_order: str = "DMY") -> dict[str, ColumnFormat]:
    """Decide how each raw text column of ``relation`` is written, from the whole column.

    One aggregate query profiles every numeric and date column at once. ``relation`` is a table
    or view name, optionally qualified with dots (``raw.contacts``). ``timezone`` (IANA name)
    is where naive date-times were written; ``default_date_order`` ('DMY', 'MDY' or 'YMD')
    settles columns in which no date proves its order (every day and month are <= 12).

    Example:
        >>> import duckdb
        >>> from marketops.schema import Kind
        >>> con = duckdb.connect()
        >>> _ = con.execute("CREATE TABLE raw AS SELECT * FROM (VALUES ('03/12/2024'), ('12/31/2024')) t(d)")
        >>> fmt = infer_formats(con, "raw", {"d": Kind.DATE})["d"]
        >>> fmt.date_order, fmt.expected()
        ('MDY', 'a date like 12/31/2024 (month first)')
    """
    if default_date_order not in DATE_ORDERS:
        raise ValueError(f"default_date_order must be one of {', '.join(DATE_ORDERS)}, "
                         f"not {default_date_order!r}")
    _check_timezone(con, timezone)
    formats = {name: ColumnFormat(kind, timezone=timezone) for name, kind in columns.items()}
    parts = relation.split(".")
    table = exp.Table(this=exp.to_identifier(parts[-1], quoted=True),
                      db=exp.to_identifier(parts[-2], quoted=True) if len(parts) > 1 else None,
                      catalog=exp.to_identifier(parts[-3], quoted=True) if len(parts) > 2 else None)
    iso = _all_iso(con, table, [n for n, k in columns.items() if k in (Kind.DATE, Kind.TIMESTAMP)])
    for name, stats in iso.items():
        formats[name] = decide_format(columns[name], stats, default_date_order=default_date_order,
                                      timezone=timezone)
    query: exp.Select | None = None
    keys: list[tuple[str, str]] = []
    for i, (name, kind) in enumerate(columns.items()):
        if name in iso:
            continue
        one, names = profile_query(name, kind, table, f"c{i}", trimmed=_trimmed, blank=blank_expression)
        if one is None:
            continue
        keys += [(name, stat) for stat in names]
        part = one.subquery(f"c{i}", copy=False)  # builders copy by default: slow on big trees
        query = (exp.select(exp.Star()).from_(part, copy=False) if query is None
                 else query.join(part, join_type="cross", copy=False))
    if query is None:
        return formats
    row = con.execute(query.sql("duckdb")).fetchall()[0]
    stats: dict[str, dict[str, int]] = {}
    for (name, stat), value in zip(keys, row, strict=True):
        stats.setdefault(name, {})[stat] = value or 0
    for name, kind in columns.items():
        if name in stats:
            formats[name] = decide_format(kind, stats[name], default_date_order=default_date_order,
                                          timezone=timezone)
    return formats


def _all_iso(con: duckdb.DuckDBPyConnection, table: exp.Table, names: list[str]) -> dict[str, dict[str, int]]:
    """Profiles of the date columns whose every value is ISO 8601, from one cheap pass.

    Machine-written exports (tracking events, APIs) use ISO dates with millions of distinct
    values; for them the full profile (grouping by value) costs more than the rest of a load and
    can only conclude "ISO". Columns with any other value are left to the full profile.
    """
    if not names:
        return {}
    # String functions and DuckDB's own cast, no regular expressions, each value trimmed once:
    # this pass must stay cheap.
    inner, selects = [], []
    for i, name in enumerate(names):
        inner.append(exp.alias_(exp.If(this=blank_expression(name), true=exp.Null(), false=_trimmed(name)),
                                f"v{i}", quoted=True))
        v = exp.column(f"v{i}", quoted=True)
        year_first = exp.and_(exp.EQ(this=_fn("substr", v, exp.Literal.number(5), exp.Literal.number(1)),
                                     expression=_s("-")),
                              exp.not_(exp.Is(this=_try_cast(v, "TIMESTAMP"), expression=exp.Null())))
        # After "YYYY-MM-DDTHH:MM" (16 characters) a sign or a Z can only be a zone.
        tail = _fn("substr", v, exp.Literal.number(17))
        zone = exp.or_(_fn("ends_with", v, _s("Z")), _fn("contains", tail, _s("+")), _fn("contains", tail, _s("-")))
        selects += [
            exp.alias_(exp.Count(this=v), f"n{i}", quoted=True),
            exp.alias_(exp.CountIf(this=year_first), f"iso{i}", quoted=True),
            exp.alias_(exp.CountIf(this=exp.and_(year_first, zone)), f"zoned{i}", quoted=True)]
    values = exp.select(*inner).from_(table, copy=False).subquery("cells", copy=False)
    row = con.execute(exp.select(*selects).from_(values, copy=False).sql("duckdb")).fetchall()[0]
    out = {}
    for i, name in enumerate(names):
        n, iso, zoned = row[3 * i: 3 * i + 3]
        if n and n == iso:
            # The statistics the full profile would find for such a column.
            out[name] = {"nonblank": n, "yfirst": n, "zoned": zoned}
    return out


def _check_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    try:
        con.execute("SELECT timezone(?::VARCHAR, TIMESTAMP '2000-01-01')::VARCHAR", [timezone]).fetchall()
    except duckdb.Error:
        raise ConfigError(f"unknown time zone '{timezone}'",
                          hint="use an IANA time zone name such as Europe/Rome or America/New_York") from None
