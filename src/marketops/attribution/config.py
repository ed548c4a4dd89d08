"""What counts as a conversion and how journeys are built (``attribution:`` in marketops.yaml).

Example:
    >>> cfg = AttributionConfig.model_validate({"conversions": [
    ...     {"name": "demo", "table": "conversions", "match": {"type": "demo_request"}}]})
    >>> cfg.lookback_days, cfg.conversions[0].revenue
    (90, False)
    >>> ConversionDefinition(name="x", table="people")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ConversionDefinition
    table
      Value error, conversions come from conversions, opportunities, lifecycle_stages, not 'people' [type=value_error, input_value='people', input_type=str]
    ...
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Where a conversion can come from, and the time column that says when it happened.
CONVERSION_TABLES = {"conversions": "occurred_at", "opportunities": "closed_at", "lifecycle_stages": "entered_at"}
#: The money column of each table, used when a definition asks for revenue.
MONEY_COLUMNS = {"conversions": ("value", "currency"), "opportunities": ("amount", "currency")}
DIMENSIONS = {"channel": "channel_group", "source": "source", "campaign": "campaign"}


class ConversionDefinition(BaseModel):
    """One kind of conversion: rows of a canonical table that match every ``match`` entry."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Name shown in reports, e.g. demo_request, closed_won, mql.")
    table: str = Field(description="conversions, opportunities (closed deals, at closed_at) or lifecycle_stages.")
    match: dict[str, str | list[str] | bool] = Field(
        default_factory=dict,
        description="Column -> value (or list of values) rows must have, e.g. {type: demo_request}, "
                    "{is_won: true}, {stage: mql}; text compares case-insensitively, stages by their usual spellings.")
    revenue: bool = Field(default=False, description="Credit revenue too: value of a conversion, amount of a deal.")
    at: str | None = Field(
        default=None, description="Column that says when it happened; default: occurred_at (conversions), "
                                  "closed_at (opportunities), entered_at (lifecycle_stages). Use created_at "
                                  "on opportunities to credit pipeline when deals are created.")
    first_only: bool = Field(default=False, description="Count only each person's first conversion of this kind "
                                                        "(e.g. becoming a lead once, whatever the CRM repeats).")

    @field_validator("table")
    @classmethod
    def _table(cls, v: str) -> str:
        if v not in CONVERSION_TABLES:
            raise ValueError(f"conversions come from {', '.join(CONVERSION_TABLES)}, not {v!r}")
        return v

    @field_validator("revenue", mode="before")
    @classmethod
    def _revenue(cls, v: object) -> object:
        return v if v is not None else False


class AttributionConfig(BaseModel):
    """Journeys and conversion definitions of the workspace."""

    model_config = ConfigDict(extra="forbid")

    conversions: list[ConversionDefinition] = Field(
        default_factory=lambda: [ConversionDefinition(name="conversion", table="conversions", revenue=True)],
        description="What counts as a conversion; default: every row of the conversions table, with its value.")
    lookback_days: int = Field(default=90, ge=1, le=3650,
                               description="Touchpoints older than this before a conversion do not count.")
    touchpoint_types: list[str] | None = Field(
        default=None, description="Touchpoint types that count (web_session, ad_click, email_click...); default: all.")
    direct: Literal["keep", "skip_if_other"] = Field(
        default="skip_if_other",
        description="Direct visits: keep them, or skip them in journeys that have another touch (as GA4 does).")
    model: str = Field(default="last_non_direct", description="Model `marketops attribution` uses by default.")
    half_life_days: float = Field(default=7.0, gt=0, description="Half-life of the time-decay model, in days.")
    position_weights: tuple[float, float] = Field(
        default=(0.4, 0.4), description="Position-based (U-shaped) model: weight of the first and of the last touch.")
    markov_order: int = Field(default=1, ge=1, le=3, description="Order of the Markov-chain model (1 to 3).")

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        from marketops.attribution import MODELS
        from marketops.errors import known_name

        return known_name("attribution model", v, MODELS)

    def params(self, model: str) -> dict:
        """The keyword parameters this configuration gives ``model``."""
        return {"time_decay": {"half_life_days": self.half_life_days},
                "position_based": {"first": self.position_weights[0], "last": self.position_weights[1]},
                "markov": {"order": self.markov_order}}.get(model, {})
