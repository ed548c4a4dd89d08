"""Typed settings: the workspace's ``marketops.yaml`` and the process environment.

Rules that a team reviews and versions live in ``marketops.yaml`` (:class:`WorkspaceConfig`);
things that differ per machine or are secret come from ``MARKETOPS_*`` environment variables
(:class:`EnvSettings`). Every field carries its help text, which ``docs/configuration.md`` mirrors
(a test fails when one is missing there).

Example:
    >>> cfg = WorkspaceConfig.model_validate({"name": "Acme", "engine": "duckdb"})
    >>> cfg.timezone, cfg.reporting_currency
    ('UTC', 'EUR')
"""

from __future__ import annotations

import json
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import pycountry
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from marketops.attribution.config import AttributionConfig
from marketops.errors import ConfigError, did_you_mean, known_name
from marketops.leads.config import LeadsConfig
from marketops.library.config import LibraryConfig
from marketops.metrics.definitions import DEFAULT_SEGMENTS
from marketops.plan.alert_config import AlertsConfig
from marketops.plan.sla_config import SlaConfig, metric_catalog
from marketops.privacy.config import PrivacyConfig
from marketops.quality.identity_config import IdentityConfig
from marketops.quality.scorecard_thresholds import QualityConfig
from marketops.quality.survivorship import SurvivorshipConfig
from marketops.quality.utm_taxonomy import UtmTaxonomy
from marketops.schema import ENTITIES


class SourceRule(BaseModel):
    """How to read files whose names match ``pattern`` when marketops cannot tell by itself."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="Glob matched against the file name, e.g. 'crm_export_*.csv'.")
    system: str = Field(default="generic", description="Source system the rows come from (e.g. 'legacy_crm').")
    entity: str | None = Field(default=None, description="Canonical entity of the file (people, ad_spend...).")
    sheet: str | None = Field(default=None, description="For workbooks: the one sheet to read (default: all).")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Header as written in the file -> canonical column name.")

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, v: str | None) -> str | None:
        return v if v is None else known_name("entity", v, ENTITIES)


class ChannelRule(BaseModel):
    """A workspace channel rule, tried before GA4's default channel group.

    Every pattern given must match (they are ANDed); a pattern is a regular expression searched
    case-insensitively in the lowercased value (anchor it with ``^...$`` for an exact match).
    Use the common subset of Python, RE2 (DuckDB) and Java (Spark) regex syntax: no look-arounds
    or back-references.

    Example:
        >>> ChannelRule(channel="Partners", source="^partner_", medium="^referral$").channel
        'Partners'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(description="Channel given to the touchpoints this rule matches, e.g. 'Partners'.")
    source: str | None = Field(default=None, description="Regex searched in the lowercased source (utm_source).")
    medium: str | None = Field(default=None, description="Regex searched in the lowercased medium (utm_medium).")
    campaign: str | None = Field(default=None, description="Regex searched in the lowercased campaign.")
    description: str | None = Field(default=None, description="Why the rule exists; shown by `marketops channels explain`.")

    @field_validator("channel")
    @classmethod
    def _channel_named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a channel rule needs a non-empty channel name")
        return v.strip()

    @field_validator("source", "medium", "campaign")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"'{v}' is not a valid regular expression: {e}") from None
        return v

    @model_validator(mode="after")
    def _some_pattern(self) -> ChannelRule:
        if self.source is None and self.medium is None and self.campaign is None:
            raise ValueError(f"channel rule for '{self.channel}' needs at least one of source, medium, campaign")
        return self


class SparkConfig(BaseModel):
    """Settings for the PySpark engine."""

    model_config = ConfigDict(extra="forbid")

    master: str = Field(default="local[2]", description="Spark master URL; local[N] runs on this machine.")
    conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark configuration (key: value).")


