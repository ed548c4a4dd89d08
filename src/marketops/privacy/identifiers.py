"""The values that identify one person, and how they are searched for, hashed and shown.

A :class:`Subject` gathers everything marketops holds that points at one human: every email of the
resolved person, their ``person_id``\\s, source record keys and ids, phones, names and the visitor
ids tied to them. Erasure searches tables and files for these; receipts show them only masked.

Example:
    >>> s = Subject(requested="ann@acme.com", emails={"ann@acme.com"}, person_ids={"P1"})
    >>> bool(s.pattern().search("x ann@acme.com y")), bool(s.pattern().search("joann@acme.com"))
    (True, False)
    >>> mask_email("ann@acme.com")
    'a•••@•••.com'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from marketops.quality.normalise_email import email as normalise_email
from marketops.state.privacy import value_hash

#: Characters that may sit next to an identifier without being part of it (emails and ids).
_WORD = r"a-z0-9._%+\-"
#: A pattern that matches nothing (a subject with nothing to look for).
NEVER = r"[^\s\S]"


def clean_email(value: str | None) -> str | None:
    """The address as marketops keys it (lower case, display name removed), else the text trimmed
    and lowered so that a malformed address can still be found.

    >>> clean_email(" Ann Lee <ANN@Acme.com> ")
    'ann@acme.com'
    """
    if value is None or not str(value).strip():
        return None
    result = normalise_email(str(value))
    return result.value if result.value else str(value).strip().lower()


def mask_email(value: str) -> str:
    """A masked address for receipts: first letter and top-level domain only."""
    local, _, domain = value.partition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}•••@•••.{tld}" if domain else "•••"


@dataclass
class Subject:
    """Everything that identifies one person (possibly several records under several emails)."""

    requested: str
    emails: set[str] = field(default_factory=set)
    person_ids: set[str] = field(default_factory=set)
    record_keys: set[str] = field(default_factory=set)
    #: (source system, record id) of the person's people records
    record_ids: set[tuple[str, str]] = field(default_factory=set)
    visitor_ids: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    #: full names as written ("Ann Lee"), used for caches and files only (never alone to match rows)
    names: set[str] = field(default_factory=set)
    #: per source system, how many people records were found (for the receipt)
    records_by_system: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.person_ids or self.record_keys or self.emails - {self.requested})

    def pattern(self) -> re.Pattern[str]:
        """A case-insensitive pattern matching any email, person id or record key as a whole word."""
        return re.compile(self.sql_pattern())

    def sql_pattern(self) -> str:
        """The same pattern in RE2 syntax for the warehouse (values lower-cased before matching)."""
        words = sorted({*self.emails, *(p.lower() for p in self.person_ids), *(k.lower() for k in self.record_keys)},
                       key=len, reverse=True)
        if not words:
            return NEVER
        alternation = "|".join(re.escape(w) for w in words)
        return rf"(^|[^{_WORD}])({alternation})($|[^{_WORD}])"

    def text_values(self) -> set[str]:
        """Every value searched for in files (lower case)."""
        return {*self.emails, *(p.lower() for p in self.person_ids), *(k.lower() for k in self.record_keys),
                *(n.lower() for n in self.names), *self.phones}

    def hashes(self) -> dict[str, set[str]]:
        """Hashed identifiers kept after erasure, by kind (see state.privacy.ErasedKey)."""
        return {"email": {value_hash(e) for e in self.emails},
                "record_key": {value_hash(k) for k in self.record_keys}}

    def summary(self) -> dict:
        """What was found, masked: safe to keep in a receipt."""
        return {"emails_found": len(self.emails), "emails": sorted(mask_email(e) for e in self.emails),
                "persons_found": len(self.person_ids), "records_by_system": dict(sorted(self.records_by_system.items())),
                "several_emails": len(self.emails) > 1}
