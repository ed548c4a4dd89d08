"""Internal SLAs between teams: the ``slas:`` section of marketops.yaml (rules reviewed like code).

Two kinds of rule:

* a **volume rule** on a metric of the metrics layer: ``metric: mqls, at_least: 400, per: month``
  ("marketing delivers at least 400 MQLs a month to sales"), optionally within ``filters``;
* a **response rule** on time: ``response: {from_stage: mql, until: sales_activity, within_hours: 24,
  share: 0.9}`` ("sales follows up 90% of MQLs within 24 business hours"), measured in business hours
  of the section's working ``calendar`` in the workspace time zone (see :mod:`marketops.plan.sla_response`).

A rule naming an unknown metric, stage, period or dimension fails when marketops.yaml is loaded, with
the file, the line and "did you mean" (validators raise ValueError; the settings loader adds the place).

Example:
    >>> rule = SlaRule.model_validate({"name": "mql-volume", "from_team": "marketing", "to_team": "sales",
    ...                                "metric": "mqls", "at_least": 400, "per": "month"})
    >>> rule.kind, rule.threshold, rule.direction
    ('volume', 400.0, 'at_least')
    >>> try:
    ...     SlaRule.model_validate({"name": "x", "from_team": "a", "to_team": "b", "metric": "mqls",
    ...                             "at_least": 1, "per": "montly"})
    ... except ValueError as e:
    ...     print(e.errors()[0]["msg"])
    Value error, unknown period 'montly' (did you mean 'month'?); valid: month, quarter, week
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from marketops.errors import did_you_mean, known_name
from marketops.leads.calendar import BusinessCalendar
from marketops.leads.sla_config import WEEKDAYS, TeamCalendar
from marketops.lifecycle import STAGE_ALIASES, stage_key

#: Periods a rule is judged over.
PERIODS = ("week", "month", "quarter")
#: Funnel stages a response rule can start or stop at (CRM spellings such as "Marketing Qualified
#: Lead" are accepted and mean the same stage).
STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
#: ``until`` value meaning "the first outbound sales activity (call, email, meeting...)".
SALES_ACTIVITY = "sales_activity"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

#: The workspace's metric catalog while marketops.yaml is validated (set by the settings loader so
#: that a rule on a workspace metric validates; standalone validation knows the built-ins only).
metric_catalog: contextvars.ContextVar[Any] = contextvars.ContextVar("sla_metric_catalog", default=None)


def _catalog() -> Any:
    cat = metric_catalog.get()
    if cat is None:
        from marketops.metrics.definitions import Catalog, builtin_metrics

        cat = Catalog(builtin_metrics())
    return cat


def canonical_stage(value: str) -> str:
    """The funnel stage ``value`` names (any CRM spelling); ValueError with "did you mean" otherwise.

    >>> canonical_stage("Marketing Qualified Lead"), canonical_stage("sql")
    ('mql', 'sql')
    """
    key = stage_key(value)
    stage = STAGE_ALIASES.get(key, key)
    if stage not in STAGES:
        raise ValueError(f"unknown stage '{value}'{did_you_mean(key, STAGES)}; valid: {', '.join(STAGES)}")
    return stage


class WorkingCalendar(BaseModel):
    """When the clock of response rules runs: working days and hours in the workspace time zone."""

    model_config = ConfigDict(extra="forbid")

    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"],
                            description="Working days: mon, tue, wed, thu, fri, sat, sun.")
    start: str = Field(default="09:00", description="Start of the working day, HH:MM (24-hour clock).")
    end: str = Field(default="17:00", description="End of the working day, HH:MM; after `start`.")
    holidays: list[dt.date] = Field(default_factory=list,
                                    description="Days off (YYYY-MM-DD): the clock does not run on them.")

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        full = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
                "saturday": "sat", "sunday": "sun"}
        out = [known_name("working day", full.get(str(d).strip().lower(), str(d).strip().lower()), WEEKDAYS)
               for d in v]
        if not out:
            raise ValueError("a working calendar needs at least one working day, e.g. [mon, tue, wed, thu, fri]")
        return sorted(set(out), key=WEEKDAYS.index)

    @field_validator("start", "end")
    @classmethod
    def _time(cls, v: str) -> str:
        m = _TIME.match(str(v).strip())
        if not m:
            raise ValueError(f"'{v}' is not a time of day; write HH:MM, e.g. 09:00")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @model_validator(mode="after")
    def _order(self) -> WorkingCalendar:
        if self.end <= self.start:
            raise ValueError(f"the working day must end after it starts (start {self.start}, end {self.end})")
        return self

    def words(self) -> str:
        """The calendar in words, e.g. ``Mon-Fri 09:00-17:00``.

        >>> WorkingCalendar().words(), WorkingCalendar(days=["mon", "wed"]).words()
        ('Mon-Fri 09:00-17:00', 'Mon, Wed 09:00-17:00')
        """
        idx = [WEEKDAYS.index(d) for d in self.days]
        if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
            days = f"{self.days[0].title()}-{self.days[-1].title()}"
        else:
            days = ", ".join(d.title() for d in self.days)
        return f"{days} {self.start}-{self.end}"

    def business(self, timezone: str) -> BusinessCalendar:
        """The calendar ready to measure business hours in ``timezone`` (the speed-to-lead SLA's own
        calendar, so both SLAs count hours, daylight-saving changes and days off the same way).

        >>> cal = WorkingCalendar(start="09:00", end="17:00").business("UTC")
        >>> cal.hours_between(dt.datetime(2026, 3, 6, 16), dt.datetime(2026, 3, 9, 10))  # Fri 1h + Mon 1h
        2.0
        """
        hours = {d: f"{self.start}-{self.end}" for d in self.days}
        return BusinessCalendar(TeamCalendar(name="slas", timezone=timezone, hours=hours, closed=self.holidays),
                                timezone)


class ResponseRule(BaseModel):
    """A time rule: from a lifecycle stage to the next step, within business hours, for a share of people."""

    model_config = ConfigDict(extra="forbid")

    from_stage: str = Field(description="The lifecycle stage that starts the clock (e.g. mql): each time a person "
                            "enters it.")
    until: str = Field(default=SALES_ACTIVITY,
                       description="What stops the clock: `sales_activity` (the first outbound call, email, meeting... "
                       "logged in sales_activities at or after the start) or a later lifecycle stage (e.g. sql).")
    within_hours: float = Field(gt=0, description="Business hours allowed between the start and the stop.")
    share: float = Field(default=0.9, gt=0, le=1,
                         description="Share of people (0-1) that must be answered in time in each period, e.g. 0.9.")

    @field_validator("from_stage")
    @classmethod
    def _stage(cls, v: str) -> str:
        return canonical_stage(v)

    @field_validator("until")
    @classmethod
    def _until(cls, v: str) -> str:
        if stage_key(v).replace(" ", "_") == SALES_ACTIVITY:
            return SALES_ACTIVITY
        try:
            return canonical_stage(v)
        except ValueError:
            valid = (SALES_ACTIVITY, *STAGES)
            raise ValueError(f"unknown stop '{v}'{did_you_mean(stage_key(v), valid)}; valid: "
                             f"{', '.join(valid)}") from None

    @model_validator(mode="after")
    def _later(self) -> ResponseRule:
        if self.until == self.from_stage:
            raise ValueError(f"the clock cannot start and stop at the same stage ('{self.from_stage}')")
        return self


class SlaRule(BaseModel):
    """One internal SLA: which team owes what to which team, and the rule that measures it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="Short unique name (letters, digits, `_.-`), used in URLs and the CLI.")
    from_team: str = Field(min_length=1, description="The team that owes the service (e.g. marketing).")
    to_team: str = Field(min_length=1, description="The team that receives it (e.g. sales).")
    description: str = Field(default="", description="The agreement in the teams' own words.")
    owner: str | None = Field(default=None, description="Email of the person who answers for the SLA; breach "
                              "alerts name them (and reach them with `only_own`).")
    per: str = Field(default="month", description="The period each measurement covers: week, month or quarter.")
    metric: str | None = Field(default=None, description="Volume rule: a metric of the metrics layer (e.g. mqls).")
    at_least: float | None = Field(default=None, description="Volume rule: the metric must reach at least this "
                                   "per period.")
    at_most: float | None = Field(default=None, description="Volume rule: the metric must stay at or below this "
                                  "per period.")
    filters: dict[str, str] = Field(default_factory=dict, description="Volume rule: scope as dimension: value, "
                                    "e.g. {channel: Email} (dimensions the metric allows).")
    response: ResponseRule | None = Field(default=None, description="Response rule: from_stage, until, "
                                          "within_hours, share.")

    @field_validator("per")
    @classmethod
    def _period(cls, v: str) -> str:
        return known_name("period", str(v).strip().lower(), PERIODS)

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is None:
            return v
        return known_name("metric", v, _catalog())

    @field_validator("filters")
    @classmethod
    def _filters(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        metric = info.data.get("metric")
        if not v or not metric:
            return v
        allowed = _catalog().dimensions(metric)
        for dim in v:
            if dim not in allowed:
                raise ValueError(f"metric '{metric}' cannot be scoped by '{dim}'{did_you_mean(dim, allowed)}; "
                                 f"valid: {', '.join(sorted(allowed))}")
        return {k: str(x) for k, x in v.items()}

    @model_validator(mode="after")
    def _one_rule(self) -> SlaRule:
        if self.response is not None:
            if self.metric or self.at_least is not None or self.at_most is not None or self.filters:
                raise ValueError(f"SLA '{self.name}' has a response rule: it takes no metric, at_least, at_most "
                                 "or filters")
            return self
        if not self.metric:
            raise ValueError(f"SLA '{self.name}' needs a rule: a metric with at_least or at_most, or a response "
                             "(from_stage, within_hours)")
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError(f"SLA '{self.name}' needs exactly one of at_least or at_most for metric "
                             f"'{self.metric}'")
        return self

    @property
    def kind(self) -> str:
        """``volume`` (a metric per period) or ``response`` (a time rule)."""
        return "response" if self.response is not None else "volume"

    @property
    def direction(self) -> str:
        """``at_least`` or ``at_most`` (a response rule's share is an at-least)."""
        return "at_most" if self.at_most is not None else "at_least"

    @property
    def threshold(self) -> float:
        """The number each period is judged against (the share, for a response rule)."""
        if self.response is not None:
            return float(self.response.share)
        return float(self.at_least if self.at_least is not None else self.at_most)


class SlaConfig(BaseModel):
    """The ``slas:`` section: the working calendar and the rules."""

    model_config = ConfigDict(extra="forbid")

    calendar: WorkingCalendar = Field(default_factory=WorkingCalendar,
                                      description="Working days and hours for response rules (workspace time zone).")
    rules: list[SlaRule] = Field(default_factory=list, description="The SLAs (see docs/slas-and-alerts.md).")

    @model_validator(mode="after")
    def _unique(self) -> SlaConfig:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"SLA names must be unique; repeated: {', '.join(dup)}")
        return self

    def rule(self, name: str) -> SlaRule:
        """The rule called ``name`` (NotFound with "did you mean" otherwise).

        >>> SlaConfig().rule("mql-volume")
        Traceback (most recent call last):
        ...
        marketops.errors.NotFound: no SLA 'mql-volume': marketops.yaml defines no SLAs (add them under slas: rules:)
        """
        from marketops.errors import NotFound, unknown_name

        if not self.rules:
            raise NotFound(f"no SLA '{name}': marketops.yaml defines no SLAs (add them under slas: rules:)")

        for r in self.rules:
            if r.name == name:
                return r
        raise unknown_name("SLA", name, [r.name for r in self.rules])
