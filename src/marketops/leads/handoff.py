"""The quality of the handoff from marketing to sales: MQL -> SQL -> opportunity -> won by source,
channel and campaign; recycled and rejected leads with their reasons; lead quality by channel.

Everything reads one row per person, ``lead_stages`` (:data:`FACT_COLUMNS`): when they became an MQL
and an SQL (the shared definitions, :mod:`marketops.leads.qualification`), when they reached the
opportunity stage and the last funnel stage (won), their latest outcome (recycled, rejected) with its
reason, and where they came from: ``lead_source`` (the CRM's), ``channel_group``, ``source`` and
``campaign`` of their first touch. The pipeline step ``lead_stages`` publishes it with every run; when
the definitions or the scoring rules changed since, it is computed afresh from the same tables.

**Rates** follow each MQL down the chain: a step counts the MQLs that reached it and every step before
it (an SQL that got a deal without the SQL stage is still counted as an SQL by the default definition,
which includes deals). ``sql_rate`` = SQLs / MQLs, ``opportunity_rate`` = opportunities / SQLs,
``won_rate`` = won / opportunities, ``mql_to_won`` = won / MQLs; ``days_to_*`` are the median days
from the previous step (a step stamped before the previous one counts 0 days).

**Outcomes**: the latest recycled or rejected event of a person, from the stage history (with the
CRM's reason), else from the golden record's lead status when it is spelt like an outcome
("Unqualified", "Nurturing"); people without a reason are counted under "(no reason given)".

Example:
    >>> import datetime as dt, ibis
    >>> d = lambda day: dt.datetime(2024, 1, day)
    >>> facts = ibis.memtable({"person_id": ["a", "b", "c"], "channel_group": ["Email", "Email", "Paid"],
    ...     "mql_at": [d(1), d(2), d(3)], "sql_at": [d(3), None, d(3)], "opportunity_at": [d(5), None, None],
    ...     "won_at": [d(9), None, None]})
    >>> [(r["channel_group"], r["mqls"], r["sqls"], r["sql_rate"], r["days_to_sql"]) for r in rates(facts, "channel")]
    [('Email', 2, 1, 0.5, 2.0), ('Paid', 1, 1, 1.0, 0.0)]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from marketops.errors import ValidationFailed, did_you_mean
from marketops.leads.qualification import Inputs, person_info, qualified, workspace_inputs
from marketops.leads.stage_history import reached, stage_rank
from marketops.lifecycle import spelling_map, stage_of_column
from marketops.workspace import Workspace

if TYPE_CHECKING:
    from marketops.pipeline import RunContext, StepRecord

TABLE = "lead_stages"
#: ``--by`` -> the column it groups on.
BY = {"source": "lead_source", "channel": "channel_group", "campaign": "campaign"}
FACT_COLUMNS = ("person_id", "email", "owner", "country", "account_id", "segment", "lead_source", "channel_group",
                "source", "campaign", "stage", "stage_at", "mql_at", "mql_how", "sql_at", "sql_how", "opportunity_at",
                "won_at", "outcome", "outcome_at", "reason")
RATE_COLUMNS = ("mqls", "sqls", "opportunities", "won", "sql_rate", "opportunity_rate", "won_rate", "mql_to_won",
                "days_to_sql", "days_to_opportunity", "days_to_won")
OUTCOME_COLUMNS = ("person_id", "email", "owner", "outcome", "outcome_at", "reason", "channel_group",
                   "lead_source", "mql_at")
NO_REASON = "(no reason given)"
NO_GROUP = "(none)"


def fingerprint(ws: Workspace) -> str:
    """Changes when the lifecycle definitions or the scoring rules (which MQLs read) change."""
    from marketops.leads.scoring import rules_fingerprint

    cfg = ws.config.leads
    text = json.dumps([cfg.lifecycle.model_dump(mode="json"), rules_fingerprint(ws), cfg.scoring.use,
                       str(cfg.scoring.as_of)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fact_rows(inp: Inputs) -> ibis.Table | None:
    """One row per person (:data:`FACT_COLUMNS`) as an Ibis table; None before people exist."""
    from marketops.metrics.people import first_touches

    info = person_info(inp)
    if info is None:
        return None
    cfg = inp.config.leads.lifecycle
    t = info.select("person_id", "email", "owner", "country", "account_id", "segment", "lead_source", "channel_group")
    tp = inp.table("touchpoints")
    if tp is not None and {"person_id", "source", "campaign"} <= set(tp.columns):
        ft = first_touches(tp, ["source", "campaign"])
        ft = ft.select(person_id=ft.person_id.cast("string"), source=ft.source.cast("string"),
                       campaign=ft.campaign.cast("string"))
        t = t.left_join(ft, "person_id").select(*t.columns, "source", "campaign")
    else:
        t = t.mutate(source=ibis.null("string"), campaign=ibis.null("string"))

    ev = inp.events
    rank = stage_rank(cfg)
    funnel = ev.filter(ev.stage.isin(list(rank)))
    funnel = funnel.mutate(_rank=ibis.cases(*[(funnel.stage == s, i) for s, i in rank.items()], else_=-1))
    top = funnel.mutate(_n=ibis.row_number().over(ibis.window(
        group_by="person_id", order_by=[ibis.desc(funnel._rank), funnel.entered_at])))
    top = top.filter(top._n == 0).select("person_id", stage=top.stage, stage_at=top.entered_at)

    joins: list[tuple[ibis.Table, list[str]]] = [(top, ["stage", "stage_at"])]
    for what, name in (("mql", "mql"), ("sql", "sql")):
        q = qualified(inp, getattr(cfg, what))
        joins.append((q.select("person_id", **{f"{name}_at": q.at, f"{name}_how": q.how}),
                      [f"{name}_at", f"{name}_how"]))
    names = cfg.stage_names()
    for col, stage in (("opportunity_at", "opportunity" if "opportunity" in names else None),
                       ("won_at", names[-1])):
        if stage is None:
            t = t.mutate(**{col: ibis.null("timestamp")})
            continue
        r = reached(ev, cfg, stage)
        joins.append((r.select("person_id", **{col: r.at}), [col]))
    outcomes = cfg.outcome_names()
    oc = ev.filter(ev.stage.isin(outcomes)) if outcomes else None
    if oc is not None:
        last = oc.mutate(_n=ibis.row_number().over(ibis.window(group_by="person_id",
                                                                order_by=[ibis.desc(oc.entered_at)])))
        last = last.filter(last._n == 0).select("person_id", _outcome=last.stage, _outcome_at=last.entered_at,
                                                _reason=last.reason)
        joins.append((last, ["_outcome", "_outcome_at", "_reason"]))
    for right, cols in joins:
        t = t.left_join(right, "person_id").select(*t.columns, *cols)
    if oc is None:
        return t.mutate(outcome=ibis.null("string"), outcome_at=ibis.null("timestamp"),
                        reason=ibis.null("string")).select(*FACT_COLUMNS)
    # no outcome in the history: the golden record's lead status may say it ("Unqualified")
    gp = inp.table("golden_people")
    if "lead_status" in gp.columns:
        known = {k: v for k, v in spelling_map(cfg).items() if v in outcomes}
        status = gp.select(person_id=gp.person_id.cast("string"), _status=stage_of_column(gp.lead_status, known),
                           _status_at=(gp.updated_at.cast("timestamp") if "updated_at" in gp.columns
                                       else ibis.null("timestamp")))
        t = t.left_join(status, "person_id").select(*t.columns, "_status", "_status_at")
    else:
        t = t.mutate(_status=ibis.null("string"), _status_at=ibis.null("timestamp"))
    from_history = t._outcome.notnull()
    return t.mutate(outcome=ibis.coalesce(t._outcome, t._status),
                    outcome_at=ibis.cases((from_history, t._outcome_at), else_=t._status_at),
                    reason=ibis.cases((from_history, t._reason), else_=ibis.null("string"))).select(*FACT_COLUMNS)


# -- the pipeline step --------------------------------------------------------------------------------------

def step_lead_stages(ctx: RunContext, rec: StepRecord) -> None:
    """Publish ``lead_stages`` with the run: every person's stages, MQL/SQL moments and outcome."""
    engine, out = ctx.ws.engine, ctx.outputs

    def table(name: str) -> ibis.Table | None:
        if name in out:
            return engine.con.table(out[name])
        return engine.table(name) if engine.has_table(name) else None

    from marketops.leads.predictive import predictive_in_use

    cfg = ctx.ws.config

    predictive = predictive_in_use(ctx.ws)
    scratch = f"_lead_stages_scores__{ctx.run_id}"
    if predictive:
        # the model's scores come from Python (a memtable); the run writes with the engine's SQL, so they
        # are stored first, for the length of the step
        from marketops.leads.scoring import score_table

        engine.write(scratch, score_table(ctx.ws))

    def scores(group: str) -> ibis.Table | None:
        s = engine.con.table(scratch) if predictive else table("lead_scores")
        return s.filter(s.group == group) if s is not None else None

    inp = Inputs(table, cfg, scores, predictive)
    facts = fact_rows(inp)
    if facts is None:
        return
    name = f"{TABLE}__{ctx.run_id}"
    try:
        engine.write(name, facts.mutate(definitions_hash=ibis.literal(fingerprint(ctx.ws))))
    finally:
        if predictive:
            engine.drop(scratch)
    out[TABLE] = name
    t = engine.con.table(name)
    rec.rows_out = engine.count(name)
    counts = t.aggregate(mqls=t.mql_at.count(), sqls=t.sql_at.count(), outcomes=t.outcome.count()) \
        .to_pyarrow().to_pylist()[0]
    rec.detail = {k: int(v or 0) for k, v in counts.items()}


