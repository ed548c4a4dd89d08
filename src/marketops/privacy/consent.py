"""Consent per person and purpose: evidence from imports (consent logs, the CRM's unsubscribed
flag) and from the app (API, web, CLI); the current state is the newest decision.

Each piece of evidence is one row ``(person_id, email, purpose, status, source, at, origin)``;
``origin`` says where marketops got it (``import``: a consent log, ``crm``: a people export's
``unsubscribed`` column, ``app``: recorded through the API, web app or CLI). For one person (else
one email) and purpose the newest row wins; a tie goes to the app, then the import.

A person without any evidence gets the purpose's default: ``opt_out`` purposes count as granted,
``opt_in`` ones as not granted (``privacy.purposes`` in marketops.yaml).

Example:
    >>> canonical_purpose("Newsletter"), canonical_purpose("analytics cookies"), canonical_purpose("xyz")
    ('email_marketing', 'tracking', None)
    >>> canonical_status("Opt-In"), canonical_status("revoked"), canonical_status("maybe")
    ('granted', 'withdrawn', None)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import ibis
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.errors import ValidationFailed
from marketops.privacy.config import PrivacyConfig
from marketops.privacy.identifiers import clean_email
from marketops.schema.consent import GRANTED_WORDS, WITHDRAWN_WORDS
from marketops.state.privacy import CONSENT_STATUSES, ConsentRecord

#: Spellings of the default purposes seen in consent exports (compared after :func:`_key`).
PURPOSE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email_marketing": ("email", "e mail", "email marketing", "marketing email", "marketing emails", "newsletter",
                        "newsletters", "direct marketing", "marketing", "email opt in", "promotional email",
                        "marketing via email", "comunicazioni commerciali", "newsletter e marketing",
                        "marketing por correo", "comunicaciones comerciales", "рассылка", "email рассылка",
                        "маркетинговые рассылки"),
    "tracking": ("tracking", "analytics", "analytics cookies", "cookies", "web tracking", "statistics",
                 "statistical", "measurement", "performance cookies", "email tracking", "cookie analitici",
                 "cookies analiticas", "аналитика", "отслеживание"),
    "profiling": ("profiling", "personalisation", "personalization", "lead scoring", "scoring", "enrichment",
                  "profilazione", "perfilado", "elaboracion de perfiles", "профилирование"),
}
STATE_COLUMNS = ("person_id", "email", "purpose", "status", "source", "at", "origin")
STATE_SCHEMA = pa.schema([("person_id", pa.string()), ("email", pa.string()), ("purpose", pa.string()),
                          ("status", pa.string()), ("source", pa.string()), ("at", pa.timestamp("us")),
                          ("origin", pa.string())])
_ORIGIN_RANK = {"app": 0, "import": 1, "crm": 2}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-/]+", " ", str(text).strip().lower()).strip()


def canonical_purpose(value: str | None, config: PrivacyConfig | None = None) -> str | None:
    """The purpose a cell names (a configured purpose, or a common spelling of one), else None."""
    if value is None:
        return None
    k = _key(value)
    purposes = (config or PrivacyConfig()).purposes
    for name in purposes:
        if k == _key(name):
            return name
    for name, words in PURPOSE_SYNONYMS.items():
        if name in purposes and k in words:
            return name
    return None


def canonical_status(value: str | None) -> str | None:
    """``granted`` or ``withdrawn`` from the words consent tools use, else None."""
    if value is None:
        return None
    k = str(value).strip().lower()
    if k in GRANTED_WORDS or _key(k) in GRANTED_WORDS:
        return "granted"
    if k in WITHDRAWN_WORDS or _key(k) in WITHDRAWN_WORDS:
        return "withdrawn"
    return None


# -- evidence ------------------------------------------------------------------------------------
def imported_evidence(consent: ibis.Table, identity_map: ibis.Table | None, config: PrivacyConfig) -> ibis.Table:
    """Rows of a consent log as evidence; purpose and status mapped, the person found by record id
    (same source system) or email. Rows whose purpose or status cannot be read are left out (the
    pipeline quarantines them before this)."""
    values = consent.select(p=consent.purpose.cast("string"), s=consent.status.cast("string")).distinct() \
        .to_pyarrow().to_pylist()
    mapping = [{"_p": v["p"], "_s": v["s"], "_purpose": canonical_purpose(v["p"], config),
                "_status": canonical_status(v["s"])} for v in values]
    mapping = [m for m in mapping if m["_purpose"] and m["_status"]]
    if not mapping:
        return ibis.memtable(pa.Table.from_pylist([], schema=STATE_SCHEMA))
    m = ibis.memtable(pa.Table.from_pylist(mapping, schema=pa.schema([(k, pa.string()) for k in mapping[0]])))
    t = consent.join(m, [consent.purpose.cast("string") == m._p, consent.status.cast("string") == m._s])
    t = t.select(email=t.email.cast("string").lower().strip(), record_id=t.person_record_id.cast("string"),
                 system=t._source_system, purpose=t._purpose, status=t._status,
                 source=ibis.coalesce(t.source.cast("string"), ibis.literal("consent log")),
                 at=t.occurred_at.cast("timestamp"))
    return _with_person(t, identity_map).select(*STATE_COLUMNS[:-1], origin=ibis.literal("import"))


#: What a people table needs for its unsubscribed flag to count as evidence.
CRM_COLUMNS = frozenset({"unsubscribed", "email", "_source_system", "updated_at", "created_at"})


def crm_evidence(people: ibis.Table) -> ibis.Table:
    """A people record flagged ``unsubscribed`` withdraws email-marketing consent (as of its last
    update)."""
    p = people.filter(people.unsubscribed.fill_null(False))
    person = p.person_id if "person_id" in p.columns else ibis.null("string")
    return p.select(person_id=person.cast("string"), email=p.email.cast("string").lower(),
                    purpose=ibis.literal("email_marketing"), status=ibis.literal("withdrawn"),
                    source=p._source_system.concat(ibis.literal(" unsubscribed flag")),
                    at=ibis.coalesce(p.updated_at, p.created_at).cast("timestamp"), origin=ibis.literal("crm"))


def app_evidence(session: Session, identity_map: ibis.Table | None = None) -> ibis.Table:
    """Consent records of the app database (API, web app, CLI) as evidence."""
    rows = [{"email": r.email, "record_id": None, "system": None, "purpose": r.purpose, "status": r.status,
             "source": r.source, "at": r.at.astimezone(UTC).replace(tzinfo=None) if r.at.tzinfo else r.at}
            for r in session.scalars(select(ConsentRecord))]
    schema = pa.schema([("email", pa.string()), ("record_id", pa.string()), ("system", pa.string()),
                        ("purpose", pa.string()), ("status", pa.string()), ("source", pa.string()),
                        ("at", pa.timestamp("us"))])
    t = ibis.memtable(pa.Table.from_pylist(rows, schema=schema))
    return _with_person(t, identity_map).select(*STATE_COLUMNS[:-1], origin=ibis.literal("app"))


def _with_person(t: ibis.Table, identity_map: ibis.Table | None) -> ibis.Table:
    t = t.view()  # ``t`` may itself be a join's projection: joining it again needs its own reference
    if identity_map is None:
        return t.mutate(person_id=ibis.null("string"))
    m = identity_map.filter(identity_map.person_id.notnull())
    person = []
    j = t
    # an identity map without record ids or emails (an older or hand-made workspace) links by what it has
    if {"source_system", "record_id"} <= set(m.columns):
        by_id = m.select(_sys=m.source_system, _rid=m.record_id.cast("string"), _pr=m.person_id).distinct()
        by_id = by_id.group_by("_sys", "_rid").aggregate(_pr=by_id._pr.min()).view()
        j = j.left_join(by_id, [t.system == by_id._sys, t.record_id == by_id._rid])
        person.append(j._pr)
    if "email" in m.columns:
        by_email = m.mutate(_e=m.email.cast("string").lower()).filter(lambda x: x._e.notnull())
        by_email = by_email.group_by("_e").aggregate(_n=by_email.person_id.nunique(), _pe=by_email.person_id.min())
        by_email = by_email.filter(by_email._n == 1).drop("_n").view()
        j = j.left_join(by_email, t.email == by_email._e)
        person.append(j._pe)
    if not person:
        return t.mutate(person_id=ibis.null("string"))
    return j.select(*t.columns, person_id=ibis.coalesce(*person, ibis.null("string")))


def newest(evidence: ibis.Table) -> ibis.Table:
    """One row per person (else email) and purpose: the newest decision."""
    who = ibis.coalesce(evidence.person_id, ibis.literal("@").concat(evidence.email))
    rank = (ibis.cases(*((evidence.origin == o, r) for o, r in _ORIGIN_RANK.items()), else_=9))
    t = evidence.mutate(_who=who, _rank=rank)
    w = ibis.window(group_by=[t._who, t.purpose], order_by=[ibis.desc(t.at), t._rank])
    t = t.mutate(_n=ibis.row_number().over(w))
    return t.filter((t._n == 0) & t._who.notnull()).select(*STATE_COLUMNS)


def build_state(consent: ibis.Table | None, people: ibis.Table | None, identity_map: ibis.Table | None,
                session: Session | None, config: PrivacyConfig) -> ibis.Table:
    """The ``consent_state`` table: newest decision per person and purpose from every source."""
    parts = []
    if consent is not None:
        parts.append(imported_evidence(consent, identity_map, config))
    if people is not None and CRM_COLUMNS <= set(people.columns):
        parts.append(crm_evidence(people))
    if session is not None:
        parts.append(app_evidence(session, identity_map))
    if not parts:
        return ibis.memtable(pa.Table.from_pylist([], schema=STATE_SCHEMA))
    return newest(_union(parts))


def _union(parts: list[ibis.Table]) -> ibis.Table:
    cast = [p.select(**{c: p[c].cast("timestamp") if c == "at" else p[c].cast("string") for c in STATE_COLUMNS})
            for p in parts]
    union = cast[0]
    for p in cast[1:]:
        union = union.union(p)
    return union


# -- recording (API, web, CLI) -------------------------------------------------------------------
def set_consent(session: Session, email: str, purpose: str, status: str, *, source: str, actor: str,
                config: PrivacyConfig, at: datetime | None = None) -> ConsentRecord:
    """Record a consent decision; the purpose must be configured, the status granted or withdrawn."""
    address = clean_email(email)
    if not address or "@" not in address:
        raise ValidationFailed(f"'{email}' is not an email address")
    config.purpose(purpose)  # NotFound with "did you mean" for an unknown purpose
    if status not in CONSENT_STATUSES:
        raise ValidationFailed(f"status must be granted or withdrawn, not '{status}'")
    rec = ConsentRecord(email=address, purpose=purpose, status=status, source=source or "api",
                        at=at or datetime.now(UTC), recorded_by=actor)
    session.add(rec)
    session.flush()
    return rec


def current_state(ws, session: Session) -> ibis.Table:
    """Consent state now: the last run's ``consent_state`` plus app records made since, newest wins."""
    engine = ws.engine
    published = engine.published()
    imap = engine.table("identity_map") if "identity_map" in published else None
    parts = [app_evidence(session, imap)]
    if "consent_state" in published:
        st = engine.table("consent_state")
        parts.insert(0, st.filter(st.origin != "app"))
    elif "people" in published and CRM_COLUMNS <= set(engine.table("people").columns):
        parts.insert(0, crm_evidence(engine.table("people")))  # a workspace run before consent existed
    return newest(_union(parts))


