"""Goals: create, check, change, delete and list SMART goals bound to a metric of the metrics layer.

A :class:`GoalDraft` is what a person asks for (from the CLI, a form or the API); :func:`check_goal`
resolves it against the workspace (the baseline measured when not given, a target given as a
change such as ``+25%``) and runs the SMART check; :func:`create_goal` saves it when no letter has
an error, links its initiatives, audits the change (``goal.create`` on ``goal:<id>``, the SMART
verdicts in the event's detail) and measures it once.

Example:
    >>> parse_filters(["channel=Email", "country = IT"])
    {'channel': 'Email', 'country': 'IT'}
    >>> parse_change("+25%", 1000.0), parse_change("-10", 50.0)
    (1250.0, 40.0)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketops.errors import MarketopsError, NotFound, ValidationFailed, unknown_name
from marketops.metrics import GRAINS
from marketops.metrics.query import period_start, shift_period
from marketops.plan import smart
from marketops.plan.goal_series import NoData, Series, additive, catalog_of, metric_series, scope_label
from marketops.plan.progress import latest_progress, measure_goal
from marketops.state import audit
from marketops.state.models import AuditEvent
from marketops.state.planning import (
    GOAL_LEVELS,
    GOAL_MEASURES,
    Goal,
    GoalProgress,
    Initiative,
    InitiativeGoal,
)
from marketops.workspace import Workspace

LEVEL_ORDER = {level: i for i, level in enumerate(GOAL_LEVELS)}
_CHANGE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


class GoalRejected(ValidationFailed):
    """The SMART check found errors; ``checks`` holds every letter's verdict."""

    def __init__(self, checks: list[smart.SmartCheck]) -> None:
        self.checks = checks
        errors = [c for c in checks if c.blocking]
        super().__init__("the goal was not saved: " + " ".join(f"{c.name}: {c.message}" for c in errors))


@dataclass
class GoalDraft:
    """A goal as asked for. ``change`` ("+25%", "-10", "+300") sets the target from the baseline."""

    title: str
    metric: str
    target: float | None = None
    change: str | None = None
    deadline: dt.date | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    grain: str = "month"
    measure: str = "period"
    baseline: float | None = None
    start_date: dt.date | None = None
    owner: str = ""
    level: str = "company"
    team: str | None = None
    parent_id: int | None = None
    initiative_ids: list[int] = field(default_factory=list)
    description: str = ""


@dataclass
class GoalCheck:
    """The SMART verdicts and the values the goal would be saved with."""

    checks: list[smart.SmartCheck]
    baseline: float | None = None
    baseline_measured: bool = False
    target: float | None = None
    start_date: dt.date | None = None
    series: Series | None = None

    @property
    def ok(self) -> bool:
        return not any(c.blocking for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_json() for c in self.checks], "baseline": self.baseline,
                "baseline_measured": self.baseline_measured, "target": self.target,
                "start_date": self.start_date.isoformat() if self.start_date else None}


