"""How identity resolution decides that two source records are one person (``identity:`` in marketops.yaml).

Defaults work untuned on typical CRM exports: records that share a clean email, a record id within
one system or an anonymous visitor id are one person outright; the rest are compared on names,
phone, company, address, city, postcode and country by a Splink model whose parameters are
estimated from the data itself.

Example:
    >>> cfg = IdentityConfig(match_threshold=0.97)
    >>> cfg.review_threshold, cfg.blocking[0]
    (0.6, ['phone'])
    >>> from pydantic import ValidationError
    >>> try:
    ...     IdentityConfig(blocking=[["country"]])
    ... except ValidationError as e:
    ...     print(e.errors()[0]["msg"])
    Value error, blocking rule ['country'] compares every pair of records that share a country, which grows with the square of the records; add a column that tells people apart, e.g. ['country', 'last_name']
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Columns that alone group too many records to block on: thousands of people share each value.
LOW_CARDINALITY = frozenset({
    "country", "city", "region", "first_name", "last_name", "company", "company_key", "job_title",
    "seniority", "job_function", "email_domain", "lifecycle_stage", "lead_status", "lead_source", "owner",
    "_source_system", "source_system",
})

DEFAULT_COLUMNS = ["first_name", "last_name", "phone", "company_key", "city", "postcode", "address", "country"]
DEFAULT_BLOCKING = [["phone"], ["last_name", "company_key"], ["first_name", "company_key"],
                    ["last_name", "postcode"], ["address", "postcode"]]

DEFAULT_TRAINING = [["email"], ["phone"], ["first_name", "last_name", "company_key"],
                    ["first_name", "last_name", "postcode"]]


class IdentityConfig(BaseModel):
    """Thresholds, compared columns and blocking rules of identity resolution."""

    model_config = ConfigDict(extra="forbid")

    match_threshold: float = Field(
        default=0.95, gt=0, le=1,
        description="Pairs whose match probability is at or above this are merged into one person.")
    review_threshold: float = Field(
        default=0.6, gt=0, le=1,
        description="Pairs from this probability up to match_threshold go to the review queue.")
    columns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_COLUMNS),
        description="People columns the probabilistic model compares (names, phone, company, address...); "
                    "columns that are empty in the data are left out automatically.")
    blocking: list[list[str]] = Field(
        default_factory=lambda: [list(r) for r in DEFAULT_BLOCKING],
        description="Blocking rules: records are compared only when they agree exactly on every column of "
                    "at least one rule, which keeps cost near-linear in the number of records.")
    training_blocking: list[list[str]] = Field(
        default_factory=lambda: [list(r) for r in DEFAULT_TRAINING],
        description="Blocking rules whose pairs teach the model how one person's records differ (m, by "
                    "expectation maximisation), tried in order until every compared column is learnt from "
                    "a rule that does not block on it; rules that hold mostly the same person work best.")
    deterministic: list[str] = Field(
        default_factory=lambda: ["email", "record_id", "anonymous_id"],
        description="Identifiers that link records outright when equal: clean email, record_id (within one "
                    "source system), anonymous_id (a visitor id the events tied to a known person).")
    max_records_per_identifier: int = Field(
        default=50, ge=2,
        description="An email or visitor id found on more records than this is a shared inbox or a "
                    "placeholder (test@test.com), not one person, and links nothing.")
    identifier_veto: float = Field(
        default=0.0,
        description="An identifier link is not taken outright when the compared columns weigh against it "
                    "by more than this many bits (0: they say 'different people' more than 'same'); such "
                    "pairs go to the review queue: a shared family mailbox, a reused laptop.")
    term_frequency: list[str] = Field(
        default_factory=lambda: ["first_name", "last_name", "company_key", "city"],
        description="Compared columns whose exact agreement counts for less when the value is common "
                    "(two 'Smith's prove less than two 'Okonkwo's); names not in columns are ignored.")
    nicknames: bool = Field(
        default=True,
        description="Treat common nicknames as the same first name (Bob = Robert, Beppe = Giuseppe).")
    deterministic_recall: float = Field(
        default=0.8, gt=0, le=1,
        description="Share of all duplicate pairs the deterministic identifiers are assumed to find; sets "
                    "how likely two random records are the same person.")
    training_pairs: int = Field(
        default=2_000_000, ge=1000,
        description="Record pairs sampled to estimate how often non-matching records agree (u), and the "
                    "most pairs each expectation-maximisation pass uses to estimate matching ones (m).")
    max_pairs_per_record: float = Field(
        default=30.0, gt=0,
        description="A blocking rule that would compare more pairs than this times the number of records "
                    "is skipped (and reported), so one common value cannot make resolution quadratic.")
    seed: int = Field(default=42, description="Seed of the random sampling, so a run can be repeated exactly.")

    @field_validator("columns", "deterministic", "term_frequency")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        cleaned = [c.strip() for c in v]
        if any(not c for c in cleaned):
            raise ValueError("column names must not be empty")
        dupes = sorted({c for c in cleaned if cleaned.count(c) > 1})
        if dupes:
            raise ValueError(f"column listed twice: {', '.join(dupes)}")
        return cleaned

    @field_validator("blocking", "training_blocking")
    @classmethod
    def _rules(cls, v: list[list[str]]) -> list[list[str]]:
        out = []
        for rule in v:
            cols = [c.strip() for c in rule]
            if not cols or any(not c for c in cols):
                raise ValueError("a blocking rule needs at least one column name")
            if len(cols) == 1 and cols[0] in LOW_CARDINALITY:
                raise ValueError(
                    f"blocking rule {cols} compares every pair of records that share a {cols[0].replace('_', ' ')}, "
                    f"which grows with the square of the records; add a column that tells people apart, "
                    f"e.g. {[cols[0], 'last_name' if cols[0] != 'last_name' else 'first_name']}")
            out.append(cols)
        return out

    @model_validator(mode="after")
    def _ordered(self) -> IdentityConfig:
        if self.review_threshold > self.match_threshold:
            raise ValueError(f"review_threshold ({self.review_threshold}) must not be above "
                             f"match_threshold ({self.match_threshold})")
        if not self.columns:
            raise ValueError("identity resolution needs at least one column to compare")
        return self
