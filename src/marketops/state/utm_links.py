"""UTM link register: every tagged link built with the link builder.

One row per final tagged URL (unique through ``url_hash``, the SHA-256 of the final URL: a URL can
be longer than an index allows): building the same link again returns the existing entry, so
the register lists each link once with who built it first. Creating an entry is audited
(action ``utm.link``).

Example:
    >>> link = UtmLink(url="https://a.io/", final_url="https://a.io/?utm_source=x", url_hash=url_hash("x"),
    ...                params={"utm_source": "x"}, created_by="ana@acme.com")
    >>> link.created_by
    'ana@acme.com'
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketops.state.audit import record
from marketops.state.models import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from marketops.quality.utm_builder import BuiltLink

#: Columns of the register as listed and downloaded.
COLUMNS = ("id", "final_url", "url", "source", "medium", "campaign", "term", "content", "created_by", "created_at",
           "notes")


class UtmLink(Base):
    """One tagged link in the register."""

    __tablename__ = "utm_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The landing page as given (scheme added when missing), before tagging.
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    #: SHA-256 of final_url: what makes the register hold each link once.
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The UTM parameters on the link ({"utm_source": ..., ...}).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str | None] = mapped_column(String(500), default=None, index=True)
    medium: Mapped[str | None] = mapped_column(String(500), default=None)
    campaign: Mapped[str | None] = mapped_column(String(500), default=None, index=True)
    term: Mapped[str | None] = mapped_column(String(500), default=None)
    content: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")


def url_hash(final_url: str) -> str:
    """The register's key for a final URL.

    >>> len(url_hash("https://a.io/?utm_source=x"))
    64
    """
    return hashlib.sha256(final_url.encode("utf-8")).hexdigest()


def register_link(session: Session, link: BuiltLink, *, actor: str, notes: str = "",
                  ip: str | None = None) -> tuple[UtmLink, bool]:
    """The register's entry for ``link``: the existing one, or a new one (audited); and whether it is new."""
    key = url_hash(link.final_url)
    existing = session.scalar(select(UtmLink).where(UtmLink.url_hash == key))
    if existing is not None:
        return existing, False
    p = link.params
    entry = UtmLink(url=link.url, final_url=link.final_url, url_hash=key, params=dict(p),
                    source=p.get("utm_source"), medium=p.get("utm_medium"), campaign=p.get("utm_campaign"),
                    term=p.get("utm_term"), content=p.get("utm_content"), created_by=actor, notes=notes or "")
    session.add(entry)
    session.flush()
    record(session, actor, "utm.link", f"utm_link:{entry.id}",
           {"final_url": link.final_url, "fixed": [f.param for f in link.fixed]}, ip)
    return entry, True


def search_links(session: Session, *, q: str | None = None, campaign: str | None = None,
                 limit: int | None = 100, offset: int = 0) -> tuple[list[UtmLink], int]:
    """One page of the register, newest first, and how many match in all. ``q`` searches the URL,
    source, medium, campaign, content, creator and notes (case-insensitively)."""
    query = select(UtmLink)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(*(func.lower(c).like(like) for c in (
            UtmLink.final_url, UtmLink.source, UtmLink.medium, UtmLink.campaign, UtmLink.content,
            UtmLink.created_by, UtmLink.notes))))
    if campaign:
        query = query.where(UtmLink.campaign == campaign)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(UtmLink.created_at.desc(), UtmLink.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def link_json(link: UtmLink) -> dict[str, Any]:
    """One register entry as the API and downloads show it."""
    return {c: getattr(link, c) for c in COLUMNS}
