"""The Runs pages and API: history, a run's steps and log, runs started from the web (roles,
CSRF, one at a time, refused while a CLI run holds the warehouse), and the CLI and the server
working on one workspace at the same time."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openpyxl
import pyarrow as pa
import pytest

from marketops import pipeline
from marketops.app import jobs
from marketops.errors import WorkspaceLocked
from marketops.state.audit import recent
from marketops.state.db import session_scope
from marketops.state.tokens import create_token
from marketops.state.users import get_user
from marketops.workspace import Workspace
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    CSRF_RE,
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    served,
    users,
)

LEADS = "Email,First Name,Last Name\nann@acme.test,Ann,Lee\nbo@acme.test,Bo,Chan\ncy@acme.test,Cy,Diaz\n"
MARKETOPS = Path(sys.executable).parent / "marketops"


@pytest.fixture
def workspace_root(tmp_path, clean_env):
    root = tmp_path / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Acme Marketing\nlanguage: en\n", encoding="utf-8")
    Workspace.init(root).close()
    (root / "inbox" / "leads.csv").write_text(LEADS, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def no_run_left_behind(workspace_root):
    yield
    assert jobs.wait_idle(workspace_root, timeout=120), "a web run was still going on"


def wait_for(client, run_id: str, **headers) -> dict:
    deadline = time.monotonic() + 120
    while True:
        run = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()
        if run["status"] != "running":
            return run
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)


def token_for(app, role: str, scopes: tuple[str, ...]) -> str:
    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS[role]), "ci", scopes)
    return secret


class Gate:
    """A pipeline step that waits until the test lets it go: a run that is surely still running."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, ctx, rec) -> None:
        self.entered.set()
        assert self.release.wait(60)


# -- pages and roles --------------------------------------------------------------------------------
def test_empty_history_says_what_to_do(client, users):
    login_as(client, "viewer")
    page = client.get("/runs")
    assert page.status_code == 200
    assert "No runs yet: load files on Imports, then start a run." in page.text
    assert 'id="start-run"' not in page.text  # viewers cannot start one
    assert client.get("/api/v1/runs").json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_viewer_cannot_start_a_run(app, client, users, workspace_root):
    login_as(client, "viewer")
    token = csrf_from(client.get("/runs").text)
    assert client.post("/runs/start", data={"csrf_token": token}).status_code == 403
    assert client.post("/api/v1/runs", headers={"X-CSRF-Token": token}).status_code == 403
    read = token_for(app, "editor", ("read",))
    assert client.post("/api/v1/runs", headers={"Authorization": f"Bearer {read}"}).status_code == 403
    assert not (workspace_root / ".marketops" / "runs").exists() or not list(
        (workspace_root / ".marketops" / "runs").glob("r*.json"))


