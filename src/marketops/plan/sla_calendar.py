"""Business hours: how much working time passes between two moments on a simple working calendar
(working days, one working window per day, holidays) in the workspace time zone.

Timestamps without a zone are read as UTC (the warehouse keeps UTC); both ends are converted to the
calendar's zone, and only the part of each working day between ``start`` and ``end`` counts.

Example:
    >>> import datetime as dt
    >>> from marketops.plan.sla_config import WorkingCalendar
    >>> cal = Calendar.of(WorkingCalendar(start="09:00", end="17:00"), "UTC")
    >>> friday_4pm, monday_10am = dt.datetime(2026, 3, 6, 16), dt.datetime(2026, 3, 9, 10)
    >>> cal.hours_between(friday_4pm, monday_10am)  # 1 hour on Friday, 1 on Monday
    2.0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from marketops.plan.sla_config import WEEKDAYS, WorkingCalendar


def _clock(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


@dataclass(frozen=True)
class Calendar:
    """A working calendar ready to measure: weekday numbers (Mon = 0), the daily window, holidays, zone."""

    days: frozenset[int]
    start: dt.time
    end: dt.time
    holidays: frozenset[dt.date]
    zone: ZoneInfo

    @classmethod
    def of(cls, config: WorkingCalendar, timezone: str) -> Calendar:
        """The calendar of the ``slas.calendar`` settings in the workspace's ``timezone``."""
        return cls(frozenset(WEEKDAYS.index(d) for d in config.days), _clock(config.start), _clock(config.end),
                   frozenset(config.holidays), ZoneInfo(timezone))

    @property
    def day_hours(self) -> float:
        """Working hours in one working day."""
        return _hours(self.start, self.end)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` as a naive wall-clock time of the calendar's zone (naive input is UTC)."""
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(self.zone).replace(tzinfo=None)

    def hours_between(self, start: dt.datetime, stop: dt.datetime) -> float:
        """Working hours from ``start`` to ``stop`` (0 when ``stop`` is not after ``start``).

        >>> from marketops.plan.sla_config import WorkingCalendar
        >>> cal = Calendar.of(WorkingCalendar(), "Europe/Rome")
        >>> cal.hours_between(dt.datetime(2026, 3, 9, 7, 30), dt.datetime(2026, 3, 9, 9, 0))  # 08:30-10:00 in Rome
        1.0
        """
        a, b = self.local(start), self.local(stop)
        if b <= a:
            return 0.0
        if a.date() == b.date():
            return round(self._part(a.date(), a.time(), b.time()), 6)
        first = self._part(a.date(), a.time(), dt.time.max)
        last = self._part(b.date(), dt.time.min, b.time())
        middle = self._working_days(a.date() + dt.timedelta(days=1), b.date()) * self.day_hours
        return round(first + middle + last, 6)

    def _part(self, day: dt.date, since: dt.time, until: dt.time) -> float:
        if not self.is_working_day(day):
            return 0.0
        lo, hi = max(since, self.start), min(until, self.end)
        return _hours(lo, hi) if hi > lo else 0.0

    def _working_days(self, first: dt.date, stop: dt.date) -> int:
        """Working days in ``first`` .. ``stop`` (``stop`` excluded), without walking every day."""
        n = (stop - first).days
        if n <= 0:
            return 0
        weeks, rest = divmod(n, 7)
        count = weeks * len(self.days) + sum(1 for i in range(rest) if (first.weekday() + i) % 7 in self.days)
        return count - sum(1 for h in self.holidays if first <= h < stop and h.weekday() in self.days)


def _hours(a: dt.time, b: dt.time) -> float:
    seconds = (b.hour - a.hour) * 3600 + (b.minute - a.minute) * 60 + (b.second - a.second) \
        + (b.microsecond - a.microsecond) / 1e6
    return seconds / 3600
