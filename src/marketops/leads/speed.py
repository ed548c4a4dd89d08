"""The speed-to-lead SLA: for each MQL, the first sales touch, the response time in business hours of
the owner's team, and where it stands against the team's target.

* **MQLs**: :func:`marketops.leads.qualification.mql_people` (the shared MQL definition); until that
  exists, the first time each person entered the MQL stage in ``lifecycle_stages`` (:func:`mql_rows`).
* **First touch**: the earliest ``sales_activities`` row of the person at or after ``mql_at`` (and not
  after "now") whose direction is outbound or unknown (an inbound email from the lead is no follow-up),
  of the ``leads.sla.touch_types`` when set. Found set-based in the warehouse (one join and one window).
* **Team**: the MQL's ``owner`` (a name or an email) matched to ``leads.routing.owners``; its team's
  calendar and target apply (``leads.sla.default_team`` when the owner is unknown). ``owner_name`` is
  the matched owner's name (the ``owner`` as given when unmatched): reports group on it.
* **Status**: ``met`` (touched within the target), ``breached`` (touched, too late), ``open`` (not
  touched, within the target), ``near_breach`` (not touched, ``near_breach`` of the target elapsed),
  ``open_breached`` (not touched, target passed). ``time_left_hours`` is negative once breached.

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> from marketops.leads.sla_config import SpeedToLeadConfig
    >>> mqls = pa.table({"person_id": ["p1", "p2"], "email": ["a@x.io", "b@x.io"], "owner": ["Ana", None],
    ...                  "mql_at": [dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 9)],
    ...                  "touch_at": [dt.datetime(2026, 3, 2, 11), None]})
    >>> t = speed_rows(mqls, SpeedToLeadConfig(target_hours=8, teams=[{"name": "sales", "timezone": "UTC"}]),
    ...                [], now=dt.datetime(2026, 3, 2, 16))
    >>> t.column("status").to_pylist(), t.column("response_hours").to_pylist(), t.column("time_left_hours").to_pylist()
    (['met', 'near_breach'], [2.0, None], [None, 1.0])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.leads.calendar import US_PER_HOUR, BusinessCalendar
from marketops.leads.qualification import mql_people
from marketops.leads.routing_config import Owner
from marketops.leads.sla_config import SpeedToLeadConfig
from marketops.workspace import Workspace

STATUSES = ("met", "breached", "open", "near_breach", "open_breached")
OPEN_STATUSES = ("open", "near_breach", "open_breached")
#: Directions that are no follow-up by sales (the lead reaching out).
INBOUND = ("inbound", "incoming", "in", "inbound call", "inbound email")
MQL_COLUMNS = ("person_id", "email", "mql_at", "how", "owner", "country", "account_id", "lead_source",
               "channel_group", "segment")
TOUCH_COLUMNS = ("touch_at", "touch_by", "touch_type", "touch_subject")
#: Columns of the speed table, in order.
COLUMNS = ("person_id", "email", "owner", "owner_name", "owner_email", "team", "mql_at", "lead_source", "channel_group", "segment",
           "country", "touch_at", "touch_by", "touch_type", "touch_subject", "response_hours", "elapsed_hours",
           "target_hours", "deadline", "status", "time_left_hours", "week")


def as_of(today: dt.date | None = None, now: dt.datetime | None = None) -> dt.datetime:
    """The moment statuses are judged at (naive UTC): ``now``; else the end of ``today`` (or the clock, when
    ``today`` is today: the day is not over yet); else the clock.

    >>> as_of(dt.date(2026, 3, 2))
    datetime.datetime(2026, 3, 3, 0, 0)
    """
    if now is not None:
        return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now
    clock = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if today is not None:
        return min(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()), clock)
    return clock


# -- the MQLs ----------------------------------------------------------------------------------------------

def mql_rows(ws: Workspace, *, since: dt.datetime | None = None) -> pa.Table:
    """Every MQL by the shared definition (:func:`marketops.leads.qualification.mql_people`), with
    ``mql_at`` (UTC) and the person's owner, source and country (:data:`MQL_COLUMNS`)."""
    return mql_people(ws, since=since).select(list(MQL_COLUMNS))


