"""Shapley-value attribution over the set of channels in each journey.

The game: for a coalition S of channels, v(S) is the conversion rate (and, for revenue, the
revenue per journey) of the journeys whose channels all lie in S; v(S) = 0 when there are none.
This needs non-converting journeys to mean anything: with converting journeys only, every
coalition that holds a whole journey has rate 1. Order and repeats within a journey are ignored.

Shapley values are exact up to ``exact_limit`` channels (subset sums over all 2^n coalitions);
beyond that they are estimated from ``samples`` random channel orders (seeded, so results
repeat), and ``conversions_stderr`` / ``revenue_stderr`` give the standard error of each
channel's credit. Negative values (a channel whose journeys convert worse than without it) are
credited zero; shares are the remaining values normalised to the totals. When no channel has a
positive value, channels share equally. ``(no touchpoint)`` conversions are credited directly.

Example:
    >>> import datetime as dt, polars as pl
    >>> from marketops.attribution.journeys import build_journeys
    >>> t = pl.DataFrame({"person_id": ["p", "p", "q"], "channel": ["A", "B", "A"],
    ...     "occurred_at": [dt.datetime(2024, 1, d) for d in (1, 2, 1)]})
    >>> c = pl.DataFrame({"person_id": ["p"], "conversion_id": ["c"], "revenue": [10],
    ...     "converted_at": [dt.datetime(2024, 1, 3)]})
    >>> shapley(build_journeys(t, c))["conversions"].to_list()
    [Decimal('0.500000'), Decimal('0.500000')]
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from marketops.attribution.credits import MICRO, credit_table, largest_remainder
from marketops.attribution.journeys import NO_TOUCHPOINT, Journeys
from marketops.attribution.markov import split_bucket


def _sets(touches: pl.DataFrame, js: pl.DataFrame) -> pl.DataFrame:
    """Distinct channel sets with journeys, conversions and revenue: set_id, chs (sorted)."""
    per = (touches.select("j", "ch").unique().sort("j", "ch")
           .group_by("j", maintain_order=True).agg(pl.col("ch").alias("chs"))
           .join(js.select("j", "converted", "revenue_cents"), on="j"))
    return (per.group_by("chs").agg(pl.len().alias("journeys"), pl.col("converted").sum().alias("conv"),
                                    pl.col("revenue_cents").sum().alias("cents"))
            .sort("chs"))


def _exact(sets: pl.DataFrame, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(used)
    bit = np.zeros(int(used.max()) + 1, dtype=np.int64)
    bit[used] = 1 << np.arange(n)
    flat = sets.select(pl.int_range(pl.len()).alias("i"), "chs").explode("chs")
    masks = np.bincount(flat["i"].to_numpy(), weights=bit[flat["chs"].to_numpy()],
                        minlength=sets.height).astype(np.int64)
    cols = [np.bincount(masks, weights=sets[c].to_numpy().astype(np.float64), minlength=1 << n)
            for c in ("journeys", "conv", "cents")]
    for f in cols:  # subset sums: f[S] = sum of f[T] over T within S
        for i in range(n):
            v = f.reshape(-1, 2, 1 << i)
            v[:, 1, :] += v[:, 0, :]
    jn, cv, ct = cols
    v_conv = np.divide(cv, jn, out=np.zeros_like(cv), where=jn > 0)
    v_rev = np.divide(ct, jn, out=np.zeros_like(ct), where=jn > 0)
    pc = np.bitwise_count(np.arange(1 << n, dtype=np.uint64)).astype(np.int64)
    w = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)])
    phi = np.zeros((2, n))
    for i in range(n):
        size = pc.reshape(-1, 2, 1 << i)[:, 0, :]
        for r, v in enumerate((v_conv, v_rev)):
            vv = v.reshape(-1, 2, 1 << i)
            phi[r, i] = np.sum(w[size] * (vv[:, 1, :] - vv[:, 0, :]))
    return phi, np.zeros((2, n))


def _sampled(sets: pl.DataFrame, used: np.ndarray, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(used)
    local = np.zeros(int(used.max()) + 1, dtype=np.int64)
    local[used] = np.arange(n)
    flat = sets.select(pl.int_range(pl.len()).alias("i"), "chs").explode("chs")
    members = local[flat["chs"].to_numpy()]
    starts = np.r_[0, np.flatnonzero(np.diff(flat["i"].to_numpy())) + 1]
    jn = sets["journeys"].to_numpy().astype(np.float64)
    vals = [sets["conv"].to_numpy().astype(np.float64), sets["cents"].to_numpy().astype(np.float64)]
    rng = np.random.default_rng(seed)
    total = np.zeros((2, n))
    total_sq = np.zeros((2, n))
    for _ in range(samples):
        perm = rng.permutation(n)
        rank = np.empty(n, dtype=np.int64)
        rank[perm] = np.arange(n)
        # a set lies inside the first k channels of the order once its latest member is in
        enters = np.maximum.reduceat(rank[members], starts)
        jcum = np.cumsum(np.bincount(enters, weights=jn, minlength=n))
        for r, val in enumerate(vals):
            vcum = np.cumsum(np.bincount(enters, weights=val, minlength=n))
            v = np.divide(vcum, jcum, out=np.zeros(n), where=jcum > 0)
            marg = np.diff(np.r_[0.0, v])  # marginal of the channel at each position
            contrib = marg[rank]
            total[r] += contrib
            total_sq[r] += contrib ** 2
    mean = total / samples
    var = np.maximum(total_sq / samples - mean ** 2, 0) / max(samples - 1, 1)
    return mean, np.sqrt(var)


def shapley_values(touches: pl.DataFrame, js: pl.DataFrame, n_channels: int, *,
                   exact_limit: int = 15, samples: int = 1000,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(values, standard errors), each shaped (2, n_channels): row 0 conversions, row 1 revenue."""
    phi = np.zeros((2, n_channels))
    se = np.zeros((2, n_channels))
    if touches.height == 0:
        return phi, se
    sets = _sets(touches, js)
    used = np.unique(touches["ch"].to_numpy())
    if len(used) <= exact_limit:
        p, s = _exact(sets, used)
    else:
        p, s = _sampled(sets, used, samples, seed)
    phi[:, used], se[:, used] = p, s
    return phi, se


