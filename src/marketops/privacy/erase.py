"""Erasure of one person everywhere marketops keeps data, with a receipt.

``erase_person(ws, "ann@acme.com", actor=...)``:

1. resolves the person (:mod:`marketops.privacy.resolve`): every record and email of them;
2. deletes or anonymises their rows in every warehouse table (:mod:`.erase_warehouse`);
3. in the app database deletes their consent records, routing decisions and merge decisions,
   and replaces mentions in audit events, tasks, comments and other records by ``[erased]``;
4. rewrites the files marketops produced (:mod:`.erase_files`) and reports the inbox files that
   still hold them (rewritten with ``inbox=True``);
5. keeps hashes of their emails and record keys (suppression list and ``privacy_erased_keys``) so
   that the pipeline drops them if an export brings them back;
6. writes a receipt (``privacy_erasures``): what was removed where, never the values.

A person marketops does not know still gets a receipt, with status ``nothing_found``.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.pipeline import run_pipeline
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Email,First Name\\nann@x.com,Ann\\nbo@x.com,Bo\\n")
    >>> _ = run_pipeline(ws)
    >>> r = erase_person(ws, "ann@x.com", actor="dpo@acme.test")
    >>> r.status, ws.engine.count("people"), r.subject["emails_found"]
    ('erased', 1, 1)
    >>> erase_person(ws, "nobody@x.com", actor="dpo@acme.test").status
    'nothing_found'
    >>> ws.close()
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, String, Text, delete, inspect, select, text, update
from sqlalchemy.orm import Session

from marketops.privacy.erase_files import erase_state_files, inbox_files, other_workspace_files
from marketops.privacy.erase_warehouse import erase_warehouse
from marketops.privacy.identifiers import Subject, clean_email, mask_email
from marketops.privacy.resolve import resolve_subject
from marketops.state.audit import record
from marketops.state.db import init_db, session_scope
from marketops.state.models import Base
from marketops.state.privacy import ErasedKey, Erasure, Suppression, value_hash
from marketops.workspace import Workspace

#: App tables left alone: staff accounts and tokens (not marketing data), and privacy's own records
#: of the erasure (hashes only), handled below.
_APP_SKIP = frozenset({"users", "api_tokens", "alembic_version", "privacy_erasures", "privacy_erased_keys",
                       "privacy_suppressions"})
#: App tables whose rows are about one person: deleted, not anonymised.
_APP_DELETE = frozenset({"routing_decisions", "merge_decisions", "privacy_consent_records"})
ERASED = "[erased]"
#: Exit code of `marketops erase` when nobody was found (documented in docs/privacy.md).
EXIT_NOTHING_FOUND = 3


@dataclass
class Receipt:
    """What an erasure removed where. Holds counts, table and file names, masked emails: no values."""

    status: str  # erased | nothing_found
    requested: str  # masked
    subject: dict[str, Any]
    warehouse: list[dict] = field(default_factory=list)
    app_database: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    inbox: list[dict] = field(default_factory=list)
    other_files: list[dict] = field(default_factory=list)
    suppression: str = ""
    dry_run: bool = False
    erasure_id: int | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    notes: list[str] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return sum(t["rows"] for t in self.warehouse) + sum(t["rows"] for t in self.app_database)

    def to_json(self) -> dict:
        return {**asdict(self), "rows_removed": self.rows_removed}


def erase_person(ws: Workspace, email: str, *, actor: str, dry_run: bool = False, inbox: bool = False,
                 ip: str | None = None) -> Receipt:
    """Erase the person with ``email`` (and all their other emails and records); see the module doc."""
    subject = resolve_subject(ws, email)
    url = ws.app_database_url
    init_db(url)
    with session_scope(url) as session:
        app_hits = _app_rows(session, subject, dry_run=True)
    found = subject.found or bool(app_hits)
    receipt = Receipt(status="erased" if found else "nothing_found", requested=mask_email(subject.requested),
                      subject=subject.summary(), dry_run=dry_run)
    if subject.summary()["several_emails"]:
        receipt.notes.append(f"the person was found under {len(subject.emails)} emails; all their records are covered")
    if len(subject.person_ids) > 1:
        receipt.notes.append(f"{len(subject.person_ids)} resolved persons share these emails; all are covered")
    if found:
        receipt.warehouse = [t.to_json() for t in erase_warehouse(ws, subject, dry_run=dry_run)]
        receipt.files = erase_state_files(ws, subject, dry_run=dry_run)
    receipt.inbox = inbox_files(ws, subject, rewrite=inbox, dry_run=dry_run)
    receipt.other_files = other_workspace_files(ws, subject)
    if receipt.inbox and not inbox:
        receipt.notes.append("source files in inbox/ still hold the person: rerun with --inbox to rewrite them, "
                             "or remove them from the source system; re-imports are dropped by hash either way")
    if dry_run:
        receipt.app_database = app_hits
        return receipt
    with session_scope(url) as session:
        receipt.app_database = _app_rows(session, subject, dry_run=False)
        receipt.suppression = _keep_hashes(session, subject, actor) if found else "nothing to keep"
        erasure = Erasure(subject_hash=value_hash(subject.requested), status=receipt.status, requested_by=actor,
                          emails_found=len(subject.emails) if found else 0, persons_found=len(subject.person_ids),
                          rows_removed=receipt.rows_removed, receipt={}, note="; ".join(receipt.notes))
        session.add(erasure)
        session.flush()
        for kind, hashes in (subject.hashes().items() if found else ()):
            known = set(session.scalars(select(ErasedKey.value_hash).where(ErasedKey.kind == kind)))
            session.add_all(ErasedKey(erasure_id=erasure.id, kind=kind, value_hash=h) for h in hashes - known)
        receipt.erasure_id = erasure.id
        erasure.receipt = receipt.to_json()
        record(session, actor, "privacy.erase", f"erasure:{erasure.id}",
               {"status": receipt.status, "rows_removed": receipt.rows_removed,
                "tables": len(receipt.warehouse), "files": len(receipt.files)}, ip)
    if url.startswith("sqlite") and found:
        _vacuum(url)  # deleted rows leave the file's free pages, not just the tables
    return receipt


def _matches(value: Any, pattern: re.Pattern[str], exact: set[str]) -> bool:
    if value is None:
        return False
    text_ = value if isinstance(value, str) else json.dumps(value, default=str)
    return bool(pattern.search(text_)) or (isinstance(value, str) and value.strip() in exact)


def _scrub(value: Any, pattern: re.Pattern[str], exact: set[str]) -> Any:
    if isinstance(value, str):
        if value.strip() in exact:
            return ERASED
        return pattern.sub(lambda m: (m.group(1) or "") + ERASED + (m.group(3) or ""), value)
    return json.loads(_scrub(json.dumps(value, default=str), pattern, exact))


def _app_rows(session: Session, subject: Subject, *, dry_run: bool) -> list[dict]:
    """Delete (person rows) or anonymise (mentions) the person in every app table; counts per table."""
    pattern = re.compile(subject.sql_pattern(), re.IGNORECASE)
    exact = {*subject.person_ids, *subject.phones}
    out: list[dict] = []
    present = set(inspect(session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name in _APP_SKIP or table.name not in present:
            continue
        cols = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))
                or isinstance(getattr(c.type, "impl", None), (String, Text))]
        if not cols:
            continue
        pk = list(table.primary_key.columns)
        hits = []
        for row in session.execute(select(table)).mappings():
            bad = [c.name for c in cols if _matches(row[c.name], pattern, exact)]
            if bad:
                hits.append((row, bad))
        if not hits:
            continue
        action = "deleted" if table.name in _APP_DELETE else "anonymised"
        out.append({"table": table.name, "rows": len(hits), "action": action})
        if dry_run:
            continue
        for row, bad in hits:
            where = [c == row[c.name] for c in pk]
            if action == "deleted":
                session.execute(delete(table).where(*where))
            else:
                session.execute(update(table).where(*where).values(
                    {c: _scrub(row[c], pattern, exact) for c in bad}))
    return out


def _keep_hashes(session: Session, subject: Subject, actor: str) -> str:
    """Suppress every email of the person by hash only (existing entries lose their readable value)."""
    kept = 0
    for email in sorted(subject.emails):
        h = value_hash(email)
        entry = session.scalars(select(Suppression).where(Suppression.kind == "email",
                                                          Suppression.value_hash == h)).first()
        if entry is None:
            session.add(Suppression(kind="email", value=None, value_hash=h, reason="erased", added_by=actor))
        else:
            entry.value = None
            entry.reason = (entry.reason + "; erased").strip("; ") if "erased" not in entry.reason else entry.reason
        kept += 1
    return f"{kept} email hash(es) kept on the suppression list so the person stays suppressed if re-imported"


def _vacuum(url: str) -> None:
    from marketops.state.db import make_engine

    with make_engine(url).connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM"))


def erasures(session: Session, limit: int = 50) -> list[Erasure]:
    """Recent erasure receipts, newest first."""
    return list(session.scalars(select(Erasure).order_by(Erasure.requested_at.desc(), Erasure.id.desc()).limit(limit)))


def erased_hashes(url: str) -> dict[str, set[str]]:
    """Hashed identifiers of everyone erased, by kind (``email``, ``record_key``)."""
    init_db(url)
    out: dict[str, set[str]] = {"email": set(), "record_key": set()}
    with session_scope(url) as session:
        for kind, h in session.execute(select(ErasedKey.kind, ErasedKey.value_hash)):
            out.setdefault(kind, set()).add(h)
    return out


__all__ = ["EXIT_NOTHING_FOUND", "Receipt", "clean_email", "erase_person", "erased_hashes", "erasures"]