class WorkspaceConfig(BaseModel):
    """The contents of ``marketops.yaml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="My marketing", description="Name shown in the web app and reports.")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="Warehouse engine: duckdb (a file in .marketops/) or spark.")
    timezone: str = Field(
        default="UTC", description="Time zone of timestamps written without one (IANA name, e.g. Europe/Rome).")
    reporting_currency: str = Field(default="EUR", description="Currency that reports convert money into (ISO 4217).")
    date_order: Literal["DMY", "MDY", "YMD"] = Field(
        default="DMY", description="Order for dates like 03/04/2024 when no value in the column decides it.")
    language: Literal["en", "it", "es", "ru"] = Field(default="en", description="Language of the web app and CLI text.")
    inbox: str = Field(default="inbox", description="Folder (inside the workspace) that `marketops ingest` reads.")
    sources: list[SourceRule] = Field(default_factory=list, description="Rules for files marketops cannot recognise.")
    spark: SparkConfig = Field(default_factory=SparkConfig, description="PySpark engine settings.")
    channels: list[ChannelRule] = Field(
        default_factory=list,
        description="Channel rules tried in order before GA4's default channel group (first match wins).")
    default_region: str | None = Field(
        default=None,
        description="Country (ISO 3166 alpha-2, e.g. IT) for phone numbers written without a country code when "
                    "the record has no country of its own; unset, such numbers are rejected with a reason.")
    source_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Traffic-source spellings -> the one source name to use (e.g. 'FB Ads': facebook), tried "
                    "before the built-in aliases.")

    identity: IdentityConfig = Field(
        default_factory=IdentityConfig,
        description="Identity resolution: thresholds, compared columns, blocking rules (see docs/identity.md).")
    survivorship: SurvivorshipConfig = Field(
        default_factory=SurvivorshipConfig,
        description="How golden records pick each column's value among a person's (or account's) source records.")
    attribution: AttributionConfig = Field(
        default_factory=AttributionConfig,
        description="Conversion definitions, lookback window, direct visits and model settings for attribution.")
    metrics: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Workspace metrics: additions to and overrides of the built-ins (see docs/metrics.md).")
    quality: QualityConfig = Field(
        default_factory=QualityConfig,
        description="Data-quality thresholds that warn about or fail a run (see docs/quality.md).")
    leads: LeadsConfig = Field(
        default_factory=LeadsConfig,
        description="Leads to sales: lifecycle and MQL/SQL definitions, scoring, routing and the speed-to-lead "
                    "SLA (see docs/leads.md).")
    segments: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_SEGMENTS),
        description="Account size segments for the `segment` dimension: name -> fewest employees, e.g. "
                    "{SMB: 0, Mid-market: 100, Enterprise: 1000}.")
    slas: SlaConfig = Field(
        default_factory=SlaConfig,
        description="Internal SLAs between teams: volume rules on metrics and response rules in business hours, "
                    "with the working calendar (see docs/slas-and-alerts.md).")
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig,
        description="Alerts and the daily email digest: SMTP server, who receives which alerts (see "
                    "docs/slas-and-alerts.md).")
    utm: UtmTaxonomy = Field(
        default_factory=UtmTaxonomy,
        description="UTM taxonomy: allowed sources and mediums, campaign naming pattern, required parameters "
                    "(see docs/utm.md).")
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="Consent purposes, suppression lists and retention rules (see docs/privacy.md).")
    library: LibraryConfig = Field(
        default_factory=LibraryConfig,
        description="Playbooks, templates and digital assets (see docs/library.md).")

    @model_validator(mode="wrap")
    @classmethod
    def _with_workspace_metrics(cls, data: Any, handler: ModelWrapValidatorHandler[WorkspaceConfig]) -> WorkspaceConfig:
        # SLA rules may name the workspace's own metrics: validate them against built-ins + `metrics:`.
        token = metric_catalog.set(_catalog_of(data.get("metrics") if isinstance(data, dict) else None))
        try:
            return handler(data)
        finally:
            metric_catalog.reset(token)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}'; use an IANA name such as Europe/Rome or UTC") from None
        return v

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        if v is None:
            return v
        code = v.strip().upper()
        if len(code) == 2 and (pycountry.countries.get(alpha_2=code) or code == "XK"):
            return code
        try:
            hint = f"; did you mean '{pycountry.countries.lookup(v.strip()).alpha_2}'?"
        except LookupError:
            hint = ""
        raise ValueError(f"'{v}' is not a two-letter ISO 3166 country code (e.g. IT, US, GB){hint}")

    @field_validator("source_aliases")
    @classmethod
    def _aliases(cls, v: dict[str, str]) -> dict[str, str]:
        for spelling, source in v.items():
            if not spelling.strip() or not source.strip():
                raise ValueError(f"source alias '{spelling}: {source}' needs a spelling and a source name")
        return v

    @field_validator("segments")
    @classmethod
    def _segments(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise ValueError("segments needs at least one name, e.g. {SMB: 0, Enterprise: 1000}")
        for name, minimum in v.items():
            if not str(name).strip() or minimum < 0:
                raise ValueError(f"segment '{name}: {minimum}' needs a name and a number of employees of 0 or more")
        return v

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"'{v}' is not an ISO 4217 currency code (three letters, e.g. EUR)")
        return v.upper()


def _catalog_of(metrics: Any) -> Any:
    """Built-in metrics plus the valid definitions of ``metrics:`` (a bad one is reported by the metrics
    layer itself; here it is left out)."""
    from marketops.metrics.definitions import Catalog, Metric, builtin_metrics

    extra = []
    for item in metrics if isinstance(metrics, list) else []:
        try:
            extra.append(Metric.model_validate(item))
        except (ValidationError, ValueError, TypeError):
            continue
    by_name = {m.name: m for m in (*builtin_metrics(), *extra)}
    return Catalog(by_name.values())


class EnvSettings(BaseSettings):
    """Per-machine settings from ``MARKETOPS_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MARKETOPS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="App database URL (users, goals...); default: SQLite in .marketops/.")
    engine: Literal["duckdb", "spark"] | None = Field(
        default=None, description="Overrides `engine:` of marketops.yaml for this process.")
    secret_key: str | None = Field(
        default=None, description="Key that signs web sessions; default: a random key kept in .marketops/.")
    admin_email: str | None = Field(default=None, description="First admin's email, created on first start.")
    admin_password: str | None = Field(default=None, description="First admin's password (never logged).")


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate ``marketops.yaml``; errors name the file, line and valid values.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "marketops.yaml"
        >>> _ = p.write_text("name: Acme\\nengine: duckdb\\n")
        >>> load_config(p).name
        'Acme'
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no marketops.yaml here", file=str(path),
                          hint="create a workspace with `marketops init DIR`") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', e)}", file=str(path),
                          line=mark.line + 1 if mark else None) from None
    data = data or {}
    try:
        return WorkspaceConfig.model_validate(plain_yaml(data))
    except ValidationError as e:
        err = e.errors()[0]
        loc = err["loc"]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            valid = _fields_at(loc[:-1])
            msg = f"unknown setting '{loc[-1]}'{did_you_mean(str(loc[-1]), valid)}; valid: {', '.join(valid)}"
        elif err["type"] == "literal_error":
            msg = f"'{err['input']}' is not allowed; {msg.lower()}"
        raise ConfigError(f"{'.'.join(map(str, loc))}: {msg}", file=str(path), line=yaml_line(data, loc)) from None