# -- reading ------------------------------------------------------------------------------------------------

def published_facts(ws: Workspace) -> ibis.Table | None:
    """``lead_stages`` of the last run when it answers for the current definitions (None otherwise: no
    run yet, the definitions or scoring rules changed since, or a table from an older version)."""
    if not ws.engine.has_table(TABLE):
        return None
    t = ws.engine.table(TABLE)
    if "definitions_hash" not in t.columns or not set(FACT_COLUMNS) <= set(t.columns):
        return None
    stored = t.select("definitions_hash").limit(1).to_pyarrow().column(0).to_pylist()
    return t.select(*FACT_COLUMNS) if not stored or stored[0] == fingerprint(ws) else None


def facts(ws: Workspace) -> ibis.Table | None:
    """``lead_stages`` of the last run when it answers for the current definitions, else computed afresh."""
    published = published_facts(ws)
    return published if published is not None else fact_rows(workspace_inputs(ws))


def check_by(by: str) -> str:
    """``by`` when it is a known grouping (ValidationFailed with "did you mean" otherwise)."""
    if by not in BY:
        raise ValidationFailed(f"unknown grouping '{by}'{did_you_mean(by, BY)}; use one of {', '.join(BY)}")
    return by


def _days(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    seconds = b.cast("timestamp").epoch_seconds() - a.cast("timestamp").epoch_seconds()
    return ibis.greatest(seconds, 0) / 86_400.0


def _window(t: ibis.Table, since: dt.date | None, until: dt.date | None) -> ibis.Table:
    t = t.filter(t.mql_at.notnull())
    if since is not None:
        t = t.filter(t.mql_at >= ibis.literal(dt.datetime.combine(since, dt.time()), type="timestamp"))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        t = t.filter(t.mql_at < ibis.literal(end, type="timestamp"))
    return t


def rates(facts: ibis.Table, by: str | None = None, *, since: dt.date | None = None,
          until: dt.date | None = None) -> list[dict[str, Any]]:
    """MQL -> SQL -> opportunity -> won per group of ``by`` (source, channel, campaign; None: everyone),
    most MQLs first; MQLs of ``since``..``until`` (by ``mql_at``). See the module docs for the rates."""
    t = _window(facts, since, until)
    col = BY[check_by(by)] if by else None
    sql = t.sql_at.notnull()
    opp = sql & t.opportunity_at.notnull()
    won = opp & t.won_at.notnull()
    t = t.mutate(_g=ibis.coalesce(t[col].cast("string"), NO_GROUP) if col else ibis.literal("all"),
                 _sql=sql, _opp=opp, _won=won,
                 _d_sql=ibis.cases((sql, _days(t.mql_at, t.sql_at)), else_=ibis.null("float64")),
                 _d_opp=ibis.cases((opp, _days(t.sql_at, t.opportunity_at)), else_=ibis.null("float64")),
                 _d_won=ibis.cases((won, _days(t.opportunity_at, t.won_at)), else_=ibis.null("float64")))

    def n(cond: ibis.BooleanValue) -> ibis.Value:
        return ibis.cases((cond, 1), else_=0).sum()

    agg = t.group_by("_g").aggregate(mqls=t.count(), sqls=n(t._sql), opportunities=n(t._opp), won=n(t._won),
                                     days_to_sql=t._d_sql.median(), days_to_opportunity=t._d_opp.median(),
                                     days_to_won=t._d_won.median())
    rows = agg.to_pyarrow().to_pylist()
    out = []
    for r in rows:
        mqls, sqls, opps, wins = (int(r[k] or 0) for k in ("mqls", "sqls", "opportunities", "won"))
        row = {BY[by] if by else "group": r["_g"], "mqls": mqls, "sqls": sqls, "opportunities": opps, "won": wins,
               "sql_rate": _ratio(sqls, mqls), "opportunity_rate": _ratio(opps, sqls),
               "won_rate": _ratio(wins, opps), "mql_to_won": _ratio(wins, mqls)}
        for k in ("days_to_sql", "days_to_opportunity", "days_to_won"):
            row[k] = round(float(r[k]), 2) if r[k] is not None else None
        out.append(row)
    key = BY[by] if by else "group"
    return sorted(out, key=lambda r: (-r["mqls"], r[key] == NO_GROUP, r[key]))


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class Handoff:
    """The handoff report: rates by a grouping and overall, and whether there is anything to show."""

    by: str
    items: list[dict[str, Any]]
    total: dict[str, Any] | None
    ready: bool

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "items": self.items, "total": self.total, "ready": self.ready}