def test_starting_a_run_needs_the_csrf_token(client, users, workspace_root):
    login_as(client, "editor")
    assert client.post("/runs/start", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/api/v1/runs").status_code == 403  # session cookie without X-CSRF-Token
    assert client.get("/api/v1/runs").json()["total"] == 0


def test_a_run_started_from_the_web_completes_with_steps_and_log(client, users, workspace_root):
    login_as(client, "editor")
    token = csrf_from(client.get("/runs").text)
    started = client.post("/runs/start", data={"csrf_token": token})
    assert started.status_code == 303
    run_id = started.headers["location"].rsplit("/", 1)[1]
    run = wait_for(client, run_id)
    assert run["status"] == "succeeded", run["error"]
    assert [s["name"] for s in run["steps"]] == [name for name, _ in pipeline.STEPS]
    ingest = run["steps"][0]
    assert ingest["status"] == "succeeded" and ingest["rows_out"] == 3 and ingest["seconds"] >= 0
    assert run["started_by"] == EMAILS["editor"]
    with session_scope(client.app.state.database_url) as s:
        assert [(e.actor, e.target) for e in recent(s, action="run.start")] == [(EMAILS["editor"], run_id)]

    log = client.get(f"/api/v1/runs/{run_id}/log").json()
    assert log["status"] == "succeeded"
    assert any("step ingest succeeded" in line for line in log["lines"])
    assert log["lines"][-1].endswith("run succeeded: the pages now show its results")

    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert 'data-status="succeeded"' in page.text and 'http-equiv="refresh"' not in page.text
    assert '<tr data-step="ingest" data-status="succeeded">' in page.text
    assert 'class="chart"' in page.text and "/static/charts.js" in page.text
    history = client.get("/runs")
    assert f'data-run="{run_id}" data-status="succeeded"' in history.text
    listed = client.get("/api/v1/runs").json()
    assert listed["total"] == 1 and listed["items"][0]["run_id"] == run_id
    overview = client.get("/api/v1/overview").json()
    assert {t["name"]: t["rows"] for t in overview["tables"]}["people"] == 3


def test_run_downloads_as_csv_and_xlsx(client, users, workspace_root):
    with Workspace.open(workspace_root) as ws:
        run = pipeline.run_pipeline(ws)
    login_as(client, "viewer")
    csv = client.get("/api/v1/runs?format=csv").content.decode("utf-8-sig").splitlines()
    assert csv[0].startswith("run_id,status,") and csv[1].startswith(f"{run.run_id},succeeded,")
    steps = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/runs/{run.run_id}?format=xlsx").content)).active
    assert [c.value for c in next(steps.iter_rows(max_row=1))][:2] == ["name", "status"]
    assert steps.cell(row=2, column=1).value == "ingest"


def test_a_cli_run_shows_with_a_log_made_from_its_record(client, users, workspace_root):
    with Workspace.open(workspace_root) as ws:
        run = pipeline.run_pipeline(ws)
    login_as(client, "viewer")
    log = client.get(f"/api/v1/runs/{run.run_id}/log").json()["lines"]
    assert any(line.startswith("step ingest succeeded") for line in log) and "run succeeded" in log[-1]
    assert "refresh" not in client.get(f"/runs/{run.run_id}").text


def test_only_one_web_run_at_a_time(app, client, users, workspace_root, monkeypatch):
    gate = Gate()
    monkeypatch.setattr(pipeline, "STEPS", [("ingest", pipeline.step_ingest), ("wait", gate)])
    write = token_for(app, "editor", ("write",))
    auth = {"Authorization": f"Bearer {write}"}
    first = client.post("/api/v1/runs", headers=auth)
    assert first.status_code == 202
    run_id = first.json()["run_id"]
    assert first.headers["location"] == f"/api/v1/runs/{run_id}"
    try:
        assert gate.entered.wait(60)
        second = client.post("/api/v1/runs", headers=auth)
        assert second.status_code == 409 and second.json()["error"]["code"] == "run_in_progress"
        assert "a run is in progress" in second.json()["error"]["message"]
        running = client.get(f"/api/v1/runs/{run_id}", headers=auth).json()
        assert running["status"] == "running" and running["current_step"] == "wait"
        assert [s["status"] for s in running["steps"]] == ["succeeded", "running"]
        assert any("step ingest succeeded" in line
                   for line in client.get(f"/api/v1/runs/{run_id}/log", headers=auth).json()["lines"])
        login_as(client, "editor")
        page = client.get(f"/runs/{run_id}")
        assert 'http-equiv="refresh"' in page.text and 'data-status="running"' in page.text
        # The pages keep reading the last published data while this process writes.
        assert client.get("/api/v1/overview").status_code == 200
        assert client.get("/imports").status_code == 200
        assert 'id="start-run" disabled' in client.get("/runs").text
        # An upload meanwhile is kept for the next run rather than loaded beside this one.
        upload = client.post("/api/v1/uploads?ingest=true", headers=auth,
                             files={"file": ("more.csv", b"Email\ndee@acme.test\n", "text/csv")})
        assert upload.status_code == 201 and upload.json()["status"] == "saved"
        assert "the next run loads it" in upload.json()["note"]
    finally:
        gate.release.set()
    assert wait_for(client, run_id, **auth)["status"] == "succeeded"


def test_a_web_run_is_refused_while_another_process_holds_the_warehouse(app, client, users, workspace_root,
                                                                       monkeypatch):
    monkeypatch.setattr(jobs, "START_LOCK_WAIT", 0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                                "print('ready', flush=True); time.sleep(60)"), str(workspace_root / ".marketops" / "warehouse.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        write = token_for(app, "editor", ("write",))
        refused = client.post("/api/v1/runs", headers={"Authorization": f"Bearer {write}"})
        assert refused.status_code == 409 and "another marketops process" in refused.json()["error"]["message"]
        login_as(client, "editor")
        page = client.post("/runs/start", data={"csrf_token": csrf_from(client.get("/runs").text)})
        assert page.status_code == 409 and "a run is in progress" in page.text
    finally:
        holder.kill()
        holder.wait()
    assert client.get("/api/v1/runs").json()["total"] == 0


def test_a_failed_run_says_why_and_keeps_the_last_good_tables(client, users, workspace_root, monkeypatch):
    with Workspace.open(workspace_root) as ws:
        assert pipeline.run_pipeline(ws).status == "succeeded"

    def broken(ctx, rec):
        raise RuntimeError("the disk is full")

    (workspace_root / "inbox" / "more.csv").write_text("Email,First Name\ndee@acme.test,Dee\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:3], ("normalise", broken)])
    login_as(client, "editor")
    started = client.post("/runs/start", data={"csrf_token": csrf_from(client.get("/runs").text)})
    run_id = started.headers["location"].rsplit("/", 1)[1]
    run = wait_for(client, run_id)
    assert run["status"] == "failed" and "step 'normalise' failed: RuntimeError: the disk is full" in run["error"]
    page = client.get(f"/runs/{run_id}")
    assert "Nothing was published: the pages keep showing the last good run." in page.text
    assert '<tr data-step="normalise" data-status="failed">' in page.text
    assert "traceback" not in client.get(f"/api/v1/runs/{run_id}").text.lower()
    overview = client.get("/api/v1/overview").json()
    assert {t["name"]: t["rows"] for t in overview["tables"]}["people"] == 3


def test_unknown_or_hostile_run_ids_are_not_found(client, users):
    login_as(client, "viewer")
    for run_id in ("r1234", "..", "r..%2F..%2Fsecret", "%2E%2E"):
        assert client.get(f"/api/v1/runs/{run_id}").status_code == 404, run_id
        assert client.get(f"/api/v1/runs/{run_id}/log").status_code == 404, run_id
    assert client.get("/runs/nope").status_code == 404


# -- the CLI and the server on one workspace --------------------------------------------------------

class PageReader(threading.Thread):
    """Signed in, reads pages in a loop and keeps every status seen."""

    PATHS = ("/", "/imports", "/runs", "/api/v1/overview", "/api/v1/loads")

    def __init__(self, http: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.http, self.stop, self.seen = http, threading.Event(), []

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.PATHS:
                r = self.http.get(path)
                self.seen.append((path, r.status_code, r.headers.get("retry-after")))


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(MARKETOPS), *args, "--workspace", str(root)], capture_output=True, text=True,
                          timeout=300, check=False)


def test_cli_ingest_and_run_while_the_server_serves_pages(app, users, workspace_root):
    with served(app) as base:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as http:
            token = CSRF_RE.search(http.get("/login").text).group(1)
            assert http.post("/login", data={"email": EMAILS["viewer"], "password": PASSWORDS["viewer"],
                                             "csrf_token": token}).status_code == 303
            reader = PageReader(http)
            reader.start()
            try:
                ingest = _cli(workspace_root, "ingest")
                run = _cli(workspace_root, "run")
                while len(reader.seen) < 10:  # the pages were read at least a few times
                    time.sleep(0.05)
            finally:
                reader.stop.set()
                reader.join(timeout=30)
            assert ingest.returncode == 0, ingest.stdout + ingest.stderr
            assert run.returncode == 0, run.stdout + run.stderr
            for out in (ingest, run):
                assert "in use" not in out.stdout + out.stderr and "lock" not in (out.stdout + out.stderr).lower()
            assert reader.seen and all(status == 200 or (status == 503 and retry) for _, status, retry in reader.seen), \
                sorted({(p, s) for p, s, _ in reader.seen})
            overview = http.get("/api/v1/overview").json()
            assert {t["name"]: t["rows"] for t in overview["tables"]}["people"] == 3
            assert overview["last_run"]["status"] == "succeeded"

            # A run that fails (a quality gate) leaves the pages on the last good tables.
            config = workspace_root / "marketops.yaml"
            config.write_text(config.read_text(encoding="utf-8") + (
                "quality:\n  thresholds:\n    - table: people\n      column: email\n      metric: validity\n"
                "      min: 0.99\n      action: fail\n"), encoding="utf-8")
            bad = "Email,First Name\n" + "".join(f"not-an-email-{i},N{i}\n" for i in range(20))
            (workspace_root / "inbox" / "bad.csv").write_text(bad, encoding="utf-8")
            failed = _cli(workspace_root, "run")
            assert failed.returncode == 1, failed.stdout + failed.stderr
            overview = http.get("/api/v1/overview").json()
            assert overview["last_run"]["status"] == "failed"
            assert {t["name"]: t["rows"] for t in overview["tables"]}["people"] == 3
            runs_page = http.get("/runs")
            assert runs_page.status_code == 200 and 'data-status="failed"' in runs_page.text


# -- the warehouse lock between processes (marketops.workspace) -------------------------------------
def test_a_writer_waits_for_a_reader_of_another_process(workspace_root):
    with Workspace.open(workspace_root) as ws:
        ws.engine.write("t", pa.table({"a": [1]}))
    reader = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
                                "print('ready', flush=True); time.sleep(1.5); c.close()"),
         str(workspace_root / ".marketops" / "warehouse.duckdb")], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        with pytest.raises(WorkspaceLocked):  # without waiting, the reader is in the way
            _ = Workspace.open(workspace_root, lock_wait=0).engine
        with Workspace.open(workspace_root, lock_wait=30) as ws:
            assert ws.engine.count("t") == 1
    finally:
        reader.kill()
        reader.wait()


def test_readers_stand_back_while_another_process_waits_to_write(workspace_root):
    import os

    from marketops.workspace import WRITE_WANTED

    Workspace.open(workspace_root).close()
    marker = workspace_root / ".marketops" / WRITE_WANTED
    marker.write_text("999999999", encoding="utf-8")  # another process's pid
    with pytest.raises(WorkspaceLocked):
        _ = Workspace.open(workspace_root, read_only=True, lock_wait=0).engine
    old = time.time() - 3600
    os.utime(marker, (old, old))  # left over by a process that died: ignored
    with Workspace.open(workspace_root, read_only=True, lock_wait=0) as ws:
        assert ws.engine.tables() is not None