# -- the first touch -----------------------------------------------------------------------------------

def with_first_touch(ws: Workspace, mqls: pa.Table, *, now: dt.datetime,
                     touch_types: Sequence[str] = ()) -> pa.Table:
    """``mqls`` with :data:`TOUCH_COLUMNS`: the first outbound (or undirected) sales activity of each
    person at or after its ``mql_at`` and not after ``now`` (null when there is none)."""
    mqls = mqls.set_column(mqls.schema.get_field_index("mql_at"), "mql_at",
                           _naive_utc(mqls.column("mql_at")))
    if not ws.engine.has_table("sales_activities") or mqls.num_rows == 0:
        return _no_touch(mqls)
    acts = ws.engine.table("sales_activities")
    keys = ibis.memtable(mqls.select(["person_id", "mql_at"]))
    touched = first_touches(keys, acts, now=now, touch_types=touch_types).to_pyarrow()
    if touched.num_rows == 0:
        return _no_touch(mqls)
    joined = mqls.join(touched, ["person_id", "mql_at"], join_type="left outer")
    return joined.select([*mqls.column_names, *TOUCH_COLUMNS])


def first_touches(mqls: ibis.Table, activities: ibis.Table, *, now: dt.datetime,
                  touch_types: Sequence[str] = ()) -> ibis.Table:
    """One row per (``person_id``, ``mql_at``) of ``mqls`` that has a first touch: ``touch_at``, ``touch_by``,
    ``touch_type``, ``touch_subject``. Set-based: runs in the warehouse for any number of leads."""
    a = activities.filter(activities.person_id.notnull())
    direction = ibis.coalesce(a.direction.cast("string").lower().strip(), "")
    a = a.filter(~direction.isin(list(INBOUND)))
    if touch_types:
        a = a.filter(a.type.cast("string").lower().strip().isin(list(touch_types)))
    a = a.select(person_id=a.person_id.cast("string"), occurred_at=a.occurred_at.cast("timestamp"),
                 touch_by=a.owner.cast("string"), touch_type=a.type.cast("string"),
                 touch_subject=a.subject.cast("string"), _rid=ibis.coalesce(a.record_id.cast("string"), ""))
    a = a.filter(a.occurred_at <= ibis.literal(now, type="timestamp"))
    m = mqls.select(person_id=mqls.person_id.cast("string"), mql_at=mqls.mql_at.cast("timestamp"))
    j = m.join(a, "person_id")
    j = j.filter(j.occurred_at >= j.mql_at)
    rank = ibis.row_number().over(group_by=[j.person_id, j.mql_at], order_by=[j.occurred_at, j._rid])
    j = j.mutate(_rank=rank)
    first = j.filter(j._rank == 0)
    return first.select("person_id", "mql_at", touch_at=first.occurred_at, touch_by=first.touch_by,
                        touch_type=first.touch_type, touch_subject=first.touch_subject)


