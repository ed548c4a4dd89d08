"""Routing new MQLs to owners: account-owner match, ordered rules (round-robin, weighted, territory,
segment), capacity and out-of-office at the MQL's time, a fallback, and an explanation for every
decision.

:func:`route` is the engine: a pure function of the MQLs, the config and the state (rotation, loads),
so the same inputs give the same owners. It is vectorised: rules match with pyarrow, and pools whose
owners have no capacity or time away rotate with numpy arithmetic; only leads whose pool holds a
constrained owner go through a loop, in MQL order, since each decision there changes who is free.
:mod:`marketops.leads.routing_run` reads the workspace and the app database around it.

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> from marketops.leads.routing_config import RoutingConfig
    >>> cfg = RoutingConfig(owners=[{"name": "Ana", "email": "a@x"}, {"name": "Bo", "email": "b@x",
    ...     "out_of_office": [{"from": "2026-12-01", "to": "2026-12-10"}]}],
    ...     rules=[{"name": "all", "owners": ["Ana", "Bo"]}])
    >>> mqls = pa.table({"person_id": ["P1", "P2"], "email": ["p1@c", "p2@c"],
    ...                  "mql_at": [dt.datetime(2026, 12, 2, 9), dt.datetime(2026, 12, 2, 10)]})
    >>> plan = route(mqls, cfg)
    >>> plan.decisions.column("owner").to_pylist()
    ['Ana', 'Ana']
    >>> plan.decisions.column("explanation")[1].as_py()
    "rule 'all' matched: every lead; round-robin among Ana, Bo; Bo out of office 2026-12-01..2026-12-10 -> Ana"
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.leads.routing_config import Owner, RoutingConfig, RoutingRule

#: Columns of a routing plan's decisions, in order.
DECISION_COLUMNS = ("person_id", "email", "mql_at", "mql_day", "owner", "team", "queue", "rule", "method", "status",
                    "explanation")
METHOD_WORDS = {"round_robin": "round-robin", "weighted": "weighted", "territory": "territory, in turn",
                "segment": "segment, in turn", "account_owner": "account owner", "fallback": "round-robin"}
_EPOCH = dt.date(1970, 1, 1)


@dataclass
class Rotation:
    """Where a pool's rotation stands: round-robin continues after ``last_owner``; weighted gives the
    next lead to the owner with the fewest leads for their weight (``counts``)."""

    last_owner: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class RoutingPlan:
    """The decisions of one routing pass and the state it leaves behind (nothing is written yet)."""

    decisions: pa.Table
    rotations: dict[str, Rotation]
    skipped: int = 0  # MQLs that already had a decision

    def summary(self) -> list[dict[str, Any]]:
        """Leads per owner (``owner`` null: unassigned) and rule, most first."""
        if self.decisions.num_rows == 0:
            return []
        g = self.decisions.group_by(["owner", "rule", "status"], use_threads=False).aggregate([("person_id", "count")])
        rows = [{"owner": r["owner"], "rule": r["rule"], "status": r["status"], "leads": r["person_id_count"]}
                for r in g.to_pylist()]
        return sorted(rows, key=lambda r: (-r["leads"], r["owner"] or "", r["rule"]))

    def counts(self) -> dict[str, int]:
        status = self.decisions.column("status").to_pylist() if self.decisions.num_rows else []
        return {"routed": len(status), "assigned": status.count("assigned"),
                "unassigned": status.count("unassigned"), "already_decided": self.skipped}


@dataclass
class _Pool:
    """A rotation: one rule's candidates (a territory or segment rule has one per country/segment)."""

    key: str
    method: str  # round_robin, weighted or fallback
    owners: list[Owner]
    words: str  # "round-robin among Ana, Bo"


# -- input preparation --------------------------------------------------------------------------------

def _strings(t: pa.Table, name: str, *, upper: bool = False) -> pa.Array:
    if name not in t.column_names:
        return pa.nulls(t.num_rows, pa.string())
    col = pc.utf8_trim_whitespace(pc.cast(t.column(name), pa.string())).combine_chunks()
    return pc.utf8_upper(col) if upper else col


def _lower(col: pa.Array) -> pa.Array:
    return pc.utf8_lower(col)


