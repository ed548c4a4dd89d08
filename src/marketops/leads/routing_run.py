"""Routing against a workspace and its app database: route the MQLs without a decision (and retry the
unassigned ones), keep the decisions and the rotation, reassign by hand (audited), and the owners' load.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> url = ws.app_database_url
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     route_new(ws, s, by="cli").plan.counts()
    {'routed': 0, 'assigned': 0, 'unassigned': 0, 'already_decided': 0}
    >>> ws.close()
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, did_you_mean
from marketops.leads.routing import Rotation, RoutingPlan, route
from marketops.leads.routing_config import RoutingConfig
from marketops.state import routing as store
from marketops.state.audit import record
from marketops.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class RoutingRun:
    """What one routing pass did (or, with ``dry_run``, would do)."""

    plan: RoutingPlan
    dry_run: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.counts(), "dry_run": self.dry_run, "seconds": round(self.seconds, 3),
                "by_owner": self.plan.summary()}


def account_owners(ws: Workspace) -> dict[str, str]:
    """account_id -> the account's owner, from ``golden_accounts`` (or ``accounts``)."""
    for name in ("golden_accounts", "accounts"):
        if ws.engine.has_table(name):
            t = ws.engine.table(name)
            if {"account_id", "owner"} <= set(t.columns):
                t = t.filter(t.owner.notnull() & t.account_id.notnull())
                rows = t.select(a=t.account_id.cast("string"), o=t.owner.cast("string")).to_pyarrow()
                return dict(zip(rows.column("a").to_pylist(), rows.column("o").to_pylist(), strict=True))
    return {}


def mql_groups(ws: Workspace, cfg: RoutingConfig) -> dict[str, set[str]]:
    """Scoring group -> MQL person ids, for the groups that rules name (nothing is scored otherwise)."""
    wanted = sorted({g for r in cfg.rules for g in r.when.score_group})
    if not wanted:
        return {}
    from marketops.leads.scoring import scores_expression

    scores = scores_expression(ws)
    if scores is None:
        return {}
    hit = scores.filter(scores.mql & scores.group.isin(wanted)).select("group", "person_id").to_pyarrow()
    out: dict[str, set[str]] = {g: set() for g in wanted}
    for g, p in zip(hit.column("group").to_pylist(), hit.column("person_id").to_pylist(), strict=True):
        out[g].add(p)
    return out


def pending_mqls(ws: Workspace, decided: dict[str, str]) -> tuple[pa.Table, int]:
    """The MQLs that need a decision (none yet, or unassigned) and how many already have one."""
    from marketops.leads.speed import mql_rows

    mqls = mql_rows(ws)  # empty before any run
    mqls = mqls.filter(pc.is_valid(mqls.column("person_id")))
    done = [p for p, s in decided.items() if s != "unassigned"]
    if done:
        keep = pc.invert(pc.is_in(mqls.column("person_id"), pa.array(done, pa.string())))
        before = mqls.num_rows
        mqls = mqls.filter(keep)
        return mqls, before - mqls.num_rows
    return mqls, 0


def route_new(ws: Workspace, session: Session, *, by: str, dry_run: bool = False) -> RoutingRun:
    """Route the workspace's new MQLs; unless ``dry_run``, keep the decisions and the rotation in
    ``session`` (the caller commits). ``by``: ``run:<id>``, ``cli`` or a user's email."""
    started = time.perf_counter()
    cfg = ws.config.leads.routing
    decided = store.decided_people(session)
    mqls, skipped = pending_mqls(ws, decided)
    state = {k: Rotation(r.last_owner, {n: int(c) for n, c in (r.counts or {}).items()})
             for k, r in store.rotations(session).items()}
    plan = route(mqls, cfg, rotations=state, loads=store.owner_loads(session),
                 account_owners=account_owners(ws) if cfg.account_owner_match else None,
                 mql_groups=mql_groups(ws, cfg), timezone=ws.config.timezone)
    plan.skipped = skipped
    if not dry_run and plan.decisions.num_rows:
        now = dt.datetime.now(dt.UTC)
        rows = plan.decisions.to_pylist()
        for r in rows:
            r["mql_at"] = r["mql_at"].replace(tzinfo=dt.UTC) if r["mql_at"] else None
            r["decided_at"], r["decided_by"] = now, by
        store.save_decisions(session, rows)
        for key, rot in plan.rotations.items():
            store.save_rotation(session, key, last_owner=rot.last_owner, counts=rot.counts)
    return RoutingRun(plan, dry_run, time.perf_counter() - started)


