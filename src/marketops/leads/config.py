"""The ``leads:`` section of marketops.yaml: one place where marketing and sales write their rules.

Example:
    >>> LeadsConfig().model_dump() is not None
    True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from marketops.leads.lifecycle_config import LifecycleConfig
from marketops.leads.routing_config import RoutingConfig
from marketops.leads.scoring_config import ScoringConfig
from marketops.leads.sla_config import SpeedToLeadConfig


class LeadsConfig(BaseModel):
    """Lifecycle and qualification definitions, scoring, routing and the speed-to-lead SLA."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _definitions_see_score_groups(cls, data: Any, handler: ModelWrapValidatorHandler[LeadsConfig]) -> LeadsConfig:
        # the MQL/SQL definitions name score groups of this same section: check them against it
        from marketops.leads.lifecycle_config import groups_of_scoring, known_groups

        token = known_groups.set(groups_of_scoring(data.get("scoring") if isinstance(data, dict) else None))
        try:
            return handler(data)
        finally:
            known_groups.reset(token)

    lifecycle: LifecycleConfig = Field(
        default_factory=LifecycleConfig,
        description="Lifecycle stages and the MQL / SQL definitions (see docs/leads.md).")
    scoring: ScoringConfig = Field(
        default_factory=ScoringConfig,
        description="Lead scoring: fit and engagement rules with points, caps and decay; groups; MQL threshold.")
    routing: RoutingConfig = Field(
        default_factory=RoutingConfig,
        description="How new MQLs are assigned to owners: rules, owners, capacity, out-of-office.")
    sla: SpeedToLeadConfig = Field(
        default_factory=SpeedToLeadConfig,
        description="Speed-to-lead: response targets in business hours and each team's working calendar.")
