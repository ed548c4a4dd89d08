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

from sqlalchemy import func, select
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


def search(session: Session, *, actor: str | None = None, action: str | None = None, limit: int = 50,
           offset: int = 0) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first, and how many match in all.

    ``actor`` matches case-insensitively anywhere in the actor; ``action`` is exact, or a prefix
    when it ends with a dot (``user.`` gives every user change).

    Example:
        >>> import tempfile, pathlib
        >>> from marketops.state.db import init_db, session_scope
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
        >>> _ = init_db(url)
        >>> with session_scope(url) as s:
        ...     _ = record(s, "ana@acme.test", "user.role", "bo@acme.test")
        ...     _ = record(s, "cli", "token.create", "token:1")
        ...     events, total = search(s, action="user.")
        ...     [e.actor for e in events], total
        (['ana@acme.test'], 1)
    """
    query = select(AuditEvent)
    if actor:
        query = query.where(func.lower(AuditEvent.actor).contains(actor.strip().lower(), autoescape=True))
    if action:
        query = (query.where(AuditEvent.action.startswith(action, autoescape=True)) if action.endswith(".")
                 else query.where(AuditEvent.action == action))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def actions(session: Session) -> list[str]:
    """Every action the log holds, sorted (for filter menus)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