def mql_days(mql_at: pa.Array | pa.ChunkedArray, timezone: str) -> np.ndarray:
    """Each MQL's day in ``timezone`` as days since 1970-01-01 (what per-day capacity counts).

    >>> import datetime as dt
    >>> mql_days(pa.array([dt.datetime(2026, 12, 1, 23, 30)]), "Europe/Rome").tolist()  # 00:30 on the 2nd
    [20789]
    """
    ts = pc.cast(mql_at, pa.timestamp("us"))
    local = pc.local_timestamp(pc.cast(pc.assume_timezone(ts, "UTC"), pa.timestamp("us", tz=timezone)))
    days = pc.cast(pc.cast(local, pa.date32()), pa.int32())
    return pc.fill_null(days, 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _day(n: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(n))


# -- the engine -------------------------------------------------------------------------------------

def route(mqls: pa.Table, cfg: RoutingConfig, *, rotations: dict[str, Rotation] | None = None,
          loads: tuple[dict[str, int], dict[tuple[str, dt.date], int]] | None = None,
          account_owners: dict[str, str] | None = None, mql_groups: dict[str, set[str]] | None = None,
          timezone: str = "UTC") -> RoutingPlan:
    """Decide an owner for every MQL in ``mqls`` (person_id, email, mql_at and the fields rules read:
    country, segment, lead_source, channel_group, account_id), in MQL order.

    ``rotations``: state of earlier runs (keys as in the returned plan); ``loads``: leads each owner
    already holds, in all and per (owner, day); ``account_owners``: account_id -> the account's owner
    (name or email); ``mql_groups``: scoring group -> person ids that are MQLs in it.
    """
    rotations = {k: Rotation(v.last_owner, dict(v.counts)) for k, v in (rotations or {}).items()}
    n = mqls.num_rows
    if n == 0:
        return RoutingPlan(_empty(), rotations)
    order = pc.sort_indices(mqls, [("mql_at", "ascending"), ("person_id", "ascending")])
    mqls = mqls.take(order)
    if pc.count_distinct(mqls.column("person_id")).as_py() < n:  # one decision per person: the first MQL counts
        ids = pc.cast(mqls.column("person_id"), pa.string()).to_numpy(zero_copy_only=False)
        _, first = np.unique(ids, return_index=True)
        mqls = mqls.take(np.sort(first))
        n = mqls.num_rows
    days = mql_days(mqls.column("mql_at"), timezone)
    fields = {"country": _strings(mqls, "country", upper=True), "segment": _strings(mqls, "segment"),
              "lead_source": _strings(mqls, "lead_source"), "channel_group": _strings(mqls, "channel_group")}
    regions = _regions(fields["country"], cfg)
    fields["region"] = regions
    person = pc.cast(mqls.column("person_id"), pa.string()).combine_chunks()

    rule_of = _first_rule(cfg, fields, person, mql_groups or {}, n)
    pools, pool_of, why = _pools(cfg, rule_of, fields, n)
    acct = _account_owner(mqls, cfg, account_owners or {}) if cfg.account_owner_match else np.full(n, None, object)

    owner = np.full(n, None, object)
    text = np.full(n, "", object)
    status = np.full(n, "assigned", object)
    rule_name = np.full(n, "", object)
    method = np.full(n, "", object)
    queue = np.full(n, None, object)

    constrained = {o.name for o in cfg.owners if o.constrained}
    has_acct = acct != None  # noqa: E711 (element-wise)
    acct_constrained = has_acct & np.isin(acct, list(constrained)) if constrained else np.zeros(n, bool)
    slow_keys = {p.key for p in pools if any(o.name in constrained for o in p.owners)}
    slow_keys |= {pools[k].key for k in np.unique(pool_of[acct_constrained]) if k >= 0}
    fallback = _fallback_pool(cfg)
    if fallback is not None and (slow_keys or acct_constrained.any()):
        slow_keys.add(fallback.key)
    slow_pool = np.array([p.key in slow_keys for p in pools] + [False], bool)  # index -1: no pool
    slow = acct_constrained | (~has_acct & slow_pool[pool_of])

    # account owners who are always available take their accounts' leads outright
    fast_acct = has_acct & ~acct_constrained
    owner[fast_acct] = acct[fast_acct]
    rule_name[fast_acct], method[fast_acct] = "account owner", "account_owner"
    text[fast_acct] = "account owner match: the account is owned by " + acct[fast_acct].astype(object)

    # the other leads of unconstrained pools rotate arithmetically, pool by pool
    fast = ~has_acct & ~slow
    for p_index in np.unique(pool_of[fast]):
        rows = np.flatnonzero(fast & (pool_of == p_index))
        if p_index < 0:
            status[rows], queue[rows] = "unassigned", cfg.fallback.queue
            rule_name[rows] = np.array([x.name for x in cfg.rules] + ["none"], object)[rule_of[rows]]
            text[rows] = why[rows] + f"; no fallback team -> queue '{cfg.fallback.queue}'"
            continue
        p = pools[p_index]
        state = rotations.setdefault(p.key, Rotation())
        picks = _rotate(p, state, len(rows))
        owner[rows] = picks
        text[rows] = why[rows] + "; " + p.words
        _label(p, rows, rule_of, cfg, rule_name, method)

    if slow.any():
        _sequential(np.flatnonzero(slow), cfg, pools, pool_of, fallback, acct, days, why, rotations,
                    loads or ({}, {}), owner, text, status, rule_name, method, queue, rule_of)

    owners_arr = pa.array(owner.tolist(), pa.string())
    said = pa.array(text.tolist(), pa.string())
    explanation = pc.if_else(pc.is_valid(owners_arr), pc.binary_join_element_wise(said, owners_arr, " -> "), said)
    by_name = {o.name: o for o in cfg.owners}
    team = [by_name[o].team if o is not None else None for o in owner.tolist()]
    decisions = pa.table({
        "person_id": person, "email": _strings(mqls, "email"),
        "mql_at": pc.cast(mqls.column("mql_at"), pa.timestamp("us")),
        "mql_day": pa.array(days.astype("int32"), pa.int32()).cast(pa.date32()),
        "owner": owners_arr, "team": pa.array(team, pa.string()),
        "queue": pa.array(queue.tolist(), pa.string()), "rule": pa.array(rule_name.tolist(), pa.string()),
        "method": pa.array(method.tolist(), pa.string()), "status": pa.array(status.tolist(), pa.string()),
        "explanation": explanation,
    })
    return RoutingPlan(decisions, rotations)


def _empty() -> pa.Table:
    types = {"mql_at": pa.timestamp("us"), "mql_day": pa.date32()}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in DECISION_COLUMNS})


