"""Runs: the history of pipeline runs, one run's steps and log, and starting a run from the web.

``GET /runs`` and ``GET /runs/{run_id}`` (pages; a running run's page reloads itself),
``POST /runs/start`` (form); API: ``GET /api/v1/runs`` (``?format=csv|xlsx``), ``POST
/api/v1/runs`` (202 with the run id; 409 while a run is in progress), ``GET /api/v1/runs/{id}``,
``GET /api/v1/runs/{id}/log``. Run records live in ``.marketops/runs/`` (see
:mod:`marketops.pipeline`), so none of this needs the warehouse: it answers during any run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from marketops.app import jobs
from marketops.app.charts import bar_chart
from marketops.app.deps import DB, CurrentUser, Editor, Reader, client_ip, form_csrf
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.overview import run_to_dict
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of
from marketops.errors import MarketopsError, NotFound
from marketops.state.audit import record
from marketops.workspace import Workspace

router = APIRouter()

PAGE_SIZE = 25
RUN_ID = re.compile(r"^r[0-9A-Za-z]{1,40}$")
#: What each step does, in words a marketing-ops user knows (for the run page).
STEP_WORDS = {
    "ingest": N_("Load new files from the inbox"),
    "stage": N_("Keep the newest version of each record"),
    "canonical": N_("Build the canonical tables"),
    "normalise": N_("Clean values (emails, phones, countries, UTMs)"),
    "resolve": N_("Find the same person across sources"),
    "accounts": N_("Match companies"),
    "golden": N_("Build golden records"),
    "stitch": N_("Connect events to people"),
    "quality": N_("Check data quality"),
}


def _root(request: Request) -> Path:
    return request.app.state.workspace_root


def _records(root: Path, limit: int, offset: int) -> tuple[list, int]:
    from marketops.pipeline import list_runs

    ws = Workspace.open(root)
    total = len(list(ws.runs_dir.glob("r*.json"))) if ws.runs_dir.exists() else 0
    return list_runs(ws, limit=offset + limit)[offset:], total


def _record(root: Path, run_id: str):
    from marketops.pipeline import get_run

    if not RUN_ID.match(run_id):
        raise NotFound(f"no run '{run_id[:60]}'")
    job = jobs.find_job(run_id)
    try:
        return get_run(Workspace.open(root), run_id), job
    except (MarketopsError, OSError, ValueError):
        if job is not None:  # started, but its record is not written yet
            return None, job
        raise NotFound(f"no run '{run_id}'") from None


def run_json(record, job: jobs.RunJob | None) -> dict[str, Any]:
    """A run for the API: the record, with the step going on now marked ``running`` (the record
    is saved after each step, so while the run goes on that is its first pending step)."""
    data = run_to_dict(record)
    if job is not None and job.running:
        # The record is saved before the run has let go of the warehouse and written its last
        # log line: it is over when the job is.
        data["status"] = "running"
    data["started_by"] = job.started_by if job is not None else None
    data["current_step"] = None
    if data["status"] == "running":
        step = next((s for s in data["steps"] if s["status"] in ("pending", "running")), None)
        if step is not None:
            step["status"] = "running"
            data["current_step"] = step["name"]
    return data


RUN_COLUMNS = ["run_id", "status", "started_at", "finished_at", "seconds", "engine", "error", "steps"]


def _summary_row(r) -> dict[str, Any]:
    return {"run_id": r.run_id, "status": r.status, "started_at": r.started_at, "finished_at": r.finished_at,
            "seconds": r.seconds, "engine": r.engine, "error": r.error,
            "steps": " > ".join(f"{s.name} {s.status}" for s in r.steps)}


def _audit_start(db, request: Request, user, job: jobs.RunJob) -> None:
    record(db, user.email, "run.start", job.run_id, {}, client_ip(request))
    db.commit()


# -- pages --------------------------------------------------------------------------------------------
@router.get("/runs")
def runs_page(request: Request, user: CurrentUser, offset: Offset = 0) -> Response:
    root = _root(request)
    runs, total = _records(root, PAGE_SIZE, offset)
    return render(request, "runs.html", {"runs": runs, "total": total, "offset": offset, "limit": PAGE_SIZE,
                                         "running": jobs.current_job(root), "step_words": STEP_WORDS})


@router.post("/runs/start", dependencies=[Depends(form_csrf)])
def start_form(request: Request, user: Editor, db: DB) -> Response:
    try:
        job = jobs.start_run(_root(request), started_by=user.email)
    except jobs.RunInProgress as e:
        root = _root(request)
        runs, total = _records(root, PAGE_SIZE, 0)
        return render(request, "runs.html", {"runs": runs, "total": total, "offset": 0, "limit": PAGE_SIZE,
                                             "running": jobs.current_job(root), "start_error": e.message},
                      status_code=409)
    _audit_start(db, request, user, job)
    return RedirectResponse(f"/runs/{job.run_id}", status_code=303)


@router.get("/runs/{run_id}")
def run_page(request: Request, user: CurrentUser, run_id: str) -> Response:
    root = _root(request)
    record, job = _record(root, run_id)
    data = run_json(record, job) if record is not None else None
    if data is not None:  # the page formats datetimes in the reader's language
        data.update(started_at=record.started_at, finished_at=record.finished_at)
    running = data is None or data["status"] == "running"
    chart = None
    if data and any(s["seconds"] for s in data["steps"]):
        steps = [s for s in data["steps"] if s["status"] != "pending"]
        chart = bar_chart([s["name"] for s in steps], {"Seconds": [s["seconds"] for s in steps]},
                          y_title="seconds")
    ingest = next((s for s in (data or {}).get("steps", []) if s["name"] == "ingest" and s["detail"]), None)
    return render(request, "run.html", {
        "run_id": run_id, "run": data, "job": job, "running": running, "chart": chart, "charts": chart is not None,
        "ingest": ingest["detail"] if ingest else None, "step_words": STEP_WORDS,
        "log": jobs.read_log(root, run_id, record)})


# -- API ----------------------------------------------------------------------------------------------
@router.get("/api/v1/runs", response_model=None)
def runs_api(request: Request, user: Reader, limit: Limit = 20, offset: Offset = 0,
             format: Format = "json") -> dict | Response:
    """Recent runs, newest first, with their steps (``?format=csv|xlsx``: every run, one row each)."""
    if format != "json":
        runs, _ = _records(_root(request), 10**9, 0)  # a download holds every run, not one page
        return file_of([_summary_row(r) for r in runs], RUN_COLUMNS, "runs", format)
    runs, total = _records(_root(request), limit, offset)
    return page_json([run_json(r, jobs.find_job(r.run_id)) for r in runs], total, limit, offset)


@router.post("/api/v1/runs", status_code=202)
def start_api(request: Request, user: Editor, db: DB):
    """Start ingest + pipeline in the background; 202 with the run id, 409 while a run goes on."""
    try:
        job = jobs.start_run(_root(request), started_by=user.email)
    except jobs.RunInProgress as e:
        return api_error(409, e.message, code="run_in_progress", headers={"Retry-After": "30"})
    _audit_start(db, request, user, job)
    return JSONResponse({"run_id": job.run_id, "status": "running", "url": f"/runs/{job.run_id}",
                         "status_url": f"/api/v1/runs/{job.run_id}", "log_url": f"/api/v1/runs/{job.run_id}/log"},
                        status_code=202, headers={"Location": f"/api/v1/runs/{job.run_id}"})


@router.get("/api/v1/runs/{run_id}", response_model=None)
def run_api(request: Request, user: Reader, run_id: str, format: Format = "json") -> dict | Response:
    """One run: status, steps with rows and seconds, errors (``?format=csv|xlsx``: the steps)."""
    record, job = _record(_root(request), run_id)
    data = (run_json(record, job) if record is not None else
            {"run_id": run_id, "status": "running", "steps": [], "current_step": None, "error": None})
    if format != "json":
        columns = ["name", "status", "rows_in", "rows_out", "seconds", "error"]
        rows = [{k: s[k] for k in columns} for s in data["steps"]]
        return file_of(rows, columns, f"run-{run_id}-steps", format)
    return data


@router.get("/api/v1/runs/{run_id}/log")
def run_log_api(request: Request, user: Reader, run_id: str) -> dict:
    """The run's log lines (a web run writes one as it goes; for CLI runs they come from the record)."""
    root = _root(request)
    record, job = _record(root, run_id)
    status = run_json(record, job)["status"] if record is not None else "running"
    return {"run_id": run_id, "status": status, "lines": jobs.read_log(root, run_id, record)}
