"""The log of alert digests sent: one row per recipient and send, so that a digest goes out once a day
(a second send the same day is refused unless forced) and admins can see what was sent.

Example:
    >>> from datetime import date
    >>> row = AlertDigest(day=date(2026, 11, 24), recipient="ana@acme.test", subject="3 alerts", alerts=3)
    >>> row.recipient, row.alerts
    ('ana@acme.test', 3)
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketops.state.models import Base, UTCDateTime, utcnow


class AlertDigest(Base):
    """One digest email sent to one recipient."""

    __tablename__ = "alert_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The day the digest covers, in the workspace time zone.
    day: Mapped[date] = mapped_column(Date, index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    #: How many alerts the digest held.
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who sent it: "cli", a user's email, or "scheduler".
    sent_by: Mapped[str] = mapped_column(String(320), default="")
