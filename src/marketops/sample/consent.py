"""The sample company's consent log: what a consent-management platform exports.

Acme Analytics collects consent on its web forms (email marketing, analytics cookies), lets people
change their mind in a preference centre, and imported consent from an old newsletter tool. The log
(``inbox/consent_log.csv``) covers about half of the contacts of the HubSpot export, with a few rows
a real export has too: a purpose nobody configured (``sms``) and an unreadable timestamp, which
marketops quarantines with the reason.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "inbox").mkdir()
    >>> _ = (d / "inbox" / "hubspot_contacts.csv").write_text(
    ...     "Record ID,Email,Create Date,Unsubscribed from all email\\n" +
    ...     "".join(f"{i},p{i}@acme.io,2024-03-0{i % 9 + 1} 10:00,{'true' if i == 3 else 'false'}\\n" for i in range(40)))
    >>> n = write_consent_log(d / "inbox", seed=1)
    >>> lines = (d / "inbox" / "consent_log.csv").read_text().splitlines()
    >>> lines[0], n == len(lines) - 1
    ('Email,Purpose,Status,Source,Timestamp', True)
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

FILE = "consent_log.csv"
_SOURCES_GRANT = ("web form", "web form", "web form", "webinar registration", "import (newsletter tool)")


def _contacts(inbox: Path) -> list[tuple[str, datetime, bool]]:
    path = inbox / "hubspot_contacts.csv"
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            email = (row.get("Email") or "").strip()
            try:
                created = datetime.strptime((row.get("Create Date") or "")[:16], "%Y-%m-%d %H:%M")
            except ValueError:
                continue
            if "@" in email:
                out.append((email, created, (row.get("Unsubscribed from all email") or "").lower() == "true"))
    return out


def write_consent_log(inbox: Path, *, seed: int = 7, share: float = 0.5) -> int:
    """Write ``consent_log.csv`` into ``inbox`` from the HubSpot contacts there; return the rows written."""
    rng = np.random.default_rng(seed)
    rows: list[list[str]] = []

    def ts(t: datetime) -> str:
        return t.strftime("%Y-%m-%d %H:%M:%S")

    for email, created, unsubscribed in _contacts(inbox):
        if rng.random() > share:
            continue
        at = created + timedelta(minutes=int(rng.integers(0, 5)))
        rows.append([email, "email_marketing", "granted", str(rng.choice(_SOURCES_GRANT)), ts(at)])
        if rng.random() < 0.6:  # the cookie banner on the same visit
            rows.append([email, "tracking", "granted" if rng.random() < 0.7 else "denied", "cookie banner", ts(at)])
        if rng.random() < 0.25:
            rows.append([email, "profiling", "granted", "web form", ts(at)])
        if unsubscribed or rng.random() < 0.08:  # changed their mind later
            later = at + timedelta(days=int(rng.integers(5, 200)))
            rows.append([email, "email_marketing", "withdrawn", "preference centre", ts(later)])
        elif rng.random() < 0.04:
            later = at + timedelta(days=int(rng.integers(5, 200)))
            rows.append([email, "tracking", "withdrawn", "preference centre", ts(later)])
    if len(rows) > 10:  # the dirt of a real export: a purpose nobody configured, a broken timestamp
        rows.insert(len(rows) // 3, [rows[3][0], "sms", "granted", "web form", rows[3][4]])
        rows.insert(len(rows) // 2, [rows[7][0], "tracking", "granted", "cookie banner", "31/31/2024 25:00"])
    with (inbox / FILE).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Email", "Purpose", "Status", "Source", "Timestamp"])
        w.writerows(rows)
    return len(rows)


SAMPLE_PRIVACY_YAML = """
# Consent and privacy (docs/privacy.md): what "no record" means per purpose, and how long data is kept.
privacy:
  purposes:
    email_marketing: {basis: opt_out}
    tracking: {basis: opt_in}
    profiling: {basis: opt_in}
  retention:
    - {table: touchpoints, older_than_days: 1095}
    - {table: web_traffic, older_than_days: 1095}
    - {table: _quarantine, older_than_days: 180}
"""


def seed_sample_consent(ws) -> int:
    """Write the sample consent log into a workspace's inbox and the sample's ``privacy:`` rules into
    its marketops.yaml, unless it has its own (``marketops init --sample``)."""
    import re

    config = ws.root / "marketops.yaml"
    text = config.read_text(encoding="utf-8")
    if not re.search(r"^privacy\s*:", text, re.MULTILINE):
        config.write_text(text.rstrip("\n") + "\n" + SAMPLE_PRIVACY_YAML, encoding="utf-8")
    return write_consent_log(ws.inbox)
