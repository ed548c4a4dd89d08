"""Imports: upload files, the load history, proposed mappings to accept (page and API).

``GET /imports`` the page; ``POST /imports/upload`` its upload form; ``POST /api/v1/uploads``
the same for API clients (multipart field ``file``, optional ``ingest=true``);
``GET /api/v1/loads`` the load history and ``GET /api/v1/inbox`` the files waiting in the inbox
(each answers ``?format=csv|xlsx`` with every row);
``GET /api/v1/mappings/proposals`` (``?format=csv|xlsx``: one row per file and column) and
``POST /api/v1/mappings/proposals/{file}/accept`` (the form twin is
``POST /imports/proposals/{file}/accept``) for files marketops could not map.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from marketops.app import jobs, uploads
from marketops.app.deps import DB, CurrentUser, Editor, Forbidden, Reader, client_ip, form_csrf
from marketops.app.downloads import Format, Limit, Offset, download, page_json
from marketops.app.errors import api_error
from marketops.app.overview import _jsonable
from marketops.app.render import render
from marketops.app.routes.metrics import file_of
from marketops.errors import MarketopsError, NotFound, WorkspaceLocked
from marketops.state.audit import record
from marketops.workspace import Workspace

router = APIRouter()

PAGE_SIZE = 25
LOAD_COLUMNS = ("loaded_at", "file", "sheet", "entity", "system", "status", "rows_in", "rows_loaded",
                "rows_quarantined", "sha256", "message", "load_id")
INBOX_COLUMNS = ["file", "size", "modified", "last_status", "last_loaded_at"]
PROPOSAL_COLUMNS = ["file", "entity", "column", "canonical_column", "confidence", "sample"]
#: How a failed load says marketops could not tell what the file holds (ingest.mapping.MappingNeeded).
UNMAPPED = "cannot tell what this file holds"
# Rules are written to marketops.yaml one at a time.
_config_lock = threading.Lock()
# Proposals read the whole file: keep them per (file, size, time, marketops.yaml time).
_proposal_cache: dict[tuple, dict] = {}


def _root(request: Request) -> Path:
    return request.app.state.workspace_root


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


# -- reading ----------------------------------------------------------------------------------------
def load_history(root: Path, limit: int | None, offset: int = 0) -> tuple[list[dict], int]:
    """Rows of ``_loads`` newest first, and how many there are."""
    with Workspace.open(root, read_only=True) as ws:
        if not ws.engine.has_table("_loads"):
            return [], 0
        t = ws.engine.con.table("_loads")
        total = int(t.count().execute())
        t = t.select(*[c for c in LOAD_COLUMNS if c in t.columns]).order_by(t.loaded_at.desc())
        if limit is not None:
            t = t.limit(limit, offset=offset)
        return t.to_pyarrow().to_pylist(), total


def _latest_load_by_file(root: Path) -> dict[str, dict]:
    rows, _ = load_history(root, None)
    latest: dict[str, dict] = {}
    for r in rows:  # newest first: the first row per file wins
        latest.setdefault(r["file"], r)
    return latest


def inbox_files(root: Path, latest: dict[str, dict]) -> list[dict]:
    """Files waiting in the inbox with their size and the newest load of that name."""
    from marketops.ingest.loader import list_files

    ws = Workspace.open(root)
    if not ws.inbox.exists():
        return []
    out = []
    for f in list_files([ws.inbox]):
        stat = f.stat()
        last = latest.get(f.name)
        out.append({"file": str(f.relative_to(ws.inbox)), "size": stat.st_size, "modified": stat.st_mtime,
                    "last_status": last["status"] if last else None,
                    "last_loaded_at": last["loaded_at"] if last else None})
    return out


def proposals(root: Path, latest: dict[str, dict]) -> list[dict]:
    """Proposed mappings for inbox files whose last load failed because nothing fit them."""
    from marketops.ingest.mapping_proposal import propose

    ws = Workspace.open(root)
    config_stamp = (ws.root / "marketops.yaml").stat().st_mtime_ns
    out = []
    for name, last in sorted(latest.items()):
        path = ws.inbox / name
        if last.get("status") != "failed" or UNMAPPED not in (last.get("message") or ""):
            continue
        if path.parent != ws.inbox or not path.is_file():
            continue
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns, config_stamp)
        if key not in _proposal_cache:
            if len(_proposal_cache) > 256:  # old versions of files and of marketops.yaml
                _proposal_cache.clear()
            try:
                _proposal_cache[key] = proposal_json(propose(ws, path))
            except MarketopsError as e:
                _proposal_cache[key] = {"file": name, "recognised": False, "error": str(e), "columns": []}
        p = _proposal_cache[key]
        if not p.get("recognised"):
            out.append(p)
    return out


def proposal_json(p) -> dict[str, Any]:
    """A mapping proposal as JSON: per column the canonical column, confidence and a sample."""
    return {"file": p.file.name, "entity": p.plan.entity, "system": p.plan.system, "format": p.plan.format,
            "label": p.plan.label, "recognised": p.recognised, "missing_required": p.missing_required,
            "warnings": list(p.plan.warnings),
            "columns": [{"header": h, "column": c, "confidence": round(float(p.plan.confidence.get(h, 0)), 3) if c else None,
                         "sample": None if p.samples.get(h) is None else str(p.samples.get(h))[:80]}
                        for h, c in p.plan.columns.items()]}


def imports_data(root: Path, offset: int) -> dict[str, Any]:
    data: dict[str, Any] = {"loads": [], "total": 0, "inbox": [], "proposals": [], "busy": False,
                            "offset": offset, "limit": PAGE_SIZE}
    try:
        latest = _latest_load_by_file(root)
        data["loads"], data["total"] = load_history(root, PAGE_SIZE, offset)
    except WorkspaceLocked:
        data["busy"], latest = True, {}
    data["inbox"] = inbox_files(root, latest)
    data["proposals"] = proposals(root, latest)
    data["running"] = jobs.current_job(root) is not None
    return data


# -- uploading --------------------------------------------------------------------------------------
def _inbox(root: Path) -> Path:
    inbox = Workspace.open(root).inbox
    uploads.cleanup_stale_temps(inbox)  # left by a server that stopped mid-upload
    return inbox


def audit(db, request: Request, user, action: str, target: str, detail: dict) -> None:
    """Record who uploaded or mapped what (committed at once: the file is already in place)."""
    record(db, user.email, action, target, detail, client_ip(request))
    db.commit()


def _upload_audit(result: dict[str, Any]) -> dict[str, Any]:
    return {"status": result["status"], "size": result["size"], "sha256": result["sha256"],
            "loads": [{k: r[k] for k in ("status", "rows_loaded", "rows_quarantined")} for r in result["loads"]]}


def load_row(r) -> dict[str, Any]:
    return {"file": r.file, "sheet": r.sheet, "status": r.status, "entity": r.entity, "system": r.system,
            "rows_in": r.rows_in, "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined,
            "message": r.message or "; ".join(r.warnings) or None}


def finish_upload(root: Path, received: uploads.Received, ingest: bool) -> dict[str, Any]:
    """Check and name an upload streamed to the inbox, then load it if asked. Blocking."""
    try:
        name = uploads.safe_upload_name(received.client_name)
        uploads.check_content(received.tmp, name)
        inbox = Workspace.open(root).inbox
        placed = uploads.place(received.tmp, inbox, name)
    finally:
        received.tmp.unlink(missing_ok=True)  # placed files are linked under their name first
    result = {"file": placed.name, "status": placed.status, "size": placed.size, "sha256": placed.sha256,
              "message": placed.message, "renamed_from": placed.renamed_from, "loads": [], "note": None}
    if not ingest:
        return result
    from marketops.ingest.loader import ingest_file

    try:
        with jobs.writing(root, "loading an upload"), Workspace.open(root, lock_wait=5) as ws:
            loads = ingest_file(ws, placed.path)
    except (jobs.RunInProgress, WorkspaceLocked):
        result["note"] = "a run is in progress, so the file was not loaded now: the next run loads it"
        return result
    result["loads"] = [load_row(r) for r in loads]
    if loads and all(r.status == "unchanged" for r in loads):
        result["status"] = "unchanged"
        result["message"] = loads[0].message
    elif loads:
        result["status"] = "failed" if all(r.status == "failed" for r in loads) else "loaded"
    return result


@router.post("/api/v1/uploads", status_code=201)
async def upload_api(request: Request, user: Editor, db: DB,
                     ingest: Annotated[bool, Query(description="Load the file into the warehouse now.")] = False):
    """Upload one file (multipart field ``file``) into the inbox; ``ingest=true`` loads it now."""
    root = _root(request)
    inbox = await run_in_threadpool(_inbox, root)
    try:
        received = await uploads.receive_upload(request, inbox)
        result = await run_in_threadpool(finish_upload, root, received,
                                         ingest or _truthy(received.fields.get("ingest")))
    except uploads.UploadRefused as e:
        return api_error(e.status, e.message, code="upload_refused" if e.status == 400 else None)
    await run_in_threadpool(audit, db, request, user, "file.upload", result["file"], _upload_audit(result))
    return JSONResponse(_jsonable(result), status_code=201 if result["status"] != "unchanged" else 200)


@router.post("/imports/upload")
async def upload_form(request: Request, user: Editor, db: DB) -> Response:
    root = _root(request)
    inbox = await run_in_threadpool(_inbox, root)
    status, upload, error = 200, None, None
    try:
        received = await uploads.receive_upload(request, inbox, csrf_session=request.session)
        upload = await run_in_threadpool(finish_upload, root, received, _truthy(received.fields.get("ingest")))
        await run_in_threadpool(audit, db, request, user, "file.upload", upload["file"], _upload_audit(upload))
    except uploads.CsrfRefused:
        raise Forbidden("this form has expired; reload the page and try again") from None
    except uploads.UploadRefused as e:
        status, error = e.status, e.message
    data = await run_in_threadpool(imports_data, root, 0)
    return render(request, "imports.html", {"d": data, "upload": upload, "upload_error": error,
                                            **_page_context()}, status_code=status)


# -- the page and the lists -------------------------------------------------------------------------
def _page_context() -> dict[str, Any]:
    return {"max_upload": uploads.human_size(uploads.MAX_UPLOAD_BYTES), "size": uploads.human_size}


@router.get("/imports")
def imports_page(request: Request, user: CurrentUser, offset: Offset = 0) -> Response:
    data = imports_data(_root(request), offset)
    accepted = request.query_params.get("accepted")
    return render(request, "imports.html", {"d": data, "accepted": accepted, **_page_context()})


@router.get("/api/v1/loads", response_model=None)
def loads_api(request: Request, user: Reader, limit: Limit = 50, offset: Offset = 0,
              format: Format = "json") -> dict | Response:
    """The load history, newest first: file, sheet, sha256, entity, system, when, rows, status."""
    if format != "json":
        rows, _ = load_history(_root(request), None)
        return download(rows, "loads", format)
    rows, total = load_history(_root(request), limit, offset)
    return page_json(_jsonable(rows), total, limit, offset)


def _latest_or_busy(root: Path) -> dict[str, dict]:
    try:
        return _latest_load_by_file(root)
    except WorkspaceLocked:  # a run holds the warehouse: files are listed without their last load
        return {}


def inbox_rows(root: Path) -> list[dict[str, Any]]:
    """The inbox as the page lists it, with the file time as a UTC timestamp."""
    return [{**f, "modified": datetime.fromtimestamp(f["modified"], UTC)}
            for f in inbox_files(root, _latest_or_busy(root))]


@router.get("/api/v1/inbox", response_model=None)
def inbox_api(request: Request, user: Reader, format: Format = "json") -> dict | Response:
    """Files waiting in the inbox: ``{"items": [{"file", "size", "modified", "last_status",
    "last_loaded_at"}]}``; ``?format=csv|xlsx`` downloads them."""
    rows = inbox_rows(_root(request))
    if format != "json":
        return file_of(rows, INBOX_COLUMNS, "inbox", format)
    return {"items": _jsonable(rows)}


def proposal_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Proposals flattened for a file: one row per file and column of that file."""
    return [{"file": p["file"], "entity": p.get("entity"), "column": c["header"], "canonical_column": c["column"],
             "confidence": c["confidence"], "sample": c["sample"]}
            for p in items for c in p.get("columns") or []]


