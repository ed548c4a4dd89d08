"""Local value formats: what a raw column looks like, and how to decide it from the whole column.

:mod:`marketops.ingest.values` builds the SQL; this module holds the vocabulary it needs (blank
placeholders, currency tokens, boolean words, regular expressions) and the decision logic that
turns one profile of a column (counts of values matching candidate patterns) into a
:class:`ColumnFormat`. Keeping decisions in plain Python makes them easy to test and explain.

Example:
    >>> from marketops.schema import Kind
    >>> decide_format(Kind.DATE, {"nonblank": 3, "ylast_slash_4": 3, "first_gt12": 1}).expected()
    'a date like 31/12/2024 (day first)'
"""

from __future__ import annotations

from dataclasses import dataclass

from marketops.schema.base import Kind

#: Cells that mean "no value": left empty by users or written by exporting tools.
BLANKS = ("", "null", "n/a", "#n/a", "-", "--", "none", "(not set)")

#: Whitespace a spreadsheet may leave around or inside a value: space, tab, newlines, no-break
#: space (U+00A0), narrow no-break space (U+202F, French thousands) and figure space (U+2007).
WHITESPACE = " \t\r\n\u00a0\u202f\u2007"

#: Characters that group thousands besides the column's non-decimal separator: spaces of all
#: kinds and apostrophes (Swiss 1'234.50, also typed as a right single quote).
GROUPING = " \u00a0\u202f\u2007'\u2019"
#: Spaces in regular expressions: literal characters work in RE2 (DuckDB) and Python alike.
_WS = "[\\s\u00a0\u202f\u2007]*"

TRUE_WORDS = ("true", "yes", "y", "1", "t", "x", "on", "si", "sì", "sí", "да", "д", "verdadero", "vero",
              "oui", "ja", "wahr")
FALSE_WORDS = ("false", "no", "n", "0", "f", "off", "нет", "н", "falso", "non", "nein", "faux")

#: Currency tokens written next to amounts (upper-cased) -> ISO 4217. "$" alone and "¥" alone
#: are ambiguous; we read them as USD and JPY, the common reading in marketing exports.
CURRENCY_SYMBOLS = {
    "US$": "USD", "$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD",
    "HK$": "HKD", "S$": "SGD", "MX$": "MXN", "R$": "BRL", "€": "EUR", "£": "GBP", "¥": "JPY",
    "￥": "JPY", "₽": "RUB", "РУБ.": "RUB", "РУБ": "RUB", "Р.": "RUB", "₹": "INR", "₩": "KRW", "₺": "TRY",
    "₴": "UAH", "ГРН.": "UAH", "ГРН": "UAH", "₪": "ILS", "₫": "VND", "฿": "THB", "ZŁ": "PLN", "KČ": "CZK",
    "FR.": "CHF", "FR": "CHF", "Р": "RUB", "₸": "KZT",
}
CURRENCY_CODES = (
    "USD", "EUR", "GBP", "JPY", "CNY", "RUB", "CHF", "BRL", "INR", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
    "PLN", "CZK", "HUF", "RON", "BGN", "TRY", "ZAR", "MXN", "ARS", "CLP", "COP", "PEN", "KRW", "SGD", "HKD",
    "TWD", "THB", "MYR", "IDR", "PHP", "VND", "AED", "SAR", "ILS", "UAH", "KZT", "EGP", "NGN", "KES", "ISK",
)
CURRENCY_TOKENS = {**{c: c for c in CURRENCY_CODES}, **CURRENCY_SYMBOLS}
#: The currency token of a cell: its first run of characters that are not digits, separators,
#: signs, brackets or spaces ("500 руб." -> "руб", "R$ 12" -> "R$").
CURRENCY_TOKEN_RE = "[^\\d\\s.,'()+\\-%\u00a0\u202f\u2007\u2019]+"


def _re_escape(token: str) -> str:
    return "".join("\\" + ch if ch in r"\.^$|?*+()[]{}" else ch for ch in token)


#: One alternation of every token, longest first so that "US$" wins over "$".
CURRENCY_RE = "(?:" + "|".join(_re_escape(t) for t in sorted(CURRENCY_TOKENS, key=len, reverse=True)) + ")"

