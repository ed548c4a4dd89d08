"""Lead scores of a workspace: the contract other parts read (:func:`score_table`), each score's
explanation (:func:`explain_person`), the leads list (:func:`lead_page`) and the pipeline step that
publishes ``lead_scores`` and ``lead_score_details`` with every run.

Every run scores every person in every group (step ``score``), so routing, the SLA and the pages read
one consistent answer, published atomically with the data it came from. When ``marketops.yaml``'s
scoring rules changed since that run (or ``as_of: today`` and the day changed), the scores are
computed afresh from the same published tables: the rules are set-based Ibis expressions, so that
takes a moment even for a million people (see :mod:`marketops.leads.scoring_rules`).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> score_table(ws).column_names
    ['person_id', 'group', 'score', 'fit', 'engagement', 'mql', 'scored_at']
    >>> ws.close()
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from marketops.errors import NotFound
from marketops.leads.scoring_config import FIELDS, ScoreGroup, ScoringConfig
from marketops.leads.scoring_rules import (
    DETAIL_COLUMNS,
    ENGAGEMENT,
    FIT,
    SCORE_COLUMNS,
    explanation_rows,
    score_rows,
)
from marketops.metrics.people import segment_of
from marketops.workspace import Workspace

if TYPE_CHECKING:
    from marketops.pipeline import RunContext, StepRecord

SCORES, DETAILS = "lead_scores", "lead_score_details"
SCORE_SCHEMA = pa.schema([("person_id", pa.string()), ("group", pa.string()), ("score", pa.float64()),
                          ("fit", pa.float64()), ("engagement", pa.float64()), ("mql", pa.bool_()),
                          ("scored_at", pa.timestamp("us"))])
ACTIVITY_COLUMNS = ("person_id", "occurred_at", "type", "landing_page", "event_name", "campaign", "channel_group")


# -- inputs ----------------------------------------------------------------------------------------
def person_fields(golden_people: ibis.Table, golden_accounts: ibis.Table | None = None,
                  people: ibis.Table | None = None, segments: dict[str, int] | None = None) -> ibis.Table:
    """One row per person with every field a fit rule can test (see ``FIELDS``)."""
    gp = golden_people
    email = gp.email.cast("string").lower()
    cols: dict[str, ibis.Value] = {}
    for name in ("job_title", "seniority", "job_function", "country", "region", "city", "lead_source",
                 "lifecycle_stage", "lead_status", "owner", "company", "email", "unsubscribed", "account_id"):
        cols[name] = gp[name] if name in gp.columns else ibis.null("string")
    cols["email_domain"] = ibis.cases((email.contains("@"), email.re_extract(r"@(.+)$", 1)),
                                      else_=ibis.null("string"))
    t = gp.select(person_id=gp.person_id, **cols)
    if people is not None and {"email_role", "email_disposable", "person_id"} <= set(people.columns):
        p = people.filter(people.person_id.notnull())
        flags = p.group_by("person_id").aggregate(
            email_role=ibis.cases((p.email_role, 1), else_=0).max() == 1,
            email_disposable=ibis.cases((p.email_disposable, 1), else_=0).max() == 1)
        t = t.left_join(flags, "person_id").select(*t.columns, "email_role", "email_disposable")
    else:
        t = t.mutate(email_role=ibis.null("boolean"), email_disposable=ibis.null("boolean"))
    if golden_accounts is not None:
        ga = golden_accounts

        def col(name: str, kind: str = "string") -> ibis.Value:
            # accounts loaded from a file without that column (no revenue, no owner) score as unknown
            return ga[name].cast(kind) if name in ga.columns else ibis.null(kind)

        acc = ga.select(account_id=ga.account_id, industry=col("industry"), employees=col("employees", "float64"),
                        segment=segment_of(col("employees", "float64"), segments),
                        annual_revenue=col("annual_revenue", "float64"), account_country=col("country"),
                        account_domain=col("domain"), account_name=col("name"), account_owner=col("owner"))
        t = t.left_join(acc, "account_id").select(*t.columns, *[c for c in acc.columns if c != "account_id"])
    else:
        t = t.mutate(industry=ibis.null("string"), employees=ibis.null("float64"), segment=ibis.null("string"),
                     annual_revenue=ibis.null("float64"), account_country=ibis.null("string"),
                     account_domain=ibis.null("string"), account_name=ibis.null("string"),
                     account_owner=ibis.null("string"))
    return t.select("person_id", *FIELDS)


def activity_table(touchpoints: ibis.Table) -> ibis.Table:
    """The touchpoint columns engagement rules read (missing ones empty)."""
    tp = touchpoints
    return tp.filter(tp.person_id.notnull()).select(
        *[tp[c] if c in tp.columns else ibis.null("string").name(c) for c in ACTIVITY_COLUMNS])


def resolve_as_of(cfg: ScoringConfig, touchpoints: ibis.Table | None, today: date | None = None) -> datetime:
    """The scoring moment: the end of ``today`` when given; else by ``as_of``: ``latest`` (the newest
    activity, at most the end of today), ``today``, or the end of a given date.

    >>> resolve_as_of(ScoringConfig(as_of=date(2024, 3, 1)), None)
    datetime.datetime(2024, 3, 2, 0, 0)
    """
    def end_of(d: date) -> datetime:
        return datetime.combine(d + timedelta(days=1), time())

    if today is not None:
        return end_of(today)
    now = datetime.now(UTC).replace(tzinfo=None)
    if isinstance(cfg.as_of, date):
        return end_of(cfg.as_of)
    if cfg.as_of == "latest" and touchpoints is not None:
        latest = touchpoints.occurred_at.max().execute()
        import pandas as pd

        if latest is not None and not pd.isna(latest):
            latest = latest.to_pydatetime() if hasattr(latest, "to_pydatetime") else latest
            return min(latest.replace(tzinfo=None), end_of(now.date()))
    return end_of(now.date())


def rules_fingerprint(ws: Workspace) -> str:
    """Changes when the scoring rules (or the segments they read) change."""
    cfg = ws.config.leads.scoring
    text = json.dumps([[g.model_dump(mode="json") for g in cfg.effective_groups()], cfg.half_life_days,
                       str(cfg.as_of), ws.config.segments], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class ScoringInputs:
    persons: ibis.Table
    activities: ibis.Table | None
    groups: list[ScoreGroup]
    half_life_days: float
    as_of: datetime


def scoring_inputs(ws: Workspace, table: Any = None, today: date | None = None) -> ScoringInputs | None:
    """The published (or a run's, through ``table``) inputs of the rules; None before people exist."""
    table = table or (lambda name: ws.engine.table(name) if ws.engine.has_table(name) else None)
    gp = table("golden_people")
    if gp is None:
        return None
    cfg = ws.config.leads.scoring
    tp = table("touchpoints")
    acts = activity_table(tp) if tp is not None and "person_id" in tp.columns else None
    as_of = resolve_as_of(cfg, acts, today)
    persons = person_fields(gp, table("golden_accounts"), table("people"), ws.config.segments)
    persons = persons.mutate(_as_of_epoch=ibis.literal(as_of.replace(tzinfo=UTC).timestamp()),
                             scored_at=ibis.literal(as_of, type="timestamp"))
    return ScoringInputs(persons, acts, cfg.effective_groups(), cfg.half_life_days, as_of)


# -- the pipeline step -----------------------------------------------------------------------------
def step_score(ctx: RunContext, rec: StepRecord) -> None:
    """Score every person in every group: ``lead_scores`` and ``lead_score_details`` of the run."""
    engine, out = ctx.ws.engine, ctx.outputs

    def table(name: str) -> ibis.Table | None:
        if name in out:
            return engine.con.table(out[name])
        return engine.table(name) if engine.has_table(name) else None

    inputs = scoring_inputs(ctx.ws, table)
    if inputs is None:
        return
    ctx.observer.step_started(rec.name, 2)
    details_name, scores_name = f"{DETAILS}__{ctx.run_id}", f"{SCORES}__{ctx.run_id}"
    engine.write(details_name, explanation_rows(inputs.persons, inputs.activities, inputs.groups,
                                                inputs.half_life_days))
    ctx.observer.advance(rec.name, DETAILS)
    scores = score_rows(inputs.persons, None, inputs.groups, inputs.half_life_days,
                        details=engine.con.table(details_name))
    engine.write(scores_name, scores.mutate(rules_hash=ibis.literal(rules_fingerprint(ctx.ws))))
    ctx.observer.advance(rec.name, SCORES)
    out[DETAILS], out[SCORES] = details_name, scores_name
    rec.rows_in = engine.count(out["golden_people"]) if "golden_people" in out else 0
    rec.rows_out = engine.count(scores_name)
    s = engine.con.table(scores_name)
    mqls = s.group_by("group").aggregate(mqls=s.mql.cast("int64").sum()).to_pyarrow().to_pylist()
    rec.detail = {"as_of": inputs.as_of.isoformat(), "groups": [g.name for g in inputs.groups],
                  "mqls": {r["group"]: int(r["mqls"] or 0) for r in mqls}}


# -- reading scores --------------------------------------------------------------------------------
def _published_fresh(ws: Workspace, today: date | None) -> bool:
    """The run's scores answer for the current rules (else they are computed afresh)."""
    if today is not None or not ws.engine.has_table(SCORES) or not ws.engine.has_table(DETAILS):
        return False
    t = ws.engine.table(SCORES)
    if "rules_hash" not in t.columns:
        return False
    stored = t.select("rules_hash", "scored_at").limit(1).to_pyarrow().to_pylist()
    if not stored:
        return True
    if stored[0]["rules_hash"] != rules_fingerprint(ws):
        return False
    if ws.config.leads.scoring.as_of == "today":
        return stored[0]["scored_at"].date() == datetime.now(UTC).date()
    return True


def rules_expressions(ws: Workspace, today: date | None = None) -> tuple[ibis.Table, ibis.Table] | None:
    """``(scores, details)`` of the rules as Ibis tables: the published ones when they are current,
    else computed afresh; None when there are no people yet."""
    if _published_fresh(ws, today):
        return ws.engine.table(SCORES).select(*SCORE_COLUMNS), ws.engine.table(DETAILS).select(*DETAIL_COLUMNS)
    inputs = scoring_inputs(ws, today=today)
    if inputs is None:
        return None
    details = explanation_rows(inputs.persons, inputs.activities, inputs.groups, inputs.half_life_days)
    return score_rows(inputs.persons, None, inputs.groups, inputs.half_life_days, details=details), details


def scores_expression(ws: Workspace, *, group: str | None = None, today: date | None = None) -> ibis.Table | None:
    """The scores as an Ibis table (the rules, or the predictive score when it is the one in use)."""
    cfg = ws.config.leads.scoring
    if group is not None:
        cfg.group(group)  # NotFound with "did you mean" for a misspelt group
    from marketops.leads.predictive import predictive_in_use, predictive_scores

    if predictive_in_use(ws):
        scores = predictive_scores(ws, today=today)
    else:
        pair = rules_expressions(ws, today)
        scores = pair[0] if pair else None
    if scores is None:
        return None
    return scores.filter(scores.group == group) if group else scores


def score_table(ws: Workspace, *, group: str | None = None, today: date | None = None) -> pa.Table:
    """Every person's score in every group (or one ``group``): ``person_id``, ``group``, ``score``,
    ``fit``, ``engagement``, ``mql`` (score >= the group's threshold) and ``scored_at``.

    This is the contract routing and lifecycle read. With ``leads.scoring.use`` choosing the predictive
    score, ``score`` is the predicted chance of converting in percent and ``mql`` compares the chance
    with ``predictive.mql_probability``; ``fit`` and ``engagement`` stay the rules' parts.

    Example:
        >>> import tempfile, pathlib
        >>> from marketops.workspace import Workspace
        >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
        >>> score_table(ws, group="default").num_rows
        0
        >>> ws.close()
    """
    scores = scores_expression(ws, group=group, today=today)
    if scores is None:
        return SCORE_SCHEMA.empty_table()
    return scores.order_by("person_id", "group").to_pyarrow().select(list(SCORE_COLUMNS)).cast(SCORE_SCHEMA)


# -- one person's explanation ----------------------------------------------------------------------
@dataclass
class GroupExplanation:
    group: str
    score: float
    fit: float
    engagement: float
    mql: bool
    threshold: float
    rules: list[dict[str, Any]] = field(default_factory=list)  # category, rule, events, points

    def points_by_category(self) -> dict[str, float]:
        return {FIT: self.fit, ENGAGEMENT: self.engagement}


@dataclass
class ScoreExplanation:
    person: dict[str, Any]
    scored_at: datetime | None
    groups: list[GroupExplanation]
    method: str = "rules"

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"person": self.person, "scored_at": self.scored_at, "method": self.method,
                "groups": [asdict(g) for g in self.groups]}


