"""The ``privacy:`` section of marketops.yaml: consent purposes and their legal basis, retention
rules and suppression settings.

::

    privacy:
      purposes:
        email_marketing: {basis: opt_out}   # no record = consent (unless unsubscribed)
        tracking: {basis: opt_in}           # no record = no consent
        profiling: {basis: opt_in}
      retention:
        - {table: touchpoints, older_than_days: 1095}
        - {table: _quarantine, older_than_days: 90}
      suppression:
        include_domains: true

Example:
    >>> cfg = PrivacyConfig.model_validate({"retention": [{"table": "touchpoints", "older_than_days": 365}]})
    >>> cfg.basis("tracking"), cfg.retention[0].column
    ('opt_in', 'occurred_at')
    >>> PrivacyConfig.model_validate({"retention": [{"table": "tuchpoints", "older_than_days": 1}]})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for PrivacyConfig
    retention.0.table
      Value error, unknown table 'tuchpoints' (did you mean 'touchpoints'?); valid: ...
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import known_name, unknown_name

#: Purposes every workspace knows; more can be added under ``privacy.purposes``.
DEFAULT_PURPOSES = ("email_marketing", "tracking", "profiling")

#: Tables retention rules may name, with the column that dates a row. Raw copies (``raw_<table>``)
#: are trimmed with their canonical table, so old rows do not come back at the next run.
RETENTION_TABLES: dict[str, str] = {
    "people": "updated_at",
    "touchpoints": "occurred_at",
    "conversions": "occurred_at",
    "lifecycle_stages": "entered_at",
    "sales_activities": "occurred_at",
    "opportunities": "created_at",
    "web_traffic": "date",
    "ad_spend": "date",
    "email_campaigns": "sent_at",
    "consent": "occurred_at",
    "_quarantine": "quarantined_at",
}


class Purpose(BaseModel):
    """One purpose people consent to (or not)."""

    model_config = ConfigDict(extra="forbid")

    basis: Literal["opt_in", "opt_out"] = Field(
        default="opt_in",
        description="opt_in: a person without a consent record has NOT consented (the law needs opt-in: "
        "tracking, profiling in the EU); opt_out: a person without a record has consented until they withdraw "
        "(B2B email marketing under legitimate interest).")
    description: str = Field(default="", description="What the purpose covers, shown on the privacy page.")


def _default_purposes() -> dict[str, Purpose]:
    return {
        "email_marketing": Purpose(basis="opt_out", description="Marketing email: newsletters, nurture, promotions."),
        "tracking": Purpose(basis="opt_in", description="Web and email tracking: cookies, pixels, click ids."),
        "profiling": Purpose(basis="opt_in", description="Lead scoring, enrichment and audience building."),
    }


class RetentionRule(BaseModel):
    """Delete rows of one table once they are older than a number of days."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="Table to trim: " + ", ".join(RETENTION_TABLES) + ".")
    older_than_days: int = Field(gt=0, description="Rows whose date is older than this many days are deleted.")
    column: str | None = Field(default=None, description="Column that dates a row (default: the table's usual one, "
                               "e.g. occurred_at for touchpoints).")

    @field_validator("table")
    @classmethod
    def _known_table(cls, v: str) -> str:
        return known_name("table", v, RETENTION_TABLES)

    @model_validator(mode="after")
    def _default_column(self) -> RetentionRule:
        if self.column is None:
            self.column = RETENTION_TABLES[self.table]
        return self


class SuppressionConfig(BaseModel):
    """How the suppression list is applied."""

    model_config = ConfigDict(extra="forbid")

    include_domains: bool = Field(default=True, description="Domain entries (`competitor.com`) suppress every "
                                  "address at that domain and its subdomains.")
    apply_to_downloads: bool = Field(default=True, description="People downloads of the web app leave out "
                                     "suppressed addresses.")


class PrivacyConfig(BaseModel):
    """Consent purposes, suppression and retention rules."""

    model_config = ConfigDict(extra="forbid")

    purposes: dict[str, Purpose] = Field(
        default_factory=_default_purposes,
        description="Purposes people consent to, each with its legal basis (opt_in or opt_out). The three "
        "defaults are always present; listing one changes its basis.")
    retention: list[RetentionRule] = Field(
        default_factory=list,
        description="Rules applied at every run (and by `marketops retention apply`): "
        "`{table: touchpoints, older_than_days: 1095}`.")
    suppression: SuppressionConfig = Field(default_factory=SuppressionConfig,
                                           description="How the suppression list is applied.")

    @field_validator("purposes")
    @classmethod
    def _purpose_names(cls, v: dict[str, Purpose]) -> dict[str, Purpose]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"purpose '{name}' must be lower case letters, digits and _ (e.g. email_marketing)")
        return {**_default_purposes(), **v}

    def basis(self, purpose: str) -> str:
        """``opt_in`` or ``opt_out`` for a known purpose; NotFound with "did you mean" otherwise."""
        return self.purpose(purpose).basis

    def purpose(self, name: str) -> Purpose:
        try:
            return self.purposes[name]
        except KeyError:
            raise unknown_name("purpose", name, self.purposes) from None