def _naive_utc(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A timestamp column as naive UTC microseconds (aware columns are converted, naive ones kept)."""
    if pa.types.is_timestamp(col.type) and col.type.tz is not None:
        return pc.cast(pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64()), pa.timestamp("us"))
    return pc.cast(col, pa.timestamp("us"))


def _no_touch(mqls: pa.Table) -> pa.Table:
    n = mqls.num_rows
    out = mqls.append_column("touch_at", pa.nulls(n, pa.timestamp("us")))
    for c in TOUCH_COLUMNS[1:]:
        out = out.append_column(c, pa.nulls(n, pa.string()))
    return out


# -- business hours and statuses --------------------------------------------------------------------

def owner_index(owners: Sequence[Owner]) -> dict[str, Owner]:
    """Owners by lower-case name and email (what a CRM's owner column may hold)."""
    out: dict[str, Owner] = {}
    for o in owners:
        for key in (o.name, o.email):
            if key and key.strip():
                out.setdefault(key.strip().lower(), o)
    return out


def _us(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """int64 microseconds and a validity mask of a timestamp column."""
    arr = pc.cast(pc.cast(col, pa.timestamp("us")), pa.int64())
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64), valid


def speed_rows(mqls: pa.Table, cfg: SpeedToLeadConfig, owners: Sequence[Owner], *, now: dt.datetime,
               default_timezone: str = "UTC", cals: dict[str, BusinessCalendar] | None = None) -> pa.Table:
    """The speed table (:data:`COLUMNS`) of ``mqls`` (with ``touch_at`` and the other touch columns when
    known), judged at ``now``. Business hours are computed per team, vectorised."""
    mqls = _complete(mqls)
    n = mqls.num_rows
    now_us = int((now.replace(tzinfo=None) - dt.datetime(1970, 1, 1)) / dt.timedelta(microseconds=1))
    index = owner_index(owners)
    raw_owner = mqls.column("owner").to_pylist()
    distinct = {o for o in raw_owner if o}
    found = {o: index.get(o.strip().lower()) for o in distinct}
    owner_email = [found[o].email if o and found.get(o) else None for o in raw_owner]
    # one name per person however the CRM spelled the owner (name or email), for the reports
    owner_name = [found[o].name if o and found.get(o) else o for o in raw_owner]
    # the team of each distinct owner once (None: no owner), then per row by dictionary lookup
    team_by_owner = {o: cfg.team(found[o].team if found.get(o) else None) for o in distinct}
    team_by_owner[None] = cfg.team(None)
    team_cfgs = {t.name: t for t in team_by_owner.values()}
    team_of = [team_by_owner[o if o else None].name for o in raw_owner]
    team_arr = np.array(team_of, dtype=object) if n else np.zeros(0, object)

    mql_us, _ = _us(mqls.column("mql_at"))
    touch_us, touched = _us(mqls.column("touch_at"))
    response = np.full(n, np.nan)
    elapsed = np.full(n, np.nan)
    target = np.full(n, np.nan)
    near = np.full(n, np.nan)
    deadline = np.zeros(n, np.int64)
    left = np.full(n, np.nan)
    cals = cals if cals is not None else {}
    for name, team in team_cfgs.items():
        cal = cals.get(name.lower()) or cals.setdefault(name.lower(), BusinessCalendar(team, default_timezone))
        rows = np.flatnonzero(team_arr == name)
        a = mql_us[rows]
        target[rows] = cfg.target_for(team)
        near[rows] = cfg.near_breach_for(team)
        deadline[rows] = cal.deadlines_us(a, cfg.target_for(team))
        t_rows = rows[touched[rows]]
        if len(t_rows):
            response[t_rows] = cal.durations_us(mql_us[t_rows], touch_us[t_rows]) / US_PER_HOUR
        o_rows = rows[~touched[rows]]
        if len(o_rows):
            nows = np.full(len(o_rows), now_us, np.int64)
            elapsed[o_rows] = cal.durations_us(mql_us[o_rows], nows) / US_PER_HOUR
            d = deadline[o_rows]
            ahead = cal.durations_us(nows, d) / US_PER_HOUR
            behind = cal.durations_us(d, nows) / US_PER_HOUR
            left[o_rows] = np.where(now_us < d, ahead, -behind)
    status = np.where(touched, np.where(response <= target + 1e-9, "met", "breached"),
                      np.where(elapsed > target + 1e-9, "open_breached",
                               np.where(elapsed >= near * target - 1e-9, "near_breach", "open")))
    elapsed = np.where(touched, response, elapsed)
    week = pc.cast(pc.floor_temporal(pc.cast(mqls.column("mql_at"), pa.timestamp("us")), unit="week",
                                     week_starts_monday=True), pa.date32()) if n else pa.array([], pa.date32())

    def floats(x: np.ndarray) -> pa.Array:
        return pa.array(np.round(x, 4), pa.float64(), mask=np.isnan(x))

    return pa.table({
        "person_id": mqls.column("person_id"), "email": mqls.column("email"), "owner": mqls.column("owner"),
        "owner_name": pa.array(owner_name, pa.string()), "owner_email": pa.array(owner_email, pa.string()), "team": pa.array(team_of, pa.string()),
        "mql_at": pc.cast(mqls.column("mql_at"), pa.timestamp("us")),
        "lead_source": mqls.column("lead_source"), "channel_group": mqls.column("channel_group"),
        "segment": mqls.column("segment"), "country": mqls.column("country"),
        "touch_at": pc.cast(mqls.column("touch_at"), pa.timestamp("us")), "touch_by": mqls.column("touch_by"),
        "touch_type": mqls.column("touch_type"), "touch_subject": mqls.column("touch_subject"),
        "response_hours": pa.array(np.round(response, 4), pa.float64(), mask=~touched),
        "elapsed_hours": floats(elapsed), "target_hours": pa.array(target, pa.float64()),
        "deadline": pc.cast(pa.array(deadline, pa.int64()), pa.timestamp("us")),
        "status": pa.array(status.tolist() if n else [], pa.string()),
        "time_left_hours": pa.array(np.round(left, 4), pa.float64(), mask=touched | np.isnan(left)),
        "week": week,
    })


def _complete(mqls: pa.Table) -> pa.Table:
    for c in (*MQL_COLUMNS, *TOUCH_COLUMNS):
        if c not in mqls.column_names:
            kind = pa.timestamp("us") if c in ("mql_at", "touch_at") else pa.string()
            mqls = mqls.append_column(c, pa.nulls(mqls.num_rows, kind))
    return mqls.set_column(mqls.schema.get_field_index("mql_at"), "mql_at", _naive_utc(mqls.column("mql_at"))) \
        .set_column(mqls.schema.get_field_index("touch_at"), "touch_at", _naive_utc(mqls.column("touch_at")))


# -- the whole table --------------------------------------------------------------------------------------

@dataclass
class SpeedTable:
    """The speed table of a workspace at one moment, and the settings that made it."""

    rows: pa.Table
    now: dt.datetime
    config: SpeedToLeadConfig
    calendars: dict[str, BusinessCalendar]
    ready: bool  # False before the first run (no MQLs to read)
    has_activities: bool = True  # False when no sales activities were imported: nothing can be touched

    def items(self) -> list[dict[str, Any]]:
        return self.rows.to_pylist()


def speed_table(ws: Workspace, *, since: dt.datetime | dt.date | None = None, today: dt.date | None = None,
                now: dt.datetime | None = None, person: str | None = None) -> SpeedTable:
    """Every MQL (since ``since``; only ``person``, an email or person id, when given) with its first
    touch, response time, status and time left, judged at :func:`as_of` (``today``, ``now``)."""
    moment = as_of(today, now)
    cfg = ws.config.leads.sla
    if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
        since = dt.datetime.combine(since, dt.time())
    ready = ws.engine.has_table("golden_people")
    mqls = mql_rows(ws, since=since)  # empty before the first run
    mqls = mqls.filter(pc.less_equal(_naive_utc(mqls.column("mql_at")), pa.scalar(moment, pa.timestamp("us"))))
    if person:
        key = person.strip().lower()
        mask = pc.or_(pc.equal(mqls.column("person_id"), person.strip()),
                      pc.equal(pc.utf8_lower(pc.fill_null(mqls.column("email"), "")), key))
        mqls = mqls.filter(mask)
    touched = with_first_touch(ws, mqls, now=moment, touch_types=cfg.touch_types)
    cals: dict[str, BusinessCalendar] = {}
    rows = speed_rows(touched, cfg, ws.config.leads.routing.owners, now=moment,
                      default_timezone=ws.config.timezone, cals=cals)
    if rows.num_rows:
        rows = rows.sort_by([("mql_at", "ascending"), ("person_id", "ascending")])
    return SpeedTable(rows, moment, cfg, cals, ready, ws.engine.has_table("sales_activities"))


def team_calendars(ws: Workspace) -> list[BusinessCalendar]:
    """The calendar of every configured team (the default Mon-Fri 9-17 calendar when none is)."""
    cfg = ws.config.leads.sla
    teams = cfg.teams or [cfg.team(None)]
    return [BusinessCalendar(t, ws.config.timezone) for t in teams]