@router.get("/api/v1/mappings/proposals", response_model=None)
def proposals_api(request: Request, user: Reader, format: Format = "json") -> dict | Response:
    """Proposed mappings for inbox files marketops could not map on its own.

    ``?format=csv|xlsx``: one row per file and column (file, entity, column, canonical column,
    confidence, sample)."""
    root = _root(request)
    items = proposals(root, _latest_or_busy(root))
    if format != "json":
        return file_of(proposal_rows(items), PROPOSAL_COLUMNS, "mapping_proposals", format)
    return page_json(items, len(items), len(items) or 1, 0)


def accept_proposal(root: Path, file: str, entity: str | None) -> dict[str, Any]:
    """Save the proposed mapping of inbox file ``file`` as a ``sources:`` rule (as ``map --write``)."""
    from marketops.ingest.mapping_proposal import propose, write_rule

    ws = Workspace.open(root)
    path = ws.inbox / file
    if file != Path(file).name or file.startswith(".") or path.parent != ws.inbox or not path.is_file():
        raise NotFound(f"no file '{file[:120]}' in the inbox")
    with _config_lock:
        proposal = propose(ws, path, entity=entity or None)
        line = write_rule(ws, path, proposal)
    return {"file": file, "entity": proposal.plan.entity, "system": proposal.plan.system,
            "columns": dict(proposal.plan.mapped), "line": line,
            "message": f"saved a sources: rule for '{file}' in marketops.yaml (line {line}); "
                       "the next run loads the file with it"}


