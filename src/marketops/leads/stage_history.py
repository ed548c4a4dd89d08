"""Lifecycle stage history per person and per account, from the CRM's stage history and events.

A person's **stage events** (:func:`stage_events`) are:

* every ``lifecycle_stages`` row whose stage the ``leads.lifecycle`` section knows (by name or spelling;
  outcomes such as recycled or rejected keep their ``reason``), origin ``crm``;
* ``conversions`` whose type names a stage (``lead``, ``closed_won``...), origin ``conversion``;
* the golden record's creation, for people whose current stage is ``lead`` or later: ``lead``, origin
  ``record created``;
* a deal naming the person: ``opportunity`` when it was created, ``customer`` when it was won
  (origins ``deal created``, ``deal won``).

A person *reaches* a stage when they entered it or any later one (CRMs skip stages), at the earliest
such moment; an **account** is at the most advanced stage any of its people reached, since the first
of them got there (:func:`account_history`).

Example:
    >>> import datetime as dt, ibis
    >>> from marketops.leads.lifecycle_config import LifecycleConfig
    >>> ls = ibis.memtable({"person_id": ["p1", "p1"], "stage": ["Lead", "Nurture"], "reason": [None, "no budget"],
    ...                     "entered_at": [dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)]})
    >>> ev = stage_events({"lifecycle_stages": ls}.get, LifecycleConfig())
    >>> ev.order_by("entered_at").select("stage", "reason").to_pyarrow().to_pylist()
    [{'stage': 'lead', 'reason': None}, {'stage': 'recycled', 'reason': 'no budget'}]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa

from marketops.errors import NotFound
from marketops.leads.lifecycle_config import LifecycleConfig
from marketops.lifecycle import spelling_map, stage_of_column
from marketops.workspace import Workspace

TableFn = Callable[[str], ibis.Table | None]
EVENT_COLUMNS = ("person_id", "stage", "entered_at", "exited_at", "reason", "origin", "crm_stage")
EVENT_SCHEMA = pa.schema([("person_id", pa.string()), ("stage", pa.string()), ("entered_at", pa.timestamp("us")),
                          ("exited_at", pa.timestamp("us")), ("reason", pa.string()), ("origin", pa.string()),
                          ("crm_stage", pa.string())])


def published(ws: Workspace) -> TableFn:
    """The workspace's published tables by name (None when missing)."""
    return lambda name: ws.engine.table(name) if ws.engine.has_table(name) else None


def _col(t: ibis.Table, name: str, kind: str = "string") -> ibis.Value:
    return t[name].cast(kind) if name in t.columns else ibis.null(kind)


