"""Consent and privacy in the app database: consent records set from the API, the web app or the
CLI; the suppression list; erasure receipts and the hashed identifiers of erased people.

Erased values are never stored: suppression entries and erased keys keep a SHA-256 of the
normalised value (:func:`value_hash`), enough to recognise the person if a later export brings
them back, not enough to read who they were from the table.

Example:
    >>> value_hash(" Ann@Acme.COM ") == value_hash("ann@acme.com")
    True
    >>> ConsentRecord(email="ann@acme.com", purpose="tracking", status="granted", source="api").status
    'granted'
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketops.state.models import Base, UTCDateTime, utcnow

#: A consent record's status.
CONSENT_STATUSES = ("granted", "withdrawn")
#: What a suppression entry matches.
SUPPRESSION_KINDS = ("email", "domain")


def value_hash(value: str) -> str:
    """SHA-256 (hex) of a value trimmed and case-folded: how erased and suppressed emails are kept."""
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


class ConsentRecord(Base):
    """One consent decision for a person and purpose, as given through the API, web app or CLI."""

    __tablename__ = "privacy_consent_records"
    __table_args__ = (CheckConstraint("status IN ('granted', 'withdrawn')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    purpose: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    #: where the decision came from: api, web, cli, preference_centre...
    source: Mapped[str] = mapped_column(String(200), default="api")
    #: when the person gave or withdrew consent (may be earlier than when it was recorded)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recorded_by: Mapped[str] = mapped_column(String(320), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """An address or domain nobody may be exported to. ``value`` is empty once the person is erased:
    ``value_hash`` alone keeps them suppressed."""

    __tablename__ = "privacy_suppressions"
    __table_args__ = (CheckConstraint("kind IN ('email', 'domain')", name="kind"),
                      UniqueConstraint("kind", "value_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="email")
    value: Mapped[str | None] = mapped_column(String(320), default=None)
    value_hash: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    added_by: Mapped[str] = mapped_column(String(320), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Erasure(Base):
    """The receipt of one erasure request: what was removed where, never the values themselves."""

    __tablename__ = "privacy_erasures"
    __table_args__ = (CheckConstraint("status IN ('erased', 'nothing_found')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: hash of the email the request named (proof of which request this answers)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(320), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    emails_found: Mapped[int] = mapped_column(Integer, default=0)
    persons_found: Mapped[int] = mapped_column(Integer, default=0)
    rows_removed: Mapped[int] = mapped_column(Integer, default=0)
    #: tables/files/app tables with counts and how (deleted, anonymised); see privacy.erase.Receipt
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class ErasedKey(Base):
    """A hashed identifier of an erased person (email, record key, phone): the pipeline drops rows
    that carry one, so a re-import does not bring the person back."""

    __tablename__ = "privacy_erased_keys"
    __table_args__ = (UniqueConstraint("kind", "value_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erasure_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_erasures.id", ondelete="SET NULL"),
                                                   index=True, default=None)
    kind: Mapped[str] = mapped_column(String(16))
    value_hash: Mapped[str] = mapped_column(String(64), index=True)