def _regions(country: pa.Array, cfg: RoutingConfig) -> pa.Array:
    enc = pc.dictionary_encode(country)
    names = [cfg.region_of(c) for c in enc.dictionary.to_pylist()]
    return pc.take(pa.array(names, pa.string()), enc.indices)


def _first_rule(cfg: RoutingConfig, fields: dict[str, pa.Array], person: pa.Array,
                mql_groups: dict[str, set[str]], n: int) -> np.ndarray:
    """Index of the first rule each lead matches; -1 for none. One pyarrow mask per rule."""
    out = np.full(n, -1, np.int64)
    free = np.ones(n, bool)
    for i, rule in enumerate(cfg.rules):
        mask = np.ones(n, bool)
        for cond, values in rule.when.listed():
            if cond == "score_group":
                ids = set().union(*(mql_groups.get(g, set()) for g in values))
                hit = pc.is_in(person, pa.array(sorted(ids), pa.string()))
            else:
                col = fields[cond] if cond in ("country", "region") else _lower(fields[cond])
                wanted = values if cond in ("country", "region") else [v.lower() for v in values]
                hit = pc.is_in(col, pa.array(wanted, pa.string()))
            mask &= pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
        take = mask & free
        out[take] = i
        free &= ~take
    return out


def _key(rule: RoutingRule | None, owners: Sequence[Owner]) -> str:
    return f"{rule.name if rule else 'fallback'}|{','.join(o.name for o in owners)}"


def _pool_words(method: str, owners: Sequence[Owner]) -> str:
    if method == "weighted":
        return "weighted among " + ", ".join(f"{o.name} ({o.weight})" for o in owners)
    return "round-robin among " + ", ".join(o.name for o in owners)


