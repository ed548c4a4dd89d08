"""The speed-to-lead SLA: working calendars per team and response targets (the ``leads:`` section of
marketops.yaml).

A team's calendar says when its clock runs: a time zone, working hours per weekday (one or more
windows, e.g. ``09:00-13:00, 14:00-18:00``), the public holidays of a country (the ``holidays``
package) and extra closed days. The SLA target is counted in those business hours.

Example:
    >>> cfg = SpeedToLeadConfig(teams=[{"name": "sales", "timezone": "Europe/Rome", "holiday_country": "IT",
    ...                                 "hours": {"mon": "09:00-13:00, 14:00-18:00"}}])
    >>> team = cfg.team("sales")
    >>> team.windows()[0], cfg.target_for(team), cfg.near_breach_for(team)
    ([(540, 780), (840, 1080)], 24.0, 0.75)
    >>> try:
    ...     SpeedToLeadConfig(teams=[{"name": "x", "hours": {"mon": ""}}])
    ... except ValueError as e:
    ...     print(e.errors()[0]["msg"])
    Value error, team 'x' has no working hours: give at least one weekday a window, e.g. mon: 09:00-17:00
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import did_you_mean

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: key for key in WEEKDAYS for name in
              (key, {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
                     "sat": "saturday", "sun": "sunday"}[key])}
#: The working week of a team that does not say otherwise: Monday to Friday, 09:00-17:00.
DEFAULT_HOURS: dict[str, str] = {d: "09:00-17:00" for d in WEEKDAYS[:5]}
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_windows(text: str | list[str] | None) -> list[tuple[int, int]]:
    """Working windows of one day as (start, end) minutes after midnight, sorted; ``24:00`` ends a day.

    >>> parse_windows("14:00-18:00, 09:00-13:00")
    [(540, 780), (840, 1080)]
    >>> parse_windows(["00:00-24:00"]), parse_windows(""), parse_windows(None)
    ([(0, 1440)], [], [])
    >>> parse_windows("18:00-09:00")
    Traceback (most recent call last):
    ...
    ValueError: working window '18:00-09:00' ends before it starts; write it as HH:MM-HH:MM with the end later, e.g. 09:00-17:00
    """
    if text is None:
        return []
    parts = [p for chunk in ([text] if isinstance(text, str) else text) for p in str(chunk).split(",")]
    out: list[tuple[int, int]] = []
    for part in parts:
        if not part.strip():
            continue
        m = _WINDOW.match(part)
        if not m:
            raise ValueError(f"'{part.strip()}' is not a working window; write HH:MM-HH:MM, e.g. 09:00-13:00")
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"'{part.strip()}' has a time that does not exist; use 00:00 to 24:00")
        a, b = h1 * 60 + m1, h2 * 60 + m2
        if b <= a:
            raise ValueError(f"working window '{part.strip()}' ends before it starts; write it as HH:MM-HH:MM "
                             "with the end later, e.g. 09:00-17:00")
        out.append((a, b))
    out.sort()
    for (a1, b1), (a2, b2) in itertools.pairwise(out):
        if a2 < b1:
            raise ValueError(f"working windows {_hm(a1)}-{_hm(b1)} and {_hm(a2)}-{_hm(b2)} overlap")
    return out


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def supported_holiday_countries() -> dict[str, list[str]]:
    """Country codes the ``holidays`` package knows, each with its subdivisions."""
    import holidays

    return {k: list(v) for k, v in holidays.list_supported_countries().items()}


class TeamCalendar(BaseModel):
    """One team's working calendar, SLA target and escalation address."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The team's name, as the `team` of `leads.routing.owners` spells it.")
    timezone: str | None = Field(
        default=None, description="IANA time zone of the team's working hours, e.g. Europe/Rome "
                                  "(default: the workspace `timezone`).")
    hours: dict[str, str | list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_HOURS),
        description="Working hours per weekday (mon..sun): one or more windows, e.g. `09:00-13:00, 14:00-18:00`; "
                    "a day left out (or empty) is closed. Default: Monday to Friday 09:00-17:00.")
    holiday_country: str | None = Field(
        default=None, description="Two-letter country code whose public holidays close the team (the "
                                  "`holidays` package), e.g. IT, US, GB; none: no public holidays.")
    holiday_subdivision: str | None = Field(
        default=None, description="A subdivision (state, region) of `holiday_country` whose holidays also "
                                  "apply, e.g. NY for New York, BY for Bavaria.")
    closed: list[dt.date] = Field(default_factory=list,
                                  description="Extra closed days (YYYY-MM-DD), e.g. a company offsite.")
    target_hours: float | None = Field(
        default=None, description="First sales touch within this many business hours of the MQL "
                                  "(default: `leads.sla.target_hours`).")
    near_breach: float | None = Field(
        default=None, description="Share of the target (0-1) after which an untouched MQL is near breach "
                                  "(default: `leads.sla.near_breach`).")
    escalate_to: str | None = Field(
        default=None, description="Email that also gets a notice when an MQL of this team breaches the SLA "
                                  "(a team lead or sales manager).")

    @field_validator("name")
    @classmethod
    def _named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a team needs a name, e.g. name: sales")
        return v.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}'; use an IANA name such as Europe/Rome, "
                             "America/New_York or UTC") from None
        return v

    @field_validator("hours", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            # a ValueError (not TypeError): pydantic turns it into a config error with file and line
            raise ValueError("hours maps weekdays to working windows, e.g. {mon: '09:00-17:00', tue: '09:00-17:00'}")  # noqa: TRY004
        out = {}
        for day, windows in v.items():
            key = _DAY_NAMES.get(str(day).strip().lower())
            if key is None:
                raise ValueError(f"unknown weekday '{day}'{did_you_mean(str(day).lower(), _DAY_NAMES)}; "
                                 f"use {', '.join(WEEKDAYS)}")
            parse_windows(windows)
            out[key] = "" if windows is None else windows
        return out

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return v
        code = v.strip().upper()
        known = supported_holiday_countries()
        if code not in known:
            raise ValueError(f"no public holidays are known for country '{v}'{did_you_mean(code, known)}; "
                             "use a two-letter code such as IT, US, GB, DE, FR")
        return code

    @field_validator("target_hours")
    @classmethod
    def _target(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError(f"target_hours must be more than 0 business hours (got {v:g}), e.g. 24")
        return v

    @field_validator("near_breach")
    @classmethod
    def _near(cls, v: float | None) -> float | None:
        if v is not None and not 0 < v < 1:
            raise ValueError(f"near_breach is a share of the target between 0 and 1 (got {v:g}), e.g. 0.75")
        return v

    @model_validator(mode="after")
    def _whole(self) -> TeamCalendar:
        if not any(self.windows()):
            raise ValueError(f"team '{self.name}' has no working hours: give at least one weekday a window, "
                             "e.g. mon: 09:00-17:00")
        if self.holiday_subdivision is not None:
            if self.holiday_country is None:
                raise ValueError(f"team '{self.name}': holiday_subdivision needs a holiday_country")
            subs = supported_holiday_countries()[self.holiday_country]
            sub = self.holiday_subdivision.strip().upper()
            if sub not in subs:
                raise ValueError(f"country {self.holiday_country} has no subdivision '{self.holiday_subdivision}'"
                                 f"{did_you_mean(sub, subs)}; valid: {', '.join(subs[:40])}"
                                 + (" ..." if len(subs) > 40 else ""))
            self.holiday_subdivision = sub
        return self

    def windows(self) -> list[list[tuple[int, int]]]:
        """Working windows (minutes after midnight) of each weekday, Monday first."""
        return [parse_windows(self.hours.get(d)) for d in WEEKDAYS]


class SpeedToLeadConfig(BaseModel):
    """The speed-to-lead SLA: working calendars per team and response targets."""

    model_config = ConfigDict(extra="forbid")

    target_hours: float = Field(
        default=24.0, description="First sales touch within this many business hours of becoming an MQL "
                                  "(each team may set its own).")
    near_breach: float = Field(
        default=0.75, description="Share of the target (0-1) after which an untouched MQL is near breach.")
    teams: list[TeamCalendar] = Field(
        default_factory=list, description="Working calendar, target and escalation address of each team. "
                                          "With none, everyone works Monday to Friday 09:00-17:00 in the "
                                          "workspace time zone.")
    default_team: str | None = Field(
        default=None, description="Team whose calendar applies to MQLs whose owner is not in "
                                  "`leads.routing.owners` (default: the first team).")
    touch_types: list[str] = Field(
        default_factory=list, description="Sales activity types that count as a first touch, e.g. "
                                          "[call, email, meeting] (default: every type).")
    alert_days: int = Field(
        default=14, description="Only MQLs of the last this many days raise breach and near-breach notices.")

    @field_validator("target_hours")
    @classmethod
    def _target(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(f"target_hours must be more than 0 business hours (got {v:g}), e.g. 24")
        return v

    @field_validator("near_breach")
    @classmethod
    def _near(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(f"near_breach is a share of the target between 0 and 1 (got {v:g}), e.g. 0.75")
        return v

    @field_validator("alert_days")
    @classmethod
    def _days(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"alert_days must be 1 or more (got {v})")
        return v

    @field_validator("touch_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return [t.strip().lower() for t in v if t.strip()]

    @model_validator(mode="after")
    def _teams(self) -> SpeedToLeadConfig:
        seen: set[str] = set()
        for t in self.teams:
            if t.name.lower() in seen:
                raise ValueError(f"team '{t.name}' is listed twice in leads.sla.teams; give each team one calendar")
            seen.add(t.name.lower())
        if self.default_team is not None and self.default_team.lower() not in seen:
            names = [t.name for t in self.teams]
            raise ValueError(f"default_team '{self.default_team}' is not among leads.sla.teams"
                             f"{did_you_mean(self.default_team, names)}; valid: {', '.join(names) or '(none)'}")
        return self

    def team(self, name: str | None) -> TeamCalendar:
        """The calendar of team ``name`` (case-insensitive), else the default team's, else Mon-Fri 9-17."""
        by = {t.name.lower(): t for t in self.teams}
        if name and name.strip().lower() in by:
            return by[name.strip().lower()]
        if self.default_team:
            return by[self.default_team.lower()]
        return self.teams[0] if self.teams else TeamCalendar(name=name.strip() if name and name.strip() else "sales")

    def target_for(self, team: TeamCalendar) -> float:
        return float(team.target_hours if team.target_hours is not None else self.target_hours)

    def near_breach_for(self, team: TeamCalendar) -> float:
        return float(team.near_breach if team.near_breach is not None else self.near_breach)