# --- numbers -------------------------------------------------------------------------------------
# The profile looks at the digits and separators only ("$1,200.50" -> "1,200.50") and counts values
# that prove a decimal separator: a separator followed by other than three digits, a
# separator after four or more digits or after a lone 0, or two grouping separators of one kind.
_DEC = (r"\d*{d}(?:\d{{1,2}}|\d{{4,}})|(?:0|\d{{4,}}){d}\d+"
        r"|\d{{1,3}}(?:{t}\d{{3}})+{d}\d*|\d{{1,3}}(?:{t}\d{{3}}){{2,}}")
POINT_PROOF_RE = _DEC.format(d=r"\.", t=",")
COMMA_PROOF_RE = _DEC.format(d=",", t=r"\.")
DOT3_RE = r"\d{1,3}\.\d{3}"
COMMA3_RE = r"\d{1,3},\d{3}"


def number_pattern(fmt: "ColumnFormat") -> str:
    """Full-cell pattern of a number in ``fmt``; group 1 captures the digits and separators.

    Example:
        >>> import re
        >>> re.match(number_pattern(ColumnFormat(Kind.DECIMAL, decimal_sep=",")), " -1.234,5 % ").group(1)
        '1.234,5'
    """
    d, t = (r"\.", ",") if fmt.decimal_sep == "." else (",", r"\.")
    grouping = fmt.thousands_sep + (GROUPING if fmt.grouping is None else fmt.grouping)
    group = "[" + "".join("\\" + ch if ch in ".-]\\^" else ch for ch in grouping) + "]"
    fraction = f"(?:{d}0*)?" if fmt.kind is Kind.INTEGER else f"(?:{d}\\d*)?"
    exponent = r"(?:[eE][-+]?\d+)?" if fmt.kind is Kind.DECIMAL and fmt.decimal_sep == "." else ""
    # Any short token of letters or symbols may stand for the currency: listing every spelling
    # makes RE2 slow (case-insensitive Unicode alternation), and an unknown token ("kr", "KSh")
    # is far more often a currency we do not know than noise. currency_expression names it.
    token = "[^\\d\\s.,'()+\\-%\u00a0\u202f\u2007\u2019]{1,4}\\.?"
    currency = f"(?:{token}{_WS})?" if fmt.kind is Kind.MONEY else ""
    trailing_currency = f"(?:{token})?{_WS}" if fmt.kind is Kind.MONEY else ""
    percent = f"%?{_WS}" if fmt.kind is Kind.DECIMAL else ""
    digits = rf"((?:\d{{1,3}}(?:{group}\d{{3}})+{fraction}|\d*{fraction}){exponent})"
    return f"^{_WS}[-+(]?{_WS}{currency}[-+]?{_WS}{digits}{_WS}{trailing_currency}\\)?{_WS}{percent}$"


# --- dates ---------------------------------------------------------------------------------------
#: A zone after a time: Z, +01:00, +0100, -05, UTC, GMT.
ZONE_SUFFIX_RE = r"\s?(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$"
ZONED_RE = r":\d{2}(?:[.,]\d+)?" + ZONE_SUFFIX_RE
#: Year first with - or /: DuckDB's own cast reads these (with time, fraction and zone) fastest.
YFIRST_RE = r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:$|[ T])"
#: Day and month (in some order) then the year: 12/03/2024, 3.12.24, 12-03-2024 14:03.
YLAST_RE = r"^(\d{1,2})[/.-](\d{1,2})[/.-](?:\d{4}|\d{2})(?:$|[ T,])"
SEPARATORS = {"slash": "/", "dot": ".", "dash": "-"}
MONTH_FIRST_RE = r"^[A-Za-z]{3,9}\.?\s\d{1,2},?\s\d{4}"
DAY_MONTH_RE = r"^\d{1,2}[ -][A-Za-z]{3,9}\.?[ -](?:\d{4}|\d{2})"
MONTH_FIRST_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%b. %d, %Y")
DAY_MONTH_FORMATS = ("%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%d-%B-%Y", "%d %b. %Y")
_ZS = r"(?:\s?(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT))?$"
#: Time forms, checked at the end of a value -> strptime formats.
TIME_FORMS = {
    "hm": (r"[ T]\d{1,2}:\d{2}" + _ZS, ("%H:%M",)),
    "hms": (r"[ T]\d{1,2}:\d{2}:\d{2}" + _ZS, ("%H:%M:%S",)),
    "frac": (r"[ T]\d{1,2}:\d{2}:\d{2}\.\d+" + _ZS, ("%H:%M:%S.%f",)),
    "ampm": (r"\d{1,2}:\d{2}(?::\d{2})?\s?[AaPp][Mm]$", ("%I:%M %p", "%I:%M:%S %p", "%I:%M%p", "%I:%M:%S%p")),
}
#: Serial numbers Excel uses for dates between 1954 and 2119: a plain number in this range in a
#: date column is a date that lost its format on the way out of a spreadsheet.
EXCEL_SERIAL_RANGE = (20000, 80000)
DATE_ORDERS = ("DMY", "MDY", "YMD")


