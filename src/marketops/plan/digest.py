"""The daily alert digest by email: one message per recipient with the alerts routed to them
(a plain-text part and a simple HTML part), sent through the SMTP server of ``alerts.smtp``.

Every digest sent is logged (:class:`~marketops.state.alerts.AlertDigest`): a second send on the
same day (workspace time zone) skips the recipients already served and says "already sent today",
unless forced. Recipients with nothing to report get no email.

The SMTP password is read from the environment variable ``alerts.smtp.password_env`` only when
sending, and never appears in a message or a log line: failures say which server, which step
(connect, STARTTLS, login, send) and the server's reason.

Example:
    >>> import datetime as dt
    >>> from marketops.plan.alerts import Alert
    >>> d = build_digest("ana@acme.test", [Alert("task", "critical", "Overdue task: Launch", "Due 1 March.", "/tasks/1")],
    ...                  day=dt.date(2026, 3, 11), workspace="Acme", base_url="https://ops.acme.test")
    >>> d.subject
    'Acme alerts 2026-03-11: 1 alert (1 critical) - 1 overdue task'
    >>> "https://ops.acme.test/tasks/1" in d.text and "<h2>Overdue tasks</h2>" in d.html
    True
"""

from __future__ import annotations

import datetime as dt
import html
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.errors import MarketopsError
from marketops.plan.alert_config import ALERT_KINDS, AlertsConfig, SmtpConfig, check_email
from marketops.plan.alerts import KIND_TITLES, Alert
from marketops.state.alerts import AlertDigest
from marketops.state.audit import record

_NOUNS = {"goal": ("goal", "goals"), "budget": ("pacing alert", "pacing alerts"), "sla": ("SLA", "SLAs"),
          "task": ("overdue task", "overdue tasks"), "lead": ("untouched MQL", "untouched MQLs"),
          "stack": ("renewal", "renewals"), "asset": ("asset expiring", "assets expiring")}


class DigestError(MarketopsError):
    """The digest could not be sent (the server refused, could not be reached, or is not configured)."""

    transient = True


@dataclass
class Digest:
    """One recipient's digest."""

    recipient: str
    alerts: list[Alert]
    subject: str
    text: str
    html: str

    def to_json(self, *, body: bool = False) -> dict[str, Any]:
        out = {"recipient": self.recipient, "subject": self.subject, "alerts": len(self.alerts),
               "keys": [a.key for a in self.alerts]}
        if body:
            out |= {"text": self.text, "html": self.html}
        return out


@dataclass
class DigestResult:
    """What a send did: sent to, skipped because already sent today, skipped because empty."""

    day: dt.date
    sent: list[Digest] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = []
        if self.sent:
            parts.append(f"Sent the {self.day.isoformat()} digest to " + ", ".join(d.recipient for d in self.sent) + ".")
        if self.already_sent:
            parts.append("Already sent today to " + ", ".join(self.already_sent)
                         + " (use --force, or force=true, to send again).")
        if self.empty:
            parts.append("Nothing to report for " + ", ".join(self.empty) + ".")
        return " ".join(parts) or "Nobody receives the digest: add recipients under alerts: recipients: in marketops.yaml."

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "sent": [d.to_json() for d in self.sent],
                "already_sent": self.already_sent, "empty": self.empty, "message": self.message}


def subject_of(alerts: Sequence[Alert], day: dt.date, workspace: str) -> str:
    """The subject: the counts, so the inbox tells what is inside."""
    n = len(alerts)
    critical = sum(a.severity == "critical" for a in alerts)
    kinds = []
    for kind in ALERT_KINDS:
        k = sum(a.kind == kind for a in alerts)
        if k:
            one, many = _NOUNS[kind]
            kinds.append(f"{k} {one if k == 1 else many}")
    head = f"{workspace} alerts {day.isoformat()}: {n} alert{'s' if n != 1 else ''}"
    return head + (f" ({critical} critical)" if critical else "") + (" - " + ", ".join(kinds) if kinds else "")


