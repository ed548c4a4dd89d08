"""Tables of the app database: users, API tokens, audit events, merge decisions.

Timestamps are stored in UTC and always come back timezone-aware, also on SQLite (which keeps
no zone): :class:`UTCDateTime` attaches it on read.

Example:
    >>> User(email="ana@acme.test", role="viewer").role in ROLES
    True
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Roles, from most to least powerful: admins manage users and settings, editors change data
#: and plans, viewers read.
ROLES = ("admin", "editor", "viewer")
#: API token scopes; a token never grants more than its user's role allows.
SCOPES = ("read", "write", "admin")
#: Merge decisions: two source records must (``always``) or must not (``never``) be one person.
DECISIONS = ("always", "never")
#: Where a merge decision came from: a reviewer accepting or rejecting a suggested pair, a record
#: split off its person, or two records joined by hand.
ORIGINS = ("review_accept", "review_reject", "split", "manual")


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and returned timezone-aware on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value (e.g. utcnow())")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# Named constraints so that later migrations can alter them on every backend (SQLite batch mode
# and PostgreSQL both need the names).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person who can sign in to the web app."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The web app's language for this user (a code of app.i18n.LANGUAGES); None: the workspace's.
    language: Mapped[str | None] = mapped_column(String(8), default=None)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}{'' if self.active else ' inactive'}>"


class ApiToken(Base):
    """A bearer token for the REST API; only a hash of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["read"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} {' '.join(self.scopes)}{' revoked' if self.revoked_at else ''}>"


class AuditEvent(Base):
    """Who did what, to what, when and from where; never holds secrets."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str | None] = mapped_column(String(500), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target or ''}>"


class MergeDecision(Base):
    """A person's decision that two source records are (or are not) the same human.

    The pair is stored in sorted order (``record_key_a < record_key_b``, compared as Python
    compares strings; the database's collation may differ, so the order is not a database
    check) and is unique: a pair has at most one live decision. Revoking deletes the row; the
    audit log keeps the history.
    """

    __tablename__ = "merge_decisions"
    __table_args__ = (
        UniqueConstraint("record_key_a", "record_key_b"),
        CheckConstraint("decision IN ('always', 'never')", name="decision"),
        CheckConstraint("origin IN ('review_accept', 'review_reject', 'split', 'manual')", name="origin"),
        CheckConstraint("record_key_a <> record_key_b", name="two_records"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key_a: Mapped[str] = mapped_column(String(500))
    record_key_b: Mapped[str] = mapped_column(String(500), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(16))
    pair_id: Mapped[str | None] = mapped_column(String(128), default=None)
    match_probability: Mapped[float | None] = mapped_column(Float, default=None)
    note: Mapped[str | None] = mapped_column(String(2000), default=None)
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<MergeDecision {self.id} {self.decision} {self.record_key_a} {self.record_key_b}>"


__all__ = ["DECISIONS", "ORIGINS", "ROLES", "SCOPES", "ApiToken", "AuditEvent", "Base", "MergeDecision",
           "UTCDateTime", "User", "utcnow"]