def parse_filters(items: Iterable[str]) -> dict[str, str]:
    """``["channel=Email"]`` -> ``{"channel": "Email"}``; ValidationFailed for an item without ``=``.

    >>> parse_filters(["channel"])
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: 'channel' is not a filter: write dimension=value, e.g. channel=Email
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValidationFailed(f"'{item}' is not a filter: write dimension=value, e.g. channel=Email")
        out[key.strip()] = value.strip()
    return out


def parse_change(change: str, baseline: float) -> float:
    """The target ``change`` makes of ``baseline``: ``+25%`` (relative) or ``+300`` (absolute)."""
    m = _CHANGE.match(change or "")
    if not m:
        raise ValidationFailed(f"'{change}' is not a change: write +25% (relative) or +300 (absolute)")
    sign, amount, percent = m.group(1), float(m.group(2)), m.group(3)
    delta = baseline * amount / 100 if percent else amount
    return baseline + delta if sign == "+" else baseline - delta


def _validate_shape(draft: GoalDraft) -> None:
    if not draft.title or not draft.title.strip():
        raise ValidationFailed("a goal needs a title, e.g. 'Raise email clicks by 25%'")
    if len(draft.title) > 300:
        raise ValidationFailed("the title is too long: at most 300 characters")
    if draft.level not in GOAL_LEVELS:
        raise unknown_name("level", draft.level, GOAL_LEVELS)
    if draft.measure not in GOAL_MEASURES:
        raise unknown_name("measure", draft.measure, GOAL_MEASURES)
    if draft.grain not in GRAINS:
        raise unknown_name("grain", draft.grain, GRAINS)
    if draft.target is not None and draft.change:
        raise ValidationFailed("give either a target or a change, not both")


def _baseline(series: Series, draft: GoalDraft, start: dt.date) -> float | None:
    """The metric over the period before the start: the period before (``period``), or as many periods
    before the start as the goal spans (``cumulative``)."""
    first = period_start(start, draft.grain)
    if draft.measure == "cumulative":
        span = 1
        if draft.deadline and draft.deadline > start:
            p = first
            while p < period_start(draft.deadline, draft.grain):
                p, span = shift_period(p, draft.grain, 1), span + 1
        since = shift_period(first, draft.grain, -span)
        values = series.known(since=since, through=shift_period(first, draft.grain, -1))
        return float(sum(v for _, v in values)) if values else None
    before = min(shift_period(first, draft.grain, -1), series.complete) if series.complete else None
    known = series.known(through=before) if before else []
    return known[-1][1] if known else None


def check_goal(session: Session, ws: Workspace, draft: GoalDraft, *, today: dt.date | None = None,
               editing: Goal | None = None) -> GoalCheck:
    """The SMART check of ``draft`` against the workspace's data and the app database.

    Shape errors (no title, an unknown level, grain or measure) raise ValidationFailed/NotFound;
    everything else is a verdict per letter.
    """
    _validate_shape(draft)
    today = today or dt.date.today()
    start = draft.start_date or today
    out = GoalCheck(checks=[], start_date=start)
    checks: dict[str, smart.SmartCheck] = {}
    metric = label = None
    catalog = None
    try:
        catalog = catalog_of(ws)
    except MarketopsError as e:
        checks["M"] = smart.error("M", f"The metrics of marketops.yaml cannot be read: {e.message}.")
    if catalog is not None:
        unknown = smart.measurable(catalog, draft.metric)
        if unknown:
            checks["M"] = unknown
        else:
            metric = catalog.get(draft.metric)
            label = metric.label
    allowed = catalog.dimensions(draft.metric) if metric is not None else None
    checks["S"] = smart.specific(draft.metric, label, draft.filters, allowed)
    if metric is not None and checks["S"].ok:
        try:
            out.series = metric_series(ws, draft.metric, draft.filters, draft.grain, catalog=catalog)
            first = out.series.known()[0][0]
            checks["M"] = smart.ok("M", f"{label} has data for {scope_label(draft.filters)} from "
                                        f"{first.isoformat()} to {out.series.as_of.isoformat()}.")
        except NoData as e:
            advice = ("." if "values seen" in e.message else
                      ". Load its data and run the pipeline first, or choose another metric or scope.")
            checks["M"] = smart.error("M", e.message[0].upper() + e.message[1:] + advice)
        except NotFound as e:
            checks["M"] = smart.error("M", e.message[0].upper() + e.message[1:] + ".")
    elif metric is not None:
        checks["M"] = smart.ok("M", f"{label} exists (its data is checked once the scope is valid).")

    baseline = draft.baseline
    if baseline is None and out.series is not None:
        baseline = _baseline(out.series, draft, start)
        out.baseline_measured = baseline is not None
    out.baseline = baseline
    target = draft.target
    if draft.change:
        if baseline is None:
            checks["A"] = smart.error("A", f"A change ({draft.change}) needs a baseline, and none could be measured "
                                           f"before {start.isoformat()}: give --baseline, or a target value.")
        else:
            target = round(parse_change(draft.change, baseline), 6)
    out.target = target
    if "A" not in checks:
        if metric is None:
            checks["A"] = smart.ok("A", "Not judged: the metric is not known.") if target is not None else \
                smart.error("A", "No target: give a value or a change from the baseline such as +25%.")
        else:
            checks["A"] = smart.achievable(
                out.series, measure=draft.measure, baseline=baseline, target=target, deadline=draft.deadline,
                higher_is_better=metric.higher_is_better, label=smart.in_sentence(label), grain=draft.grain, start=start,
                cumulative_ok=additive(catalog, draft.metric))

    parent_title = None
    if draft.parent_id is not None:
        parent = session.get(Goal, draft.parent_id)
        if parent is None:
            checks["R"] = smart.error("R", f"There is no goal {draft.parent_id} to be the parent.")
        elif editing is not None and _is_descendant(parent, editing):
            checks["R"] = smart.error("R", f"Goal {parent.id} cannot be the parent: it is this goal or one of its "
                                           f"sub-goals, and the tree would go round in a circle.")
        else:
            parent_title = parent.title
    titles = []
    for iid in draft.initiative_ids:
        initiative = session.get(Initiative, iid)
        if initiative is None:
            checks["R"] = smart.error("R", f"There is no initiative {iid} to link.")
            break
        titles.append(initiative.title)
    if "R" not in checks:
        checks["R"] = smart.relevant(parent_title, titles)
        if parent_title and LEVEL_ORDER[draft.level] < LEVEL_ORDER[session.get(Goal, draft.parent_id).level]:
            checks["R"] = smart.warning("R", f"A {draft.level} goal under a "
                                             f"{session.get(Goal, draft.parent_id).level} goal: the tree runs "
                                             f"company -> team -> person.")
    checks["T"] = smart.time_bound(draft.deadline, start, today=today)
    if editing is not None and editing.deadline == draft.deadline and not checks["T"].ok \
            and draft.deadline is not None and draft.deadline < today:
        # an old goal past its deadline can still be edited (its owner, its links...)
        checks["T"] = smart.ok("T", f"The deadline {draft.deadline.isoformat()} has passed.")
    out.checks = [checks[letter] for letter in smart.LETTERS]
    return out


def _is_descendant(candidate: Goal, goal: Goal) -> bool:
    node, seen = candidate, set()
    while node is not None and node.id not in seen:
        if node.id == goal.id:
            return True
        seen.add(node.id)
        node = node.parent
    return False


def create_goal(session: Session, ws: Workspace, draft: GoalDraft, *, actor: str, ip: str | None = None,
                today: dt.date | None = None, measure: bool = True) -> tuple[Goal, GoalCheck]:
    """Check ``draft`` and save it (GoalRejected when a letter has an error); audits ``goal.create``
    and, with ``measure``, adds its first progress measurement. The caller commits."""
    result = check_goal(session, ws, draft, today=today)
    if not result.ok:
        raise GoalRejected(result.checks)
    goal = Goal(title=draft.title.strip(), description=draft.description or "", metric=draft.metric,
                filters=dict(draft.filters), grain=draft.grain, measure=draft.measure, baseline=result.baseline,
                target=result.target, start_date=result.start_date, deadline=draft.deadline,
                owner=draft.owner or "", level=draft.level, team=draft.team or None, parent_id=draft.parent_id,
                created_by=actor)
    session.add(goal)
    session.flush()
    _link(session, goal, draft.initiative_ids)
    audit.record(session, actor, "goal.create", f"goal:{goal.id}",
                 {"title": goal.title, "metric": goal.metric, "filters": goal.filters, "target": goal.target,
                  "baseline": goal.baseline, "deadline": goal.deadline.isoformat() if goal.deadline else None,
                  "smart": [c.to_json() for c in result.checks]}, ip)
    if measure:
        measure_goal(session, ws, goal, today=today)
    return goal, result


def _link(session: Session, goal: Goal, initiative_ids: Iterable[int]) -> None:
    session.execute(delete(InitiativeGoal).where(InitiativeGoal.goal_id == goal.id))
    for iid in dict.fromkeys(initiative_ids):
        session.add(InitiativeGoal(initiative_id=iid, goal_id=goal.id))
    session.flush()


def initiative_ids(session: Session, goal_id: int) -> list[int]:
    return list(session.scalars(select(InitiativeGoal.initiative_id).where(InitiativeGoal.goal_id == goal_id)
                                .order_by(InitiativeGoal.initiative_id)))


def draft_of(session: Session, goal: Goal) -> GoalDraft:
    """The draft a saved goal corresponds to (for editing)."""
    return GoalDraft(title=goal.title, metric=goal.metric, target=goal.target, deadline=goal.deadline,
                     filters=dict(goal.filters or {}), grain=goal.grain, measure=goal.measure, baseline=goal.baseline,
                     start_date=goal.start_date, owner=goal.owner, level=goal.level, team=goal.team,
                     parent_id=goal.parent_id, initiative_ids=initiative_ids(session, goal.id),
                     description=goal.description)


#: Fields a change may set (``change`` sets the target from the baseline).
EDITABLE = ("title", "description", "metric", "filters", "grain", "measure", "baseline", "target", "change",
            "start_date", "deadline", "owner", "level", "team", "parent_id", "initiative_ids")
#: Changing one of these moves the measured baseline (unless a baseline is given too).
REMEASURE = ("metric", "filters", "grain", "measure", "start_date")


def update_goal(session: Session, ws: Workspace, goal: Goal, changes: dict[str, Any], *, actor: str,
                ip: str | None = None, today: dt.date | None = None) -> tuple[Goal, GoalCheck]:
    """Apply ``changes`` (fields of :data:`EDITABLE`), re-run the SMART check, audit ``goal.update``
    with what changed, and measure again. GoalRejected when a letter has an error."""
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise unknown_name("goal field", unknown[0], EDITABLE)
    before = draft_of(session, goal)
    draft = replace(before, **{k: v for k, v in changes.items() if k != "change"})
    draft.change = changes.get("change")
    if draft.change:
        draft.target = None
    if "baseline" not in changes and any(k in changes and changes[k] != getattr(before, k) for k in REMEASURE):
        draft.baseline = None
    result = check_goal(session, ws, draft, today=today, editing=goal)
    if not result.ok:
        raise GoalRejected(result.checks)
    new = {"title": draft.title.strip(), "description": draft.description or "", "metric": draft.metric,
           "filters": dict(draft.filters), "grain": draft.grain, "measure": draft.measure,
           "baseline": result.baseline, "target": result.target, "start_date": result.start_date,
           "deadline": draft.deadline, "owner": draft.owner or "", "level": draft.level, "team": draft.team or None,
           "parent_id": draft.parent_id}
    diff = {}
    for key, value in new.items():
        old = getattr(goal, key)
        if old != value:
            diff[key] = {"from": _plain(old), "to": _plain(value)}
            setattr(goal, key, value)
    if "initiative_ids" in changes and list(draft.initiative_ids) != before.initiative_ids:
        diff["initiative_ids"] = {"from": before.initiative_ids, "to": list(draft.initiative_ids)}
        _link(session, goal, draft.initiative_ids)
    session.flush()
    audit.record(session, actor, "goal.update", f"goal:{goal.id}",
                 {"changes": diff, "smart": [c.to_json() for c in result.checks]}, ip)
    measure_goal(session, ws, goal, today=today)
    return goal, result


def delete_goal(session: Session, goal: Goal, *, actor: str, ip: str | None = None) -> None:
    """Delete ``goal`` (its measurements too); its sub-goals stay, without a parent. Audited."""
    for child in list(goal.children):
        child.parent_id = None
    audit.record(session, actor, "goal.delete", f"goal:{goal.id}",
                 {"title": goal.title, "metric": goal.metric, "children": [c.id for c in goal.children]}, ip)
    session.delete(goal)
    session.flush()


def get_goal(session: Session, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(f"there is no goal {goal_id}")
    return goal


@dataclass
class GoalRow:
    """A goal with its newest measurement and its depth in the tree."""

    goal: Goal
    progress: GoalProgress | None
    depth: int = 0

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else "no_data"


def goal_tree(session: Session, *, status: str | None = None, owner: str | None = None,
              level: str | None = None) -> list[GoalRow]:
    """Every goal in tree order (company -> team -> person, each parent followed by its children),
    with its newest measurement; filters keep matching goals (and show them at their depth)."""
    goals = list(session.scalars(select(Goal).order_by(Goal.id)))
    latest = latest_progress(session)
    by_parent: dict[int | None, list[Goal]] = {}
    ids = {g.id for g in goals}
    for g in goals:
        by_parent.setdefault(g.parent_id if g.parent_id in ids else None, []).append(g)
    out: list[GoalRow] = []

    def walk(parent: int | None, depth: int, seen: set[int]) -> None:
        for g in sorted(by_parent.get(parent, []), key=lambda x: (LEVEL_ORDER.get(x.level, 9), x.deadline or
                                                                  dt.date.max, x.id)):
            if g.id in seen:
                continue
            seen.add(g.id)
            out.append(GoalRow(g, latest.get(g.id), depth))
            walk(g.id, depth + 1, seen)

    walk(None, 0, set())
    if status:
        out = [r for r in out if r.status == status]
    if owner:
        out = [r for r in out if owner.casefold() in (r.goal.owner or "").casefold()]
    if level:
        out = [r for r in out if r.goal.level == level]
    return out


def saved_checks(session: Session, goal_id: int) -> list[dict[str, Any]]:
    """The SMART verdicts saved with the goal's newest creation or change (from the audit log)."""
    event = session.scalars(select(AuditEvent).where(AuditEvent.target == f"goal:{goal_id}",
                                                     AuditEvent.action.in_(("goal.create", "goal.update")))
                            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
    return list((event.detail or {}).get("smart", [])) if event else []


def history(session: Session, goal_id: int, limit: int | None = None) -> list[GoalProgress]:
    """The goal's measurements, newest first."""
    query = select(GoalProgress).where(GoalProgress.goal_id == goal_id).order_by(
        GoalProgress.computed_at.desc(), GoalProgress.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def goal_json(goal: Goal, progress: GoalProgress | None = None, *, depth: int | None = None) -> dict[str, Any]:
    """A goal as the API and the downloads show it."""
    out = {"id": goal.id, "title": goal.title, "description": goal.description, "metric": goal.metric,
           "filters": dict(goal.filters or {}), "scope": scope_label(goal.filters or {}), "grain": goal.grain,
           "measure": goal.measure, "baseline": goal.baseline, "target": goal.target,
           "start_date": _plain(goal.start_date), "deadline": _plain(goal.deadline), "owner": goal.owner,
           "level": goal.level, "team": goal.team, "parent_id": goal.parent_id, "created_by": goal.created_by,
           "created_at": _plain(goal.created_at), "updated_at": _plain(goal.updated_at),
           "status": progress.status if progress else "no_data", "progress": progress_json(progress)}
    if depth is not None:
        out["depth"] = depth
    return out


def progress_json(p: GoalProgress | None, *, detail: bool = False) -> dict[str, Any] | None:
    if p is None:
        return None
    out = {"id": p.id, "run_id": p.run_id, "computed_at": _plain(p.computed_at), "as_of": _plain(p.as_of),
           "value": p.value, "progress": p.progress, "forecast": p.forecast, "status": p.status,
           "message": (p.detail or {}).get("message", "")}
    if detail:
        out["detail"] = p.detail
    return out


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