def build_digest(recipient: str, alerts: Sequence[Alert], *, day: dt.date, workspace: str, base_url: str) -> Digest:
    """The email for ``recipient``: alerts grouped by kind, most severe first, each with its link."""
    alerts = list(alerts)
    subject = subject_of(alerts, day, workspace)
    text = [subject, "=" * min(len(subject), 72), ""]
    parts = [f"<h1 style=\"font-size:18px\">{html.escape(subject)}</h1>"]
    for kind in ALERT_KINDS:
        group = [a for a in alerts if a.kind == kind]
        if not group:
            continue
        text += [KIND_TITLES[kind], "-" * len(KIND_TITLES[kind])]
        parts.append(f"<h2>{html.escape(KIND_TITLES[kind])}</h2><ul>")
        for a in group:
            url = base_url.rstrip("/") + a.link
            text += [f"[{a.severity.upper()}] {a.title}", f"  {a.message}", f"  {url}", ""]
            colour = "#b42318" if a.severity == "critical" else "#b54708"
            parts.append(f"<li><strong style=\"color:{colour}\">{html.escape(a.severity.title())}</strong> "
                         f"<a href=\"{html.escape(url, quote=True)}\">{html.escape(a.title)}</a><br>"
                         f"{html.escape(a.message)}</li>")
        parts.append("</ul>")
    footer = f"Open the alerts page: {base_url.rstrip('/')}/alerts"
    text += ["", footer]
    parts.append(f"<p><a href=\"{html.escape(base_url.rstrip('/') + '/alerts', quote=True)}\">Open the alerts "
                 "page</a></p>")
    body = "<html><body style=\"font-family:system-ui,sans-serif\">" + "".join(parts) + "</body></html>"
    return Digest(recipient, alerts, subject, "\n".join(text) + "\n", body)


def plan_digests(alerts: Sequence[Alert], config: AlertsConfig, *, day: dt.date, workspace: str,
                 to: str | None = None) -> list[Digest]:
    """One digest per recipient (empty ones included), or only for ``to``: a configured recipient gets
    their own alerts, any other address every alert."""
    if to is not None:
        to = check_email_or_fail(to)
        configured = {r.email for r in config.recipients}
        mine = [a for a in alerts if to in a.recipients] if to in configured else list(alerts)
        return [build_digest(to, mine, day=day, workspace=workspace, base_url=config.base_url)]
    return [build_digest(r.email, [a for a in alerts if r.email in a.recipients], day=day, workspace=workspace,
                         base_url=config.base_url) for r in config.recipients]


def check_email_or_fail(value: str) -> str:
    try:
        return check_email(value)
    except ValueError as e:
        raise MarketopsError(str(e)) from None


def sent_today(session: Session, day: dt.date) -> dict[str, AlertDigest]:
    """The newest digest logged per recipient on ``day``."""
    rows = session.scalars(select(AlertDigest).where(AlertDigest.day == day).order_by(AlertDigest.id))
    return {r.recipient: r for r in rows}


def send_digests(session: Session, smtp: SmtpConfig, digests: Sequence[Digest], *, day: dt.date, actor: str,
                 force: bool = False, ip: str | None = None) -> DigestResult:
    """Send ``digests`` (skipping empty ones, and recipients served today unless ``force``), log each."""
    result = DigestResult(day)
    done = sent_today(session, day)
    todo = []
    for d in digests:
        if not d.alerts:
            result.empty.append(d.recipient)
        elif d.recipient in done and not force:
            result.already_sent.append(d.recipient)
        else:
            todo.append(d)
    if not todo:
        return result
    deliver(smtp, [message_of(smtp, d) for d in todo])
    for d in todo:
        session.add(AlertDigest(day=day, recipient=d.recipient, subject=d.subject[:500], alerts=len(d.alerts),
                                sent_by=actor))
        result.sent.append(d)
    record(session, actor, "alerts.digest", f"digest:{day.isoformat()}",
           {"recipients": [d.recipient for d in todo], "alerts": {d.recipient: len(d.alerts) for d in todo},
            "forced": force}, ip)
    return result


