"""The SMART check of a goal: one verdict per letter, each with its own plain message.

* **S**pecific: a metric and a scope (the scope's dimensions must be ones the metric allows;
  no filter means "the whole business").
* **M**easurable: the metric exists ("did you mean") and has data for the scope.
* **A**chievable: the target against the metric's history and trend. An error when the target is
  on the wrong side of the baseline (below it for a higher-is-better metric, above it for a
  lower-is-better one); a warning when it needs a growth rate per period that no stretch of the
  history of the same length showed.
* **R**elevant: linked to a parent goal or an initiative (a warning otherwise).
* **T**ime-bound: a deadline, not in the past, after the start.

Errors block creation; warnings are saved and shown with the goal.

Example:
    >>> c = time_bound(None, None, today=__import__("datetime").date(2026, 1, 1))
    >>> c.letter, c.ok, c.severity, c.message
    ('T', False, 'error', 'No deadline: a goal needs a date by which the target is to be reached.')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from marketops.errors import NotFound
from marketops.metrics import Catalog
from marketops.metrics.query import period_start, shift_period
from marketops.plan.forecast import best_growth, worst_growth
from marketops.plan.goal_series import Series, scope_label

LETTERS = {"S": "Specific", "M": "Measurable", "A": "Achievable", "R": "Relevant", "T": "Time-bound"}


@dataclass(frozen=True)
class SmartCheck:
    """The verdict on one letter of SMART. ``severity`` matters when not ``ok``: errors block."""

    letter: str
    ok: bool
    severity: str  # error | warning
    message: str

    @property
    def name(self) -> str:
        return LETTERS[self.letter]

    @property
    def blocking(self) -> bool:
        return not self.ok and self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name}


def ok(letter: str, message: str) -> SmartCheck:
    return SmartCheck(letter, True, "warning", message)


def error(letter: str, message: str) -> SmartCheck:
    return SmartCheck(letter, False, "error", message)


def warning(letter: str, message: str) -> SmartCheck:
    return SmartCheck(letter, False, "warning", message)


def specific(metric: str, label: str | None, filters: dict[str, Any], allowed: list[str] | None) -> SmartCheck:
    """A metric and a scope the metric can be broken down by.

    >>> specific("clicks", "Clicks", {}, ["channel"]).message
    'Clicks for the whole business (no filter).'
    >>> specific("clicks", "Clicks", {"country": "IT"}, ["channel"]).message
    "Clicks cannot be scoped by 'country': it allows channel."
    """
    if not metric:
        return error("S", "No metric: name the metric the goal moves, e.g. email_clicks.")
    if allowed is not None:
        for d in filters:
            if d not in allowed:
                return error("S", f"{label or metric} cannot be scoped by '{d}': it allows "
                                  f"{', '.join(allowed) or 'no dimension (only the whole business)'}.")
    if not filters:
        return ok("S", f"{label or metric} for the whole business (no filter).")
    return ok("S", f"{label or metric} for {scope_label(filters)}.")


def time_bound(deadline: dt.date | None, start: dt.date | None, *, today: dt.date) -> SmartCheck:
    """A deadline in the future, after the start."""
    if deadline is None:
        return error("T", "No deadline: a goal needs a date by which the target is to be reached.")
    if deadline < today:
        return error("T", f"The deadline {deadline.isoformat()} is in the past (today is {today.isoformat()}): "
                          f"choose a date from today on.")
    if start is not None and deadline <= start:
        return error("T", f"The deadline {deadline.isoformat()} is not after the start {start.isoformat()}.")
    days = (deadline - today).days
    return ok("T", f"Due {deadline.isoformat()}, in {days} day{'s' if days != 1 else ''}.")


def relevant(parent: str | None, initiatives: list[str]) -> SmartCheck:
    """Linked to a parent goal or an initiative (a warning otherwise)."""
    links = ([f"parent goal '{parent}'"] if parent else []) + [f"initiative '{t}'" for t in initiatives]
    if not links:
        return warning("R", "Not linked to a parent goal or an initiative: say what it serves, so that "
                            "people see why it matters.")
    return ok("R", "Serves " + ", ".join(links) + ".")


def achievable(series: Series | None, *, measure: str, baseline: float | None, target: float | None,
               deadline: dt.date | None, higher_is_better: bool, label: str, grain: str,
               start: dt.date | None = None, cumulative_ok: bool = True) -> SmartCheck:
    """The target against the baseline, the history and its trend."""
    if target is None:
        return error("A", "No target: give a value (--target 1250) or a change from the baseline (--change +25%).")
    if measure == "cumulative" and not cumulative_ok:
        return error("A", f"{label[0].upper() + label[1:]} cannot be totalled since the start (it is a ratio, an average or an extreme): "
                          f"measure it per period instead.")
    if baseline is not None:
        if higher_is_better and target <= baseline:
            return error("A", f"The target {_n(target)} is not above the baseline {_n(baseline)}, but higher "
                              f"{label} is better: set a target above {_n(baseline)}.")
        if not higher_is_better and target >= baseline:
            return error("A", f"The target {_n(target)} is not below the baseline {_n(baseline)}, but lower "
                              f"{label} is better: set a target below {_n(baseline)}.")
    if series is None or deadline is None or series.complete is None:
        return ok("A", "Not judged against the history: the metric has no data yet.")
    history = [v for _, v in series.known(through=series.complete)]
    if len(history) < 3:
        return ok("A", f"Too little history ({len(history)} complete {grain}s) to judge the target.")
    last = series.complete
    periods = max(1, _count(last, period_start(deadline, grain), grain))
    if measure == "cumulative":
        first = period_start(start, grain) if start else last
        span = _count(first, period_start(deadline, grain), grain) + 1
        best = max(history) if higher_is_better else min(history)
        need = target / span
        if higher_is_better and need > best:
            return warning("A", f"Reaching {_n(target)} needs about {_n(need)} a {grain} on average, more than "
                                f"any {grain} so far (best {_n(best)}).")
        return ok("A", f"About {_n(need)} a {grain} is needed; the best {grain} so far had {_n(best)}.")
    current = history[-1]
    if current <= 0 or target <= 0:
        return ok("A", "Not judged against the history: the values are not all positive.")
    needed = (target / current) ** (1 / periods) - 1
    if higher_is_better:
        seen = best_growth(history, periods)
        if seen is not None and needed > max(seen, 0):
            return warning("A", f"Needs {needed:+.1%} a {grain} for {periods} {grain}s (from {_n(current)} to "
                                f"{_n(target)}); the best stretch of the history grew {seen:+.1%} a {grain}.")
    else:
        seen = worst_growth(history, periods)
        if seen is not None and needed < min(seen, 0):
            return warning("A", f"Needs {needed:+.1%} a {grain} for {periods} {grain}s (from {_n(current)} to "
                                f"{_n(target)}); the best stretch of the history fell {seen:+.1%} a {grain}.")
    return ok("A", f"Needs {needed:+.1%} a {grain} for {periods} {grain}s; the history has seen that pace.")


def measurable(catalog: Catalog, metric: str) -> SmartCheck | None:
    """An error when ``metric`` is unknown (with "did you mean"), else None (data is checked later)."""
    try:
        catalog.get(metric)
    except NotFound as e:
        return error("M", e.message[0].upper() + e.message[1:] + ".")
    return None


def in_sentence(label: str) -> str:
    """A metric's label inside a sentence: "Unique clicks" -> "unique clicks", "MQLs" stays.

    >>> in_sentence("Cost per click"), in_sentence("MQLs"), in_sentence("CAC")
    ('cost per click', 'MQLs', 'CAC')
    """
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def _count(first: dt.date, last: dt.date, grain: str) -> int:
    n, p = 0, first
    while p < last:
        p = shift_period(p, grain, 1)
        n += 1
    return n


def _n(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"
