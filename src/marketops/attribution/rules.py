"""Rule-based models: each gives every touch of a converting journey a weight.

Edges, all models: a journey of one touch gives it everything. Weights are normalised per
conversion, then credits are rounded so they add up exactly (see ``credits``).

- ``first_touch`` / ``last_touch``: the first / last touch by time (ties by channel name).
- ``last_non_direct``: the last touch that is not direct; all direct -> the last touch.
- ``linear``: equal weight to every touch (a channel touched twice gets twice).
- ``time_decay(half_life_days)``: weight 2^(-age/half_life), age in days before the conversion.
- ``position_based(first, last)``: U-shaped; n>=3: ``first`` and ``last`` to the ends and the
  rest split over the middle; n=2: first/(first+last) and last/(first+last).
- ``w_shaped(milestone=0.3)``: the first touch, the lead-creating touch and the
  opportunity-creating touch get ``milestone`` each (a touch with two roles gets both), the
  rest (1 - 3*milestone) is split over the other touches; a missing milestone or no other
  touches means the weights present are renormalised.

Example:
    >>> import datetime as dt, polars as pl
    >>> from marketops.attribution.journeys import build_journeys
    >>> t = pl.DataFrame({"person_id": ["p"] * 3, "channel": ["A", "B", "C"],
    ...     "occurred_at": [dt.datetime(2024, 1, d) for d in (1, 2, 3)]})
    >>> c = pl.DataFrame({"person_id": ["p"], "conversion_id": ["c"], "revenue": [100],
    ...     "converted_at": [dt.datetime(2024, 1, 4)]})
    >>> position_based(build_journeys(t, c))["revenue"].to_list()
    [Decimal('40.00'), Decimal('40.00'), Decimal('20.00')]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from marketops.attribution.credits import credit_rows
from marketops.attribution.journeys import Journeys
from marketops.errors import ValidationFailed


def _run(journeys: Journeys, weight_expr: pl.Expr) -> pl.DataFrame:
    t = journeys.converting()
    w = t.with_columns(weight_expr.cast(pl.Float64).alias("w"))["w"].to_numpy()
    return credit_rows(t, w, journeys.channels)


def _is_last() -> pl.Expr:
    return pl.col("pos") == pl.col("n") - 1


def first_touch(journeys: Journeys) -> pl.DataFrame:
    """All credit to the first touch."""
    return _run(journeys, pl.col("pos") == 0)


def last_touch(journeys: Journeys) -> pl.DataFrame:
    """All credit to the last touch."""
    return _run(journeys, _is_last())


def last_non_direct(journeys: Journeys) -> pl.DataFrame:
    """All credit to the last non-direct touch (the last touch when all are direct)."""
    nd_pos = pl.when(~pl.col("is_direct")).then(pl.col("pos"))
    target = nd_pos.max().over("j").fill_null(pl.col("n") - 1)
    return _run(journeys, pl.col("pos") == target)


def linear(journeys: Journeys) -> pl.DataFrame:
    """Equal credit to every touch."""
    return _run(journeys, pl.lit(1.0))


def time_decay(journeys: Journeys, half_life_days: float = 7.0) -> pl.DataFrame:
    """Credit halves every ``half_life_days`` before the conversion."""
    if not half_life_days > 0:
        raise ValidationFailed(f"half_life_days must be positive, not {half_life_days}")
    # relative to the newest touch so a long lookback cannot underflow every weight to zero
    age = pl.col("age_days") - pl.col("age_days").min().over("j")
    return _run(journeys, (-age / half_life_days * np.log(2)).exp())


def position_based(journeys: Journeys, first: float = 0.4, last: float = 0.4) -> pl.DataFrame:
    """U-shaped: ``first`` and ``last`` to the ends, the rest over the middle touches."""
    if first < 0 or last < 0 or first + last > 1 or first + last == 0:
        raise ValidationFailed(f"position weights need 0 <= first + last <= 1, got {first}, {last}")
    n = pl.col("n")
    middle = (1 - first - last) / (n - 2).cast(pl.Float64)
    w = (pl.when(n == 1).then(1.0)
         .when(n == 2).then(pl.when(pl.col("pos") == 0).then(first).otherwise(last))
         .when(pl.col("pos") == 0).then(first)
         .when(_is_last()).then(last)
         .otherwise(middle))
    return _run(journeys, w)


def w_shaped(journeys: Journeys, milestone: float = 0.3) -> pl.DataFrame:
    """W-shaped: first touch, lead creation and opportunity creation ``milestone`` each."""
    if not 0 < milestone <= 1 / 3:
        raise ValidationFailed(f"milestone weight must be in (0, 1/3], not {milestone}")
    t = journeys.converting()
    if t.height == 0:
        return credit_rows(t, np.zeros(0), journeys.channels)
    j = t["j"].to_numpy()
    starts = np.r_[0, np.flatnonzero(j[1:] != j[:-1]) + 1]
    group = np.cumsum(np.r_[0, (j[1:] != j[:-1]).astype(np.int64)])
    roles = (t["pos"].to_numpy() == 0).astype(np.int64)
    for col in ("is_lead_created", "is_opportunity_created"):
        flag = t[col].to_numpy().astype(np.int64)
        running = np.cumsum(flag)
        before = (running - flag)[starts]  # markers counted before the journey starts
        roles += (flag == 1) & (running - before[group] == 1)  # only the first marker counts
    others = np.bincount(group, weights=(roles == 0))
    rest = np.divide(1 - 3 * milestone, others[group], out=np.zeros(len(j)), where=others[group] > 0)
    w = np.where(roles > 0, roles * milestone, rest)
    return credit_rows(t, w, journeys.channels)
