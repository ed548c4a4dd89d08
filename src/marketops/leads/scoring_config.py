"""Lead scoring: fit and engagement rules, groups, decay and the MQL threshold (the ``leads:`` section of marketops.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ScoringConfig(BaseModel):
    """Lead scoring: fit and engagement rules, groups, decay and the MQL threshold."""

    model_config = ConfigDict(extra="forbid")
