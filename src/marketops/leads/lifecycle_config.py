"""Lifecycle stages and the MQL and SQL definitions (the ``leads:`` section of marketops.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LifecycleConfig(BaseModel):
    """Lifecycle stages and the MQL and SQL definitions."""

    model_config = ConfigDict(extra="forbid")
