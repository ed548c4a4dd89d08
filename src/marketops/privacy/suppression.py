"""The suppression list: addresses and domains nobody may be exported to, whatever their consent.

An entry is an email (``ann@acme.com``) or a domain (``competitor.com``: every address there and
at its subdomains). Entries keep the value and its hash; an erased person's entries keep only the
hash, which still matches a re-imported address (see docs/privacy.md).

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> _ = init_db("sqlite://")
    >>> with session_scope("sqlite://") as s:
    ...     _ = add_suppression(s, "Competitor.com", reason="competitor", actor="ana@acme.test")
    ...     _ = add_suppression(s, "bo@x.io", reason="bounced", actor="ana@acme.test")
    ...     m = SuppressionMatcher.load(s)
    ...     m.suppressed("ann@mail.competitor.com"), m.suppressed("bo@x.io"), m.suppressed("cy@x.io")
    (True, True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed
from marketops.privacy.identifiers import clean_email, mask_email
from marketops.state.privacy import Suppression, value_hash

_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9-]+\.)+[a-z]{2,63}$")


def parse_entry(value: str) -> tuple[str, str]:
    """(kind, normalised value) of an email or a domain; ValidationFailed for anything else."""
    v = value.strip().lower().removeprefix("@")
    if "@" in v:
        address = clean_email(v)
        if address and "@" in address:
            return "email", address
    elif _DOMAIN.match(v):
        return "domain", v
    raise ValidationFailed(f"'{value}' is neither an email address nor a domain (e.g. ann@acme.com, competitor.com)")


def _entry(session: Session, kind: str, value: str) -> Suppression | None:
    return session.scalars(select(Suppression).where(Suppression.kind == kind,
                                                     Suppression.value_hash == value_hash(value))).first()


def add_suppression(session: Session, value: str, *, reason: str, actor: str) -> Suppression:
    """Add an email or domain (an existing entry is returned unchanged)."""
    kind, v = parse_entry(value)
    entry = _entry(session, kind, v)
    if entry is None:
        entry = Suppression(kind=kind, value=v, value_hash=value_hash(v), reason=reason.strip(), added_by=actor)
        session.add(entry)
        session.flush()
    return entry


def remove_suppression(session: Session, value_or_id: str | int) -> Suppression:
    """Remove an entry by id, email or domain. Entries of erased people (hash only) are removed by id."""
    if isinstance(value_or_id, int) or str(value_or_id).isdigit():
        entry = session.get(Suppression, int(value_or_id))
    else:
        entry = _entry(session, *parse_entry(str(value_or_id)))
    if entry is None:
        raise NotFound(f"'{value_or_id}' is not on the suppression list", hint="see `marketops suppress list`")
    session.delete(entry)
    session.flush()
    return entry


def list_suppressions(session: Session) -> list[Suppression]:
    return list(session.scalars(select(Suppression).order_by(Suppression.added_at.desc(), Suppression.id.desc())))


def as_row(entry: Suppression) -> dict:
    """An entry as shown: erased people appear as ``(erased)`` with the start of their hash."""
    return {"id": entry.id, "kind": entry.kind, "value": entry.value or f"(erased #{entry.value_hash[:10]})",
            "reason": entry.reason, "added_by": entry.added_by, "added_at": entry.added_at}


@dataclass
class SuppressionMatcher:
    """Email hashes and domains of the list, to test addresses or filter tables."""

    email_hashes: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def load(cls, session: Session, *, include_domains: bool = True) -> SuppressionMatcher:
        entries = list(session.execute(select(Suppression.kind, Suppression.value, Suppression.value_hash)))
        return cls(frozenset(h for k, _, h in entries if k == "email"),
                   frozenset(v for k, v, _ in entries if k == "domain" and v and include_domains))

    def suppressed(self, email: str | None) -> bool:
        address = clean_email(email)
        if not address:
            return False
        if value_hash(address) in self.email_hashes:
            return True
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def filter(self, table: ibis.Table, email_column: str = "email") -> ibis.Table:
        """``table`` without rows whose email is suppressed (hashes compared in Python on the
        distinct emails, so this works on every engine)."""
        if not (self.email_hashes or self.domains) or email_column not in table.columns:
            return table
        emails = table.select(_e=table[email_column].cast("string")).distinct().to_pyarrow()["_e"].to_pylist()
        blocked = [e for e in emails if e is not None and self.suppressed(e)]
        if not blocked:
            return table
        b = ibis.memtable(pa.table({"_blocked": pa.array(blocked, pa.string())}))
        return table.anti_join(b, table[email_column].cast("string") == b._blocked)


__all__ = ["SuppressionMatcher", "add_suppression", "as_row", "list_suppressions", "mask_email", "parse_entry",
           "remove_suppression"]


def without_suppressed(database_url: str, rows: list[dict], *, include_domains: bool = True,
                       email_key: str = "email") -> list[dict]:
    """``rows`` (dicts with an email) without the suppressed ones: for downloads of the web app."""
    from marketops.state.db import session_scope

    with session_scope(database_url) as session:
        matcher = SuppressionMatcher.load(session, include_domains=include_domains)
    if not (matcher.email_hashes or matcher.domains):
        return rows
    return [r for r in rows if not matcher.suppressed(r.get(email_key))]
