"""Routing of new MQLs to owners: owners (weight, capacity, out-of-office, territories, segments),
ordered rules, account-owner match and the fallback (the ``leads.routing`` section of marketops.yaml).

A rule matches an MQL when every condition it lists holds (values of one condition are alternatives,
compared without case); the first matching rule picks the owner with its method among its pool.

Example:
    >>> cfg = RoutingConfig(owners=[{"name": "Ana", "email": "ana@acme.test", "territories": ["EMEA"]},
    ...                             {"name": "Bo", "email": "bo@acme.test", "weight": 2}],
    ...                     rules=[{"name": "EMEA", "when": {"region": ["emea"]}, "method": "territory",
    ...                             "owners": ["Ana", "Bo"]}])
    >>> [o.name for o in cfg.pool(cfg.rules[0])], cfg.region_of("it"), cfg.rules[0].when.region
    (['Ana', 'Bo'], 'EMEA', ['EMEA'])
    >>> try:
    ...     RoutingConfig(owners=[{"name": "Ana", "email": "a@x"}], rules=[{"name": "r", "owners": ["Anna"]}])
    ... except ValueError as e:
    ...     print(e.errors()[0]["msg"])
    Value error, rule 'r' names owner 'Anna' who is not in leads.routing.owners (did you mean 'Ana'?); valid: Ana
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import did_you_mean

METHODS = ("round_robin", "weighted", "territory", "segment")
#: Conditions a rule may list, each compared with the MQL's field of the same name (``region``: the
#: region of the MQL's country; ``score_group``: a scoring group in which the person is an MQL).
CONDITIONS = ("country", "region", "segment", "lead_source", "channel_group", "score_group")

#: Regions that need no configuration (two-letter country codes); ``leads.routing.regions`` adds or
#: replaces them.
DEFAULT_REGIONS: dict[str, list[str]] = {
    "EMEA": ["AD", "AE", "AT", "BE", "BG", "BH", "CH", "CY", "CZ", "DE", "DK", "DZ", "EE", "EG", "ES", "FI", "FR",
             "GB", "GR", "HR", "HU", "IE", "IL", "IS", "IT", "JO", "KE", "KW", "LB", "LI", "LT", "LU", "LV", "MA",
             "MC", "MT", "NG", "NL", "NO", "OM", "PL", "PT", "QA", "RO", "RS", "SA", "SE", "SI", "SK", "TN", "TR",
             "UA", "ZA"],
    "NA": ["US", "CA"],
    "LATAM": ["AR", "BO", "BR", "CL", "CO", "CR", "DO", "EC", "GT", "MX", "PA", "PE", "PY", "UY", "VE"],
    "APAC": ["AU", "BD", "CN", "HK", "ID", "IN", "JP", "KR", "MY", "NZ", "PH", "PK", "SG", "TH", "TW", "VN"],
}


def _names(v: object) -> list[str]:
    """A condition or list written as one value or a list, stripped, empties dropped."""
    if v is None:
        return []
    items = v if isinstance(v, list | tuple) else [v]
    return [str(x).strip() for x in items if str(x).strip()]


class OutOfOffice(BaseModel):
    """A period (both days included) in which an owner gets no new leads."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: dt.date = Field(alias="from", description="First day away (YYYY-MM-DD).")
    end: dt.date = Field(alias="to", description="Last day away (YYYY-MM-DD), included.")
    note: str = Field(default="", description="Why (shown in explanations), e.g. holiday.")

    @model_validator(mode="after")
    def _order(self) -> OutOfOffice:
        if self.end < self.start:
            raise ValueError(f"out_of_office ends ({self.end}) before it starts ({self.start}); "
                             "write from: the first day away, to: the last")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def words(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class Owner(BaseModel):
    """A person who can own leads: a sales rep (or SDR), with the team whose calendar and SLA apply."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The owner's name as the CRM shows it (matched to the `owner` columns).")
    email: str = Field(description="The owner's email (notices and escalations go there).")
    team: str = Field(default="sales", description="The owner's team: its working calendar and SLA apply.")
    weight: int = Field(default=1, description="Share in `weighted` rules: weight 3 gets three leads for each one "
                                               "of a weight-1 owner.")
    max_per_day: int | None = Field(
        default=None, description="Most new leads routed to this owner per day (the MQL's day in the workspace "
                                  "time zone); none: no limit.")
    max_total: int | None = Field(
        default=None, description="Most leads routed to this owner in all (reassigning one away frees a place); "
                                  "none: no limit.")
    out_of_office: list[OutOfOffice] = Field(
        default_factory=list, description="Periods away, e.g. [{from: 2026-12-01, to: 2026-12-10}]: MQLs of those "
                                          "days go to someone else.")
    territories: list[str] = Field(
        default_factory=list, description="Countries (two-letter codes) and regions (EMEA, NA, LATAM, APAC or "
                                          "`leads.routing.regions`) this owner covers in `territory` rules.")
    segments: list[str] = Field(default_factory=list,
                                description="Segments this owner covers in `segment` rules, e.g. [enterprise].")
    active: bool = Field(default=True, description="false: keeps the owner's past decisions but routes nothing new.")

    @field_validator("name", "email")
    @classmethod
    def _filled(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("an owner needs a name and an email, e.g. {name: Ana Rossi, email: ana@acme.test}")
        return v.strip()

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"weight must be a whole number of 1 or more (got {v}), e.g. 2")
        return v

    @field_validator("max_per_day", "max_total")
    @classmethod
    def _cap(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError(f"a capacity must be 0 or more leads (got {v}); leave it out for no limit")
        return v

    @field_validator("territories", "segments", mode="before")
    @classmethod
    def _list(cls, v: object) -> list[str]:
        return _names(v)

    @property
    def constrained(self) -> bool:
        """Whether availability can change from lead to lead (capacity or time away)."""
        return self.max_per_day is not None or self.max_total is not None or bool(self.out_of_office)

    def away_on(self, day: dt.date) -> OutOfOffice | None:
        return next((p for p in self.out_of_office if p.covers(day)), None)


class RuleConditions(BaseModel):
    """What a lead must match; each listed condition must hold, its values are alternatives."""

    model_config = ConfigDict(extra="forbid")

    country: list[str] = Field(default_factory=list, description="Two-letter country codes, e.g. [IT, ES].")
    region: list[str] = Field(default_factory=list, description="Regions of the lead's country, e.g. [EMEA].")
    segment: list[str] = Field(default_factory=list, description="The person's segment, e.g. [enterprise].")
    lead_source: list[str] = Field(default_factory=list, description="Lead sources, e.g. [webinar, demo request].")
    channel_group: list[str] = Field(default_factory=list, description="Channel groups, e.g. [Paid Search].")
    score_group: list[str] = Field(default_factory=list,
                                   description="Scoring groups in which the person is an MQL.")

    @field_validator("*", mode="before")
    @classmethod
    def _list(cls, v: object) -> list[str]:
        return _names(v)

    @field_validator("country", "region")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [x.upper() for x in v]

    def listed(self) -> list[tuple[str, list[str]]]:
        return [(c, getattr(self, c)) for c in CONDITIONS if getattr(self, c)]


class RoutingRule(BaseModel):
    """One routing rule: conditions, a method and a pool (owners by name and/or a whole team)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The rule's name, shown in every decision it makes, e.g. EMEA.")
    when: RuleConditions = Field(default_factory=RuleConditions,
                                 description="Conditions; none: the rule matches every lead (a catch-all).")
    method: Literal["round_robin", "weighted", "territory", "segment"] = Field(
        default="round_robin", description="round_robin (in turn), weighted (by owners' weight), territory (owners "
                                           "whose territories hold the lead's country or region, in turn) or "
                                           "segment (owners whose segments hold the lead's segment, in turn).")
    owners: list[str] = Field(default_factory=list, description="Owners of the pool, by name.")
    team: str | None = Field(default=None, description="Every owner of this team joins the pool.")

    @field_validator("name")
    @classmethod
    def _named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a routing rule needs a name, e.g. name: EMEA")
        return v.strip()

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, v: object) -> object:
        if isinstance(v, str):
            key = v.strip().lower().replace("-", "_").replace(" ", "_")
            if key not in METHODS:
                raise ValueError(f"unknown routing method '{v}'{did_you_mean(key, METHODS)}; "
                                 f"use one of {', '.join(METHODS)}")
            return key
        return v