def consent_for(state: ibis.Table, people: ibis.Table, purpose: str, config: PrivacyConfig) -> ibis.Table:
    """``people`` (with ``person_id`` and/or ``email``) plus ``consent`` (granted/withdrawn/none) and
    ``consented`` (bool, the purpose's basis applied to people without a record)."""
    s = state.filter(state.purpose == purpose)
    opt_out = config.basis(purpose) == "opt_out"
    if "person_id" in people.columns:
        by_p = s.filter(s.person_id.notnull()).select(_pid=s.person_id, _st1=s.status).view()
        people = people.left_join(by_p, people.person_id == by_p._pid).drop("_pid")
    else:
        people = people.mutate(_st1=ibis.null("string"))
    if "email" in people.columns:
        by_e = s.filter(s.person_id.isnull()).select(_em=s.email, _st2=s.status).view()
        people = people.left_join(by_e, people.email.cast("string").lower() == by_e._em).drop("_em")
    else:
        people = people.mutate(_st2=ibis.null("string"))
    status = ibis.coalesce(people._st1, people._st2)
    consented = ibis.cases((status == "granted", True), (status == "withdrawn", False), else_=opt_out)
    if purpose == "email_marketing" and "unsubscribed" in people.columns:
        consented = consented & ~people.unsubscribed.fill_null(False)
    return people.mutate(consent=ibis.coalesce(status, ibis.literal("none")), consented=consented).drop("_st1", "_st2")