def message_of(smtp: SmtpConfig, digest: Digest) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = digest.subject
    msg["From"] = smtp.from_address
    msg["To"] = digest.recipient
    msg["Message-ID"] = make_msgid(domain=smtp.from_address.rpartition("@")[2] or None)
    msg.set_content(digest.text)
    msg.add_alternative(digest.html, subtype="html")
    return msg


def _password(smtp: SmtpConfig) -> str | None:
    if not smtp.username:
        return None
    value = os.environ.get(smtp.password_env)
    if not value:
        raise DigestError(f"cannot log in to the SMTP server {smtp.host}:{smtp.port} as {smtp.username}: the "
                          f"environment variable {smtp.password_env} (alerts.smtp.password_env) is not set",
                          hint=f"set {smtp.password_env} where marketops runs")
    return value


def deliver(smtp: SmtpConfig, messages: Sequence[EmailMessage]) -> None:
    """Send ``messages`` over one connection; DigestError with a plain reason on any failure."""
    if not smtp.host:
        # a setting to fix, not a server failure: a plain MarketopsError (the API answers 400)
        raise MarketopsError("no SMTP server is configured: set alerts.smtp.host (and port, from_address) in "
                             "marketops.yaml")
    password = _password(smtp)
    where = f"{smtp.host}:{smtp.port}"
    step = "connect to"
    try:
        context = ssl.create_default_context()
        if smtp.ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with conn:
            if smtp.starttls and not smtp.ssl:
                step = "start TLS (STARTTLS) with"
                conn.starttls(context=context)
            if smtp.username:
                step = f"log in as {smtp.username} to"
                conn.login(smtp.username, password or "")
            for m in messages:
                step = f"send the digest to {m['To']} through"
                conn.send_message(m)
    except smtplib.SMTPNotSupportedError as e:
        raise DigestError(_scrub(f"could not {step} the SMTP server {where}: the server does not support it ({e})",
                                 password), hint="check alerts.smtp.starttls and alerts.smtp.ssl") from None
    except smtplib.SMTPAuthenticationError as e:
        raise DigestError(_scrub(f"could not {step} the SMTP server {where}: the server refused the login "
                                 f"({e.smtp_code} {_text(e.smtp_error)})", password),
                          hint=f"check alerts.smtp.username and the password in {smtp.password_env}") from None
    except smtplib.SMTPResponseException as e:
        raise DigestError(_scrub(f"could not {step} the SMTP server {where}: {e.smtp_code} {_text(e.smtp_error)}",
                                 password)) from None
    except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as e:
        reason = "no answer within the timeout" if isinstance(e, TimeoutError) else (
            getattr(e, "strerror", None) or str(e) or type(e).__name__)
        raise DigestError(_scrub(f"could not {step} the SMTP server {where}: {reason}", password),
                          hint="check alerts.smtp.host, port, ssl and starttls") from None


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _scrub(message: str, password: str | None) -> str:
    """Never let the password through, whatever the server echoes back."""
    return message.replace(password, "***") if password else message


def local_today(timezone: str) -> dt.date:
    """Today in the workspace time zone (the digest's day)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()


def prepare(ws: Any, session: Session, *, today: dt.date | None = None, to: str | None = None,
            pacing: Any = None) -> tuple[Any, list[Digest]]:
    """The alerts (see :func:`~marketops.plan.alerts.collect_alerts`) and the digests they make today."""
    from marketops.plan.alerts import collect_alerts

    day = today or local_today(ws.config.timezone)
    listed = collect_alerts(ws, session, today=day, pacing=pacing)
    return listed, plan_digests(listed.alerts, ws.config.alerts, day=day, workspace=ws.config.name, to=to)


def config_problem(config: AlertsConfig) -> str | None:
    """Why digests cannot be sent with this configuration (None when they can)."""
    if not config.smtp.host:
        return "no SMTP server is configured (alerts.smtp.host)"
    if not config.recipients:
        return "nobody receives the digest (alerts.recipients)"
    return None


__all__ = ["Digest", "DigestError", "DigestResult", "build_digest", "config_problem", "deliver", "local_today",
           "plan_digests", "prepare", "send_digests", "sent_today", "subject_of"]
