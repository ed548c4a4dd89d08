"""Consent and privacy: ``GET /privacy`` (consent coverage per purpose and source, the suppression
list with add/remove for editors, erasure requests and receipts for admins, retention rules and
what the last run deleted) and its API:

- ``GET /api/v1/consent``: current consent per person and purpose (``purpose=``, ``summary=true``
  for coverage per purpose; ``format=csv|xlsx``); ``POST /api/v1/consent`` records a decision
  (editor): ``{"email", "purpose", "status": "granted"|"withdrawn", "source"}``;
- ``GET /api/v1/consent/{email}``: one person's consent per purpose;
- ``GET /api/v1/suppressions`` (``format=csv|xlsx``), ``POST`` (editor) ``{"value", "reason"}``,
  ``DELETE /api/v1/suppressions/{id}`` (editor);
- ``POST /api/v1/erase`` (admin) ``{"email", "dry_run", "inbox"}``: the receipt; ``GET /api/v1/erasures``;
- ``GET /api/v1/person-export?email=`` (admin or editor; audited): everything held on the person.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from marketops.app.deps import DB, AdminUser, CurrentUser, Editor, Reader, client_ip, form_csrf, read_workspace
from marketops.app.downloads import Format
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MarketopsError, NotFound
from marketops.privacy.audiences import coverage, coverage_by_source
from marketops.privacy.consent import STATE_COLUMNS, current_state, set_consent
from marketops.privacy.erase import erase_person, erasures
from marketops.privacy.person_export import person_data
from marketops.privacy.suppression import add_suppression, as_row, list_suppressions, remove_suppression
from marketops.state.audit import record

router = APIRouter()

COVERAGE_COLUMNS = ["purpose", "basis", "people", "granted", "withdrawn", "no_record", "may_contact"]
SOURCE_COLUMNS = ["purpose", "source", "status", "people"]
SUPPRESSION_COLUMNS = ["id", "kind", "value", "reason", "added_by", "added_at"]
ERASURE_COLUMNS = ["id", "status", "requested_at", "requested_by", "emails_found", "persons_found", "rows_removed",
                   "note"]
RETENTION_COLUMNS = ["table", "column", "older_than_days", "deleted", "raw_deleted"]
CONSENT_PAGE = 500


class ConsentBody(BaseModel):
    email: str = Field(description="Email of the person.")
    purpose: str = Field(description="A configured purpose: email_marketing, tracking, profiling...")
    status: str = Field(description="granted or withdrawn.")
    source: str = Field(default="api", description="Where the decision was collected.")


class SuppressionBody(BaseModel):
    value: str = Field(description="Email address or domain.")
    reason: str = Field(default="", description="Why (bounced, complaint, competitor...).")


class EraseBody(BaseModel):
    email: str = Field(description="Email of the person to erase (all their emails and records are covered).")
    dry_run: bool = Field(default=False, description="Answer what would be removed; change nothing.")
    inbox: bool = Field(default=False, description="Also rewrite source files in inbox/ without the person.")


def _erasure_row(e) -> dict[str, Any]:
    return {"id": e.id, "status": e.status, "requested_at": e.requested_at, "requested_by": e.requested_by,
            "emails_found": e.emails_found, "persons_found": e.persons_found, "rows_removed": e.rows_removed,
            "note": e.note}


def _last_retention(request: Request) -> tuple[str | None, list[dict[str, Any]]]:
    """The newest run's retention counts (the ``privacy`` step's detail)."""
    from marketops.pipeline import list_runs

    with read_workspace(request) as ws:
        for run in list_runs(ws, limit=20):
            for step in run.steps:
                if step.name == "privacy" and step.status == "succeeded":
                    return run.run_id, step.detail.get("retention", [])
    return None, []


def _retention(request: Request, rules: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """The retention rules with what the newest run deleted under each."""
    run_id, deleted = _last_retention(request)
    by = {d["table"]: d for d in deleted}
    return run_id, [{**r, "deleted": by.get(r["table"], {}).get("deleted", 0),
                     "raw_deleted": by.get(r["table"], {}).get("raw_deleted", 0)} for r in rules]


# -- the page -------------------------------------------------------------------------------------
@router.get("/privacy")
def privacy_page(request: Request, user: CurrentUser, db: DB) -> Response:
    with read_workspace(request) as ws:
        state = current_state(ws, db)  # computed once for both tables
        cover = coverage(ws, db, state=state)
        by_source = coverage_by_source(ws, db, state=state) if cover else []
        rules = [r.model_dump() for r in ws.config.privacy.retention]
        purposes = {k: v.model_dump() for k, v in ws.config.privacy.purposes.items()}
    run_id, retention = _retention(request, rules)
    admin = user.role == "admin"
    return render(request, "privacy.html", {
        "coverage": cover, "by_source": by_source, "purposes": purposes,
        "suppressions": [as_row(e) for e in list_suppressions(db)],
        "erasures": [_erasure_row(e) for e in erasures(db)] if admin else [],
        "retention": retention, "retention_run": run_id, "editor": user.role in ("admin", "editor"), "admin": admin,
        "flash": pop_flash(request)})


@router.post("/privacy/suppressions", dependencies=[Depends(form_csrf)])
def suppress_form(request: Request, user: Editor, db: DB, value: Annotated[str, Form()],
                  reason: Annotated[str, Form()] = "") -> Response:
    try:
        entry = add_suppression(db, value, reason=reason, actor=user.email)
        record(db, user.email, "privacy.suppress", f"suppression:{entry.id}", {"kind": entry.kind}, client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/privacy", status_code=303)
    flash(request, N_("%(entry)s is on the suppression list."), entry=entry.value)
    return RedirectResponse("/privacy", status_code=303)


@router.post("/privacy/suppressions/{entry_id}/remove", dependencies=[Depends(form_csrf)])
def unsuppress_form(request: Request, entry_id: int, user: Editor, db: DB) -> Response:
    try:
        entry = remove_suppression(db, entry_id)
        record(db, user.email, "privacy.unsuppress", f"suppression:{entry.id}", {"kind": entry.kind},
               client_ip(request))
        db.commit()
    except MarketopsError as e:
        db.rollback()
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/privacy", status_code=303)
    flash(request, N_("Removed from the suppression list."))
    return RedirectResponse("/privacy", status_code=303)


@router.post("/privacy/erase", dependencies=[Depends(form_csrf)])
def erase_form(request: Request, user: AdminUser, email: Annotated[str, Form()],
               confirm: Annotated[str, Form()] = "") -> Response:
    if confirm.strip().lower() != email.strip().lower():
        flash(request, N_("Type the email again to confirm the erasure."), kind="warn")
        return RedirectResponse("/privacy", status_code=303)
    try:
        receipt = _erase(request, email, actor=user.email, ip=client_ip(request))
    except MarketopsError as e:
        flash(request, "%(message)s", kind="warn", message=e.message)
        return RedirectResponse("/privacy", status_code=303)
    if receipt.status == "nothing_found":
        flash(request, N_("Nobody found under that email; receipt #%(id)s says so."), kind="warn",
              id=receipt.erasure_id)
    else:
        flash(request, N_("Erased: %(rows)s rows removed; receipt #%(id)s."), rows=receipt.rows_removed,
              id=receipt.erasure_id)
    return RedirectResponse("/privacy", status_code=303)


def _erase(request: Request, email: str, *, actor: str, ip: str | None, dry_run: bool = False, inbox: bool = False):
    """Erasure needs the warehouse for writing: opened for this request only."""
    from marketops.workspace import Workspace

    with Workspace.open(request.app.state.workspace_root) as ws:
        receipt = erase_person(ws, email, actor=actor, dry_run=dry_run, inbox=inbox, ip=ip)
    if not dry_run:  # cached analyses (people lists...) were computed with the person in them
        cache = getattr(request.app.state, "analysis_cache", None)
        if cache is not None:
            cache.clear()
    return receipt


# -- the API ----------------------------------------------------------------------------------------
@router.get("/api/v1/consent", response_model=None)
def consent_api(request: Request, user: Reader, db: DB,
                purpose: Annotated[str | None, Query(description="Only this purpose.")] = None,
                summary: Annotated[bool, Query(description="Coverage per purpose instead of people.")] = False,
                format: Format = "json") -> Any:
    """Current consent: one row per person and purpose (``person_id, email, purpose, status, source, at,
    origin``), or with ``summary=true`` coverage per purpose (people, granted, withdrawn, no_record,
    may_contact)."""
    with read_workspace(request) as ws:
        if summary:
            rows, columns = coverage(ws, db), COVERAGE_COLUMNS
        else:
            if purpose:
                ws.config.privacy.purpose(purpose)
            state = current_state(ws, db)
            if purpose:
                state = state.filter(state.purpose == purpose)
            rows, columns = state.order_by(["purpose", "email"]).to_pyarrow().to_pylist(), list(STATE_COLUMNS)
    if format != "json":
        return file_of(rows, columns, "consent_coverage" if summary else "consent", format)
    return {"items": rows, "total": len(rows)}


@router.post("/api/v1/consent", response_model=None)
def consent_set_api(request: Request, body: ConsentBody, user: Editor, db: DB) -> Any:
    """Record a consent decision (audited as ``privacy.consent``); it counts at once in exports."""
    with read_workspace(request) as ws:
        config = ws.config.privacy
    rec = set_consent(db, body.email, body.purpose, body.status, source=body.source, actor=user.email, config=config)
    record(db, user.email, "privacy.consent", rec.email, {"purpose": rec.purpose, "status": rec.status},
           client_ip(request))
    db.commit()
    return JSONResponse({"id": rec.id, "email": rec.email, "purpose": rec.purpose, "status": rec.status,
                         "source": rec.source, "at": rec.at.isoformat()}, status_code=201)


@router.get("/api/v1/consent/{email}", response_model=None)
def consent_person_api(request: Request, email: str, user: Reader) -> Any:
    """One person's consent per purpose (``may_contact`` applies the purpose's basis) and suppression."""
    with read_workspace(request) as ws:
        data = person_data(ws, email)
    if not data["found"]:
        raise NotFound(f"nobody with the email {email}")
    return {"email": data["requested"], "consent": data["consent"], "suppressed": data["suppressed"],
            "records": data["consent_records"]}


@router.get("/api/v1/suppressions", response_model=None)
def suppressions_api(user: Reader, db: DB, format: Format = "json") -> Any:
    """The suppression list (erased people: hash only, shown as ``(erased #...)``)."""
    rows = [as_row(e) for e in list_suppressions(db)]
    if format != "json":
        return file_of(rows, SUPPRESSION_COLUMNS, "suppression_list", format)
    return {"items": rows, "total": len(rows)}


@router.post("/api/v1/suppressions", response_model=None)
def suppressions_add_api(request: Request, body: SuppressionBody, user: Editor, db: DB) -> Any:
    """Add an email or domain (audited as ``privacy.suppress``)."""
    entry = add_suppression(db, body.value, reason=body.reason, actor=user.email)
    record(db, user.email, "privacy.suppress", f"suppression:{entry.id}", {"kind": entry.kind}, client_ip(request))
    db.commit()
    return JSONResponse(as_row(entry) | {"added_at": entry.added_at.isoformat()}, status_code=201)


@router.delete("/api/v1/suppressions/{entry_id}", response_model=None)
def suppressions_remove_api(request: Request, entry_id: int, user: Editor, db: DB) -> Any:
    """Remove an entry (audited as ``privacy.unsuppress``)."""
    entry = remove_suppression(db, entry_id)
    record(db, user.email, "privacy.unsuppress", f"suppression:{entry.id}", {"kind": entry.kind}, client_ip(request))
    db.commit()
    return {"removed": entry.id}


@router.post("/api/v1/erase", response_model=None)
def erase_api(request: Request, body: EraseBody, user: AdminUser) -> Any:
    """Erase a person everywhere (admin; audited as ``privacy.erase``): the receipt. ``status`` is
    ``nothing_found`` when nobody has that email (a receipt is kept all the same)."""
    receipt = _erase(request, body.email, actor=user.email, ip=client_ip(request), dry_run=body.dry_run,
                     inbox=body.inbox)
    return receipt.to_json()


@router.get("/api/v1/erasures", response_model=None)
def erasures_api(user: AdminUser, db: DB, format: Format = "json") -> Any:
    """Erasure receipts, newest first (admin)."""
    entries = erasures(db)
    rows = [_erasure_row(e) for e in entries]
    if format != "json":
        return file_of(rows, ERASURE_COLUMNS, "erasures", format)
    return {"items": [r | {"receipt": e.receipt} for r, e in zip(rows, entries)], "total": len(rows)}


@router.get("/api/v1/person-export", response_model=None)
def person_export_api(request: Request, user: Editor, db: DB,
                      email: Annotated[str, Query(description="Email of the person.")]) -> Any:
    """Everything marketops holds on the person (editor or admin; audited as ``privacy.person_export``)."""
    with read_workspace(request) as ws:
        data = person_data(ws, email)
    record(db, user.email, "privacy.person_export", "person-export", {"found": data["found"]}, client_ip(request))
    db.commit()
    if not data["found"]:
        raise NotFound(f"nobody with the email {email}")
    return data


@router.get("/api/v1/privacy/coverage-by-source", response_model=None)
def by_source_api(request: Request, user: Reader, db: DB, format: Format = "json") -> Any:
    """Current decisions per purpose, source and status."""
    with read_workspace(request) as ws:
        rows = coverage_by_source(ws, db)
    if format != "json":
        return file_of(rows, SOURCE_COLUMNS, "consent_by_source", format)
    return {"items": rows, "total": len(rows)}


@router.get("/api/v1/privacy/retention", response_model=None)
def retention_api(request: Request, user: Reader, format: Format = "json") -> Any:
    """Retention rules and what the last run deleted under each."""
    with read_workspace(request) as ws:
        rules = [r.model_dump() for r in ws.config.privacy.retention]
    run_id, rows = _retention(request, rules)
    if format != "json":
        return file_of(rows, RETENTION_COLUMNS, "retention", format)
    return {"run_id": run_id, "items": rows, "total": len(rows)}