def find_person(ws: Workspace, who: str) -> dict[str, Any]:
    """The golden record of the person with this email or ``person_id`` (NotFound otherwise)."""
    if not ws.engine.has_table("golden_people"):
        raise NotFound("no people yet: run the pipeline first (`marketops run`)")
    gp = ws.engine.table("golden_people")
    key = who.strip()
    cond = (gp.person_id == key) | (gp.email.lower() == key.lower())
    cols = [c for c in ("person_id", "email", "first_name", "last_name", "company", "job_title", "owner",
                        "country", "lifecycle_stage") if c in gp.columns]
    rows = gp.filter(cond).select(*cols).order_by("person_id").limit(1).to_pyarrow().to_pylist()
    if not rows:
        raise NotFound(f"no person with email or id '{who}'")
    return rows[0]


def explain_person(ws: Workspace, who: str, *, group: str | None = None,
                   today: date | None = None) -> ScoreExplanation:
    """Why a person has their score: per group the rules that fired, how often, and their points
    (after decay and caps); the points add up to the score."""
    person = find_person(ws, who)
    cfg = ws.config.leads.scoring
    groups = [cfg.group(group)] if group else cfg.effective_groups()
    pair = rules_expressions(ws, today)
    if pair is None:
        raise NotFound("no scores yet: run the pipeline first (`marketops run`)")
    scores, details = pair
    pid = person["person_id"]
    srows = {r["group"]: r for r in scores.filter(scores.person_id == pid).to_pyarrow().to_pylist()}
    drows = details.filter(details.person_id == pid).to_pyarrow().to_pylist()
    order = {g.name: [r.name for r in (*g.fit, *g.engagement)] for g in groups}
    out = []
    for g in groups:
        s = srows.get(g.name, {})
        rules = [{k: r[k] for k in ("category", "rule", "events", "points")} for r in drows if r["group"] == g.name]
        rules.sort(key=lambda r: (r["category"] != FIT, order[g.name].index(r["rule"])
                                  if r["rule"] in order[g.name] else 1_000))
        out.append(GroupExplanation(g.name, s.get("score", 0.0), s.get("fit", 0.0), s.get("engagement", 0.0),
                                    bool(s.get("mql", False)), g.mql_threshold, rules))
    scored_at = next(iter(srows.values()))["scored_at"] if srows else None
    from marketops.leads.predictive import predictive_in_use

    return ScoreExplanation(person, scored_at, out, "predictive" if predictive_in_use(ws) else "rules")


