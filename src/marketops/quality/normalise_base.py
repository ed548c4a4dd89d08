"""What every normaliser returns, and the guard that makes each one safe and idempotent.

A normaliser is a pure function ``raw -> Normalised``. It keeps nothing hidden: the clean value
(``None`` when the raw value is unusable), flags describing what it noticed, and a plain-language
reason whenever it rejected the value. Two promises hold for every normaliser, whatever the input
(any script, control characters, megabytes of junk):

* it never raises: an unusable value comes back as ``value=None`` with a reason;
* it is idempotent: ``f(f(x).value).value == f(x).value``.

The second promise is enforced rather than hoped for: :func:`normaliser` runs the rules again on
their own output until the value stops changing (Unicode case mapping and NFC are not always
idempotent on exotic text) and rejects the rare value that never settles.

Example:
    >>> Normalised("x", ("placeholder",)).ok
    True
    >>> reject("the value is empty").ok
    False
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

# How many extra passes we allow before declaring a value unstable. Real data settles in one.
_MAX_PASSES = 4
# Longer raw values are not a name, an email or a phone: refuse them before any regex runs.
MAX_LENGTH = 1000


@dataclass(frozen=True)
class Normalised:
    """A normalised value: ``value`` (None when unusable), ``flags`` and a ``reason`` for rejection."""

    value: str | None
    flags: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when there is a usable clean value."""
        return self.value is not None


N = TypeVar("N", bound=Normalised)


def reject(reason: str, *flags: str, cls: type[Normalised] = Normalised, **extra: Any) -> Any:
    """A rejected value: ``value=None`` with a plain-language ``reason``."""
    return cls(None, tuple(flags), reason, **extra)


# Values people type into a CRM when they do not know the answer. Compared after
# :func:`placeholder_key`; each normaliser may add its own.
PLACEHOLDERS = frozenset({
    "", "-", "--", "---", ".", "..", "...", "?", "??", "???", "_", "0", "x", "xx", "xxx", "xxxx",
    "n/a", "n.a.", "n.a", "#n/a", "none", "null", "nil", "nan", "undefined", "unknown", "not set",
    "(not set)", "(none)", "tbd", "tba", "test", "testing", "asdf", "asd", "qwerty", "abc", "blank",
    "empty", "no", "nessuno", "sconosciuto", "desconocido", "ninguno", "нет", "неизвестно",
})


def placeholder_key(text: str) -> str:
    """Casefold and squeeze whitespace so that ``' N/A '`` and ``'n/a'`` compare equal."""
    return " ".join(text.casefold().split())


def clean_text(value: object) -> str:
    """NFC, no control or format characters, whitespace collapsed to single spaces, trimmed.

    >>> clean_text("  Jane\\u200b \\t Doe\\n")
    'Jane Doe'
    """
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        # Printable ASCII is already NFC and has no control or format characters: only the
        # whitespace rule applies (most CRM values, and the slow loop below is per character).
        return " ".join(text.split())
    text = unicodedata.normalize("NFC", text)
    # Cc/Cf (control, zero-width, BOM, bidi marks) and lone surrogates carry no meaning in CRM
    # fields and break downstream encoders; whitespace controls become spaces.
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """Drop combining marks (for matching keys only, never for display values).

    >>> strip_accents("Nestlé España")
    'Nestle Espana'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


_PUNCT_RE = re.compile(r"[^\w\s]+", re.UNICODE)


def match_key(text: str) -> str:
    """A loose comparison key: casefold, no accents, punctuation to spaces, single spaces.

    >>> match_key("  Stati  Uniti d'America ")
    'stati uniti d america'
    """
    return " ".join(_PUNCT_RE.sub(" ", strip_accents(text.casefold()).casefold()).replace("_", " ").split())


def normaliser(func: Callable[..., N] | None = None, *, cls: type[Normalised] = Normalised,
               settle: Callable[..., Normalised] | None = None) -> Any:
    """Make ``func`` total and idempotent (see the module docstring); ``cls`` is its result type.

    ``None``, NaN and over-long input are rejected before ``func`` runs; any exception becomes a
    rejection whose reason names it, so one odd value can never stop a pipeline run.

    ``settle``, when given, runs instead of ``func`` for the passes that check the clean value
    settles: a cheaper function that must give ``func``'s value and rejection for every input,
    only not its flags (the flags of the first pass are the ones returned).

    >>> @normaliser
    ... def shout(value):
    ...     return Normalised(str(value).upper())
    >>> shout("hi").value, shout(None).reason
    ('HI', 'the value is empty')
    """
    if func is None:
        return functools.partial(normaliser, cls=cls, settle=settle)

    @functools.wraps(func)
    def wrapper(value: object, *args: Any, **kwargs: Any) -> N:
        def run(raw: object, fn: Callable[..., Any] = func) -> N:
            try:
                return fn(raw, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the contract is "never raise"
                return reject(f"internal error while normalising ({type(exc).__name__}: {exc})", "error",
                              cls=cls)

        if value is None or (isinstance(value, float) and math.isnan(value)):
            return reject("the value is empty", "empty", cls=cls)
        if isinstance(value, str) and len(value) > MAX_LENGTH:
            return reject(f"the value is longer than {MAX_LENGTH} characters", "too_long", cls=cls)
        result = run(value)
        current = result
        for _ in range(_MAX_PASSES):
            if current.value is None:
                return current
            again = run(current.value, settle or func)
            if again.value == current.value:
                return result if current is result else replace(result, value=current.value)
            current = again
        return reject("the value does not settle to a stable clean form", "unstable", cls=cls)

    return wrapper
