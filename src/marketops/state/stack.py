"""Martech stack: tools, their integrations and evaluations of tools under consideration.

A tool's cost is kept in cents of its own currency (an integer, exact on every database) with the
period it is billed for; the audit converts to the reporting currency. Integrations are directed
(from -> to); a loop A -> B -> A may be recorded (two-way syncs are normal) but a tool never
integrates with itself. Every change is audited (``stack.*`` actions on ``stack_tool:<id>``).

Example:
    >>> t = StackTool(name="HubSpot", vendor="HubSpot", category="Marketing automation", cost_cents=320000,
    ...               cost_period="month", currency="EUR")
    >>> t.name, t.cost_cents / 100
    ('HubSpot', 3200.0)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketops.state.models import Base, UTCDateTime, utcnow

#: How often a tool is billed.
COST_PERIODS = ("month", "year")
#: How data moves along an integration: built into the tools, through a Zapier-like connector, by file
#: exports and imports, or by a custom API job.
METHODS = ("native", "zapier", "file", "api")
#: How often an integration syncs.
FREQUENCIES = ("realtime", "hourly", "daily", "weekly", "monthly", "manual")
#: An answer on the evaluation form.
ANSWERS = ("yes", "partly", "no")
#: What an evaluation recommends.
RECOMMENDATIONS = ("buy", "pilot", "defer", "do_not_buy")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class StackTool(Base):
    """One tool the marketing team pays for (or uses): who owns it, what it costs, what it serves."""

    __tablename__ = "stack_tools"
    __table_args__ = (CheckConstraint(_in("cost_period", COST_PERIODS), name="cost_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vendor: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(100), default="", index=True)
    #: Who answers for the tool (a name or an email); empty = nobody, which the audit flags.
    owner: Mapped[str] = mapped_column(String(320), default="")
    #: The cost in cents of ``currency`` per ``cost_period``; null = no cost recorded.
    cost_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cost_period: Mapped[str] = mapped_column(String(8), default="month")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    renewal_date: Mapped[date | None] = mapped_column(Date, default=None)
    seats: Mapped[int | None] = mapped_column(Integer, default=None)
    active_users: Mapped[int | None] = mapped_column(Integer, default=None)
    contract_notes: Mapped[str] = mapped_column(Text, default="")
    #: The business goals the tool serves: free words, or plan goal ids / titles (linked when they match).
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: marketops source systems (``hubspot``, ``ga4``...) whose loads tell the tool's data freshness.
    systems: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Days after which the tool's data counts as stale; null = the default (7).
    stale_days: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    outgoing: Mapped[list[StackIntegration]] = relationship(
        foreign_keys="StackIntegration.source_id", back_populates="source", cascade="all, delete-orphan",
        passive_deletes=True)
    incoming: Mapped[list[StackIntegration]] = relationship(
        foreign_keys="StackIntegration.target_id", back_populates="target", cascade="all, delete-orphan",
        passive_deletes=True)


class StackIntegration(Base):
    """Data flowing from one tool to another: which object, how, how often."""

    __tablename__ = "stack_integrations"
    __table_args__ = (
        CheckConstraint("source_id <> target_id", name="not_self"),
        CheckConstraint(_in("method", METHODS), name="method"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
        UniqueConstraint("source_id", "target_id", "object"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("stack_tools.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("stack_tools.id", ondelete="CASCADE"), index=True)
    #: What flows, e.g. contacts, deals, conversions, events.
    object: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(16), default="native")
    frequency: Mapped[str] = mapped_column(String(16), default="daily")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source: Mapped[StackTool] = relationship(foreign_keys=[source_id], back_populates="outgoing")
    target: Mapped[StackTool] = relationship(foreign_keys=[target_id], back_populates="incoming")


class StackEvaluation(Base):
    """A tool under consideration, judged on four questions, with the recommendation and its reasons."""

    __tablename__ = "stack_evaluations"
    __table_args__ = (
        CheckConstraint(_in("recommendation", RECOMMENDATIONS), name="recommendation"),
        CheckConstraint(_in("serves_goals", ANSWERS), name="serves_goals"),
        CheckConstraint(_in("improves_journey", ANSWERS), name="improves_journey"),
        CheckConstraint(_in("has_budget", ANSWERS), name="has_budget"),
        CheckConstraint(_in("has_time", ANSWERS), name="has_time"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    serves_goals: Mapped[str] = mapped_column(String(8))
    improves_journey: Mapped[str] = mapped_column(String(8))
    has_budget: Mapped[str] = mapped_column(String(8))
    has_time: Mapped[str] = mapped_column(String(8))
    #: Why each answer was given: question -> note.
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The tool was added to the registry after this evaluation.
    adopted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
