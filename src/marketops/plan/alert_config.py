"""Alerts and the daily digest: the ``alerts:`` section of marketops.yaml.

The SMTP password is never written in the file: ``password_env`` names the environment variable that
holds it (``MARKETOPS_SMTP_PASSWORD`` by default), read only when a digest is sent.

Example:
    >>> cfg = AlertsConfig.model_validate({"smtp": {"host": "smtp.acme.test", "from_address": "ops@acme.test"},
    ...     "recipients": [{"email": "Ana@Acme.test", "kinds": ["tasks", "goal"], "only_own": True}]})
    >>> cfg.smtp.port, cfg.recipients[0].email, cfg.recipients[0].kinds
    (587, 'ana@acme.test', ['goal', 'task'])
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import known_name

#: What an alert is about: a goal at risk or off track, budget pacing, an SLA breach, an overdue task,
#: an MQL near or past its speed-to-lead target, a martech tool renewing soon, an asset whose usage rights
#: expire.
ALERT_KINDS = ("goal", "budget", "sla", "task", "lead", "stack", "asset")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_email(value: str) -> str:
    """``value`` trimmed and lower-cased when it looks like an email address; ValueError otherwise.

    >>> check_email(" Ana@Acme.test ")
    'ana@acme.test'
    """
    v = str(value).strip().lower()
    if not _EMAIL.match(v):
        raise ValueError(f"'{value}' is not an email address (e.g. ana@acme.test)")
    return v


class SmtpConfig(BaseModel):
    """The mail server the digest goes through."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(default=None, description="SMTP server host name; unset: digests cannot be sent "
                             "(they can still be shown).")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port: 587 for STARTTLS, 465 for SSL, 25 plain.")
    from_address: str = Field(default="marketops@localhost", description="Sender address of the digest.")
    username: str | None = Field(default=None, description="Login name; unset: no login.")
    password_env: str = Field(default="MARKETOPS_SMTP_PASSWORD", description="Name of the environment variable "
                              "holding the SMTP password (never the password itself).")
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS before logging in.")
    ssl: bool = Field(default=False, description="Connect over SSL/TLS from the start (port 465); excludes starttls.")
    timeout: float = Field(default=30, gt=0, le=600, description="Seconds to wait for the server before giving up.")

    @field_validator("from_address")
    @classmethod
    def _from(cls, v: str) -> str:
        v = v.strip()
        if "@" not in v or " " in v:
            raise ValueError(f"'{v}' is not an email address (e.g. marketops@acme.test)")
        return v

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV.match(v):
            raise ValueError("password_env names an environment variable (e.g. MARKETOPS_SMTP_PASSWORD), not the "
                             "password itself: set the variable where marketops runs")
        return v

    @model_validator(mode="after")
    def _one_tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (port 465) or starttls (port 587), not both: set starttls: false with ssl")
        return self


class Recipient(BaseModel):
    """Who receives the digest, and which alerts."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(description="Where the digest goes.")
    kinds: list[str] = Field(default_factory=lambda: list(ALERT_KINDS),
                             description="Which alerts: " + ", ".join(ALERT_KINDS) + " (default: all).")
    only_own: bool = Field(default=False, description="Only alerts this person owns: their overdue tasks, their "
                           "goals, SLAs naming them as owner (matched on email or their user name).")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return check_email(v)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        out = {known_name("alert kind", str(k).strip().lower().removesuffix("s")
                          if str(k).strip().lower() not in ALERT_KINDS else str(k).strip().lower(), ALERT_KINDS)
               for k in v}
        if not out:
            raise ValueError("a recipient needs at least one kind of alert: " + ", ".join(ALERT_KINDS))
        return sorted(out, key=ALERT_KINDS.index)


class AlertsConfig(BaseModel):
    """The ``alerts:`` section: SMTP server, recipients and alert settings."""

    model_config = ConfigDict(extra="forbid")

    smtp: SmtpConfig = Field(default_factory=SmtpConfig, description="The mail server for the daily digest.")
    recipients: list[Recipient] = Field(default_factory=list, description="Who receives the digest and which alerts.")
    base_url: str = Field(default="http://localhost:8000", description="Address of the web app, for the links in "
                          "emails (e.g. https://marketops.acme.test).")
    pacing_tolerance: float = Field(default=0.10, ge=0, le=10, description="Budget pacing alerts beyond this share "
                                    "ahead of or behind the expected curve (0.1 = 10%).")
    overdue_critical_days: int = Field(default=7, ge=0, description="A task overdue by more than this many days is "
                                       "critical (otherwise a warning).")

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v.strip()):
            raise ValueError(f"'{v}' is not a web address; write e.g. https://marketops.acme.test")
        return v.strip().rstrip("/")

    @model_validator(mode="after")
    def _unique(self) -> AlertsConfig:
        emails = [r.email for r in self.recipients]
        dup = sorted({e for e in emails if emails.count(e) > 1})
        if dup:
            raise ValueError(f"each recipient once; repeated: {', '.join(dup)}")
        return self
