"""Routing decisions (one current decision per MQL: who owns it, by which rule, and why) and the
rotation state that lets round-robin and weighted rules continue across runs.

A decision is written by a routing run (``decided_by`` = ``run:<id>`` or the user who pressed "Route")
and changed only by a manual reassignment, which is audited (action ``routing.reassign``).

Example:
    >>> from datetime import UTC, datetime
    >>> d = RoutingDecision(person_id="P1", email="p1@x.io", owner="Ana", status="assigned", rule="EMEA",
    ...                     method="round_robin", explanation="...", decided_by="run:r1")
    >>> d.owner, d.status
    ('Ana', 'assigned')
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Integer, String, Text, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketops.state.models import Base, UTCDateTime, utcnow

#: A decision's status: routed to an owner, left in the queue (nobody could take it), changed by hand.
STATUSES = ("assigned", "unassigned", "reassigned")


class RoutingDecision(Base):
    """Who owns one MQL and why."""

    __tablename__ = "routing_decisions"
    __table_args__ = (CheckConstraint("status IN ('assigned', 'unassigned', 'reassigned')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None, index=True)
    mql_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The MQL's day in the workspace time zone: what per-day capacity counts.
    mql_day: Mapped[date | None] = mapped_column(Date, default=None)
    #: The owner's name as in leads.routing.owners; null while unassigned.
    owner: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    team: Mapped[str | None] = mapped_column(String(200), default=None)
    #: The queue an unassigned lead waits in (leads.routing.fallback.queue).
    queue: Mapped[str | None] = mapped_column(String(200), default=None)
    rule: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(32), default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="assigned", index=True)
    #: The owner before a manual reassignment.
    previous_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``run:<run id>`` for a routing run, or the email of the user who reassigned / routed by hand.
    decided_by: Mapped[str] = mapped_column(String(320), default="")


class RoutingRotation(Base):
    """Where a rotation stands: the last owner of a round-robin pool, or the leads each owner of a
    weighted pool has had (``key`` = rule and pool)."""

    __tablename__ = "routing_rotation"

    key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    last_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


COLUMNS = ("person_id", "email", "mql_at", "owner", "team", "queue", "rule", "method", "status", "explanation",
           "previous_owner", "decided_at", "decided_by")


def decided_people(session: Session) -> dict[str, str]:
    """person_id -> status of every decision (routing skips the decided ones, retries the unassigned)."""
    return dict(session.execute(select(RoutingDecision.person_id, RoutingDecision.status)).all())


def owner_loads(session: Session) -> tuple[dict[str, int], dict[tuple[str, date], int]]:
    """Leads each owner holds in all, and per (owner, MQL day): what capacity limits count."""
    total = dict(session.execute(select(RoutingDecision.owner, func.count()).where(RoutingDecision.owner.is_not(None))
                                 .group_by(RoutingDecision.owner)).all())
    daily = {(o, d): n for o, d, n in session.execute(
        select(RoutingDecision.owner, RoutingDecision.mql_day, func.count())
        .where(RoutingDecision.owner.is_not(None), RoutingDecision.mql_day.is_not(None))
        .group_by(RoutingDecision.owner, RoutingDecision.mql_day)).all()}
    return total, daily


def rotations(session: Session) -> dict[str, RoutingRotation]:
    return {r.key: r for r in session.scalars(select(RoutingRotation))}


def save_rotation(session: Session, key: str, *, last_owner: str | None, counts: dict[str, int]) -> None:
    row = session.get(RoutingRotation, key)
    if row is None:
        session.add(RoutingRotation(key=key, last_owner=last_owner, counts=dict(counts)))
    else:
        row.last_owner, row.counts = last_owner, dict(counts)


def save_decisions(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert new decisions and overwrite retried unassigned ones (same person), in bulk."""
    if not rows:
        return 0
    existing = set(session.scalars(select(RoutingDecision.person_id).where(
        RoutingDecision.status == "unassigned")))
    fresh = [r for r in rows if r["person_id"] not in existing]
    retried = [r for r in rows if r["person_id"] in existing]
    for start in range(0, len(fresh), 20_000):
        session.execute(insert(RoutingDecision), fresh[start:start + 20_000])
    for r in retried:
        session.execute(update(RoutingDecision).where(RoutingDecision.person_id == r["person_id"])
                        .values(**{k: v for k, v in r.items() if k != "person_id"}))
    return len(rows)


def find_decision(session: Session, who: str) -> RoutingDecision | None:
    """The decision of a person id or (case-insensitive) email."""
    key = who.strip()
    found = session.scalar(select(RoutingDecision).where(RoutingDecision.person_id == key))
    if found is None:
        found = session.scalar(select(RoutingDecision).where(func.lower(RoutingDecision.email) == key.lower())
                               .order_by(RoutingDecision.id).limit(1))
    return found


def search_decisions(session: Session, *, status: str | None = None, owner: str | None = None,
                     rule: str | None = None, q: str | None = None, limit: int | None = 50,
                     offset: int = 0) -> tuple[list[RoutingDecision], int]:
    """One page of decisions (unassigned first, then newest first) and how many match."""
    query = select(RoutingDecision)
    if status:
        query = query.where(RoutingDecision.status == status)
    if owner:
        query = (query.where(RoutingDecision.owner.is_(None)) if owner == "-"
                 else query.where(func.lower(RoutingDecision.owner) == owner.strip().lower()))
    if rule:
        query = query.where(RoutingDecision.rule == rule)
    if q:
        query = query.where(func.lower(RoutingDecision.email).contains(q.strip().lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    unassigned_first = (RoutingDecision.status != "unassigned")
    page = query.order_by(unassigned_first, RoutingDecision.decided_at.desc(), RoutingDecision.mql_at.desc(),
                          RoutingDecision.id.desc()).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total


def decision_json(d: RoutingDecision) -> dict[str, Any]:
    return {c: getattr(d, c) for c in COLUMNS}
