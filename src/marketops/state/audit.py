"""The audit log: who did what, to what, when and from where.

Callers pass facts, never secrets: no passwords, no token values.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> _ = init_db("sqlite://")
    >>> with session_scope("sqlite://") as s:
    ...     ev = record(s, "ana@acme.test", "user.create", "bo@acme.test", {"role": "viewer"}, "127.0.0.1")
    ...     ev.action, ev.detail
    ('user.create', {'role': 'viewer'})
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.state.models import AuditEvent

#: Actor name for things the system does by itself (first admin, migrations...).
SYSTEM = "system"


def record(session: Session, actor: str, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None, ip: str | None = None) -> AuditEvent:
    """Add one audit event to ``session`` (committed with the change it describes)."""
    event = AuditEvent(actor=actor, action=action, target=target, detail=dict(detail or {}), ip=ip)
    session.add(event)
    session.flush()
    return event


def recent(session: Session, limit: int = 50, *, action: str | None = None) -> list[AuditEvent]:
    """The newest events first, optionally only one ``action``."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))