def _fallback_pool(cfg: RoutingConfig) -> _Pool | None:
    team = cfg.team_pool(cfg.fallback.team)
    if not team:
        return None
    return _Pool(_key(None, team), "fallback", team, f"fallback: team {cfg.fallback.team}, "
                 + _pool_words("round_robin", team))


def _match_words(rule: RoutingRule, values: dict[str, str | None]) -> str:
    if not rule.when.listed():
        return f"rule '{rule.name}' matched: every lead"
    parts = []
    for cond, wanted in rule.when.listed():
        if cond == "region":
            parts.append(f"country {values['country'] or '?'} in {values['region']}")
        elif cond == "score_group":
            parts.append(f"MQL in score group {' or '.join(wanted)}")
        else:
            parts.append(f"{cond.replace('_', ' ')} {values[cond]}")
    return f"rule '{rule.name}' matched: " + ", ".join(parts)


def _pools(cfg: RoutingConfig, rule_of: np.ndarray, fields: dict[str, pa.Array],
           n: int) -> tuple[list[_Pool], np.ndarray, np.ndarray]:
    """The pools, each lead's pool (-1: the fallback's or none) and why (the rule's words).

    Words and candidates are worked out once per distinct (rule, country, region, segment, source,
    channel) combination, then spread to the leads by index."""
    pools: list[_Pool] = []
    by_key: dict[str, int] = {}
    pool_of = np.full(n, -1, np.int64)
    why = np.full(n, "no rule matched", object)
    fallback = _fallback_pool(cfg)
    names = ("country", "region", "segment", "lead_source", "channel_group")
    combo = pc.binary_join_element_wise(*(pc.fill_null(fields[c], "\x00") for c in names), "\x1f")
    enc = pc.dictionary_encode(combo)
    code = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = [dict(zip(names, (None if x == "\x00" else x for x in s.split("\x1f")), strict=True))
              for s in enc.dictionary.to_pylist()]
    joint = (rule_of + 1) * len(values) + code
    uniq, inverse = np.unique(joint, return_inverse=True)
    why_u = np.empty(len(uniq), object)
    pool_u = np.full(len(uniq), -1, np.int64)
    for u, j in enumerate(uniq.tolist()):
        r, c = divmod(j, len(values))
        r -= 1
        if r < 0:
            why_u[u], pool_u[u] = "no rule matched", -1
            continue
        rule, v = cfg.rules[r], values[c]
        words = _match_words(rule, v)
        owners = _candidates(cfg, rule, v)
        if not owners:
            what = {"territory": f"covers country {v['country'] or '?'}" + (f" or {v['region']}" if v["region"] else ""),
                    "segment": f"covers segment {v['segment'] or '?'}"}.get(rule.method, "is active")
            why_u[u], pool_u[u] = f"{words}; nobody in its pool {what}", -1
            continue
        # say whose territory or segment it is, so "round-robin among ..." reads as the right people
        if rule.method == "territory":
            words += f"; territory {v['country'] or '?'}" + (f" ({v['region']})" if v["region"] else "")
        elif rule.method == "segment":
            words += f"; segment {v['segment'] or '?'}"
        method = "weighted" if rule.method == "weighted" else "round_robin"
        key = _key(rule, owners)
        if key not in by_key:
            by_key[key] = len(pools)
            pools.append(_Pool(key, method, owners, _pool_words(method, owners)))
        why_u[u], pool_u[u] = words, by_key[key]
    why[:] = why_u[inverse]
    pool_of[:] = pool_u[inverse]
    if fallback is not None:
        fb = len(pools)
        pools.append(fallback)
        pool_of[pool_of < 0] = fb
    return pools, pool_of, why


def _candidates(cfg: RoutingConfig, rule: RoutingRule, v: dict[str, str | None]) -> list[Owner]:
    pool = cfg.active_pool(rule)
    if rule.method == "territory":
        here = {x for x in (v["country"], v["region"]) if x}
        return [o for o in pool if here & {t.upper() for t in o.territories}]
    if rule.method == "segment":
        seg = (v["segment"] or "").lower()
        return [o for o in pool if seg and seg in {s.lower() for s in o.segments}]
    return pool


