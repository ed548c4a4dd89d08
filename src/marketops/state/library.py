"""The register of digital assets (file or URL, type, tags, owner, usage rights and when they end)
and the record of initiatives created from a template.

Playbooks are not here: they stay markdown files in the workspace (versioned like code), and their
search index lives under ``.marketops/``.

Example:
    >>> from datetime import date
    >>> a = Asset(name="Logo (dark)", type="logo", location="brand/logo-dark.svg", tags=["brand"],
    ...           expires_on=date(2027, 1, 31))
    >>> a.type, a.tags, a.expires_on.isoformat()
    ('logo', ['brand'], '2027-01-31')
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketops.state.models import Base, UTCDateTime, utcnow


class Asset(Base):
    """One digital asset the team may use: where it is, who owns it, and until when it may be used."""

    __tablename__ = "library_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    #: One of ``library.asset_types`` (image, video, document, logo...).
    type: Mapped[str] = mapped_column(String(40), index=True)
    #: A file path (relative to the workspace or a shared drive) or a URL.
    location: Mapped[str] = mapped_column(String(2000), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner: Mapped[str] = mapped_column(String(320), default="", index=True)
    #: What the licence allows, in words ("Web and social only, no print; credit 'Photo: J. Doe'").
    usage_rights: Mapped[str] = mapped_column(Text, default="")
    #: The last day the asset may be used; null: no end.
    expires_on: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Asset {self.id} {self.name!r} {self.type}>"


class TemplateRun(Base):
    """An initiative created from a template: which template, with which values, by whom."""

    __tablename__ = "library_template_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template: Mapped[str] = mapped_column(String(100), index=True)
    #: Null once the initiative is deleted (the run stays as history).
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id", ondelete="SET NULL"),
                                                      index=True, default=None)
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    owner: Mapped[str] = mapped_column(String(320), default="")
    #: The placeholder values used, e.g. {"campaign": "Spring webinar"}.
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["Asset", "TemplateRun"]