class Fallback(BaseModel):
    """Where leads go when no rule matches or nobody in the rule's pool is available."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, description="Round-robin among this team's available owners.")
    queue: str = Field(default="unassigned", description="Name of the queue that holds the leads nobody can take.")


class RoutingConfig(BaseModel):
    """Routing of new MQLs to owners: rules, owners, capacity and out-of-office."""

    model_config = ConfigDict(extra="forbid")

    owners: list[Owner] = Field(default_factory=list, description="Everyone who can own leads.")
    auto: bool = Field(default=True, description="Route new MQLs after every successful pipeline run "
                                                 "(false: only with `marketops leads route`).")
    account_owner_match: bool = Field(
        default=True, description="A lead of an account whose owner is in `owners` goes to that owner first "
                                  "(when available).")
    rules: list[RoutingRule] = Field(default_factory=list,
                                     description="Ordered rules: the first whose conditions match routes the lead.")
    fallback: Fallback = Field(default_factory=Fallback,
                               description="Where leads go when no rule matches or nobody is available.")
    regions: dict[str, list[str]] = Field(
        default_factory=dict, description="Regions by name with their two-letter country codes, added to (or "
                                          "replacing) the built-in EMEA, NA, LATAM and APAC.")

    @field_validator("regions", mode="before")
    @classmethod
    def _regions(cls, v: object) -> object:
        if isinstance(v, dict):
            return {str(k).strip().upper(): [c.upper() for c in _names(c)] for k, c in v.items()}
        return v

    @model_validator(mode="after")
    def _whole(self) -> RoutingConfig:
        names = [o.name for o in self.owners]
        seen: set[str] = set()
        for o in self.owners:
            if o.name.lower() in seen:
                raise ValueError(f"owner '{o.name}' is listed twice in leads.routing.owners")
            seen.add(o.name.lower())
        teams = sorted({o.team for o in self.owners})
        regions = self.all_regions()
        rule_names: set[str] = set()
        for r in self.rules:
            if r.name.lower() in rule_names:
                raise ValueError(f"two routing rules are named '{r.name}'; give each rule its own name")
            rule_names.add(r.name.lower())
            for n in r.owners:
                if n.lower() not in seen:
                    raise ValueError(f"rule '{r.name}' names owner '{n}' who is not in leads.routing.owners"
                                     f"{did_you_mean(n, names)}; valid: {', '.join(names) or '(none)'}")
            if r.team is not None and r.team.lower() not in {t.lower() for t in teams}:
                raise ValueError(f"rule '{r.name}' names team '{r.team}' that no owner belongs to"
                                 f"{did_you_mean(r.team, teams)}; valid: {', '.join(teams) or '(none)'}")
            for reg in r.when.region:
                if reg not in regions:
                    raise ValueError(f"rule '{r.name}' names region '{reg}' that is not known"
                                     f"{did_you_mean(reg, regions)}; valid: {', '.join(sorted(regions))} "
                                     "(add more under leads.routing.regions)")
            if not self.pool(r):
                raise ValueError(f"rule '{r.name}' has no owners: list some under owners: or give a team:")
            if r.method == "territory" and not any(o.territories for o in self.pool(r)):
                raise ValueError(f"rule '{r.name}' routes by territory but nobody in its pool has territories")
            if r.method == "segment" and not any(o.segments for o in self.pool(r)):
                raise ValueError(f"rule '{r.name}' routes by segment but nobody in its pool has segments")
        for o in self.owners:
            for t in o.territories:
                if t.upper() not in regions and len(t) != 2:
                    raise ValueError(f"owner '{o.name}' has territory '{t}': use a two-letter country code or a "
                                     f"region{did_you_mean(t.upper(), regions)} ({', '.join(sorted(regions))})")
        if self.fallback.team is not None and self.fallback.team.lower() not in {t.lower() for t in teams}:
            raise ValueError(f"fallback team '{self.fallback.team}' has no owners{did_you_mean(self.fallback.team, teams)}"
                             f"; valid: {', '.join(teams) or '(none)'}")
        return self

    def all_regions(self) -> dict[str, list[str]]:
        return {**DEFAULT_REGIONS, **self.regions}

    def region_of(self, country: str | None) -> str | None:
        """The first region holding ``country`` (configured regions before the built-in ones)."""
        if not country:
            return None
        code = country.strip().upper()
        for name, members in [*self.regions.items(), *DEFAULT_REGIONS.items()]:
            if code in members:
                return name
        return None

    def owner(self, name: str) -> Owner | None:
        return next((o for o in self.owners if o.name.lower() == name.strip().lower()), None)

    def pool(self, rule: RoutingRule) -> list[Owner]:
        """The rule's owners (named ones first, then the team's), each once, in config order."""
        named = {n.lower() for n in rule.owners}
        team = rule.team.lower() if rule.team else None
        listed = [o for n in rule.owners for o in self.owners if o.name.lower() == n.lower()]
        return listed + [o for o in self.owners if team and o.team.lower() == team and o.name.lower() not in named]

    def active_pool(self, rule: RoutingRule) -> list[Owner]:
        """:meth:`pool` without the owners marked ``active: false``."""
        return [o for o in self.pool(rule) if o.active]

    def team_pool(self, team: str | None) -> list[Owner]:
        return [o for o in self.owners if team and o.team.lower() == team.lower() and o.active]