def handoff(ws: Workspace, by: str = "channel", *, since: dt.date | None = None,
            until: dt.date | None = None) -> Handoff:
    """Handoff rates of the workspace by ``by`` (source, channel or campaign) and overall."""
    check_by(by)
    f = facts(ws)
    if f is None:
        return Handoff(by, [], None, False)
    total = rates(f, None, since=since, until=until)
    return Handoff(by, rates(f, by, since=since, until=until), total[0] if total else None, True)


@dataclass
class Outcomes:
    """Recycled and rejected leads: counts by outcome and reason, by outcome and channel, and the list."""

    by_reason: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    items: list[dict[str, Any]]
    ready: bool

    def to_json(self) -> dict[str, Any]:
        return {"by_reason": self.by_reason, "by_channel": self.by_channel, "items": self.items,
                "total": len(self.items), "ready": self.ready}


def outcomes(ws: Workspace, *, outcome: str | None = None, since: dt.date | None = None) -> Outcomes:
    """Recycled and rejected leads (only ``outcome`` when given; from ``since``, by ``outcome_at``) with
    their reasons, newest first."""
    cfg = ws.config.leads.lifecycle
    if outcome is not None and outcome not in cfg.outcome_names():
        raise ValidationFailed(f"unknown outcome '{outcome}'{did_you_mean(outcome, cfg.outcome_names())}; "
                               f"use one of {', '.join(cfg.outcome_names())}")
    f = facts(ws)
    if f is None:
        return Outcomes([], [], [], False)
    t = f.filter(f.outcome.notnull())
    if outcome is not None:
        t = t.filter(t.outcome == outcome)
    if since is not None:
        t = t.filter(t.outcome_at >= ibis.literal(dt.datetime.combine(since, dt.time()), type="timestamp"))
    t = t.mutate(reason=ibis.coalesce(t.reason, NO_REASON), channel_group=ibis.coalesce(t.channel_group, NO_GROUP))
    by_reason = t.group_by(["outcome", "reason"]).aggregate(leads=t.count(), mqls=t.mql_at.count())
    by_channel = t.group_by(["outcome", "channel_group"]).aggregate(leads=t.count(), mqls=t.mql_at.count())
    items = t.select(*OUTCOME_COLUMNS).order_by([ibis.desc("outcome_at"), "person_id"])
    return Outcomes(
        sorted(by_reason.to_pyarrow().to_pylist(), key=lambda r: (r["outcome"], -r["leads"], r["reason"])),
        sorted(by_channel.to_pyarrow().to_pylist(), key=lambda r: (r["outcome"], -r["leads"], r["channel_group"])),
        items.to_pyarrow().to_pylist(), True)


def lead_quality(ws: Workspace, *, top: int = 8) -> dict[str, Any]:
    """Lead quality by channel for the overview: per channel group (most MQLs first, ``top`` of them) the
    MQLs, the share that became SQLs and the share that was won; empty before any MQL."""
    f = facts(ws)
    rows = rates(f, "channel") if f is not None else []
    total = rates(f) if f is not None else []
    return {"items": rows[:top], "more": max(0, len(rows) - top), "total": total[0] if total else None}


def stage_table(ws: Workspace) -> pa.Table | None:
    """``lead_stages`` as Arrow (every person), for downloads and notebooks."""
    f = facts(ws)
    return f.order_by("person_id").to_pyarrow() if f is not None else None
