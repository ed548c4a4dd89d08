"""Translations of the web app's text, with gettext catalogs compiled in memory.

English is the source language: templates wrap text in ``_()``. Catalogs live in
``locale/<lang>/LC_MESSAGES/messages.po`` and are compiled on first use with Babel, so a checkout
or a wheel needs no build step. When you add text, add its msgid to every catalog (a test fails on
template strings missing from a catalog); ``pybabel update`` works on these files as well.

Example:
    >>> translations("it").gettext("Sign in")
    'Accedi'
    >>> translations("xx").gettext("Sign in")
    'Sign in'
"""

from __future__ import annotations

import gettext
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
)
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
#: Languages of the web app; keep in step with WorkspaceConfig.language.
LANGUAGES = {"en": "English", "it": "Italiano", "es": "Español", "ru": "Русский"}
DEFAULT = "en"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (cached); English or an unknown code gives the source text."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang not in LANGUAGES or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among ``candidates`` (query, cookie, workspace...), else English.

    Example:
        >>> pick_language(None, "xx", "es", "it")
        'es'
    """
    for lang in candidates:
        if lang and lang in LANGUAGES:
            return lang
    return DEFAULT


class Formatter:
    """Numbers, dates and durations in the reader's language.

    Example:
        >>> Formatter("it").number(1234567)
        '1.234.567'
        >>> Formatter("en").duration(95)
        '1 min 35 sec'
        >>> Formatter("it").money(18308.93, "EUR"), Formatter("en").money(1508291.45, "EUR", compact=True)
        ('18.308,93\xa0€', '€1.5M')
        >>> Formatter("en").percent(0.2531), Formatter("en").percent(-0.05, signed=True)
        ('25.3%', '-5.0%')
        >>> Formatter("it").period(date(2024, 6, 1), "month"), Formatter("en").period(date(2024, 6, 3), "week")
        ('giugno 2024', 'Jun 3\u2009–\u20099, 2024')
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def number(self, value: int | float | None) -> str:
        return "–" if value is None else format_decimal(value, locale=self.lang)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return format_datetime(value, format="medium", locale=self.lang)

    def ago(self, value: datetime | None, now: datetime | None = None) -> str:
        """'5 minutes ago' in the reader's language."""
        if value is None:
            return "–"
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - (now or datetime.now(timezone.utc))
        return format_timedelta(delta, add_direction=True, locale=self.lang)

    def duration(self, seconds: float | None) -> str:
        """A run's length to the second: '1 min 35 sec' (Babel alone rounds to one unit)."""
        if seconds is None:
            return "–"
        whole = max(int(round(seconds)), 0)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        units = [(hours, "hour"), (minutes, "minute"), (secs, "second")]
        parts = [format_timedelta(timedelta(**{u + "s": n}), granularity=u, threshold=10**6, format="short",
                                  locale=self.lang) for n, u in units if n]
        if not parts:
            parts = [format_timedelta(timedelta(0), granularity="second", format="short", locale=self.lang)]
        return " ".join(parts[:2])

    def decimal(self, value: float | None, digits: int = 2) -> str:
        """A number with at most ``digits`` decimals: ROAS 23.8, credited conversions 85.7."""
        if value is None:
            return "–"
        return format_decimal(value, format="#,##0." + "#" * digits if digits else "#,##0", locale=self.lang)

    def compact(self, value: float | None) -> str:
        """A big number in short form for tiles: 12.3K, 1,5 Mln."""
        if value is None:
            return "–"
        return format_compact_decimal(value, fraction_digits=1, locale=self.lang)

    def money(self, value: float | None, currency: str, *, compact: bool = False) -> str:
        """An amount in ``currency`` the reader's way ('18.308,93 €'); ``compact`` gives '€1.5M'."""
        if value is None:
            return "–"
        if compact and abs(value) >= 10_000:
            return format_compact_currency(value, currency, fraction_digits=1, locale=self.lang)
        return format_currency(value, currency, locale=self.lang)

    def percent(self, value: float | None, digits: int = 1, *, signed: bool = False) -> str:
        """A share (0.253 -> '25.3%') with at most ``digits`` decimals; ``signed`` puts + on a rise."""
        if value is None:
            return "–"
        rounded = round(float(value), digits + 2)
        # the locale's pattern ('#,##0 %' in Spanish) with the decimals asked for, so a column reads 22.0%, 23.1%
        base = Locale.parse(self.lang).percent_formats[None].pattern
        last = base.rindex("0")
        pattern = base[:last + 1] + ("." + "0" * digits if digits else "") + base[last + 1:]
        text = format_percent(rounded, format=pattern, locale=self.lang)
        return ("+" + text) if signed and rounded > 0 else text

    def metric(self, value: float | None, kind: str, currency: str, *, compact: bool = False) -> str:
        """A metric value by its catalog ``format``: number, currency or percent (stored x100)."""
        if value is None:
            return "–"
        if kind == "currency":
            return self.money(value, currency, compact=compact)
        if kind == "percent":
            return self.percent(float(value) / 100)
        if compact and abs(value) >= 10_000:
            return self.compact(value)
        return self.decimal(value)

    def period(self, start: date | None, grain: str) -> str:
        """A reporting period by its first day: 'June 2024', 'Q2 2024', 'Jun 3 – 9, 2024', 'Jun 3, 2024'."""
        if start is None:
            return "–"
        if grain == "month":
            return format_skeleton("yMMMM", start, locale=self.lang)
        if grain == "quarter":
            return format_skeleton("yQQQ", start, locale=self.lang)
        if grain == "week":
            return format_interval(start, start + timedelta(days=6), "yMMMd", locale=self.lang)
        return format_date(start, "medium", locale=self.lang)