def shapley(journeys: Journeys, *, exact_limit: int = 15, samples: int = 1000,
            seed: int = 0) -> pl.DataFrame:
    """Shapley attribution (see the module doc); adds conversions_stderr and revenue_stderr."""
    touches, js, bucket_conv, bucket_cents = split_bucket(journeys)
    n = len(journeys.channels)
    phi, se = shapley_values(touches, js, n, exact_limit=exact_limit, samples=samples, seed=seed)
    conv_js = js.filter(pl.col("converted"))
    present = np.zeros(n, dtype=bool)
    present[touches.join(conv_js.select("j"), on="j")["ch"].unique().to_numpy()] = True
    micro = np.zeros(n, dtype=np.int64)
    cents = np.zeros(n, dtype=np.int64)
    stderr = np.zeros((2, n))
    g = np.zeros(n, dtype=np.int64)
    totals = (conv_js.height * MICRO, int(conv_js["revenue_cents"].sum()))
    for r, (out, total) in enumerate(((micro, totals[0]), (cents, totals[1]))):
        pos = np.where(present, np.clip(phi[r], 0, None), 0.0)
        if pos.sum() <= 0:
            pos = present.astype(np.float64)
        if total:
            out += largest_remainder(pos, g, np.array([total]))
            stderr[r] = se[r] / pos.sum() * total
    if bucket_conv:
        b = journeys.channels.index(NO_TOUCHPOINT)
        micro[b] += bucket_conv * MICRO
        cents[b] += bucket_cents
    table = credit_table(journeys.channels, micro, cents)
    err = pl.DataFrame({"channel": pl.Series(journeys.channels, dtype=pl.String), "conversions_stderr": stderr[0] / MICRO,
                        "revenue_stderr": stderr[1] / 100})
    return table.join(err, on="channel", how="left", maintain_order="left")
