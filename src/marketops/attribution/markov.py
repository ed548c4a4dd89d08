"""Data-driven Markov-chain attribution (order 1 to 3) with removal effects.

States are the last ``order`` channels of a journey (fewer at its start), plus start,
conversion and null (a journey that did not convert). Transition probabilities come from
counts over every journey, converting or not. The conversion probability from start is the
absorbing probability of the chain; the removal effect of a channel is the share of that
probability lost when every state holding the channel leads to null instead.

Credits: conversions are split over channels in proportion to their removal effects (as the
ChannelAttribution package does). Revenue is split per conversion over the channels of its own
journey in proportion to their removal effects, so a channel never takes revenue from a deal
it did not touch. Conversions credited to ``(no touchpoint)`` stay there and are not modelled.
A journey that repeats a channel (A -> A) has a self-loop; self-loops do not change absorbing
probabilities and are folded away.

Example:
    >>> import datetime as dt, polars as pl
    >>> from marketops.attribution.journeys import build_journeys
    >>> t = pl.DataFrame({"person_id": ["p", "p", "q"], "channel": ["A", "B", "A"],
    ...     "occurred_at": [dt.datetime(2024, 1, d) for d in (1, 2, 1)]})
    >>> c = pl.DataFrame({"person_id": ["p"], "conversion_id": ["c"], "revenue": [10],
    ...     "converted_at": [dt.datetime(2024, 1, 3)]})
    >>> markov(build_journeys(t, c))["conversions"].to_list()
    [Decimal('0.500000'), Decimal('0.500000')]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from marketops.attribution.credits import MICRO, credit_table, largest_remainder
from marketops.attribution.journeys import NO_TOUCHPOINT, Journeys
from marketops.errors import ValidationFailed

START, CONV, NULL = 0, 1, 2


def split_bucket(journeys: Journeys) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """(touches to model, journeys to model, bucket conversions, bucket cents).

    Converting journeys whose only touch is the synthetic ``(no touchpoint)`` are credited to
    that bucket directly; the data-driven models never see them.
    """
    bucket = journeys.channels.index(NO_TOUCHPOINT) if NO_TOUCHPOINT in journeys.channels else -1
    t = journeys.touches
    lonely = t.filter(pl.col("ch") == bucket).select("j")
    js = journeys.journeys.join(lonely, on="j", how="anti")
    gone = journeys.journeys.join(lonely, on="j", how="semi")
    return (t.filter(pl.col("ch") != bucket), js, gone.height, int(gone["revenue_cents"].sum()))


def removal_effects(touches: pl.DataFrame, journeys: pl.DataFrame, n_channels: int,
                    order: int = 1) -> tuple[np.ndarray, float]:
    """(removal effect per channel code, conversion probability of the whole chain)."""
    if order not in (1, 2, 3):
        raise ValidationFailed(f"Markov order must be 1, 2 or 3, not {order}")
    if touches.height == 0:
        return np.zeros(n_channels), 0.0
    ch = touches["ch"].to_numpy().astype(np.int64)
    pos = touches["pos"].to_numpy().astype(np.int64)
    j = touches["j"].to_numpy()
    # state id of each touch: its last `order` channels, built by successive dense ranking
    code = ch + 1
    members = [ch]
    for m in range(1, order):
        prev = np.where(pos >= m, np.roll(ch, m) + 1, 0)
        members.append(np.where(pos >= m, np.roll(ch, m), -1))
        _, code = np.unique(code * (n_channels + 1) + prev, return_inverse=True)
        code = code + 1
    uniq, state = np.unique(code, return_inverse=True)
    state = state + 3
    n_states = len(uniq) + 3
    # which channels each state holds, for removal: (state, channel) pairs, kept sparse
    pairs = np.unique(np.concatenate([state[mem >= 0] * n_channels + mem[mem >= 0] for mem in members]))
    holds = (pairs // n_channels, pairs % n_channels)
    # edges: start -> first, touch -> next, last -> conversion or null
    nxt_same = np.r_[j[1:] == j[:-1], False]
    conv_of = np.zeros(int(j.max()) + 1, dtype=bool)
    jj = journeys["j"].to_numpy()
    ok = jj <= j.max()
    conv_of[jj[ok]] = journeys["converted"].to_numpy()[ok]
    last = ~nxt_same
    end = np.where(conv_of[j[last]], CONV, NULL)
    src = np.r_[np.full(int((pos == 0).sum()), START), state[nxt_same], state[last]]
    dst = np.r_[state[pos == 0], state[np.r_[False, nxt_same[:-1]]], end]
    return _absorb(src, dst, n_states, holds, n_channels)


def _absorb(src: np.ndarray, dst: np.ndarray, n_states: int, holds: tuple[np.ndarray, np.ndarray],
            n_channels: int) -> tuple[np.ndarray, float]:
    pair, counts = np.unique(src * n_states + dst, return_counts=True)
    s, d = pair // n_states, pair % n_states
    out = np.bincount(s, weights=counts, minlength=n_states)
    loop = np.bincount(s[s == d], weights=counts[s == d], minlength=n_states)
    keep = s != d
    s, d, c = s[keep], d[keep], counts[keep].astype(np.float64)
    p = c / (out[s] - loop[s])  # self-loops folded away: same absorbing probabilities
    direct = np.bincount(s[d == CONV], weights=p[d == CONV], minlength=n_states)
    inner = (d >= 3)
    s, d, p = s[inner], d[inner], p[inner]
    order = np.argsort(s, kind="stable")
    s, d, p = s[order], d[order], p[order]
    chunk = max(1, min(n_channels + 1, 4_000_000 // max(1, len(s) + n_states)))
    base = _solve(s, d, p, direct, np.zeros((n_states, 1), dtype=bool))[0]
    effects = np.zeros(n_channels)
    for lo in range(0, n_channels, chunk):
        width = min(chunk, n_channels - lo)
        mask = np.zeros((n_states, width), dtype=bool)
        sel = (holds[1] >= lo) & (holds[1] < lo + width)
        mask[holds[0][sel], holds[1][sel] - lo] = True
        pr = _solve(s, d, p, direct, mask)
        effects[lo:lo + width] = 1 - pr / base if base > 0 else 0.0
    return np.clip(effects, 0, 1), float(base)


def _solve(s, d, p, direct, removed) -> np.ndarray:
    """Conversion probability from start for each removal column, by value iteration."""
    n_states, k = removed.shape
    x = np.zeros((n_states, k))
    starts_s = np.unique(s)
    first = np.searchsorted(s, starts_s)
    for _ in range(100_000):
        new = np.repeat(direct[:, None].astype(np.float64), k, axis=1)
        if len(s):
            new[starts_s] += np.add.reduceat(p[:, None] * x[d], first, axis=0)
        new[removed] = 0.0
        if np.max(np.abs(new - x)) < 1e-13:
            x = new
            break
        x = new
    return x[START]


def markov(journeys: Journeys, order: int = 1) -> pl.DataFrame:
    """Markov-chain attribution of ``order`` 1 to 3 (see the module doc)."""
    touches, js, bucket_conv, bucket_cents = split_bucket(journeys)
    n = len(journeys.channels)
    effects, _ = removal_effects(touches, js, n, order)
    return credit_by_effects(journeys, touches, js, effects, bucket_conv, bucket_cents)


def credit_by_effects(journeys: Journeys, touches: pl.DataFrame, js: pl.DataFrame,
                      effects: np.ndarray, bucket_conv: int, bucket_cents: int,
                      revenue_effects: np.ndarray | None = None) -> pl.DataFrame:
    """Conversions in proportion to ``effects``; revenue per journey over its own channels."""
    n = len(journeys.channels)
    model_conv = int(js["converted"].sum())
    micro = np.zeros(n, dtype=np.int64)
    cents = np.zeros(n, dtype=np.int64)
    conv_t = touches.join(js.filter(pl.col("converted")).select("j", "revenue_cents"), on="j")
    present = np.zeros(n, dtype=bool)
    present[conv_t["ch"].unique().to_numpy()] = True
    eff = np.where(present, effects, 0.0)
    if eff.sum() <= 0:  # nothing to learn from: fall back to equal shares of present channels
        eff = present.astype(np.float64)
    if model_conv:
        micro += largest_remainder(eff, np.zeros(n, dtype=np.int64), np.array([model_conv * MICRO]))
    reff = eff if revenue_effects is None else np.where(present, revenue_effects, 0.0)
    pairs = conv_t.select("j", "ch", "revenue_cents").unique(["j", "ch"]).sort("j", "ch")
    if pairs.height:
        w = reff[pairs["ch"].to_numpy()]
        jj = pairs["j"].to_numpy()
        _, group = np.unique(jj, return_inverse=True)
        firsts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        # a journey whose channels all have zero effect is split equally between them
        wsum = np.bincount(group, weights=w)
        w = np.where(wsum[group] > 0, w, 1.0)
        rev = largest_remainder(w, group, pairs["revenue_cents"].to_numpy()[firsts])
        cents += np.rint(np.bincount(pairs["ch"].to_numpy(), weights=rev, minlength=n)).astype(np.int64)
    if bucket_conv:
        b = journeys.channels.index(NO_TOUCHPOINT)
        micro[b] += bucket_conv * MICRO
        cents[b] += bucket_cents
    return credit_table(journeys.channels, micro, cents)
