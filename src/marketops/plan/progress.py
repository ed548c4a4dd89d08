"""A goal's progress: where its metric stands, where it is heading by the deadline, and a status.

:func:`evaluate` judges a plain history (tests build one by hand); :func:`measure_goal` reads the
goal's series from the warehouse and stores a :class:`~marketops.state.planning.GoalProgress` row;
:func:`measure_after_run` does it for every goal when a pipeline run succeeds and never fails it.

How a goal reads its metric (``measure``):

* ``period``: the value of the newest *complete* period at the goal's grain ("clicks a month").
  Progress is the share of the way from baseline to target; the forecast is the value the trend
  (see :mod:`marketops.plan.forecast`) gives for the period holding the deadline.
* ``cumulative``: the total since the start of the period holding the start date, up to the last
  day of data ("customers this year"). Progress is the share of the target reached (from 0); the
  forecast adds the trend's values for the periods left until the deadline. Reaching the target
  before the deadline achieves the goal.

The status, before the deadline, compares the forecast with the target as a share of the way
from baseline to target (from 0 for cumulative goals, or when there is no baseline):

* ``on_track``: the forecast meets the target, or falls short by at most :data:`TOLERANCE`
  (5 %) of the way (forecast share >= 0.95);
* ``at_risk``: the forecast gets at least :data:`AT_RISK_SHARE` (75 %) of the way;
* ``off_track``: less than that.

After the deadline: ``achieved`` when the value at the deadline meets the target, else ``missed``.
``no_data`` when the metric cannot be measured; the reason is in ``detail["message"]``.

Example:
    >>> from datetime import date
    >>> history = [(date(2026, m, 1), 1000 + 25 * m) for m in range(1, 11)]  # +25 clicks a month
    >>> j = evaluate(history, grain="month", measure="period", baseline=1000, target=1300,
    ...              start=date(2026, 1, 1), deadline=date(2026, 12, 31), today=date(2026, 11, 10),
    ...              title="More clicks", label="Clicks")
    >>> j.status, round(j.forecast), round(j.progress, 2)
    ('on_track', 1300, 0.83)
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from marketops.errors import MarketopsError
from marketops.metrics.query import period_start, shift_period
from marketops.plan.forecast import SEASON, forecast
from marketops.plan.goal_series import Series, catalog_of, metric_series, scope_label
from marketops.plan.smart import in_sentence
from marketops.state.audit import record
from marketops.state.planning import Goal, GoalProgress
from marketops.workspace import Workspace

log = logging.getLogger(__name__)

#: Shortfall of the forecast, as a share of the way from baseline to target, still "on track".
TOLERANCE = 0.05
#: Share of the way the forecast must reach to be "at risk" rather than "off track".
AT_RISK_SHARE = 0.75
#: Periods of history kept in a measurement's detail (for the chart).
DETAIL_PERIODS = 60

STATUS_WORDS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track", "achieved": "achieved",
                "missed": "missed", "no_data": "without data"}


@dataclass
class Judgement:
    """What one measurement says about a goal."""

    status: str
    value: float | None = None
    progress: float | None = None
    forecast: float | None = None
    as_of: dt.date | None = None
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def meets(value: float, target: float, higher_is_better: bool = True) -> bool:
    """Whether ``value`` reaches ``target`` in the metric's good direction.

    >>> meets(10, 8, higher_is_better=False), meets(10, 8)
    (False, True)
    """
    return value >= target if higher_is_better else value <= target


def share(value: float | None, baseline: float | None, target: float, higher_is_better: bool = True) -> float | None:
    """The share of the way from ``baseline`` to ``target`` that ``value`` covers (from 0 without a
    baseline); 1 means there, above 1 beyond, below 0 worse than the baseline.

    >>> share(1150, 1000, 1250), share(250, None, 500), share(9, 10, 8, higher_is_better=False)
    (0.6, 0.5, 0.5)
    """
    if value is None:
        return None
    if baseline is not None and target != baseline:
        return (value - baseline) / (target - baseline)
    if higher_is_better:
        return value / target if target else None
    return target / value if value else None


def _number(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


def evaluate(history: list[tuple[dt.date, float | None]], *, grain: str, measure: str, baseline: float | None,
             target: float, start: dt.date | None, deadline: dt.date, today: dt.date, as_of: dt.date | None = None,
             complete: dt.date | None = None, higher_is_better: bool = True, title: str = "the goal",
             label: str = "the metric") -> Judgement:
    """Judge a goal on its metric's ``history`` ((period start, value), oldest first).

    ``complete`` is the newest complete period (default: the last one given); ``as_of`` the last
    day of data (default: the end of the last period given).
    """
    known = [(p, float(v)) for p, v in history if v is not None]
    name = f"Goal '{title}'"
    if not known:
        return Judgement("no_data", message=f"{name} has no data: {label} has no value yet.")
    complete = complete or known[-1][0]
    as_of = as_of or (shift_period(known[-1][0], grain, 1) - dt.timedelta(days=1))
    end_period = period_start(deadline, grain)
    full = [(p, v) for p, v in known if p <= complete]
    season = SEASON.get(grain)
    detail: dict[str, Any] = {"measure": measure, "grain": grain, "target": target, "baseline": baseline,
                              "deadline": deadline.isoformat(), "tolerance": TOLERANCE, "at_risk_share": AT_RISK_SHARE}
    after = today > deadline
    if measure == "cumulative":
        first = period_start(start, grain) if start else known[0][0]
        since = [(p, v) for p, v in known if first <= p <= end_period]
        running, total = [], 0.0
        for p, v in since:
            total += v
            running.append((p, total))
        value = total
        detail["series"] = [{"period": p.isoformat(), "value": v} for p, v in running[-DETAIL_PERIODS:]]
        done = [(p, v) for p, v in since if p <= complete]
        projected, method, slope, used, future = value, "flat", 0.0, 0, []
        if full and not after and complete < end_period:
            steps = len(_periods_between(complete, end_period, grain))
            f = forecast([v for _, v in full], steps, season=season)
            method, slope, used = f.method, f.slope, f.periods_used
            projected = sum(v for _, v in done)
            acc = projected
            for p, v in zip(_periods_between(complete, end_period, grain), f.values, strict=True):
                actual = next((a for q, a in since if q == p), 0.0)  # the period under way counts what it has
                acc += max(v, actual)
                future.append({"period": p.isoformat(), "value": acc})
            projected = acc
        progress = share(value, None, target, higher_is_better)
        projected_share = share(projected, None, target, higher_is_better)
        reached_early = meets(value, target, higher_is_better)
    else:
        in_time = [(p, v) for p, v in full if p <= end_period]
        if not in_time:
            return Judgement("no_data", as_of=as_of,
                             message=f"{name} has no data: no complete {grain} of {label} yet.", detail=detail)
        value = in_time[-1][1]
        detail["series"] = [{"period": p.isoformat(), "value": v} for p, v in known[-DETAIL_PERIODS:]]
        projected, method, slope, used, future = value, "flat", 0.0, 0, []
        if not after and complete < end_period:
            periods = _periods_between(complete, end_period, grain)
            f = forecast([v for _, v in full], len(periods), season=season)
            method, slope, used = f.method, f.slope, f.periods_used
            future = [{"period": p.isoformat(), "value": v} for p, v in zip(periods, f.values, strict=True)]
            projected = f.values[-1]
        progress = share(value, baseline, target, higher_is_better)
        projected_share = share(projected, baseline, target, higher_is_better)
        reached_early = False
    detail.update(forecast_series=future, method=method, slope=slope, periods_used=used,
                  forecast_share=projected_share, as_of=as_of.isoformat())
    if after or reached_early:
        status = "achieved" if meets(value, target, higher_is_better) else "missed"
        when = "before the deadline" if not after else f"at the deadline ({deadline.isoformat()})"
        message = (f"{name} was {STATUS_WORDS[status]}: {label} is {_number(value)} {when}, "
                   f"against a target of {_number(target)}.")
        return Judgement(status, value, progress, None, as_of, message, detail)
    if meets(projected, target, higher_is_better) or (projected_share is not None
                                                      and projected_share >= 1 - TOLERANCE):
        status = "on_track"
    elif projected_share is not None and projected_share >= AT_RISK_SHARE:
        status = "at_risk"
    else:
        status = "off_track"
    how = {"flat": "if nothing changes (too little history for a trend)", "linear": "on the recent trend",
           "seasonal": "on the trend and the seasonal pattern"}[method]
    way = f" ({projected_share:.0%} of the way)" if projected_share is not None and status != "on_track" else ""
    message = (f"{name} is {STATUS_WORDS[status]}: {label} is forecast at {_number(projected)} by "
               f"{deadline.isoformat()} {how}, against a target of {_number(target)}{way}; "
               f"now {_number(value)}.")
    return Judgement(status, value, progress, projected, as_of, message, detail)


def _periods_between(after: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    """Period starts after ``after`` up to ``last`` (inclusive)."""
    out, p = [], shift_period(after, grain, 1)
    while p <= last:
        out.append(p)
        p = shift_period(p, grain, 1)
    return out


def judge_goal(ws: Workspace, goal: Goal, *, today: dt.date | None = None, catalog=None,
               series: Series | None = None) -> Judgement:
    """Measure ``goal`` on the workspace's data; any failure becomes ``no_data`` with its reason."""
    today = today or dt.date.today()
    name = f"Goal '{goal.title}'"
    try:
        catalog = catalog or catalog_of(ws)
        metric = catalog.get(goal.metric)
        series = series or metric_series(ws, goal.metric, goal.filters or {}, goal.grain, catalog=catalog)
    except MarketopsError as e:
        return Judgement("no_data", message=f"{name} could not be measured: {e.message}.",
                         detail={"reason": e.message})
    except Exception as e:
        log.exception("goal %s could not be measured", goal.id)
        reason = f"{type(e).__name__}: {e}"
        return Judgement("no_data", message=f"{name} could not be measured: {reason}.", detail={"reason": reason})
    if goal.deadline is None:
        return Judgement("no_data", message=f"{name} has no deadline: give it one to track it.",
                         detail={"reason": "no deadline"})
    j = evaluate(list(zip(series.periods, series.values)), grain=goal.grain, measure=goal.measure,
                 baseline=goal.baseline, target=goal.target, start=goal.start_date, deadline=goal.deadline,
                 today=today, as_of=series.as_of, complete=series.complete,
                 higher_is_better=metric.higher_is_better, title=goal.title, label=in_sentence(metric.label))
    j.detail.update(metric=goal.metric, label=metric.label, format=metric.format,
                    higher_is_better=metric.higher_is_better, scope=scope_label(goal.filters or {}))
    return j


