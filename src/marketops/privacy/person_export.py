"""Everything marketops holds on one person, as JSON (a subject access request).

Rows of every published table that belong to the person (by ``person_id``, email or record key),
their current consent per purpose, whether they are suppressed, and the app database's records
about them (consent records, routing decisions). The export names the person's own values: give
it only to them (the API requires an admin or editor and audits the request).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.pipeline import run_pipeline
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Email,First Name\\nann@x.com,Ann\\nbo@x.com,Bo\\n")
    >>> _ = run_pipeline(ws)
    >>> data = person_data(ws, "ann@x.com")
    >>> data["found"], [r["first_name"] for r in data["tables"]["people"]]
    (True, ['Ann'])
    >>> ws.close()
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.privacy.consent import consent_for, current_state
from marketops.privacy.resolve import resolve_subject
from marketops.privacy.suppression import SuppressionMatcher
from marketops.state.db import init_db, session_scope
from marketops.state.privacy import ConsentRecord
from marketops.state.routing import RoutingDecision
from marketops.workspace import Workspace

#: Columns that never help the person and only repeat lineage noise.
_SKIP_TABLES = frozenset({"quality_scorecard", "identity_pairs"})


def _isin(col: ibis.Value, values: set[str]) -> ibis.BooleanValue:
    return col.cast("string").isin(sorted(values)) if values else ibis.literal(False)


def person_consent(ws: Workspace, session: Session, person_ids: set[str]) -> list[dict]:
    """Per purpose: the person's consent (granted, withdrawn, or none with the purpose's basis applied)
    and whether they may be contacted for it; the CLI, the API, the export and the person page show it."""
    if "golden_people" not in ws.engine.published() or not person_ids:
        return []
    g = ws.engine.table("golden_people")
    # a workspace's golden records may lack email or the unsubscribed flag: consent_for copes with either
    mine = g.filter(_isin(g.person_id, person_ids)).select(
        "person_id", *(c for c in ("email", "unsubscribed") if c in g.columns))
    state = current_state(ws, session)
    return [{"purpose": purpose, "status": r["consent"], "may_contact": r["consented"]}
            for purpose in ws.config.privacy.purposes
            for r in consent_for(state, mine, purpose, ws.config.privacy).to_pyarrow().to_pylist()]


def person_data(ws: Workspace, email: str) -> dict:
    """The person's data as a JSON-ready dict (``found`` False when marketops holds nothing)."""
    subject = resolve_subject(ws, email)
    engine = ws.engine
    tables: dict[str, list[dict]] = {}
    for name in sorted(engine.published()):
        if name in _SKIP_TABLES:
            continue
        t = engine.table(name)
        cond = ibis.literal(False)
        if "person_id" in t.columns:
            cond = cond | _isin(t.person_id, subject.person_ids)
        for c in ("email", "email_original"):
            if c in t.columns:
                cond = cond | _isin(t[c].cast("string").lower(), subject.emails)
        if "record_key" in t.columns and name in ("people", "identity_map"):
            cond = cond | _isin(t.record_key, subject.record_keys)
        rows = t.filter(cond).to_pyarrow().to_pylist()
        if rows:
            tables[name] = rows
    url = ws.app_database_url
    init_db(url)
    with session_scope(url) as session:
        consent = person_consent(ws, session, subject.person_ids)
        records = [{"email": r.email, "purpose": r.purpose, "status": r.status, "source": r.source, "at": r.at}
                   for r in session.scalars(select(ConsentRecord).where(ConsentRecord.email.in_(sorted(subject.emails))))]
        routing = [{"person_id": r.person_id, "owner": r.owner, "team": r.team, "status": r.status,
                    "decided_at": r.decided_at, "rule": r.rule}
                   for r in session.scalars(select(RoutingDecision).where(
                       RoutingDecision.person_id.in_(sorted(subject.person_ids))))] if subject.person_ids else []
        matcher = SuppressionMatcher.load(session)
        suppressed = any(matcher.suppressed(e) for e in subject.emails)
    return {"requested": subject.requested, "found": subject.found or bool(records),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "emails": sorted(subject.emails), "person_ids": sorted(subject.person_ids),
            "records": sorted(subject.record_keys), "consent": consent, "consent_records": records,
            "suppressed": suppressed, "routing": routing, "tables": tables}