def stage_events(table: TableFn, cfg: LifecycleConfig) -> ibis.Table:
    """Every stage event of every known person (:data:`EVENT_COLUMNS`) as an Ibis table."""
    spellings = spelling_map(cfg)
    names = set(cfg.stage_names())
    parts: list[ibis.Table] = []

    def part(t: ibis.Table, stage: ibis.Value, at: ibis.Value, origin: str, *, exited: ibis.Value | None = None,
             reason: ibis.Value | None = None, crm: ibis.Value | None = None) -> ibis.Table:
        return t.select(person_id=t.person_id.cast("string"), stage=stage.cast("string"),
                        entered_at=at.cast("timestamp"),
                        exited_at=(exited if exited is not None else ibis.null("timestamp")).cast("timestamp"),
                        reason=(reason if reason is not None else ibis.null("string")).cast("string"),
                        origin=ibis.literal(origin), crm_stage=(crm if crm is not None else stage).cast("string"))

    ls = table("lifecycle_stages")
    if ls is not None and "person_id" in ls.columns:
        t = ls.filter(ls.person_id.notnull() & ls.entered_at.notnull())
        t = t.mutate(_stage=stage_of_column(t.stage, spellings))
        t = t.filter(t._stage.notnull())
        parts.append(part(t, t._stage, t.entered_at, "crm", exited=_col(t, "exited_at", "timestamp"),
                          reason=_col(t, "reason"), crm=t.stage))
    conv = table("conversions")
    if conv is not None and "person_id" in conv.columns:
        t = conv.filter(conv.person_id.notnull() & conv.occurred_at.notnull())
        t = t.mutate(_stage=stage_of_column(t.type, {k: v for k, v in spellings.items() if v in names}))
        t = t.filter(t._stage.notnull())
        parts.append(part(t, t._stage, t.occurred_at, "conversion", crm=t.type))
    gp = table("golden_people")
    if gp is not None and "created_at" in gp.columns and "lead" in names:
        later = [s for s in cfg.stage_names()[cfg.stage_names().index("lead"):]]
        stage_now = stage_of_column(gp.lifecycle_stage, spellings) if "lifecycle_stage" in gp.columns \
            else ibis.null("string")
        t = gp.filter(gp.created_at.notnull() & ibis.coalesce(stage_now.isin(later), False))
        parts.append(part(t, ibis.literal("lead"), t.created_at, "record created",
                          crm=_col(t, "lifecycle_stage")))
    opp = table("opportunities")
    if opp is not None and "person_id" in opp.columns:
        o = opp.filter(opp.person_id.notnull())
        if "opportunity" in names and "created_at" in o.columns:
            t = o.filter(o.created_at.notnull())
            parts.append(part(t, ibis.literal("opportunity"), t.created_at, "deal created", crm=_col(t, "stage")))
        if "customer" in names and "is_won" in o.columns and "closed_at" in o.columns:
            t = o.filter(ibis.coalesce(o.is_won.cast("boolean"), False) & o.closed_at.notnull())
            parts.append(part(t, ibis.literal("customer"), t.closed_at, "deal won", crm=_col(t, "stage")))
    if not parts:
        if gp is not None:  # typed and empty, on the engine's own tables (a run writes it with raw SQL)
            none = gp.filter(ibis.literal(False))
            return part(none, ibis.null("string"), ibis.null("timestamp"), "none")
        return ibis.memtable(EVENT_SCHEMA.empty_table())
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def stage_rank(cfg: LifecycleConfig) -> dict[str, int]:
    """Funnel stages -> their position (outcomes have none)."""
    return {s: i for i, s in enumerate(cfg.stage_names())}


def reached(events: ibis.Table, cfg: LifecycleConfig, stage: str) -> ibis.Table:
    """``person_id``, ``at``: when each person first entered ``stage`` or a later one (an outcome: itself)."""
    names = cfg.stage_names()
    later = names[names.index(stage):] if stage in names else [stage]
    t = events.filter(events.stage.isin(later))
    return t.group_by("person_id").aggregate(at=t.entered_at.min())


# -- one person and one account -------------------------------------------------------------------------

@dataclass
class StageHistory:
    """A person's or an account's stage history: ``events`` in time order and where they stand."""

    kind: str  # person or account
    subject: dict[str, Any]
    stage: str | None
    stage_at: datetime | None
    events: list[dict[str, Any]] = field(default_factory=list)
    reached: list[dict[str, Any]] = field(default_factory=list)  # stage, at (first time), people (accounts)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "stage": self.stage, "stage_at": self.stage_at,
                "events": self.events, "reached": self.reached}


def _reached_rows(events: list[dict[str, Any]], cfg: LifecycleConfig) -> list[dict[str, Any]]:
    names = cfg.stage_names()
    out = []
    for i, stage in enumerate(names):
        times = [e for e in events if e["stage"] in names[i:] and e["entered_at"] is not None]
        if times:
            first = min(times, key=lambda e: e["entered_at"])
            out.append({"stage": stage, "at": first["entered_at"], "person_id": first["person_id"],
                        "people": len({e["person_id"] for e in times})})
    return out