def measure_goal(session: Session, ws: Workspace, goal: Goal, *, run_id: str | None = None,
                 today: dt.date | None = None, catalog=None) -> GoalProgress:
    """Measure ``goal`` now and add a GoalProgress row for it to ``session`` (the caller commits)."""
    j = judge_goal(ws, goal, today=today, catalog=catalog)
    detail = {**j.detail, "message": j.message}
    row = GoalProgress(goal_id=goal.id, run_id=run_id, as_of=j.as_of, value=j.value, progress=j.progress,
                       forecast=j.forecast, status=j.status, detail=_jsonable(detail))
    session.add(row)
    session.flush()
    return row


def measure_now(session: Session, ws: Workspace, goal: Goal, *, actor: str, ip: str | None = None) -> GoalProgress:
    """Measure ``goal`` on demand (someone asked: the audit log says who); the caller commits."""
    row = measure_goal(session, ws, goal)
    record(session, actor, "goal.measure", f"goal:{goal.id}", {"status": row.status}, ip)
    return row


def measure_goals(session: Session, ws: Workspace, *, run_id: str | None = None, today: dt.date | None = None,
                  goal_ids: list[int] | None = None) -> list[GoalProgress]:
    """Measure every goal (or those with ``goal_ids``); one GoalProgress row each."""
    query = select(Goal).order_by(Goal.id)
    if goal_ids is not None:
        query = query.where(Goal.id.in_(goal_ids))
    goals = list(session.scalars(query))
    if not goals:
        return []
    try:
        catalog = catalog_of(ws)
    except MarketopsError:
        catalog = None  # each goal then says why it cannot be measured
    return [measure_goal(session, ws, g, run_id=run_id, today=today, catalog=catalog) for g in goals]


