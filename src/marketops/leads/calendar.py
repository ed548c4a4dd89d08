"""Business hours on a team's working calendar: how much working time lies between two instants, and
the instant N business hours after another.

A calendar turns each local day into its working windows as UTC instants (the time zone's rules apply
on every day, so a daylight-saving change moves the windows, and a window that spans the change is as
long as the time that really passes). Closed days (weekdays without hours, public holidays, extra
closed days) have no windows. Windows are built a year at a time and cached; after that both
questions are a binary search over the windows and their running total (:func:`numpy.searchsorted`),
so a million leads cost a few vector operations and no per-lead holiday lookup.

Instants are UTC. A naive ``datetime`` is read as UTC (the warehouse keeps UTC); vectors are int64
microseconds since the epoch. A lead that arrives at night, on a weekend, on a holiday or inside a
skipped daylight-saving hour starts counting at the next working minute.

Example:
    >>> import datetime as dt
    >>> from marketops.leads.sla_config import TeamCalendar
    >>> rome = BusinessCalendar(TeamCalendar(name="sales", timezone="Europe/Rome", holiday_country="IT",
    ...                                      hours={d: "09:00-13:00, 14:00-18:00" for d in WEEKDAYS[:5]}))
    >>> friday_5pm = dt.datetime(2026, 12, 4, 16)          # 17:00 in Rome, Friday
    >>> rome.hours_between(friday_5pm, dt.datetime(2026, 12, 9, 9))  # Mon 8h, Tue 8 Dec closed, Wed 1h
    10.0
    >>> rome.deadline(friday_5pm, 24)                      # Fri 1h + Mon 8h + Wed 8h + Thu 7h
    datetime.datetime(2026, 12, 10, 16, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from marketops.errors import MarketopsError
from marketops.leads.sla_config import WEEKDAYS, TeamCalendar

UTC = dt.UTC
US_PER_HOUR = 3_600_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
#: How far ahead a deadline is searched before the calendar is declared closed for good.
_MAX_YEARS_AHEAD = 10


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the epoch of ``moment`` (naive = UTC).

    >>> to_us(dt.datetime(1970, 1, 1, 0, 0, 1))
    1000000
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    """The UTC instant ``us`` microseconds after the epoch (aware)."""
    return _EPOCH + dt.timedelta(microseconds=int(us))


@dataclass(frozen=True)
class ClosedDay:
    """A day without working time and why (weekend, a public holiday's name, closed)."""

    day: dt.date
    reason: str


@dataclass(frozen=True)
class Segment:
    """Part of one working window counted between two instants (local wall-clock times)."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    hours: float


class BusinessCalendar:
    """A team's working calendar, ready to measure business hours."""

    def __init__(self, team: TeamCalendar, default_timezone: str = "UTC") -> None:
        self.team = team
        self.name = team.name
        self.zone_name = team.timezone or default_timezone
        self.zone = ZoneInfo(self.zone_name)
        self.weekly = team.windows()
        self.closed = frozenset(team.closed)
        self._years: tuple[int, int] | None = None
        self._starts = self._ends = self._before = np.zeros(0, np.int64)

    # -- closed days ------------------------------------------------------------------------------------
    @cached_property
    def _holiday_source(self):
        if not self.team.holiday_country:
            return None
        import holidays

        return holidays.country_holidays(self.team.holiday_country, subdiv=self.team.holiday_subdivision)

    def holiday(self, day: dt.date) -> str | None:
        """The public holiday on ``day`` (its name) or None."""
        src = self._holiday_source
        return src.get(day) if src is not None else None

    def closed_reason(self, day: dt.date) -> str | None:
        """Why ``day`` has no working time, or None when it is a working day."""
        if day in self.closed:
            return "closed"
        name = self.holiday(day)
        if name:
            return f"holiday: {name}"
        if not self.weekly[day.weekday()]:
            return f"no working hours on {day:%A}s"
        return None

    # -- the windows ---------------------------------------------------------------------------------------
    def _local_to_utc(self, day: dt.date, minute: int, *, end: bool) -> int:
        """The instant of wall-clock ``minute`` on ``day``: a skipped time (spring forward) means the first
        minute after the jump; a repeated time (fall back) means its first pass for a window's start and
        its second for a window's end, so the window covers all the time the clock shows."""
        day = day + dt.timedelta(days=minute // 1440)
        minute %= 1440
        wall = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        fold = 1 if end else 0
        aware = wall.replace(tzinfo=self.zone, fold=fold)
        utc = aware.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) != wall:
            # inside a skipped hour: the clock jumps at the instant the pre-jump offset reaches its end
            before = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
            after = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
            lo, hi = min(before, after), max(before, after)
            # the jump is where the local reading stops going forward in step: search by minutes
            probe = lo
            while probe < hi and probe.astimezone(self.zone).utcoffset() == lo.astimezone(self.zone).utcoffset():
                probe += dt.timedelta(minutes=1)
            utc = probe
        return to_us(utc)

    def _build_year(self, year: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        day, stop = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        one = dt.timedelta(days=1)
        while day < stop:
            windows = self.weekly[day.weekday()]
            if windows and self.closed_reason(day) is None:
                for a, b in windows:
                    out.append((self._local_to_utc(day, a, end=False), self._local_to_utc(day, b, end=True)))
            day += one
        return out

    def _ensure(self, first_year: int, last_year: int) -> None:
        """Windows cover every local day of ``first_year`` .. ``last_year`` (rebuilt when the range grows)."""
        if self._years is not None and self._years[0] <= first_year and last_year <= self._years[1]:
            return
        if self._years is not None:
            first_year, last_year = min(first_year, self._years[0]), max(last_year, self._years[1])
        pairs: list[tuple[int, int]] = []
        for y in range(first_year, last_year + 1):
            pairs.extend(self._build_year(y))
        merged: list[list[int]] = []
        for a, b in sorted(pairs):
            if b <= a:
                continue
            if merged and a <= merged[-1][1]:  # windows that touch or overlap (24h days, a repeated hour)
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        arr = np.array(merged, dtype=np.int64).reshape(-1, 2)
        self._starts, self._ends = arr[:, 0].copy(), arr[:, 1].copy()
        lengths = self._ends - self._starts
        self._before = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(arr) else lengths
        self._years = (first_year, last_year)

    def _cover(self, lo_us: int, hi_us: int) -> None:
        # a local day may start the UTC day before or after: a spare day on each side
        lo = from_us(lo_us) - dt.timedelta(days=2)
        hi = from_us(hi_us) + dt.timedelta(days=2)
        self._ensure(lo.year, hi.year)

    def _worked(self, t: np.ndarray) -> np.ndarray:
        """Business microseconds from the first cached window up to each instant of ``t``."""
        if not len(self._starts):
            return np.zeros(len(t), np.int64)
        i = np.searchsorted(self._starts, t, side="right") - 1
        j = np.clip(i, 0, None)
        inside = np.clip(t - self._starts[j], 0, self._ends[j] - self._starts[j])
        return np.where(i < 0, 0, self._before[j] + inside)

    # -- vectors -----------------------------------------------------------------------------------------
    def durations_us(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Business microseconds from each ``a`` to each ``b`` (int64 microsecond vectors; 0 when ``b`` is not
        after ``a``)."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        if not len(a):
            return np.zeros(0, np.int64)
        self._cover(int(min(a.min(), b.min())), int(max(a.max(), b.max())))
        return np.maximum(self._worked(b) - self._worked(a), 0)

    def deadlines_us(self, a: np.ndarray, hours: float | np.ndarray) -> np.ndarray:
        """The instant ``hours`` business hours after each ``a`` (int64 microseconds). When the budget runs out
        exactly at a window's end, the deadline is that end (not the next window's start)."""
        a = np.asarray(a, np.int64)
        if not len(a):
            return np.zeros(0, np.int64)
        need = np.broadcast_to(np.round(np.asarray(hours, np.float64) * US_PER_HOUR).astype(np.int64), a.shape)
        if (need < 0).any():
            raise ValueError("business hours to add must be 0 or more")
        lo, hi = int(a.min()), int(a.max())
        span_us = 0
        for _ in range(_MAX_YEARS_AHEAD + 1):
            self._cover(lo, hi + span_us)
            total = self._before[-1] + (self._ends[-1] - self._starts[-1]) if len(self._starts) else 0
            target = self._worked(a) + need
            if len(self._starts) and (target <= total).all():
                ends_before = self._before + (self._ends - self._starts)
                k = np.searchsorted(ends_before, target, side="left")
                out = self._starts[k] + (target - self._before[k])
                # zero hours from a closed moment: the deadline is the moment itself, not the next opening
                return np.where(need == 0, a, np.maximum(out, a))
            span_us += 366 * 24 * US_PER_HOUR
        raise MarketopsError(f"the calendar of team '{self.name}' has no working time in the next "
                             f"{_MAX_YEARS_AHEAD} years: check its hours and closed days")

    # -- scalars -------------------------------------------------------------------------------------------
    def hours_between(self, start: dt.datetime, stop: dt.datetime) -> float:
        """Business hours from ``start`` to ``stop`` (0 when ``stop`` is not after ``start``)."""
        return float(self.durations_us(np.array([to_us(start)]), np.array([to_us(stop)]))[0]) / US_PER_HOUR

    def deadline(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The UTC instant ``hours`` business hours after ``start``."""
        return from_us(int(self.deadlines_us(np.array([to_us(start)]), hours)[0]))

    def next_working(self, moment: dt.datetime) -> dt.datetime:
        """The first working instant at or after ``moment`` (where the clock starts for a lead)."""
        t = to_us(moment)
        self._cover(t, t + 400 * 24 * US_PER_HOUR)
        i = int(np.searchsorted(self._ends, t, side="right"))
        if i >= len(self._starts):
            raise MarketopsError(f"the calendar of team '{self.name}' has no working time after {moment}")
        return from_us(max(t, int(self._starts[i])))

    # -- explanation ---------------------------------------------------------------------------------------
    def segments(self, start: dt.datetime, stop: dt.datetime, limit: int = 200) -> list[Segment]:
        """The working windows (or parts) counted from ``start`` to ``stop``, in local time."""
        a, b = to_us(start), to_us(stop)
        if b <= a:
            return []
        self._cover(a, b)
        i = max(int(np.searchsorted(self._ends, a, side="right")), 0)
        out: list[Segment] = []
        while i < len(self._starts) and self._starts[i] < b and len(out) < limit:
            s, e = max(int(self._starts[i]), a), min(int(self._ends[i]), b)
            if e > s:
                ls, le = from_us(s).astimezone(self.zone), from_us(e).astimezone(self.zone)
                out.append(Segment(ls.date(), ls.replace(tzinfo=None), le.replace(tzinfo=None), (e - s) / US_PER_HOUR))
            i += 1
        return out

    def closed_days(self, start: dt.datetime, stop: dt.datetime, limit: int = 60) -> list[ClosedDay]:
        """Local days from ``start`` to ``stop`` that had no working time, with the reason."""
        d0, d1 = self.local(start).date(), self.local(stop).date()
        out, day = [], d0
        while day <= d1 and len(out) < limit:
            reason = self.closed_reason(day)
            if reason:
                out.append(ClosedDay(day, reason))
            day += dt.timedelta(days=1)
        return out

    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (naive = UTC) in the calendar's zone (aware)."""
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def describe(self) -> list[str]:
        """The calendar in plain words, one line per fact (weekdays grouped when their hours match)."""
        lines = self.week_lines()
        lines.append(f"Time zone: {self.zone_name}")
        if self.team.holiday_country:
            sub = f" ({self.team.holiday_subdivision})" if self.team.holiday_subdivision else ""
            lines.append(f"Closed on the public holidays of {self.team.holiday_country}{sub}")
        if self.closed:
            lines.append("Also closed on " + ", ".join(d.isoformat() for d in sorted(self.closed)))
        return lines

    def week_lines(self) -> list[str]:
        """The working week in words: ["Mon-Fri: 09:00-13:00, 14:00-18:00", "Sat-Sun: closed"]."""
        lines = []
        for days, windows in _group_days(self.weekly):
            text = ", ".join(f"{_hm(a)}-{_hm(b)}" for a, b in windows)
            lines.append(f"{days}: {text}" if windows else f"{days}: closed")
        return lines

    def weekly_hours(self) -> float:
        """Working hours in a normal week."""
        return sum(b - a for day in self.weekly for a, b in day) / 60


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _group_days(weekly: list[list[tuple[int, int]]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Runs of consecutive weekdays with the same hours: ("Mon-Fri", [(540, 1020)])."""
    names = [d.capitalize() for d in WEEKDAYS]
    out: list[tuple[str, list[tuple[int, int]]]] = []
    i = 0
    while i < 7:
        j = i
        while j + 1 < 7 and weekly[j + 1] == weekly[i]:
            j += 1
        out.append((names[i] if i == j else f"{names[i]}-{names[j]}", weekly[i]))
        i = j + 1
    return out


def calendars(teams: Iterable[TeamCalendar], default_timezone: str = "UTC") -> dict[str, BusinessCalendar]:
    """One :class:`BusinessCalendar` per team, by lower-case name."""
    return {t.name.lower(): BusinessCalendar(t, default_timezone) for t in teams}
