"""Exports that honour consent and the suppression list: audiences for a purpose, and any people-like
table filtered for one.

A person is in an audience for a purpose when their newest decision grants it, or when they have
no decision and the purpose's basis is ``opt_out``; for email marketing a CRM ``unsubscribed``
flag also counts as withdrawn. Suppressed addresses and domains are always left out.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.pipeline import run_pipeline
    >>> from marketops.state.db import init_db, session_scope
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Email,First Name,Unsubscribed\\na@x.com,Ann,false\\nb@x.com,Bo,true\\nc@x.com,Cy,false\\n")
    >>> _ = run_pipeline(ws)
    >>> _ = init_db(ws.app_database_url)
    >>> with session_scope(ws.app_database_url) as s:
    ...     sorted(audience(ws, s, "email_marketing").to_pyarrow()["email"].to_pylist())
    ...     audience(ws, s, "tracking").count().execute()  # opt-in: nobody said yes
    ['a@x.com', 'c@x.com']
    0
    >>> ws.close()
"""

from __future__ import annotations

import ibis
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, unknown_name
from marketops.privacy.consent import current_state, consent_for
from marketops.privacy.suppression import SuppressionMatcher
from marketops.workspace import Workspace

AUDIENCE_COLUMNS = ("person_id", "email", "first_name", "last_name", "company", "job_title", "country",
                    "lifecycle_stage", "lead_status", "owner", "account_id")


def is_people_like(table: ibis.Table) -> bool:
    """A table whose rows are people (or about people): it has ``person_id`` or ``email``."""
    return "person_id" in table.columns or "email" in table.columns


def with_consent(ws: Workspace, session: Session, table: ibis.Table, purpose: str, *,
                 suppress: bool = True) -> ibis.Table:
    """``table`` without rows of people who have not consented to ``purpose`` or are suppressed."""
    config = ws.config.privacy
    config.purpose(purpose)
    if not is_people_like(table):
        raise ValidationFailed("this table has no person_id or email column: consent does not apply to it")
    columns = table.columns
    out = consent_for(current_state(ws, session), table, purpose, config)
    out = out.filter(out.consented).select(*columns)
    if suppress:
        out = suppressed_out(session, out, include_domains=config.suppression.include_domains)
    return out


def suppressed_out(session: Session, table: ibis.Table, *, include_domains: bool = True) -> ibis.Table:
    """``table`` without rows whose email is on the suppression list."""
    return SuppressionMatcher.load(session, include_domains=include_domains).filter(table)


def audience(ws: Workspace, session: Session, purpose: str, filters: dict[str, str] | None = None) -> ibis.Table:
    """People (golden records) who may be contacted for ``purpose``; ``filters`` are column=value
    conditions on the golden record (``country=IT``, ``lifecycle_stage=mql``)."""
    if "golden_people" not in ws.engine.published():
        raise NotFound("no people yet", hint="run the pipeline first: `marketops run`")
    people = ws.table("golden_people")
    for column, value in (filters or {}).items():
        if column not in people.columns:
            raise unknown_name("column", column, people.columns)
        people = people.filter(people[column].cast("string").lower() == str(value).lower())
    people = people.filter(people.email.notnull())
    out = with_consent(ws, session, people, purpose)
    return out.select(*[c for c in AUDIENCE_COLUMNS if c in out.columns]).order_by("email")


def coverage(ws: Workspace, session: Session, *, state: ibis.Table | None = None) -> list[dict]:
    """Per purpose: people, granted, withdrawn, no record, and who may be contacted (basis applied);
    ``state`` is :func:`current_state` when the caller already has it."""
    if "golden_people" not in ws.engine.published():
        return []
    config = ws.config.privacy
    people = ws.table("golden_people").select("person_id", "email", "unsubscribed")
    state = current_state(ws, session) if state is None else state
    out = []
    for purpose, p in config.purposes.items():
        t = consent_for(state, people, purpose, config)
        row = t.aggregate(people=t.count(), granted=(t.consent == "granted").sum(),
                          withdrawn=(t.consent == "withdrawn").sum(), no_record=(t.consent == "none").sum(),
                          may_contact=t.consented.sum()).to_pyarrow().to_pylist()[0]
        out.append({"purpose": purpose, "basis": p.basis, **{k: int(v or 0) for k, v in row.items()}})
    return out


def coverage_by_source(ws: Workspace, session: Session, *, state: ibis.Table | None = None) -> list[dict]:
    """Current decisions per purpose, source and status (where consent was collected)."""
    state = current_state(ws, session) if state is None else state
    return state.group_by("purpose", "source", "status").aggregate(people=state.count()) \
        .order_by(["purpose", ibis.desc("people")]).to_pyarrow().to_pylist()
