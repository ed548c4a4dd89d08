"""Scorecard metrics and the thresholds that warn about them or fail a run (``quality:`` in marketops.yaml).

A threshold names a table, optionally a source system and a column, a metric, a ``min`` and/or a
``max``, and what to do when a value falls outside: ``warn`` (the run is published, the breach is
reported) or ``fail`` (the run fails and nothing is published). A threshold without ``source``
applies to every source of the table; one without ``column`` applies to every column the metric
is measured on.

This module only needs pydantic, so ``settings.py`` can use :class:`QualityConfig` without
loading the engines.

Example:
    >>> cfg = QualityConfig.model_validate({"thresholds": [
    ...     {"table": "people", "column": "email", "metric": "completeness", "min": 0.9, "action": "fail"}]})
    >>> cfg.thresholds[0].describe()
    'people / every source / email: completeness at least 90%'
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import did_you_mean, known_name
from marketops.schema import ENTITIES

if TYPE_CHECKING:
    from marketops.quality.scorecard import Scorecard, ScoreRow


@dataclass(frozen=True)
class Metric:
    """What a scorecard metric measures: per ``column`` or per ``source``; a ``rate`` (0-1), ``hours``
    or a ``count``."""

    name: str
    level: Literal["column", "source"]
    unit: Literal["rate", "hours", "count"]
    description: str


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("rows", "source", "count", "Records of the source in the run's table."),
    Metric("completeness", "column", "rate",
           "Share of records with a non-empty value, as loaded (before normalisation)."),
    Metric("validity", "column", "rate",
           "Of the non-empty values, the share the normaliser accepted (normalised columns only)."),
    Metric("consistency", "column", "rate",
           "Of the non-empty values, the share already written in the clean form (normalised columns only)."),
    Metric("uniqueness", "column", "rate",
           "1 - share of non-empty values that occur on more than one record of the same source "
           "(identifiers: email, phone, record_id, domain)."),
    Metric("role_address_rate", "column", "rate",
           "Share of accepted emails that are role addresses (info@, sales@)."),
    Metric("disposable_rate", "column", "rate", "Share of accepted emails at disposable-address domains."),
    Metric("identifier_coverage", "source", "rate",
           "People only: share of records carrying an email, a phone or a record id (anything to match on)."),
    Metric("freshness_hours", "source", "hours",
           "Hours from the source's newest updated_at / created_at / occurred_at / date value to the run."),
    Metric("hours_since_load", "source", "hours", "Hours from the source's last file load to the run."),
    Metric("quarantine_rate", "source", "rate",
           "Share of the rows of the source's files (latest version of each) that went to quarantine."),
    Metric("duplicate_rate", "source", "rate",
           "People only, once identities are resolved: 1 - distinct persons / records of the source."),
    Metric("utm_compliance", "source", "rate",
           "Touchpoints only: share of the tagged touchpoints whose UTM values follow the `utm:` taxonomy "
           "(docs/utm.md); n/a without a taxonomy."),
)}

Action = Literal["warn", "fail"]


class QualityThreshold(BaseModel):
    """One rule: ``metric`` of ``table`` (a ``source``, a ``column``) must stay within ``min`` .. ``max``.

    Example:
        >>> QualityThreshold(table="people", metric="freshness_hours", max=48).describe()
        'people / every source: freshness_hours at most 48 h'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="Canonical table the rule is about (people, accounts, touchpoints...).")
    source: str | None = Field(
        default=None,
        description="Source system (hubspot, salesforce...); default: every source of the table.")
    column: str | None = Field(
        default=None,
        description="Column for per-column metrics; default: every column the metric is measured on.")
    metric: str = Field(description="Metric: " + ", ".join(METRICS) + ".")
    min: float | None = Field(
        default=None, description="Lowest acceptable value (rates are shares: 0.95 is 95%).")
    max: float | None = Field(
        default=None, description="Highest acceptable value (hours for freshness metrics).")
    action: Action = Field(default="warn", description="warn: report and publish; fail: fail the run.")
    description: str | None = Field(default=None, description="Why the rule exists; shown beside a breach.")

    @field_validator("table")
    @classmethod
    def _known_table(cls, v: str) -> str:
        return known_name("table", v, ENTITIES)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        return known_name("metric", v, METRICS)

    @model_validator(mode="after")
    def _coherent(self) -> QualityThreshold:
        metric = METRICS[self.metric]
        if self.column is not None:
            if metric.level == "source":
                raise ValueError(f"{self.metric} is measured per source, not per column: "
                                 f"remove column '{self.column}'")
            columns = ENTITIES[self.table].column_names
            if self.column not in columns:
                raise ValueError(f"unknown column '{self.column}' of {self.table}"
                                 f"{did_you_mean(self.column, columns)}; valid: {', '.join(columns)}")
        if self.min is None and self.max is None:
            raise ValueError(f"the {self.metric} rule for {self.table} needs a min, a max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        if metric.unit == "rate":
            for bound in (self.min, self.max):
                if bound is not None and not 0 <= bound <= 1:
                    raise ValueError(f"{self.metric} is a share between 0 and 1 (write 95% as 0.95), "
                                     f"not {bound:g}")
        return self

    def describe(self) -> str:
        """The rule in words."""
        where = " / ".join([self.table, self.source or "every source", *filter(None, [self.column])])
        bounds = []
        if self.min is not None:
            bounds.append(f"at least {format_value(self.metric, self.min)}")
        if self.max is not None:
            bounds.append(f"at most {format_value(self.metric, self.max)}")
        return f"{where}: {self.metric} {' and '.join(bounds)}"

    def applies_to(self, row: ScoreRow) -> bool:
        """True when ``row`` is one this rule judges (per-file quarantine rows are details, not judged)."""
        return (row.table == self.table and row.metric == self.metric and row.file is None
                and (self.source is None or row.source == self.source)
                and (self.column is None or row.column == self.column))


class QualityConfig(BaseModel):
    """The ``quality:`` section of marketops.yaml.

    Example:
        >>> QualityConfig().thresholds
        []
    """

    model_config = ConfigDict(extra="forbid")

    thresholds: list[QualityThreshold] = Field(
        default_factory=list,
        description="Rules on scorecard metrics; a breach warns or fails the run (see docs/quality.md).")
    placeholder_share: float = Field(
        default=0.1, ge=0, le=1,
        description="Report a finding when at least this share of a column's values are placeholders "
                    "('n/a', 'test', '-').")


def format_value(metric: str, value: float | None) -> str:
    """A metric's value as people read it: rates in %, hours with 'h', counts with separators.

    >>> format_value("completeness", 0.9234), format_value("freshness_hours", 50.25)
    ('92.3%', '50.2 h')
    >>> format_value("rows", 1200)
    '1,200'
    >>> format_value("freshness_hours", 960)
    '40 days'
    """
    if value is None:
        return "n/a"
    unit = METRICS[metric].unit if metric in METRICS else "rate"
    if unit == "rate":
        # rounding must not hide the last bad record (a breach of "min: 1" shown as "100%")
        if 0.999 < value < 1:
            return ">99.9%"
        if 0 < value < 0.001:
            return "<0.1%"
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if unit == "hours":
        # beyond three days, hours stop being readable: "40 days" says more than "960.0 h"
        if abs(value) >= 72:
            return f"{value / 24:,.0f} days"
        return f"{value:,.1f} h".replace(".0 h", " h")
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Breach:
    """A scorecard value outside a threshold, with a message naming where, the value and the limit."""

    action: Action
    table: str
    source: str | None
    column: str | None
    metric: str
    value: float | None
    min: float | None
    max: float | None
    message: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Breach:
        return cls(**d)


def evaluate(scorecard: Scorecard, config: QualityConfig) -> list[Breach]:
    """Check every threshold of ``config`` against ``scorecard``: the breaches, failures first.

    A value that cannot be measured (no non-empty values to judge) breaches nothing. A threshold
    naming a source that sent nothing to its table in this run is itself a breach: a feed that
    stops is a quality problem.

    Example:
        >>> from marketops.quality.scorecard import Scorecard, ScoreRow
        >>> card = Scorecard("r1", rows=[ScoreRow("people", "crm", "email", "completeness", 0.5, 5, 10)])
        >>> cfg = QualityConfig(thresholds=[QualityThreshold(table="people", column="email",
        ...                                                  metric="completeness", min=0.9, action="fail")])
        >>> print(evaluate(card, cfg)[0].message)
        people / crm / email: completeness is 50% (5 of 10), below the minimum 90%
    """
    breaches: list[Breach] = []
    sources: dict[str, set[str]] = {}
    for row in scorecard.rows:
        sources.setdefault(row.table, set()).add(row.source)
    for rule in config.thresholds:
        if rule.source is not None and rule.table in sources and rule.source not in sources[rule.table]:
            known = sorted(sources[rule.table])
            close = difflib.get_close_matches(rule.source, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; sources this run: {', '.join(known)}"
            message = (f"{rule.table} / {rule.source}: no records from this source in this run, "
                       f"so {rule.metric} cannot be checked{hint}")
            breaches.append(Breach(rule.action, rule.table, rule.source, rule.column, rule.metric, None,
                                   rule.min, rule.max, message))
            continue
        for row in scorecard.rows:
            if not rule.applies_to(row) or row.value is None:
                continue
            low = rule.min is not None and row.value < rule.min
            high = rule.max is not None and row.value > rule.max
            if not (low or high):
                continue
            where = " / ".join([row.table, row.source, *filter(None, [row.column])])
            counted = f" ({row.n:,} of {row.total:,})" if row.total is not None and row.n is not None else ""
            limit = (f"below the minimum {format_value(rule.metric, rule.min)}" if low
                     else f"above the maximum {format_value(rule.metric, rule.max)}")
            why = f"; {rule.description}" if rule.description else ""
            message = f"{where}: {row.metric} is {format_value(row.metric, row.value)}{counted}, {limit}{why}"
            breaches.append(Breach(rule.action, row.table, row.source, row.column, row.metric, row.value,
                                   rule.min, rule.max, message))
    return sorted(breaches, key=lambda b: b.action != "fail")


def verdicts(scorecard: Scorecard, config: QualityConfig) -> dict[tuple, str]:
    """(table, source, column, metric) -> ``fail`` / ``warn`` / ``pass`` for every cell a threshold
    judges (``scorecard.breaches`` evaluated already); cells no threshold looks at are absent.
    The CLI colours its grid with it and the web page its cells."""
    out: dict[tuple, str] = {}
    for row in scorecard.rows:
        if row.value is not None and any(rule.applies_to(row) for rule in config.thresholds):
            out[(row.table, row.source, row.column, row.metric)] = "pass"
    for b in scorecard.breaches:
        key = (b.table, b.source, b.column, b.metric)
        if out.get(key) != "fail":
            out[key] = b.action
    return out