def year_last_formats(order: str, sep: str, four_digit_year: bool) -> str:
    y = "%Y" if four_digit_year else "%y"
    if order == "MDY":
        return f"%m{sep}%d{sep}{y}"
    if order == "YMD":  # only possible with two-digit years (24/03/12); 4-digit years last are DMY
        return f"%y{sep}%m{sep}%d" if not four_digit_year else f"%d{sep}%m{sep}%Y"
    return f"%d{sep}%m{sep}{y}"


@dataclass(frozen=True)
class ColumnFormat:
    """How one raw text column is parsed, decided from the whole column by ``infer_formats``.

    ``decimal_sep`` is "." or ","; the other one (and spaces or apostrophes) groups thousands.
    For dates, ``iso`` says year-first values occur (read by DuckDB's own cast), ``formats``
    lists strptime formats for the other values (None: every common format for ``date_order``),
    ``zoned`` says some values carry a UTC offset (converted to UTC) and ``excel_serial`` that
    plain numbers are Excel day serials. Naive date-times are read in ``timezone``.

    Example:
        >>> ColumnFormat(Kind.DECIMAL, decimal_sep=",").expected()
        'a number like 1.234,56'
    """

    kind: Kind
    decimal_sep: str = "."
    date_order: str = "DMY"
    iso: bool = True
    formats: tuple[str, ...] | None = None
    zoned: bool = True
    zoned_formats: tuple[str, ...] = ()
    excel_serial: bool = False
    timezone: str = "UTC"
    #: Spaces and apostrophes that group thousands in this column (None: any of them).
    grouping: str | None = None

    def __post_init__(self) -> None:
        if self.decimal_sep not in (".", ","):
            raise ValueError(f"decimal_sep must be '.' or ',', not {self.decimal_sep!r}")
        if self.date_order not in DATE_ORDERS:
            raise ValueError(f"date_order must be one of {', '.join(DATE_ORDERS)}, not {self.date_order!r}")

    @property
    def thousands_sep(self) -> str:
        return "," if self.decimal_sep == "." else "."

    def expected(self) -> str:
        """What a valid value of this column looks like, in words, for error messages."""
        point = self.decimal_sep == "."
        if self.kind is Kind.INTEGER:
            return "a whole number like " + ("1,234" if point else "1.234")
        if self.kind is Kind.DECIMAL:
            return "a number like " + ("1,234.56" if point else "1.234,56")
        if self.kind is Kind.MONEY:
            return "an amount like " + ("1,234.56 or $1,234.56" if point else "1.234,56 or 1.234,56 €")
        if self.kind is Kind.BOOLEAN:
            return "yes/no, true/false or 1/0"
        if self.kind is Kind.STRING:
            return "text"
        timed = self.kind is Kind.TIMESTAMP
        examples = {
            "DMY": ("31/12/2024", "day first"),
            "MDY": ("12/31/2024", "month first"),
            "YMD": ("2024-12-31", None),
        }
        if self.excel_serial and not self.formats and not self.iso:
            return "an Excel date serial like 45657" + (".5" if timed else "")
        iso_only = self.formats is not None and not self.formats and self.iso
        example, order = examples["YMD" if iso_only else self.date_order]
        if timed:
            example += " 14:30" if example != "2024-12-31" else "T14:30:00Z"
        noun = "a date and time" if timed else "a date"
        return f"{noun} like {example}" + (f" ({order})" if order else "")