# -- the leads list --------------------------------------------------------------------------------
LEAD_COLUMNS = ("person_id", "email", "first_name", "last_name", "company", "job_title", "owner", "group",
                "score", "fit", "engagement", "mql", "scored_at")


@dataclass
class LeadPage:
    items: list[dict[str, Any]]
    total: int
    group: str
    ready: bool = True


def lead_page(ws: Workspace, *, group: str | None = None, mql: bool | None = None, owner: str | None = None,
              min_score: float | None = None, limit: int | None = 50, offset: int = 0,
              today: date | None = None) -> LeadPage:
    """People with their score in ``group`` (default: the first), best first; filtered and paged in
    the engine. ``owner`` "-" means people without an owner."""
    cfg = ws.config.leads.scoring
    group = group or cfg.effective_groups()[0].name
    scores = scores_expression(ws, group=group, today=today)
    if scores is None or not ws.engine.has_table("golden_people"):
        return LeadPage([], 0, group, ready=False)
    gp = ws.engine.table("golden_people")
    info = gp.select(*[gp[c] if c in gp.columns else ibis.null("string").name(c)
                       for c in ("person_id", "email", "first_name", "last_name", "company", "job_title", "owner")])
    t = scores.join(info, "person_id")
    if mql is not None:
        t = t.filter(t.mql == mql)
    if owner:
        t = t.filter(t.owner.isnull()) if owner == "-" else t.filter(t.owner == owner)
    if min_score is not None:
        t = t.filter(t.score >= float(min_score))
    total = int(t.count().execute())
    t = t.select(*LEAD_COLUMNS).order_by([ibis.desc("score"), "person_id"])
    if limit is not None:
        t = t.limit(limit, offset=offset)
    return LeadPage(t.to_pyarrow().to_pylist(), total, group)


def owners(ws: Workspace) -> list[str]:
    """Owners of people, for the owner filter."""
    if not ws.engine.has_table("golden_people"):
        return []
    gp = ws.engine.table("golden_people")
    return sorted(v for v in gp.select("owner").distinct().to_pyarrow().column("owner").to_pylist() if v)


def group_names(ws: Workspace) -> Sequence[str]:
    return [g.name for g in ws.config.leads.scoring.effective_groups()]
