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
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
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