def decide_format(kind: Kind, stats: dict[str, int], *, default_date_order: str = "DMY",
                  timezone: str = "UTC") -> ColumnFormat:
    """The format of a column of ``kind`` from its profile counts (missing counts are 0).

    Example:
        >>> decide_format(Kind.DECIMAL, {"nonblank": 2, "comma_proof": 1, "dot3": 1}).decimal_sep
        ','
    """
    s = {k: int(v or 0) for k, v in stats.items()}
    get = s.get
    if kind in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY):
        comma, point = get("comma_proof", 0), get("point_proof", 0)
        # Only the grouping characters the column uses are removed: fewer passes over the text.
        grouping = "".join(ch for i, ch in enumerate(GROUPING) if get(f"group_{i}", 0))
        if comma != point:
            # Conflicting evidence: the majority wins, the other rows fail to parse and are reported.
            return ColumnFormat(kind, decimal_sep="," if comma > point else ".", grouping=grouping)
        # No proof either way. "1.234" is a thousand in a count column and 1.234 elsewhere
        # (programs write decimal points); "1,234" is read as a thousand everywhere.
        if get("dot3", 0) and not get("comma3", 0) and kind is Kind.INTEGER:
            return ColumnFormat(kind, decimal_sep=",", grouping=grouping)
        return ColumnFormat(kind, grouping=grouping)
    if kind not in (Kind.DATE, Kind.TIMESTAMP):
        return ColumnFormat(kind, timezone=timezone)
    return _decide_date(kind, get, default_date_order, timezone)


def _decide_date(kind: Kind, get, default_date_order: str, timezone: str) -> ColumnFormat:
    first, second = get("first_gt12", 0), get("second_gt12", 0)
    ylast = {(name, four): get(f"ylast_{name}_{4 if four else 2}", 0)
             for name in SEPARATORS for four in (True, False)}
    if first > second:
        order = "DMY"
    elif second > first:
        order = "MDY"
    elif any(ylast.values()):
        order = default_date_order
    else:
        order = "YMD"
    date_formats = [year_last_formats(order if order != "YMD" else default_date_order, SEPARATORS[name], four)
                    for (name, four), n in sorted(ylast.items(), key=lambda item: -item[1]) if n]
    if get("ymd_slash_dot", 0):
        date_formats.append("%Y.%m.%d")
    if get("compact", 0):
        date_formats.append("%Y%m%d")
    if get("month_first", 0):
        date_formats.extend(MONTH_FIRST_FORMATS)
    if get("day_month", 0):
        date_formats.extend(DAY_MONTH_FORMATS)
    time_formats = [f for name, (_, fmts) in TIME_FORMS.items() if get(f"time_{name}", 0) for f in fmts]
    seps = [" "] + (["T"] if get("t_sep", 0) else [])
    formats = [d + sep + t for d in date_formats for t in time_formats for sep in seps]
    if get("dateonly", 0) or not time_formats:
        formats.extend(date_formats)
    zoned_formats: tuple[str, ...] = ()
    if get("zoned_other", 0):
        zoned_formats = tuple(f + z for f in formats if "%H" in f or "%I" in f for z in ("%z", " %z"))
    excel = bool(get("serial", 0)) and get("serial", 0) == get("numeric", 0)
    # An all-serial column keeps no other formats so that the expression stays a single branch.
    return ColumnFormat(kind, date_order=order, iso=bool(get("yfirst", 0)), formats=tuple(formats),
                        zoned=bool(get("zoned", 0)), zoned_formats=zoned_formats,
                        excel_serial=excel, timezone=timezone)


def default_formats(order: str) -> tuple[str, ...]:
    """Every common non-ISO format for ``order``: used when a column was not profiled."""
    dates = [year_last_formats(order if order != "YMD" else "DMY", sep, four)
             for four in (True, False) for sep in SEPARATORS.values()]
    dates += ["%Y.%m.%d", *MONTH_FIRST_FORMATS, *DAY_MONTH_FORMATS]
    times = [f for _, fmts in TIME_FORMS.values() for f in fmts]
    return tuple(d + sep + t for d in dates for t in times for sep in (" ", "T")) + tuple(dates)
