"""Finding a person: from one email to every record, email, id and visitor id marketops holds.

The identity map links records into persons; a person found under one email brings all of their
records, hence all of their other emails. The search repeats until nothing new turns up, so an
email shared by two records of two persons brings both (the receipt says how many persons).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.pipeline import run_pipeline
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Record ID,Email,First Name,Phone\\n1,ann@x.com,Ann,\\n2,ann@x.com,Anna,+390212345678\\n")
    >>> _ = run_pipeline(ws)
    >>> s = resolve_subject(ws, "ANN@x.com")
    >>> sorted(s.record_ids), len(s.person_ids), s.phones
    ([('generic', '1'), ('generic', '2')], 1, {'+390212345678'})
    >>> ws.close()
"""

from __future__ import annotations

import ibis

from marketops.privacy.identifiers import Subject, clean_email
from marketops.workspace import Workspace

#: identity_map / people columns read to widen the search
_PEOPLE_COLUMNS = ("record_key", "record_id", "_source_system", "person_id", "email", "email_original", "phone",
                   "phone_original", "first_name", "last_name", "full_name", "first_name_original",
                   "last_name_original", "full_name_original", "anonymous_id")


def _isin(col: ibis.Value, values: set[str]) -> ibis.BooleanValue:
    return col.isin(sorted(values)) if values else ibis.literal(False)


def _text(t: ibis.Table, name: str) -> ibis.StringValue:
    return t[name].cast("string") if name in t.columns else ibis.null("string")


def resolve_subject(ws: Workspace, email: str) -> Subject:
    """Everything that identifies the person with ``email`` (a :class:`Subject`; ``found`` is False
    when marketops holds nothing under that address)."""
    requested = clean_email(email) or ""
    subject = Subject(requested=requested, emails={requested} if requested else set())
    engine = ws.engine
    published = engine.published()
    tables = set(engine.tables())
    for _ in range(5):  # until nothing new turns up (two or three rounds in practice)
        before = (len(subject.emails), len(subject.person_ids), len(subject.record_keys))
        if "identity_map" in published:
            m = engine.table("identity_map")
            hit = (_isin(_text(m, "email").lower(), subject.emails) | _isin(m.person_id, subject.person_ids)
                   | _isin(m.record_key, subject.record_keys))
            for r in m.filter(hit).select("record_key", "source_system", "record_id", "email", "person_id") \
                    .to_pyarrow().to_pylist():
                _add_record(subject, r["record_key"], r["source_system"], r["record_id"], r["email"], r["person_id"])
        if "people" in published:
            p = engine.table("people")
            hit = (_isin(_text(p, "email").lower(), subject.emails)
                   | _isin(_text(p, "email_original").lower(), subject.emails)
                   | _isin(_text(p, "record_key"), subject.record_keys)
                   | _isin(_text(p, "person_id"), subject.person_ids))
            cols = [c for c in _PEOPLE_COLUMNS if c in p.columns]
            for r in p.filter(hit).select(*cols).to_pyarrow().to_pylist():
                _add_people_row(subject, r)
        if "raw_people" in tables:  # records loaded but not (yet) published, or dropped by staging
            raw = engine.table("raw_people")
            hit = _isin(_text(raw, "email").lower().strip(), subject.emails)
            if subject.record_ids:
                ids = {i for _, i in subject.record_ids}
                hit = hit | _isin(_text(raw, "record_id"), ids)
            cols = [c for c in _PEOPLE_COLUMNS if c in raw.columns]
            for r in raw.filter(hit).select(*cols).to_pyarrow().to_pylist():
                if r.get("record_id") and (r["_source_system"], r["record_id"]) not in subject.record_ids \
                        and clean_email(r.get("email")) not in subject.emails:
                    continue  # same id in another system: someone else
                _add_people_row(subject, r)
        if (len(subject.emails), len(subject.person_ids), len(subject.record_keys)) == before:
            break
    if "visitor_links" in published and subject.person_ids:
        v = engine.table("visitor_links")
        hit = _isin(v.person_id, subject.person_ids) & ~v.ambiguous.fill_null(False)
        subject.visitor_ids |= {r["visitor_id"] for r in v.filter(hit).select("visitor_id").to_pyarrow().to_pylist()
                                if r["visitor_id"]}
    subject.records_by_system = {}
    for system, _ in subject.record_ids:
        subject.records_by_system[system] = subject.records_by_system.get(system, 0) + 1
    return subject


def _add_record(s: Subject, key: str | None, system: str | None, record_id: str | None, email: str | None,
                person_id: str | None) -> None:
    if key:
        s.record_keys.add(key)
    if system and (record_id or email):
        s.record_ids.add((system, record_id or (clean_email(email) or "")))
    if e := clean_email(email):
        s.emails.add(e)
    if person_id:
        s.person_ids.add(person_id)


def _add_people_row(s: Subject, r: dict) -> None:
    system = r.get("_source_system")
    key = r.get("record_key") or (f"{system}:{r.get('record_id') or clean_email(r.get('email')) or ''}" if system else None)
    _add_record(s, key, system, r.get("record_id"), r.get("email"), r.get("person_id"))
    if e := clean_email(r.get("email_original")):
        s.emails.add(e)
    for c in ("phone", "phone_original"):
        if r.get(c):
            s.phones.add(str(r[c]).strip())
    for first, last in (("first_name", "last_name"), ("first_name_original", "last_name_original")):
        if r.get(first) and r.get(last):
            s.names.add(f"{r[first]} {r[last]}".strip())
    for c in ("full_name", "full_name_original"):
        if r.get(c) and " " in str(r[c]).strip():
            s.names.add(str(r[c]).strip())
    if r.get("anonymous_id"):
        s.visitor_ids.add(str(r["anonymous_id"]))