def _account_owner(mqls: pa.Table, cfg: RoutingConfig, account_owners: dict[str, str]) -> np.ndarray:
    """The configured (active) owner of each lead's account, else None."""
    n = mqls.num_rows
    if not account_owners or "account_id" not in mqls.column_names:
        return np.full(n, None, object)
    index: dict[str, str] = {}
    for o in cfg.owners:
        if o.active:
            index.setdefault(o.name.lower(), o.name)
            index.setdefault(o.email.lower(), o.name)
    resolved = {a: index.get(str(w).strip().lower()) for a, w in account_owners.items() if w}
    enc = pc.dictionary_encode(pc.cast(mqls.column("account_id"), pa.string()).combine_chunks())
    names = np.array([resolved.get(a) for a in enc.dictionary.to_pylist()] + [None], object)
    idx = pc.fill_null(enc.indices, len(enc.dictionary)).to_numpy(zero_copy_only=False)
    return names[idx]


def _label(p: _Pool, rows: np.ndarray, rule_of: np.ndarray, cfg: RoutingConfig, rule_name: np.ndarray,
           method: np.ndarray) -> None:
    if p.method == "fallback":
        rule_name[rows], method[rows] = "fallback", "fallback"
        return
    r = rule_of[rows]
    names = np.array([x.name for x in cfg.rules], object)
    methods = np.array([x.method for x in cfg.rules], object)
    rule_name[rows], method[rows] = names[r], methods[r]


# -- rotations ----------------------------------------------------------------------------------------

def _start(p: _Pool, state: Rotation) -> int:
    """Index of the owner after the last one served (0 when the last is unknown)."""
    names = [o.name for o in p.owners]
    return (names.index(state.last_owner) + 1) % len(names) if state.last_owner in names else 0


def _seed_counts(p: _Pool, state: Rotation) -> np.ndarray:
    """Leads per owner so far; a newcomer starts level with the least served (not at zero, which would
    give them every lead until they caught up)."""
    known = [state.counts.get(o.name) for o in p.owners]
    if any(c is not None for c in known):
        floor = min(c / o.weight for c, o in zip(known, p.owners, strict=True) if c is not None)
        known = [c if c is not None else math.floor(floor * o.weight) for c, o in zip(known, p.owners, strict=True)]
    return np.array([c or 0 for c in known], float)


def _rotate(p: _Pool, state: Rotation, k: int) -> np.ndarray:
    """The next ``k`` owners of an always-available pool, and the state moved on (vectorised)."""
    names = np.array([o.name for o in p.owners], object)
    if p.method != "weighted":
        picks = names[(_start(p, state) + np.arange(k)) % len(names)]
        state.last_owner = str(picks[-1])
        return picks
    w = np.array([o.weight for o in p.owners], float)
    c = _seed_counts(p, state)
    # the m-th next lead of owner j is due at (c_j + m) / w_j; the k earliest dues (ties: pool order)
    # are the picks: exactly what picking "fewest leads for the weight" one at a time gives
    top = float((c / w).max()) + k / w.sum() + 1
    m = np.minimum(k, np.ceil(w * top - c).astype(np.int64) + 1).clip(1)
    owner_idx = np.repeat(np.arange(len(w)), m)
    step = np.arange(len(owner_idx)) - np.repeat(np.cumsum(m) - m, m) + 1
    due = (c[owner_idx] + step) / w[owner_idx]
    order = np.lexsort((owner_idx, due))[:k]
    chosen = owner_idx[order]
    got = np.bincount(chosen, minlength=len(w))
    state.counts = {str(nm): int(x + g) for nm, x, g in zip(names, c, got, strict=True)}
    state.last_owner = str(names[chosen[-1]])
    return names[chosen]


def _next_in_turn(p: _Pool, state: Rotation) -> list[int]:
    """Owners of ``p`` in the order the rotation offers them the next lead."""
    if p.method == "weighted":
        c = _seed_counts(p, state)
        return sorted(range(len(p.owners)), key=lambda j: ((c[j] + 1) / p.owners[j].weight, j))
    s = _start(p, state)
    return [(s + j) % len(p.owners) for j in range(len(p.owners))]