def _fields_at(loc: tuple) -> list[str]:
    model: type[BaseModel] = WorkspaceConfig
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[str(part)].annotation
        args = getattr(ann, "__args__", ())
        nested = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            break
        model = nested[0]
    return sorted(model.model_fields)


def plain_yaml(node: Any) -> Any:
    """ruamel's commented maps -> plain dicts and lists for pydantic."""
    if isinstance(node, dict):
        return {str(k): plain_yaml(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain_yaml(v) for v in node]
    return node


def yaml_line(data: Any, loc: tuple) -> int | None:
    """1-based line of the setting at ``loc`` in the YAML, using ruamel's position records."""
    node, line = data, None
    for part in loc:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                line = (lc.key(part) if isinstance(part, str) else lc.item(part))[0] + 1
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


DEFAULT_CONFIG = """\
# marketops workspace settings. Reference: docs/configuration.md
name: {name}

# Warehouse engine: duckdb keeps everything in .marketops/warehouse.duckdb;
# spark runs the same pipeline on PySpark (pip install 'marketops[spark]').
engine: duckdb

# Time zone of timestamps that carry none (IANA name, e.g. Europe/Rome).
timezone: UTC

# Reports convert money into this currency.
reporting_currency: EUR

# How to read a date like 03/04/2024 when no value in the column decides it: DMY or MDY.
date_order: DMY

# Language of the web app and CLI: en, it, es, ru.
language: en

# Files dropped here are picked up by `marketops ingest`.
inbox: inbox

# Country (ISO 3166 alpha-2) for phone numbers written without a country code when the
# record has no country of its own. Unset, such numbers are rejected with a reason.
# default_region: IT

# Your own spellings of traffic sources (utm_source), mapped to one name. Tried before the
# built-in aliases (fb, FB Ads, facebook.com -> facebook; adwords -> google...), for example:
# source_aliases:
#   "Meta Ads": facebook
#   nl: mailchimp

# Tell marketops how to read files it cannot recognise by itself
# (`marketops map FILE --write` proposes an entry for you), for example:
# sources:
#   - pattern: "crm_export_*.csv"
#     system: legacy_crm
#     entity: people
#     columns:
#       "Cognome e nome": full_name
sources: []

# Identity resolution (docs/identity.md): pairs at or above match_threshold are merged into one
# person, pairs from review_threshold up go to `marketops review list`, for example:
# identity:
#   match_threshold: 0.95
#   review_threshold: 0.6

# Golden records: which source wins each column (most_recent, most_complete, source_priority...):
# survivorship:
#   default: most_recent
#   source_priority: [salesforce, hubspot]
#   columns:
#     owner: source_priority

# Data-quality thresholds (docs/quality.md): a `fail` breach stops the run from publishing.
# quality:
#   thresholds:
#     - table: people
#       column: email
#       metric: validity
#       min: 0.95
#       action: warn

# Internal SLAs between teams (docs/slas-and-alerts.md), for example:
# slas:
#   calendar:
#     days: [mon, tue, wed, thu, fri]
#     start: "09:00"
#     end: "17:00"
#   rules:
#     - name: mql-volume
#       from_team: marketing
#       to_team: sales
#       metric: mqls
#       at_least: 400
#       per: month
#     - name: mql-follow-up
#       from_team: sales
#       to_team: marketing
#       response:
#         from_stage: mql
#         until: sales_activity
#         within_hours: 24
#         share: 0.9

# Alerts and the daily email digest. The SMTP password comes from the environment variable
# that password_env names, never from this file:
# alerts:
#   base_url: https://marketops.acme.test
#   smtp:
#     host: smtp.acme.test
#     port: 587
#     from_address: marketops@acme.test
#     username: marketops
#     password_env: MARKETOPS_SMTP_PASSWORD
#   recipients:
#     - email: cmo@acme.test
#     - email: ana@acme.test
#       kinds: [task, goal]
#       only_own: true
"""


def default_config_text(name: str) -> str:
    """The commented ``marketops.yaml`` a new workspace starts with."""
    # A JSON string is a valid YAML scalar: quotes and colons in the name stay harmless.
    return DEFAULT_CONFIG.format(name=json.dumps(name, ensure_ascii=False))
