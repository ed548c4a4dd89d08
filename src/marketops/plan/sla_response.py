"""Response rules ("sales follows up MQLs within 24 business hours"): what is measured, exactly.

* **Start**: every row of ``lifecycle_stages`` where a person enters ``from_stage`` (any CRM spelling of
  it); the moment is ``entered_at``. A person who enters the stage twice starts the clock twice.
* **Stop**: with ``until: sales_activity``, the first row of ``sales_activities`` for the same person
  at or after the start whose ``direction`` is not ``inbound`` and whose ``type`` is not ``note`` or
  ``task`` (an internal note or a to-do is not a follow-up); with ``until: <stage>``, the person's
  first entry into that stage at or after the start.
* **Time taken**: business hours between start and stop on the ``slas.calendar`` (working days and
  hours in the workspace time zone, holidays excluded); see :mod:`marketops.leads.calendar`.
* **Judgement** of each start: *in time* when stopped within ``within_hours``; *late* when stopped
  later, or not stopped and more than ``within_hours`` have passed by the end of the data; *pending*
  (not counted yet) when not stopped and the time allowed has not run out.
* **Period**: a start counts in the period (week, month, quarter) holding its local start day; the
  period's value is the share of in-time starts among in-time + late ones.

Example:
    >>> import datetime as dt
    >>> from marketops.plan.sla_config import WorkingCalendar
    >>> cal = WorkingCalendar().business("UTC")
    >>> starts = [("p1", dt.datetime(2026, 3, 2, 10)), ("p2", dt.datetime(2026, 3, 2, 10))]
    >>> stops = {"p1": [dt.datetime(2026, 3, 2, 15)]}
    >>> [(c.person_id, c.outcome, c.hours) for c in judge(starts, stops, cal, 24, dt.datetime(2026, 3, 9, 12))]
    [('p1', 'in_time', 5.0), ('p2', 'late', None)]
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from marketops.lifecycle import stage_key_column, stage_spellings
from marketops.plan.goal_series import NoData
from marketops.leads.calendar import BusinessCalendar as Calendar
from marketops.plan.sla_config import SALES_ACTIVITY, ResponseRule
from marketops.workspace import Workspace

#: Activity types that are no follow-up of the person (internal).
NOT_FOLLOW_UPS = ("note", "task")


@dataclass(frozen=True)
class Clock:
    """One start of the clock and how it ended."""

    person_id: str
    started_at: dt.datetime  # local wall-clock time of the calendar's zone
    outcome: str  # in_time | late | pending
    hours: float | None  # business hours to the stop (None when not stopped)
    stopped_at: dt.datetime | None = None


def judge(starts: Iterable[tuple[str, dt.datetime]], stops: Mapping[str, Sequence[dt.datetime]], calendar: Calendar,
          within_hours: float, as_of: dt.datetime) -> list[Clock]:
    """Judge each (person, start) against the person's sorted stop moments; ``as_of`` is the end of the data."""
    out = []
    for person, start in starts:
        moments = stops.get(person, ())
        i = bisect.bisect_left(moments, start)
        stop = moments[i] if i < len(moments) else None
        if stop is not None:
            hours = calendar.hours_between(start, stop)
            outcome = "in_time" if hours <= within_hours else "late"
        else:
            hours = None
            outcome = "late" if calendar.hours_between(start, as_of) > within_hours else "pending"
        out.append(Clock(person, calendar.local(start), outcome, hours,
                         calendar.local(stop) if stop is not None else None))
    return out


def _naive_utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is None:
        return None
    return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v


def _newest(ws: Workspace, table: str, column: str) -> dt.datetime:
    if not ws.engine.has_table(table):
        raise NoData(f"the table {table} is not loaded", hint=f"load an export with {table.replace('_', ' ')} "
                     "and run the pipeline")
    newest = _naive_utc(ws.table(table)[column].max().to_pyarrow().as_py())
    if newest is None:
        raise NoData(f"the table {table} is empty")
    return newest


def measure(ws: Workspace, rule: ResponseRule, calendar: Calendar, *, since: dt.datetime | None = None,
            until: dt.datetime | None = None) -> tuple[list[Clock], dt.datetime]:
    """The clocks of ``rule`` started from ``since`` (UTC) on, and the moment the data ends (UTC):
    the earlier of the newest start and the newest stop the warehouse holds, capped at ``until``."""
    as_of = _newest(ws, "lifecycle_stages", "entered_at")
    stop_table = "sales_activities" if rule.until == SALES_ACTIVITY else "lifecycle_stages"
    stop_column = "occurred_at" if rule.until == SALES_ACTIVITY else "entered_at"
    as_of = min(as_of, _newest(ws, stop_table, stop_column))
    if until is not None:
        as_of = min(as_of, until)
    t = ws.table("lifecycle_stages")
    q = t.filter(stage_key_column(t.stage).isin(stage_spellings([rule.from_stage])), t.person_id.notnull(),
                 t.entered_at <= as_of)
    if since is not None:
        q = q.filter(t.entered_at >= since)
    starts = sorted({(str(r["person_id"]), _naive_utc(r["entered_at"]))
                     for r in q.select("person_id", "entered_at").to_pyarrow().to_pylist()},
                    key=lambda x: (x[1], x[0]))
    people = sorted({p for p, _ in starts})
    stops: dict[str, list[dt.datetime]] = {}
    if people:
        # a subquery, not a list of ids: the people who started a clock may be many
        who = q.select(person_id=q.person_id.cast("string")).distinct().person_id
        if rule.until == SALES_ACTIVITY:
            a = ws.table("sales_activities")
            direction = a.direction.cast("string").lower().strip() if "direction" in a.columns else None
            cond = [a.person_id.cast("string").isin(who), a.occurred_at <= as_of,
                    ~a.type.cast("string").lower().strip().isin(list(NOT_FOLLOW_UPS))]
            if direction is not None:
                cond.append(direction.isnull() | (direction != "inbound"))
            rows = a.filter(*cond).select(person_id=a.person_id.cast("string"), at=a.occurred_at)
        else:
            s = ws.table("lifecycle_stages")
            rows = s.filter(stage_key_column(s.stage).isin(stage_spellings([rule.until])),
                            s.person_id.cast("string").isin(who), s.entered_at <= as_of) \
                .select(person_id=s.person_id.cast("string"), at=s.entered_at)
        for r in rows.to_pyarrow().to_pylist():
            stops.setdefault(r["person_id"], []).append(_naive_utc(r["at"]))
        for moments in stops.values():
            moments.sort()
    return judge(starts, stops, calendar, rule.within_hours, as_of), as_of
