"""Routing of new MQLs to owners: rules, owners, capacity and out-of-office (the ``leads:`` section of
marketops.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Owner(BaseModel):
    """A person who can own leads: a sales rep (or SDR), with the team whose calendar and SLA apply."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The owner's name as the CRM shows it (matched to the `owner` columns).")
    email: str = Field(description="The owner's email (notices and escalations go there).")
    team: str = Field(default="sales", description="The owner's team: its working calendar and SLA apply.")


class RoutingConfig(BaseModel):
    """Routing of new MQLs to owners: rules, owners, capacity and out-of-office."""

    model_config = ConfigDict(extra="forbid")

    owners: list[Owner] = Field(default_factory=list, description="Everyone who can own leads.")
