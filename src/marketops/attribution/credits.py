"""Turning model weights into credits that add up exactly.

Conversions are credited in micro-conversions (1e-6) and revenue in cents, both integers, so
per-channel credits sum exactly to the number of conversions and to total revenue. Fractions
are rounded with a deterministic largest-remainder rule: floors first, then the units left over
go to the largest remainders, ties to the earlier touch (or the channel first by name).
"""

from __future__ import annotations

import numpy as np
import polars as pl

MICRO = 1_000_000


def largest_remainder(weights: np.ndarray, group: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Split integer ``totals[g]`` over the rows of each group in proportion to ``weights``.

    ``group`` must be sorted (rows of a group contiguous); weights of a group need not sum to 1.

    Example:
        >>> largest_remainder(np.array([1., 1, 1]), np.array([0, 0, 0]), np.array([100]))
        array([34, 33, 33])
    """
    weights = np.asarray(weights, dtype=np.float64)
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sums = np.bincount(group, weights=weights, minlength=len(totals))
    share = np.divide(weights, sums[group], out=np.zeros(n), where=sums[group] > 0)
    exact = share * totals[group].astype(np.float64)
    base = np.floor(exact + 1e-9).astype(np.int64)
    rem = exact - base
    left = totals - np.bincount(group, weights=base, minlength=len(totals)).astype(np.int64)
    # rank rows within their group by remainder (largest first), ties to the earlier row
    order = np.lexsort((np.arange(n), -rem, group))
    starts = np.searchsorted(group[order], group[order], side="left")
    rank = np.arange(n) - starts
    bump = np.zeros(n, dtype=np.int64)
    bump[order] = (rank < left[group[order]]).astype(np.int64)
    return base + bump


def credit_rows(touches: pl.DataFrame, weight: np.ndarray, channels: list[str]) -> pl.DataFrame:
    """Credits from per-touch weights; ``touches`` has j, ch, revenue_cents sorted by j."""
    if touches.height == 0:
        zero = np.zeros(len(channels), dtype=np.int64)
        return credit_table(channels, zero, zero)
    j = touches["j"].to_numpy()
    _, group = np.unique(j, return_inverse=True)
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    cents = touches["revenue_cents"].to_numpy()[first]
    conv = largest_remainder(weight, group, np.full(len(first), MICRO, dtype=np.int64))
    rev = largest_remainder(weight, group, cents)
    ch = touches["ch"].to_numpy()
    return credit_table(channels, np.bincount(ch, weights=conv, minlength=len(channels)),
                  np.bincount(ch, weights=rev, minlength=len(channels)))


def credit_shares(shares: np.ndarray, channels: list[str], conversions: int,
                  revenue_cents: int, revenue_shares: np.ndarray | None = None) -> pl.DataFrame:
    """Credits from per-channel shares of the totals (Markov, Shapley)."""
    g = np.zeros(len(channels), dtype=np.int64)
    conv = largest_remainder(shares, g, np.array([conversions * MICRO]))
    rev = largest_remainder(shares if revenue_shares is None else revenue_shares, g,
                            np.array([revenue_cents]))
    return credit_table(channels, conv, rev)


def credit_table(channels: list[str], micro: np.ndarray, cents: np.ndarray) -> pl.DataFrame:
    """The credits table from integer micro-conversions and cents per channel."""
    # bincount returns floats; integers below 2**53 are exact, so rounding recovers them.
    micro = np.rint(micro).astype(np.int64)
    cents = np.rint(cents).astype(np.int64)
    total = micro.sum()
    df = pl.DataFrame({
        "channel": pl.Series(channels, dtype=pl.String), "conversions_micro": micro, "revenue_cents": cents,
        "share": micro / total if total else np.zeros(len(channels)),
    })
    return (
        df.with_columns(
            conversions=pl.col("conversions_micro").cast(pl.Decimal(38, 6)) / MICRO,
            revenue=pl.col("revenue_cents").cast(pl.Decimal(38, 2)) / 100,
        )
        .filter((pl.col("conversions_micro") != 0) | (pl.col("revenue_cents") != 0))
        .sort(["conversions_micro", "channel"], descending=[True, False])
        .select("channel", "conversions", "revenue", "share", "conversions_micro", "revenue_cents")
    )
