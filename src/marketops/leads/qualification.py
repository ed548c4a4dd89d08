"""The shared MQL and SQL definitions applied: who qualifies, since when, and by which clause.

:func:`mql_people` is the one way the rest of marketops reads MQLs (the speed-to-lead SLA, routing,
the handoff report); :func:`sql_people` the same for SQLs. Both apply the definitions of
``leads.lifecycle`` (:class:`~marketops.leads.lifecycle_config.Definition`) as Ibis expressions, so they
run in the warehouse on DuckDB and PySpark alike.

**When** someone qualified is the earliest moment any clause held:

* ``stage`` / ``reached``: when they first entered the stage (or a later one), by the stage history of
  :mod:`marketops.leads.stage_history`;
* ``opportunity``: when the first deal naming them was created;
* ``score_at_least``: the scores give the score *now*. The moment is the first activity at which the
  person's points, counted without time decay, reached the limit (fit points plus each engagement
  rule's points so far, within the rule's and the group's caps): decay only lowers a score, so the
  real crossing is never earlier, and later activity never moves this moment, which keeps the
  speed-to-lead clock still from run to run. A person whose fit alone reaches the limit qualifies when
  their record was created; one who crossed only through decay arithmetic, and everyone when the
  predictive score is in use, at the scoring moment (``scored_at``);
* ``field``: a golden-record field has no history: alone, it holds since the record was created;
  inside ``all`` it adds no moment;
* ``all``: when the last of its clauses came to hold.

``how`` names the clause that held first (its :meth:`~marketops.leads.lifecycle_config.Clause.label`).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> mql_people(ws).column_names
    ['person_id', 'email', 'mql_at', 'how', 'owner', 'country', 'account_id', 'lead_source', 'channel_group', 'segment']
    >>> ws.close()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from marketops.leads.lifecycle_config import Clause, Definition
from marketops.leads.scoring_config import FitRule, ScoreGroup
from marketops.leads.scoring_rules import activity_condition, fit_condition
from marketops.leads.stage_history import TableFn, published, reached, stage_events
from marketops.settings import WorkspaceConfig
from marketops.workspace import Workspace

INFO_COLUMNS = ("email", "owner", "country", "account_id", "lead_source", "channel_group", "segment")
BIG = 1e18

ScoresFn = Callable[[str], ibis.Table | None]


@dataclass
class Inputs:
    """What the definitions read: published (or a run's) tables, the stage events and the scores."""

    table: TableFn
    config: WorkspaceConfig
    scores: ScoresFn
    predictive: bool = False
    _events: ibis.Table | None = None

    @property
    def events(self) -> ibis.Table:
        if self._events is None:
            self._events = stage_events(self.table, self.config.leads.lifecycle)
        return self._events


def workspace_inputs(ws: Workspace) -> Inputs:
    """The inputs of the published tables, with the scores of :func:`marketops.leads.scoring.scores_expression`
    (afresh when the scoring rules changed since the run; the predictive score when it is in use)."""
    from marketops.leads.predictive import predictive_in_use
    from marketops.leads.scoring import scores_expression

    return Inputs(published(ws), ws.config, lambda g: scores_expression(ws, group=g), predictive_in_use(ws))


def _empty(inp: Inputs) -> ibis.Table:
    # typed and empty, on the engine's own tables: a run writes the result with raw SQL (no memtables)
    gp = inp.table("golden_people")
    if gp is None:
        return ibis.memtable(pa.table({"person_id": pa.array([], pa.string()), "at": pa.array([], pa.timestamp("us"))}))
    return gp.filter(ibis.literal(False)).select(person_id=gp.person_id.cast("string"), at=ibis.null("timestamp"))


def _created(inp: Inputs) -> ibis.Table | None:
    gp = inp.table("golden_people")
    if gp is None:
        return None
    at = gp.created_at.cast("timestamp") if "created_at" in gp.columns else ibis.null("timestamp")
    return gp.select(person_id=gp.person_id.cast("string"), created_at=at)


def _group(inp: Inputs, name: str | None) -> ScoreGroup:
    scoring = inp.config.leads.scoring
    return scoring.group(name) if name else scoring.effective_groups()[0]


def score_moments(scores: ibis.Table, activities: ibis.Table | None, group: ScoreGroup, limit: float) -> ibis.Table:
    """``person_id``, ``at`` for the people of ``scores`` (``person_id``, ``fit``, ``scored_at``, ``created_at``;
    all already at or above ``limit``): the first activity at which their undecayed points reached the
    limit (see the module docs); the record's creation when fit alone does; else ``scored_at``."""
    s = scores
    first = None
    if activities is not None and group.engagement:
        keys = s.select("person_id", "scored_at", "fit")
        a = activities.join(keys, "person_id")
        a = a.filter(a.occurred_at.cast("timestamp") <= a.scored_at)
        parts = [a.filter(activity_condition(r, a)).select(
            "person_id", "fit", occurred_at=a.occurred_at.cast("timestamp"), _rule=ibis.literal(i),
            _points=ibis.literal(float(r.points)), _cap=ibis.literal(float(r.cap or BIG)))
            for i, r in enumerate(group.engagement)]
        u = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
        per_rule = ibis.window(group_by=[u.person_id, u._rule], order_by=[u.occurred_at],
                               preceding=None, following=0)
        run = u._points.sum().over(per_rule)
        u = u.mutate(_capped=ibis.greatest(ibis.least(run, u._cap), -u._cap))
        prev = u._capped.lag().over(ibis.window(group_by=[u.person_id, u._rule], order_by=[u.occurred_at]))
        u = u.mutate(_inc=u._capped - ibis.coalesce(prev, 0.0))
        per_person = ibis.window(group_by=u.person_id, order_by=[u.occurred_at, u._rule], preceding=None, following=0)
        eng = u._inc.sum().over(per_person)
        if group.engagement_cap is not None:
            eng = ibis.least(eng, float(group.engagement_cap))
        u = u.mutate(_total=u.fit + eng)
        hit = u.filter(u._total >= limit - 1e-9)
        first = hit.group_by("person_id").aggregate(_first=hit.occurred_at.min())
    if first is not None:
        s = s.left_join(first, "person_id").select(*s.columns, "_first")
    else:
        s = s.mutate(_first=ibis.null("timestamp"))
    by_fit = ibis.cases((s.fit >= limit - 1e-9, s.created_at), else_=ibis.null("timestamp"))
    return s.select("person_id", at=ibis.coalesce(by_fit, s._first, s.scored_at).cast("timestamp"))


def _score_clause(inp: Inputs, c: Clause) -> ibis.Table:
    group = _group(inp, c.group)
    scores = inp.scores(group.name)
    created = _created(inp)
    if scores is None or created is None:
        return _empty(inp)
    if c.score_at_least == "threshold":
        qualified = scores.filter(scores.mql)
        limit = float(group.mql_threshold)
    else:
        limit = float(c.score_at_least)
        qualified = scores.filter(scores.score >= limit)
    qualified = qualified.select(person_id=qualified.person_id.cast("string"), fit=qualified.fit.cast("float64"),
                                 scored_at=qualified.scored_at.cast("timestamp"))
    qualified = qualified.left_join(created, "person_id").select("person_id", "fit", "scored_at", "created_at")
    if inp.predictive and c.score_at_least == "threshold":
        return qualified.select("person_id", at=qualified.scored_at)
    tp = inp.table("touchpoints")
    acts = None
    if tp is not None and "person_id" in tp.columns:
        from marketops.leads.scoring import activity_table

        acts = activity_table(tp)
    return score_moments(qualified, acts, group, limit)


def _field_clause(inp: Inputs, c: Clause) -> ibis.Table:
    from marketops.leads.scoring import person_fields

    gp = inp.table("golden_people")
    if gp is None:
        return _empty(inp)
    persons = person_fields(gp, inp.table("golden_accounts"), inp.table("people"), inp.config.segments)
    rule = FitRule(name="definition", field=c.field, op=c.op, value=c.value, points=0)
    return persons.filter(fit_condition(rule, persons)).select("person_id", at=ibis.null("timestamp"))


def clause_moments(inp: Inputs, c: Clause) -> ibis.Table:
    """``person_id``, ``at`` of everyone for whom clause ``c`` holds (``at`` null: it holds with no moment
    of its own, a ``field`` clause)."""
    lifecycle = inp.config.leads.lifecycle
    if c.stage is not None:
        ev = inp.events.filter(inp.events.stage.isin(c.stages()))
        return ev.group_by("person_id").aggregate(at=ev.entered_at.min())
    if c.reached is not None:
        return reached(inp.events, lifecycle, c.reached)
    if c.opportunity:
        opp = inp.table("opportunities")
        if opp is None or "person_id" not in opp.columns or "created_at" not in opp.columns:
            return _empty(inp)
        o = opp.filter(opp.person_id.notnull())
        return o.group_by(person_id=o.person_id.cast("string")).aggregate(at=o.created_at.cast("timestamp").min())
    if c.score_at_least is not None:
        return _score_clause(inp, c)
    if c.field is not None:
        return _field_clause(inp, c)
    parts = [clause_moments(inp, sub) for sub in c.all or []]
    out = parts[0]
    for nxt in parts[1:]:
        j = out.join(nxt.rename(_at="at"), "person_id")
        at = ibis.cases((j.at.isnull(), j._at), (j._at.isnull(), j.at), else_=ibis.greatest(j.at, j._at))
        out = j.select("person_id", at=at)
    return out


def qualified(inp: Inputs, definition: Definition) -> ibis.Table:
    """``person_id``, ``at``, ``how``: everyone the definition qualifies, at the earliest moment a clause
    held (a clause with no moment of its own: the record's creation), and that clause's label."""
    created = _created(inp)
    parts = []
    for i, c in enumerate(definition.any):
        m = clause_moments(inp, c)
        if created is not None:
            m = m.left_join(created, "person_id").select("person_id", at=ibis.coalesce(m.at, created.created_at))
        parts.append(m.select(person_id=m.person_id.cast("string"), at=m.at.cast("timestamp"),
                              how=ibis.literal(c.label()), _order=ibis.literal(i)))
    u = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    w = ibis.window(group_by=u.person_id, order_by=[u.at.isnull(), u.at, u._order])
    u = u.mutate(_n=ibis.row_number().over(w))
    return u.filter(u._n == 0).select("person_id", "at", "how")


# -- the contract -----------------------------------------------------------------------------------------

def person_info(inp: Inputs) -> ibis.Table | None:
    """``person_id`` and :data:`INFO_COLUMNS` of every person: golden record, the account's segment and
    the channel group of their first touch."""
    from marketops.metrics.people import first_touches, segment_of

    gp = inp.table("golden_people")
    if gp is None:
        return None
    t = gp.select(person_id=gp.person_id.cast("string"), email=_str(gp, "email"), owner=_str(gp, "owner"),
                  country=_str(gp, "country"), account_id=_str(gp, "account_id"), lead_source=_str(gp, "lead_source"))
    tp = inp.table("touchpoints")
    if tp is not None and {"person_id", "channel_group"} <= set(tp.columns):
        ft = first_touches(tp, ["channel_group"])
        ft = ft.select(person_id=ft.person_id.cast("string"), channel_group=ft.channel_group.cast("string"))
        t = t.left_join(ft, "person_id").select(*t.columns, "channel_group")
    else:
        t = t.mutate(channel_group=ibis.null("string"))
    ga = inp.table("golden_accounts")
    if ga is not None and "employees" in ga.columns:
        seg = ga.select(account_id=ga.account_id.cast("string"),
                        segment=segment_of(ga.employees, inp.config.segments))
        t = t.left_join(seg, "account_id").select(*t.columns, "segment")
    else:
        t = t.mutate(segment=ibis.null("string"))
    return t.select("person_id", *INFO_COLUMNS)


def _str(t: ibis.Table, name: str) -> ibis.Value:
    return t[name].cast("string") if name in t.columns else ibis.null("string")


def _people(inp: Inputs, definition: Definition, at_name: str, since: dt.datetime | None) -> pa.Table:
    info = person_info(inp)
    if info is None:
        return _empty_people(at_name)
    q = qualified(inp, definition)
    if since is not None:
        q = q.filter(q.at >= ibis.literal(since, type="timestamp"))
    j = q.join(info, "person_id")
    out = j.select("person_id", "email", **{at_name: j.at}, how=j.how,
                   **{c: j[c] for c in INFO_COLUMNS if c != "email"})
    return out.order_by([at_name, "person_id"]).to_pyarrow().cast(_schema(at_name))


def _schema(at_name: str) -> pa.Schema:
    return pa.schema([("person_id", pa.string()), ("email", pa.string()), (at_name, pa.timestamp("us")),
                      ("how", pa.string()), *[(c, pa.string()) for c in INFO_COLUMNS if c != "email"]])


def _empty_people(at_name: str) -> pa.Table:
    return _schema(at_name).empty_table()


def _from_published(ws: Workspace, what: str, since: dt.datetime | None) -> pa.Table | None:
    """The MQLs or SQLs (``what``) from the run's ``lead_stages`` when it holds the current definitions:
    the same rows as computing them, without scoring every person again."""
    from marketops.leads.handoff import published_facts  # handoff builds on this module

    f = published_facts(ws)
    if f is None:
        return None
    at = f"{what}_at"
    f = f.filter(f[at].notnull())
    if since is not None:
        f = f.filter(f[at] >= ibis.literal(since, type="timestamp"))
    out = f.select("person_id", "email", **{at: f[at].cast("timestamp")}, how=f[f"{what}_how"],
                   **{c: f[c] for c in INFO_COLUMNS if c != "email"})
    return out.order_by([at, "person_id"]).to_pyarrow().cast(_schema(at))


def mql_people(ws: Workspace, since: dt.datetime | None = None) -> pa.Table:
    """Every MQL by the shared definition: ``person_id``, ``email``, ``mql_at`` (naive UTC: the earliest
    moment a clause held), ``how`` (that clause), ``owner``, ``country``, ``account_id``, ``lead_source``,
    ``channel_group`` (of the first touch) and ``segment``; only those from ``since`` when given. Read
    from the last run's ``lead_stages`` while it answers for the current definitions."""
    published = _from_published(ws, "mql", since)
    if published is not None:
        return published
    return _people(workspace_inputs(ws), ws.config.leads.lifecycle.mql, "mql_at", since)


def sql_people(ws: Workspace, since: dt.datetime | None = None) -> pa.Table:
    """Every SQL by the shared definition; the columns of :func:`mql_people` with ``sql_at``.

    Example:
        >>> import tempfile, pathlib
        >>> from marketops.workspace import Workspace
        >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
        >>> sql_people(ws).num_rows
        0
        >>> ws.close()
    """
    published = _from_published(ws, "sql", since)
    if published is not None:
        return published
    return _people(workspace_inputs(ws), ws.config.leads.lifecycle.sql, "sql_at", since)


def qualified_moments(ws: Workspace, person_id: str) -> dict[str, tuple[Any, str | None]]:
    """``{"mql": (at, how), "sql": (at, how)}`` of one person ((None, None) when not qualified)."""
    inp = workspace_inputs(ws)
    out: dict[str, tuple[Any, str | None]] = {}
    for what in ("mql", "sql"):
        if inp.table("golden_people") is None:
            out[what] = (None, None)
            continue
        q = qualified(inp, getattr(ws.config.leads.lifecycle, what))
        rows = q.filter(q.person_id == person_id).to_pyarrow().to_pylist()
        out[what] = (rows[0]["at"], rows[0]["how"]) if rows else (None, None)
    return out


def group_thresholds(config: WorkspaceConfig) -> dict[str, float]:
    """Score groups -> MQL threshold (the first group is the default one), for describing definitions."""
    return {g.name: g.mql_threshold for g in config.leads.scoring.effective_groups()}


def definitions(config: WorkspaceConfig) -> dict[str, Any]:
    """The MQL and SQL definitions in words and as configured, plus the stages: what the pages, the CLI
    and ``GET /api/v1/leads/definitions`` show.

    >>> d = definitions(WorkspaceConfig())
    >>> d["mql"]["words"]
    'A person is an MQL when their score in group default reaches 50 (the MQL threshold of default), or they entered the stage mql.'
    """
    cfg = config.leads.lifecycle
    groups = group_thresholds(config)
    out: dict[str, Any] = {}
    for what, label in (("mql", "MQL"), ("sql", "SQL")):
        d: Definition = getattr(cfg, what)
        out[what] = {"words": d.describe(label, groups), "description": d.description,
                     "clauses": [{"label": c.label(), "words": c.describe(groups)} for c in d.any],
                     "config": d.model_dump(mode="json", exclude_none=True)}
    out["stages"] = [{"name": s.name, "spellings": s.spellings} for s in cfg.stages]
    out["outcomes"] = [{"name": s.name, "spellings": s.spellings} for s in cfg.outcomes]
    out["configured_in"] = "marketops.yaml: leads.lifecycle"
    return out
