"""Tables of the plan: goals and their measured progress, initiatives, tasks, and budget lines.

What people create day to day lives here (the rules, such as SLAs, live in ``marketops.yaml``).
A task's activity is the audit log (target ``task:<id>``), so nothing records a change twice.
Money is kept in cents (an integer) so that budgets add up to the cent on every database.

Example:
    >>> from datetime import date
    >>> g = Goal(title="More email clicks", metric="email_clicks", target=1250.0, deadline=date(2027, 6, 30))
    >>> g.metric, g.target
    ('email_clicks', 1250.0)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketops.state.models import Base, UTCDateTime, utcnow

#: Where a goal sits in the goal tree.
GOAL_LEVELS = ("company", "team", "person")
#: How a goal reads its metric: the value of the latest complete period at the goal's grain
#: (``period``: "1,250 clicks a month"), or the total since the goal's start (``cumulative``:
#: "500 customers this year").
GOAL_MEASURES = ("period", "cumulative")
#: A goal's status, as the newest progress computation judged it.
GOAL_STATUSES = ("on_track", "at_risk", "off_track", "achieved", "missed", "no_data")
INITIATIVE_STATUSES = ("proposed", "planned", "active", "done", "cancelled")
TASK_STATUSES = ("todo", "in_progress", "blocked", "done")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Goal(Base):
    """A SMART goal bound to a metric: move ``metric`` (within ``filters``) from baseline to target by the deadline."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint(_in("level", GOAL_LEVELS), name="level"),
        CheckConstraint(_in("measure", GOAL_MEASURES), name="measure"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    #: A metric name of the metrics layer (built-in or from marketops.yaml).
    metric: Mapped[str] = mapped_column(String(100))
    #: Scope: dimension -> value, e.g. {"channel": "Email"}; every dimension must be one the metric allows.
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    grain: Mapped[str] = mapped_column(String(16), default="month")
    measure: Mapped[str] = mapped_column(String(16), default="period")
    baseline: Mapped[float | None] = mapped_column(Float, default=None)
    target: Mapped[float] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    deadline: Mapped[date | None] = mapped_column(Date, default=None)
    owner: Mapped[str] = mapped_column(String(320), default="")
    level: Mapped[str] = mapped_column(String(16), default="company")
    team: Mapped[str | None] = mapped_column(String(200), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True, default=None)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    children: Mapped[list[Goal]] = relationship(back_populates="parent")
    parent: Mapped[Goal | None] = relationship(back_populates="children", remote_side=[id])
    progress: Mapped[list[GoalProgress]] = relationship(back_populates="goal", cascade="all, delete-orphan",
                                                        order_by="GoalProgress.computed_at")

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.metric} -> {self.target}>"


class GoalProgress(Base):
    """One measurement of a goal, made at a pipeline run (or on demand): value, forecast, status."""

    __tablename__ = "goal_progress"
    __table_args__ = (CheckConstraint(_in("status", GOAL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last day of data the value covers.
    as_of: Mapped[date | None] = mapped_column(Date, default=None)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    #: Share of the way from baseline to target, 0..1 (may pass 1, or go below 0).
    progress: Mapped[float | None] = mapped_column(Float, default=None)
    forecast: Mapped[float | None] = mapped_column(Float, default=None)
    status: Mapped[str] = mapped_column(String(16))
    #: The numbers behind the status (series, forecast method, messages) for pages and the API.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    goal: Mapped[Goal] = relationship(back_populates="progress")


class Initiative(Base):
    """A piece of planned work born from a user story ("As a ..., I want ..., so that ...")."""

    __tablename__ = "initiatives"
    __table_args__ = (CheckConstraint(_in("status", INITIATIVE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    story: Mapped[str] = mapped_column(Text, default="")
    persona: Mapped[str] = mapped_column(String(500), default="")
    want: Mapped[str] = mapped_column(String(1000), default="")
    outcome: Mapped[str] = mapped_column(String(1000), default="")
    #: Language the story was written in (en, it, es, ru).
    story_language: Mapped[str | None] = mapped_column(String(8), default=None)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    owner: Mapped[str] = mapped_column(String(320), default="")
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    #: [{"name", "role", "email"}]
    stakeholders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Who is told what, how and how often: [{"audience", "message", "channel", "frequency"}]
    communication_plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tasks: Mapped[list[Task]] = relationship(back_populates="initiative", cascade="all, delete-orphan",
                                             order_by="Task.position")
    goals: Mapped[list[Goal]] = relationship(secondary="initiative_goals")

    def __repr__(self) -> str:
        return f"<Initiative {self.id} {self.title!r} {self.status}>"


class InitiativeGoal(Base):
    """The goals an initiative serves (a goal may be served by several initiatives)."""

    __tablename__ = "initiative_goals"

    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, index=True)


class Task(Base):
    """A step of an initiative with an owner and a due date; its history is the audit log (``task:<id>``)."""

    __tablename__ = "tasks"
    __table_args__ = (CheckConstraint(_in("status", TASK_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(320), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default="todo")
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    #: Effort in hours.
    estimate_hours: Mapped[float | None] = mapped_column(Float, default=None)
    #: Order within its status column on the board.
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    initiative: Mapped[Initiative] = relationship(back_populates="tasks")
    depends_on: Mapped[list[Task]] = relationship(
        secondary="task_dependencies", primaryjoin="Task.id == TaskDependency.task_id",
        secondaryjoin="Task.id == TaskDependency.depends_on_id", order_by="Task.id")
    comments: Mapped[list[TaskComment]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                       order_by="TaskComment.at")

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.title!r} {self.status}>"


class TaskDependency(Base):
    """``task_id`` cannot start before ``depends_on_id`` is done."""

    __tablename__ = "task_dependencies"
    __table_args__ = (CheckConstraint("task_id <> depends_on_id", name="not_itself"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)


class TaskComment(Base):
    """A comment on a task."""

    __tablename__ = "task_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="comments")


class BudgetLine(Base):
    """Planned spend for one month on a channel or platform (optionally one campaign), in cents.

    One line per month and scope (channel, platform, campaign): the plan module enforces it, since
    a unique constraint treats the empty parts of a scope (NULL) as all different."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="not_negative"),
        CheckConstraint("channel IS NOT NULL OR platform IS NOT NULL", name="has_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The first day of the month planned.
    month: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str | None] = mapped_column(String(100), default=None)
    platform: Mapped[str | None] = mapped_column(String(100), default=None)
    campaign: Mapped[str | None] = mapped_column(String(300), default=None)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    #: Always the reporting currency when stored (other currencies are converted or refused on entry).
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<BudgetLine {self.month:%Y-%m} {self.channel or self.platform} {self.amount_cents / 100:.2f}>"


__all__ = ["GOAL_LEVELS", "GOAL_MEASURES", "GOAL_STATUSES", "INITIATIVE_STATUSES", "TASK_STATUSES", "BudgetLine",
           "Goal", "GoalProgress", "Initiative", "InitiativeGoal", "Task", "TaskComment", "TaskDependency"]