def person_history(ws: Workspace, who: str) -> StageHistory:
    """A person's stage timeline (email or person id): every stage event, plus the moments the MQL and
    SQL definitions first held (origin ``definition``), oldest first."""
    from marketops.leads.qualification import qualified_moments
    from marketops.leads.scoring import find_person

    person = find_person(ws, who)
    cfg = ws.config.leads.lifecycle
    pid = person["person_id"]
    ev = stage_events(published(ws), cfg)
    rows = ev.filter(ev.person_id == pid).to_pyarrow().to_pylist()
    for what, (at, how) in qualified_moments(ws, pid).items():
        if at is not None:
            rows.append({"person_id": pid, "stage": what, "entered_at": at, "exited_at": None, "reason": None,
                         "origin": "definition", "crm_stage": how})
    rows.sort(key=lambda r: (r["entered_at"] or datetime.min, r["origin"] == "definition"))
    reach = _reached_rows([r for r in rows if r["origin"] != "definition"], cfg)
    last = reach[-1] if reach else None
    return StageHistory("person", person, last["stage"] if last else None, last["at"] if last else None, rows, reach)


def find_account(ws: Workspace, name: str) -> dict[str, Any]:
    """The golden account with this id, name or domain (NotFound with the closest names otherwise)."""
    if not ws.engine.has_table("golden_accounts"):
        raise NotFound("no accounts yet: run the pipeline first (`marketops run`)")
    ga = ws.engine.table("golden_accounts")
    key = name.strip().lower()
    cond = (ga.account_id == name.strip()) | (ga.name.lower() == key)
    if "domain" in ga.columns:
        cond = cond | (ga.domain.lower() == key)
    cols = [c for c in ("account_id", "name", "domain", "owner", "industry", "country") if c in ga.columns]
    rows = ga.filter(cond).select(*cols).order_by("account_id").limit(1).to_pyarrow().to_pylist()
    if rows:
        return rows[0]
    like = ga.filter(ga.name.lower().contains(key)).select("name").limit(5).to_pyarrow().column("name").to_pylist()
    hint = f" (did you mean {', '.join(repr(n) for n in like)}?)" if like else ""
    raise NotFound(f"no account with name, domain or id '{name}'{hint}")


def account_history(ws: Workspace, name: str) -> StageHistory:
    """An account's stage history: the stage events of its people (with who), the first time any of
    them reached each stage, and the account's stage: the most advanced one reached."""
    account = find_account(ws, name)
    cfg = ws.config.leads.lifecycle
    gp = ws.engine.table("golden_people")
    people = gp.filter(gp.account_id == account["account_id"]).select(
        "person_id", email=_col(gp, "email"))
    ev = stage_events(published(ws), cfg)
    rows = ev.join(people, "person_id").order_by(["entered_at", "person_id"]).to_pyarrow().to_pylist()
    reach = _reached_rows(rows, cfg)
    last = reach[-1] if reach else None
    return StageHistory("account", account, last["stage"] if last else None, last["at"] if last else None, rows, reach)


def account_stages(table: TableFn, cfg: LifecycleConfig) -> ibis.Table | None:
    """``account_id``, ``stage``, ``stage_at``: every account's most advanced stage and when it got there."""
    gp = table("golden_people")
    if gp is None or "account_id" not in gp.columns:
        return None
    ev = stage_events(table, cfg)
    rank = stage_rank(cfg)
    ev = ev.filter(ev.stage.isin(list(rank))).join(
        gp.filter(gp.account_id.notnull()).select("person_id", "account_id"), "person_id")
    ev = ev.mutate(_rank=ibis.cases(*[(ev.stage == s, i) for s, i in rank.items()], else_=-1))
    per = ev.group_by(["account_id", "stage", "_rank"]).aggregate(stage_at=ev.entered_at.min())
    top = per.mutate(_n=ibis.row_number().over(ibis.window(group_by="account_id", order_by=ibis.desc("_rank"))))
    return top.filter(top._n == 0).select("account_id", "stage", "stage_at")