@router.post("/api/v1/mappings/proposals/{file}/accept")
def accept_api(request: Request, user: Editor, db: DB, file: str,
               entity: Annotated[str | None, Query(description="Map onto this entity instead.")] = None):
    try:
        result = accept_proposal(_root(request), file, entity)
    except NotFound:
        raise
    except MarketopsError as e:
        return api_error(400, str(e))
    audit(db, request, user, "mapping.accept", file, {"entity": result["entity"], "system": result["system"]})
    return result


@router.post("/imports/proposals/{file}/accept", dependencies=[Depends(form_csrf)])
async def accept_form(request: Request, user: Editor, db: DB, file: str) -> Response:
    form = await request.form()
    entity = str(form.get("entity") or "") or None
    try:
        result = await run_in_threadpool(accept_proposal, _root(request), file, entity)
    except NotFound:
        raise
    except MarketopsError as e:
        data = await run_in_threadpool(imports_data, _root(request), 0)
        return render(request, "imports.html", {"d": data, "accept_error": str(e), "accept_file": file,
                                                **_page_context()}, status_code=400)
    await run_in_threadpool(audit, db, request, user, "mapping.accept", file,
                            {"entity": result["entity"], "system": result["system"]})
    return RedirectResponse(f"/imports?accepted={quote(file)}", status_code=303)
