"""One error hierarchy for marketops.

Every error a user can meet derives from :class:`MarketopsError`, carries a plain-language
message and, where it helps, the place it comes from (file, row, column). ``transient`` tells
a loader or scheduler whether trying again may help (a locked file) or not (a bad header).

Example:
    >>> try:
    ...     raise SourceError("the file is empty", file="inbox/contacts.csv")
    ... except MarketopsError as e:
    ...     print(e)
    inbox/contacts.csv: the file is empty
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


class MarketopsError(Exception):
    """Root of every error marketops raises on purpose."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


@dataclass(frozen=True)
class Location:
    """Where in a file something is: any part may be unknown."""

    file: str | None = None
    row: int | None = None
    column: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class ConfigError(MarketopsError):
    """A setting in marketops.yaml (or the environment) is wrong; names the file and line."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.location = Location(file=file, line=line)
        prefix = f"{self.location}: " if file else ""
        super().__init__(prefix + message, hint=hint)


class SourceError(MarketopsError):
    """An input file cannot be read at all (empty, binary, unknown format...)."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None) -> None:
        self.location = Location(file=file, row=row, column=column)
        prefix = f"{self.location}: " if str(self.location) else ""
        super().__init__(prefix + message, hint=hint)


class ValidationFailed(MarketopsError):
    """Some rows failed validation; ``rows`` holds (row, column, reason) triples."""

    def __init__(self, message: str, rows: list[tuple[int, str | None, str]] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []


class QualityGateFailed(MarketopsError):
    """A data-quality threshold with ``action: fail`` was breached; the run published nothing."""


class StepFailed(MarketopsError):
    """A pipeline step failed; the run published nothing."""

    def __init__(self, step: str, run_id: str, cause: BaseException) -> None:
        self.step, self.run_id, self.cause = step, run_id, cause
        super().__init__(f"run {run_id} failed in step '{step}': {cause}")


class NotFound(MarketopsError):
    """A named thing (table, user, run...) does not exist."""


class WorkspaceLocked(MarketopsError):
    """Another process holds the warehouse; trying again later may work."""

    transient = True


class MissingDependency(MarketopsError):
    """An optional part is not installed; the message prints the exact install line."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs an optional part that is not installed",
            hint=f"pip install 'marketops[{extra}]'",
        )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" suffix for a name that is not among ``choices``.

    Example:
        >>> did_you_mean("peple", ["people", "accounts"])
        " (did you mean 'people'?)"
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def known_name(kind: str, word: str, choices: Iterable[str]) -> str:
    """``word`` when it is one of ``choices``; else a ValueError with :func:`unknown_name`'s message,
    which is what a pydantic validator raises so that the config error keeps its file and line.

    Example:
        >>> known_name("metric", "validty", ["validity", "completeness"])
        Traceback (most recent call last):
        ...
        ValueError: unknown metric 'validty' (did you mean 'validity'?); valid: completeness, validity
    """
    choices = list(choices)
    if word not in choices:
        raise ValueError(str(unknown_name(kind, word, choices)))
    return word


def unknown_name(kind: str, word: str, choices: Iterable[str]) -> NotFound:
    """A NotFound error listing the valid names and the closest one.

    Example:
        >>> str(unknown_name("table", "peple", ["people", "accounts"]))
        "unknown table 'peple' (did you mean 'people'?); valid: accounts, people"
    """
    choices = sorted(choices)
    return NotFound(f"unknown {kind} '{word}'{did_you_mean(word, choices)}; valid: {', '.join(choices)}")