def _served(p: _Pool, state: Rotation, j: int) -> None:
    o = p.owners[j]
    if p.method == "weighted":
        c = _seed_counts(p, state)
        state.counts = {x.name: int(v) for x, v in zip(p.owners, c, strict=True)}
        state.counts[o.name] += 1
    state.last_owner = o.name


def _sequential(rows: np.ndarray, cfg: RoutingConfig, pools: list[_Pool], pool_of: np.ndarray,
                fallback: _Pool | None, acct: np.ndarray, days: np.ndarray, why: np.ndarray,
                rotations: dict[str, Rotation], loads: tuple[dict[str, int], dict[tuple[str, dt.date], int]],
                owner: np.ndarray, text: np.ndarray, status: np.ndarray, rule_name: np.ndarray,
                method: np.ndarray, queue: np.ndarray, rule_of: np.ndarray) -> None:
    """Leads whose candidates have capacity limits or time away, one by one in MQL order."""
    by_name = {o.name: o for o in cfg.owners}
    total = {k: v for k, v in loads[0].items() if k}
    daily = {(o, (d - _EPOCH).days): v for (o, d), v in loads[1].items() if o and d}

    def unavailable(o: Owner, day: int) -> str | None:
        if not o.constrained:
            return None
        away = o.away_on(_day(day))
        if away is not None:
            return f"{o.name} out of office {away.words()}" + (f" ({away.note})" if away.note else "")
        if o.max_total is not None and total.get(o.name, 0) >= o.max_total:
            return f"{o.name} at capacity {total.get(o.name, 0)}/{o.max_total} in all"
        if o.max_per_day is not None and daily.get((o.name, day), 0) >= o.max_per_day:
            return f"{o.name} at capacity {daily.get((o.name, day), 0)}/{o.max_per_day} on {_day(day)}"
        return None

    def take(o: Owner, day: int) -> None:
        total[o.name] = total.get(o.name, 0) + 1
        daily[(o.name, day)] = daily.get((o.name, day), 0) + 1

    def from_pool(p: _Pool, day: int, notes: list[str]) -> Owner | None:
        state = rotations.setdefault(p.key, Rotation())
        for j in _next_in_turn(p, state):
            o = p.owners[j]
            reason = unavailable(o, day)
            if reason is None:
                _served(p, state, j)
                take(o, day)
                return o
            notes.append(reason)
        return None

    for i in rows.tolist():
        day = int(days[i])
        notes: list[str] = []
        a = acct[i]
        if a is not None:
            o = by_name[a]
            reason = unavailable(o, day)
            if reason is None:
                take(o, day)
                owner[i], rule_name[i], method[i] = a, "account owner", "account_owner"
                text[i] = f"account owner match: the account is owned by {a}"
                continue
            notes.append(f"account owner {reason}")
        p_index = int(pool_of[i])
        p = pools[p_index] if p_index >= 0 else None
        head = "; ".join([*notes, str(why[i])])
        notes = []
        if p is not None and p.method != "fallback":
            got = from_pool(p, day, notes)
            if got is not None:
                owner[i], rule_name[i], method[i] = got.name, cfg.rules[rule_of[i]].name, cfg.rules[rule_of[i]].method
                text[i] = "; ".join([head, p.words, *notes])
                continue
            head = "; ".join([head, p.words, *notes, "nobody available"])
            notes = []
            p = fallback
        if p is not None:
            got = from_pool(p, day, notes)
            if got is not None:
                owner[i], rule_name[i], method[i] = got.name, "fallback", "fallback"
                text[i] = "; ".join([head, p.words, *notes])
                continue
            head = "; ".join([head, p.words, *notes, "nobody available"])
        elif cfg.fallback.team is None:
            head += "; no fallback team"
        status[i], queue[i], owner[i] = "unassigned", cfg.fallback.queue, None
        rule_name[i] = rule_name[i] or (cfg.rules[rule_of[i]].name if rule_of[i] >= 0 else "none")
        method[i] = method[i] or ""
        text[i] = f"{head} -> queue '{cfg.fallback.queue}'"