def measure_after_run(ws: Workspace, run_id: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """Recompute every goal's progress after a successful run; never raises (a broken app database
    or goal must not fail the run). Returns ``{"measured": n, "statuses": {...}}`` or ``{"error": ...}``."""
    from marketops.state.db import init_db, session_scope

    url = ws.app_database_url
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
                and not Path(parsed.database).exists():
            return {"measured": 0, "statuses": {}}  # no app database yet: nobody has set a goal
        init_db(url)
        with session_scope(url) as session:
            rows = measure_goals(session, ws, run_id=run_id, today=today)
            counts: dict[str, int] = {}
            for r in rows:
                counts[r.status] = counts.get(r.status, 0) + 1
            return {"measured": len(rows), "statuses": counts}
    except Exception as e:
        log.exception("goal progress after run %s failed", run_id)
        return {"error": f"{type(e).__name__}: {e}"}


def latest_progress(session: Session, goal_ids: list[int] | None = None) -> dict[int, GoalProgress]:
    """The newest GoalProgress per goal (what pages, the overview and alerts show)."""
    # the highest id is the newest row (ids grow with every measurement): one row per goal is read,
    # not the whole history with its series
    newest = select(func.max(GoalProgress.id)).group_by(GoalProgress.goal_id)
    if goal_ids is not None:
        newest = newest.where(GoalProgress.goal_id.in_(goal_ids))
    return {row.goal_id: row for row in session.scalars(select(GoalProgress).where(GoalProgress.id.in_(newest)))}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):  # NaN is not JSON
        return None
    return value