def route_after_run(ws: Workspace, run_id: str) -> dict[str, Any]:
    """The post-run hook: route new MQLs unless ``leads.routing.auto`` is false or no owner is set up.
    Never raises (routing must not fail a run that succeeded)."""
    cfg = ws.config.leads.routing
    if not cfg.auto or not cfg.owners:
        return {"routed": 0, "skipped": "routing is off or has no owners"}
    from marketops.state.db import init_db, session_scope

    url = ws.app_database_url
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
                and not Path(parsed.database).parent.exists():
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        init_db(url)
        with session_scope(url) as session:
            return route_new(ws, session, by=f"run:{run_id}").to_json()
    except Exception as e:
        log.exception("routing after run %s failed", run_id)
        return {"error": f"{type(e).__name__}: {e}"}


def get_decision(session: Session, who: str) -> store.RoutingDecision:
    found = store.find_decision(session, who)
    if found is None:
        raise NotFound(f"no routing decision for '{who}': it is not an MQL yet, or routing has not run "
                       "(marketops leads route)")
    return found


def reassign(session: Session, cfg: RoutingConfig, who: str, to: str, *, actor: str,
             ip: str | None = None) -> tuple[store.RoutingDecision, list[str]]:
    """Give one lead to owner ``to`` by hand (audited); returns the decision and warnings (e.g. the new
    owner is out of office or at capacity: allowed, a person decided it)."""
    decision = get_decision(session, who)
    new = cfg.owner(to)
    if new is None:
        names = [o.name for o in cfg.owners]
        raise ValidationFailed(f"'{to}' is not an owner in leads.routing.owners{did_you_mean(to, names)}; "
                               f"valid: {', '.join(names) or '(none)'}")
    warnings = []
    today = dt.date.today()
    away = new.away_on(decision.mql_day or today) or new.away_on(today)
    if away is not None:
        warnings.append(f"{new.name} is out of office {away.words()}")
    total, daily = store.owner_loads(session)
    if new.max_total is not None and total.get(new.name, 0) >= new.max_total:
        warnings.append(f"{new.name} is at capacity {total.get(new.name, 0)}/{new.max_total}")
    if new.max_per_day is not None and decision.mql_day and daily.get((new.name, decision.mql_day), 0) >= new.max_per_day:
        warnings.append(f"{new.name} already has {new.max_per_day} leads of {decision.mql_day}")
    before = decision.owner
    if before == new.name:
        return decision, [f"{new.name} already owns this lead"]
    decision.previous_owner, decision.owner, decision.team = before, new.name, new.team
    decision.status, decision.queue = "reassigned", None
    decision.explanation = f"reassigned by {actor} from {before or 'the queue'} to {new.name}; before: " \
                           f"{decision.explanation}"[:20_000]
    decision.decided_by, decision.decided_at = actor, dt.datetime.now(dt.UTC)
    record(session, actor, "routing.reassign", f"person:{decision.person_id}",
           {"email": decision.email, "from": before, "to": new.name}, ip)
    session.flush()
    return decision, warnings


def owner_load(session: Session, cfg: RoutingConfig, *, timezone: str = "UTC",
               today: dt.date | None = None) -> list[dict[str, Any]]:
    """Each owner's leads today and in all against their capacity, and whether they are away today."""
    today = today or dt.datetime.now(ZoneInfo(timezone)).date()
    total, daily = store.owner_loads(session)
    out = []
    for o in cfg.owners:
        away = o.away_on(today)
        out.append({"owner": o.name, "team": o.team, "email": o.email, "weight": o.weight, "active": o.active,
                    "today": daily.get((o.name, today), 0), "max_per_day": o.max_per_day,
                    "total": total.get(o.name, 0), "max_total": o.max_total,
                    "out_of_office": away.words() if away else None,
                    "upcoming_out_of_office": [p.words() for p in o.out_of_office if p.end >= today]})
    return out


def rules_in_words(cfg: RoutingConfig) -> list[str]:
    """The routing rules as a sales manager reads them, in the order they apply."""
    lines = []
    if cfg.account_owner_match:
        lines.append("A lead of an account owned by one of the owners goes to that owner when available.")
    for i, r in enumerate(cfg.rules, 1):
        when = " and ".join(f"{c.replace('_', ' ')} is {' or '.join(v)}" for c, v in r.when.listed()) or "any lead"
        pool = ", ".join(o.name for o in cfg.active_pool(r))
        how = {"round_robin": "in turn among", "weighted": "by weight among", "territory": "to whoever covers the "
               "country or region, in turn, among", "segment": "to whoever covers the segment, in turn, among"}[r.method]
        lines.append(f"{i}. {r.name}: when {when}, {how} {pool}.")
    fb = cfg.fallback
    lines.append((f"Otherwise, or when nobody is available: in turn among team {fb.team}; if nobody there is "
                  f"available, the queue '{fb.queue}'.") if fb.team else
                 f"Otherwise, or when nobody is available: the queue '{fb.queue}'.")
    return lines
