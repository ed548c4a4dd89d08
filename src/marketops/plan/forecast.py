"""Forecasting a goal's metric to its deadline, on a plain series of values per period.

Two methods, chosen by how much history there is:

* ``linear``: a least-squares straight line through the last :data:`TREND_PERIODS` complete
  periods, extended to the deadline. Recent periods only, so that a shift a year ago does not
  steer the line.
* ``seasonal``: with at least two full seasons of history (24 months, 8 quarters, 104 weeks,
  14 days), a *seasonal index* first: each position in the season (January, February...) gets
  the average ratio of its values to their centred moving average over the whole history
  (classical multiplicative decomposition). The line is fitted to the de-seasonalised values and
  the forecast is put back in season. When a value is zero or negative, ratios mean nothing, and
  the index is additive (differences from the moving average) instead.

With fewer than :data:`MIN_TREND_PERIODS` values there is no trend: the forecast is the last value
(``flat``: "if nothing changes").

Example:
    >>> f = forecast([100, 110, 120, 130], steps=2)
    >>> f.method, [round(v) for v in f.values]
    ('linear', [140, 150])
    >>> forecast([5.0], steps=3).values
    [5.0, 5.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Complete periods the trend line is fitted to (the most recent ones).
TREND_PERIODS = 12
#: Fewer values than this give a flat forecast (the last value).
MIN_TREND_PERIODS = 3
#: Periods in one season, per grain.
SEASON = {"day": 7, "week": 52, "month": 12, "quarter": 4}


@dataclass(frozen=True)
class Forecast:
    """Values for the ``steps`` periods after the last one given, and how they were made."""

    values: list[float]
    method: str  # flat | linear | seasonal
    #: Change per period of the trend line (0 for flat).
    slope: float
    #: Values the line was fitted to.
    periods_used: int


def linear_fit(values: Sequence[float]) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through ``values`` at x = 0, 1, 2...

    >>> linear_fit([1.0, 3.0, 5.0])
    (1.0, 2.0)
    """
    n = len(values)
    if n == 0:
        raise ValueError("a line needs at least one value")
    if n == 1:
        return float(values[0]), 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    slope = sxy / sxx
    return mean_y - slope * mean_x, slope


def seasonal_index(values: Sequence[float], season: int) -> tuple[list[float], bool]:
    """The seasonal index of each position in the season and whether it is multiplicative.

    Multiplicative (ratios to the centred moving average, normalised to average 1) when every
    value is positive; additive (differences, normalised to average 0) otherwise.

    >>> index, multiplicative = seasonal_index([10, 20] * 4, 2)
    >>> [round(i, 2) for i in index], multiplicative
    ([0.67, 1.33], True)
    """
    n = len(values)
    if n < 2 * season:
        raise ValueError(f"a seasonal index needs two seasons ({2 * season} values), got {n}")
    multiplicative = all(v > 0 for v in values)
    half = season // 2
    ratios: list[list[float]] = [[] for _ in range(season)]
    for i in range(half, n - half):
        if season % 2 == 0:  # a 2 x season moving average centres an even season on a period
            window = values[i - half:i + half + 1]
            centre = (sum(window) - (window[0] + window[-1]) / 2) / season
        else:
            centre = sum(values[i - half:i + half + 1]) / season
        if multiplicative:
            if centre > 0:
                ratios[i % season].append(values[i] / centre)
        else:
            ratios[i % season].append(values[i] - centre)
    index = [sum(r) / len(r) if r else (1.0 if multiplicative else 0.0) for r in ratios]
    if multiplicative:
        mean = sum(index) / season
        return [i / mean for i in index], True
    mean = sum(index) / season
    return [i - mean for i in index], False


def forecast(values: Sequence[float], steps: int, *, season: int | None = None) -> Forecast:
    """The next ``steps`` values after ``values`` (complete periods, oldest first).

    ``season`` (periods per season, see :data:`SEASON`) switches the seasonal method on when the
    history holds two full seasons.

    >>> history = [100 + (30 if i % 12 == 11 else 0) + i for i in range(36)]  # December peaks
    >>> f = forecast(history, steps=12, season=12)
    >>> f.method, max(range(12), key=lambda i: f.values[i])  # the 12th step is December again
    ('seasonal', 11)
    """
    values = [float(v) for v in values]
    steps = max(int(steps), 0)
    if not values:
        raise ValueError("nothing to forecast from: the series is empty")
    if len(values) < MIN_TREND_PERIODS:
        return Forecast([values[-1]] * steps, "flat", 0.0, len(values))
    if season and season > 1 and len(values) >= 2 * season:
        index, multiplicative = seasonal_index(values, season)
        n = len(values)

        def adjust(i: int, v: float) -> float:
            return v / index[i % season] if multiplicative else v - index[i % season]

        plain = [adjust(i, v) for i, v in enumerate(values)]
        recent = plain[-max(TREND_PERIODS, season):]
        intercept, slope = linear_fit(recent)
        offset = n - len(recent)
        out = []
        for step in range(1, steps + 1):
            i = n - 1 + step
            level = intercept + slope * (i - offset)
            out.append(level * index[i % season] if multiplicative else level + index[i % season])
        return Forecast(out, "seasonal", slope, len(recent))
    recent = values[-TREND_PERIODS:]
    intercept, slope = linear_fit(recent)
    last = len(recent) - 1
    return Forecast([intercept + slope * (last + step) for step in range(1, steps + 1)], "linear", slope,
                    len(recent))


def best_growth(values: Sequence[float], span: int) -> float | None:
    """The highest compound growth rate per period seen over any ``span`` consecutive periods of
    ``values`` (0.05 = +5 % a period); None when no such stretch has positive values at both ends.

    Used to judge whether a target is achievable: a goal needing a faster sustained growth than any
    stretch of the history showed gets a warning.

    >>> round(best_growth([100, 110, 121, 100], 2), 3)
    0.1
    >>> best_growth([0, 0, 0], 1) is None
    True
    """
    span = max(1, min(span, len(values) - 1))
    rates = [(values[i + span] / values[i]) ** (1 / span) - 1
             for i in range(len(values) - span) if values[i] > 0 and values[i + span] > 0]
    return max(rates) if rates else None


def worst_growth(values: Sequence[float], span: int) -> float | None:
    """The steepest compound decline per period over any ``span`` consecutive periods (negative:
    -0.05 = -5 % a period), for lower-is-better metrics; see :func:`best_growth`.

    >>> round(worst_growth([100, 90, 81, 100], 2), 3)
    -0.1
    """
    span = max(1, min(span, len(values) - 1))
    rates = [(values[i + span] / values[i]) ** (1 / span) - 1
             for i in range(len(values) - span) if values[i] > 0 and values[i + span] > 0]
    return min(rates) if rates else None
