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
    ch = touches["ch"].to_numpy()
    pos = touches["pos"].to_numpy()
    j = touches["j"].to_numpy()
    # State of each touch: its last `order` channels, built by successive dense ranking of
    # (state so far, channel m touches back or none). Every pass over the touches is O(n):
    # codes are counted in dense arrays, not sorted, whenever their range is small.
    # States 0-2 are START, CONV and NULL, so the last ranking starts at 3.
    base_ch = n_channels + 1
    state, uniq = _dense_rank(ch, n_channels, 3 if order == 1 else 0)
    members = [uniq]  # channels each state holds, -1 for none, one array per look-back
    for m in range(1, order):
        back = np.roll(ch, m) + 1
        back[pos < m] = 0
        size = len(uniq) * base_ch
        code = state if size <= _DENSE else state.astype(np.int64)
        state, uniq = _dense_rank(code * base_ch + back, size, 3 if m == order - 1 else 0)
        members = [mem[uniq // base_ch] for mem in members] + [uniq % base_ch - 1]
    n_states = len(uniq) + 3
    # which channels each state holds, for removal: (state, channel) pairs, kept sparse
    held = np.unique(np.concatenate([np.flatnonzero(mem >= 0) * n_channels + mem[mem >= 0]
                                     for mem in members]))
    holds = (held // n_channels + 3, held % n_channels)
    # edges: start -> first, touch -> next, last -> conversion or null; counted as one key
    # per touch (its outgoing edge) plus one per journey start (START is 0: key = state)
    last = np.flatnonzero(j[1:] != j[:-1])
    last = np.r_[last, len(j) - 1]
    conv_of = np.zeros(int(j.max()) + 1, dtype=bool)
    jj = journeys["j"].to_numpy()
    ok = jj <= j.max()
    conv_of[jj[ok]] = journeys["converted"].to_numpy()[ok]
    size = n_states * n_states
    key = state.astype(np.int64 if size > _DENSE else state.dtype)
    key *= n_states
    key[:-1] += state[1:]
    key[last] = key[last] - key[last] % n_states + np.where(conv_of[j[last]], CONV, NULL)
    starts = state[pos == 0]
    if size <= _DENSE:
        counts = np.bincount(key, minlength=size)
        counts[:n_states] += np.bincount(starts, minlength=n_states)
        pair = np.flatnonzero(counts)
        counts = counts[pair]
    else:
        pair, counts = np.unique(np.concatenate([starts, key]), return_counts=True)
    return _absorb(pair, counts, n_states, holds, n_channels)


# Largest code range counted with dense arrays (mask, bincount) rather than sorted; above it
# we fall back to np.unique, which gives the same ranks and distinct values.
_DENSE = 1 << 22


def _dense_rank(code: np.ndarray, size: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(``start`` + rank of each value among the distinct values of ``code``, those distinct
    values sorted). Values must lie in ``range(size)``.
    """
    if size > _DENSE:
        uniq, inv = np.unique(code, return_inverse=True)
        return inv.reshape(-1) + start, uniq
    seen = np.zeros(size, dtype=bool)
    seen[code] = True
    uniq = np.flatnonzero(seen)
    rank = np.zeros(size, dtype=np.int32)
    rank[uniq] = np.arange(start, start + len(uniq), dtype=np.int32)
    return rank[code], uniq


def _distinct(values: np.ndarray, size: int) -> np.ndarray:
    """Sorted distinct ``values`` (all in ``range(size)``)."""
    if size > _DENSE:
        return np.unique(values)
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    return np.flatnonzero(seen)


def _absorb(pair: np.ndarray, counts: np.ndarray, n_states: int, holds: tuple[np.ndarray, np.ndarray],
            n_channels: int) -> tuple[np.ndarray, float]:
    """Removal effects from edge counts: ``pair`` = src * n_states + dst, sorted, distinct."""
    s, d = pair // n_states, pair % n_states
    out = np.bincount(s, weights=counts, minlength=n_states)
    loop = np.bincount(s[s == d], weights=counts[s == d], minlength=n_states)
    keep = s != d
    s, d, c = s[keep], d[keep], counts[keep].astype(np.float64)
    p = c / (out[s] - loop[s])  # self-loops folded away: same absorbing probabilities
    direct = np.bincount(s[d == CONV], weights=p[d == CONV], minlength=n_states)
    inner = (d >= 3)
    s, d, p = s[inner], d[inner], p[inner]  # still sorted by (s, d), as _solve needs
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
    pj, pch, prev = _converting_pairs(touches, js, n)
    present = np.zeros(n, dtype=bool)
    present[pch] = True
    eff = np.where(present, effects, 0.0)
    if eff.sum() <= 0:  # nothing to learn from: fall back to equal shares of present channels
        eff = present.astype(np.float64)
    if model_conv:
        micro += largest_remainder(eff, np.zeros(n, dtype=np.int64), np.array([model_conv * MICRO]))
    reff = eff if revenue_effects is None else np.where(present, revenue_effects, 0.0)
    if len(pj):
        w = reff[pch]
        group = np.cumsum(np.r_[False, pj[1:] != pj[:-1]])  # pj is sorted: dense journey rank
        firsts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        # a journey whose channels all have zero effect is split equally between them
        wsum = np.bincount(group, weights=w)
        w = np.where(wsum[group] > 0, w, 1.0)
        rev = largest_remainder(w, group, prev[firsts])
        cents += np.rint(np.bincount(pch, weights=rev, minlength=n)).astype(np.int64)
    if bucket_conv:
        b = journeys.channels.index(NO_TOUCHPOINT)
        micro[b] += bucket_conv * MICRO
        cents[b] += bucket_cents
    return credit_table(journeys.channels, micro, cents)


def _converting_pairs(touches: pl.DataFrame, js: pl.DataFrame, n: int) -> tuple[np.ndarray, ...]:
    """(journey, channel, journey revenue cents) of each distinct channel of each converting
    journey, sorted by journey then channel."""
    conv = js.filter(pl.col("converted"))
    empty = np.zeros(0, dtype=np.int64)
    if touches.height == 0 or conv.height == 0:
        return empty, empty, empty
    j = touches["j"].to_numpy()
    cj = conv["j"].to_numpy()
    top = max(int(j.max()), int(cj.max())) + 1
    is_conv = np.zeros(top, dtype=bool)
    is_conv[cj] = True
    revenue = np.zeros(top, dtype=np.int64)
    revenue[cj] = conv["revenue_cents"].to_numpy()
    keep = is_conv[j]
    tj, tch = j[keep], touches["ch"].to_numpy()[keep].astype(np.int64)
    if not len(tj):
        return empty, empty, empty
    new = np.r_[True, tj[1:] != tj[:-1]]
    if (tj[1:] >= tj[:-1]).all():  # touches come sorted by journey: count pairs densely
        firsts = tj[new]
        pk = _distinct((np.cumsum(new) - 1) * n + tch, len(firsts) * n)
        pj = firsts[pk // n]
        pch = pk % n
    else:
        pk = np.unique(tj * n + tch)
        pj, pch = pk // n, pk % n
    return pj, pch, revenue[pj]
