"""Reading budget amounts as people type them ("12 000", "12.000,50", "€12,000", "1 234,5 USD").

The ingest's money parsing does the work (:mod:`marketops.ingest.values`): the column's format
is decided from all its cells, as for any export, and a cell that proves its own decimal
separator ("12.000,50" has a decimal comma, "12,000.50" a decimal point) is read its own way, so
one odd cell in a hand-made plan is not misread. A budget is money, written with at most two
decimals, so a separator followed by exactly three digits groups thousands ("12,000" and "12.000"
are both twelve thousand); other cells that prove nothing follow the column.

Example:
    >>> [(a.amount, a.currency) for a in parse_amounts(["12 000", "12.000,50", "€12,000", "abc"])]
    [(Decimal('12000.00'), None), (Decimal('12000.50'), None), (Decimal('12000.00'), 'EUR'), (None, None)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from marketops.ingest.formats import COMMA_PROOF_RE, POINT_PROOF_RE, ColumnFormat
from marketops.schema.base import Kind

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ParsedAmount:
    """One cell: the amount (to the cent; None when blank or unreadable) and the currency written in it."""

    text: str
    amount: Decimal | None
    currency: str | None
    blank: bool
    #: The amount had fractions of a cent (it is rounded to the cent).
    rounded: bool = False

    def expected(self) -> str:
        return ColumnFormat(Kind.MONEY).expected()


def _proof(cell: str) -> str | None:
    """The decimal separator the cell proves on its own, the way the ingest's profile decides."""
    digits = re.sub(r"[^0-9.,]", "", cell).strip(".,")
    # three digits after the only kind of separator: thousands, since money has two decimals
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", digits):
        return ","
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
        return "."
    point, comma = re.fullmatch(POINT_PROOF_RE, digits), re.fullmatch(COMMA_PROOF_RE, digits)
    if point and not comma:
        return "."
    if comma and not point:
        return ","
    return None


def parse_amounts(cells: list[str | None]) -> list[ParsedAmount]:
    """Each cell read as money (see the module's description), in order."""
    import duckdb
    import pyarrow as pa

    from marketops.ingest.values import blank_expression, currency_expression, infer_formats, parse_expression

    texts = ["" if c is None else str(c) for c in cells]
    if not texts:
        return []
    con = duckdb.connect()
    try:
        con.register("raw_amounts", pa.table({"amount": pa.array(texts, pa.string())}))
        column = infer_formats(con, "raw_amounts", {"amount": Kind.MONEY})["amount"]
        point = replace(column, decimal_sep=".", grouping=None)
        comma = replace(column, decimal_sep=",", grouping=None)
        sql = ", ".join(e.sql("duckdb") for e in (
            parse_expression("amount", column), parse_expression("amount", point),
            parse_expression("amount", comma), currency_expression("amount", column), blank_expression("amount")))
        rows = con.execute(f"SELECT {sql} FROM raw_amounts").fetchall()
    finally:
        con.close()
    out = []
    for text, (as_column, as_point, as_comma, currency, blank) in zip(texts, rows, strict=True):
        own = _proof(text)
        value = as_point if own == "." else as_comma if own == "," else as_column
        amount = None if value is None else Decimal(value)
        cents = None if amount is None else amount.quantize(CENT, ROUND_HALF_UP)
        out.append(ParsedAmount(text, cents, currency, bool(blank),
                                rounded=amount is not None and cents != amount))
    return out


def parse_amount(text: str | float | Decimal) -> ParsedAmount:
    """One amount.

    >>> parse_amount("1.234,5 USD").amount, parse_amount("1.234,5 USD").currency
    (Decimal('1234.50'), 'USD')
    >>> parse_amount("12.000").amount, parse_amount(Decimal("99.999")).rounded
    (Decimal('12000.00'), True)
    """
    if isinstance(text, Decimal | int):
        amount = Decimal(text)
        cents = amount.quantize(CENT, ROUND_HALF_UP)
        return ParsedAmount(str(text), cents, None, False, rounded=cents != amount)
    if isinstance(text, float):
        text = repr(text)
    return parse_amounts([text])[0]
