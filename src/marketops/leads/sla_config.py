"""The speed-to-lead SLA: working calendars per team and response targets (the ``leads:`` section of marketops.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpeedToLeadConfig(BaseModel):
    """The speed-to-lead SLA: working calendars per team and response targets."""

    model_config = ConfigDict(extra="forbid")
