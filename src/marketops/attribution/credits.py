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
    return base + (_rank_in_group(rem, group) < left[group])


# Groups up to this many rows are ranked by comparing rows pairwise (a few vector passes,
# no sort); larger groups, unsorted groups and non-finite remainders are ranked by lexsort.
_PAIRWISE = 8


def _rank_in_group(rem: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Rank of each row within its group by ``rem``, largest first, ties to the earlier row."""
    n = len(rem)
    sizes = np.bincount(group)
    if n < 2 or not (group[1:] >= group[:-1]).all() or not np.isfinite(rem).all():
        return _rank_by_sort(rem, group, np.arange(n))
    rank = np.zeros(n, dtype=np.int64)
    # rows of a group are contiguous, so all rows of a small group lie within _PAIRWISE - 1
    # of each other: a later row counts an earlier one when its remainder is at least as
    # large, an earlier row counts a later one when its remainder is strictly larger
    for d in range(1, min(int(sizes.max()), _PAIRWISE)):
        same = group[d:] == group[:-d]
        earlier, later = rem[:-d], rem[d:]
        rank[d:] += same & (earlier >= later)
        rank[:-d] += same & (later > earlier)
    big = np.flatnonzero(sizes[group] > _PAIRWISE)
    if len(big):
        rank[big] = _rank_by_sort(rem[big], group[big], big)
    return rank


def _rank_by_sort(rem: np.ndarray, group: np.ndarray, row: np.ndarray) -> np.ndarray:
    order = np.lexsort((row, -rem, group))
    starts = np.searchsorted(group[order], group[order], side="left")
    rank = np.empty(len(rem), dtype=np.int64)
    rank[order] = np.arange(len(rem)) - starts
    return rank


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
