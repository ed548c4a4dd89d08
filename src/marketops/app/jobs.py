"""Pipeline runs started from the web: a background thread per run inside the server process.

At most one run at a time per workspace. Starting one takes the warehouse's write lock first, so
while another process holds it (``marketops run`` or ``marketops ingest`` in a terminal) the
start is refused with :class:`RunInProgress` instead of queueing behind it. While a run goes on,
its record in ``.marketops/runs/<run_id>.json`` (saved after every step) and its log
(``<run_id>.log`` beside it, one line per event) can be read; pages of this process keep reading
the last published tables meanwhile (see :mod:`marketops.workspace`).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "c.csv").write_text("Email,First Name\\na@x.com,Ann\\n")
    >>> job = start_run(ws.root, started_by="ann@acme.test")
    >>> job.wait(120).status
    'succeeded'
    >>> any("step ingest succeeded" in line for line in read_log(ws.root, job.run_id))
    True
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from marketops.errors import MarketopsError, WorkspaceLocked
from marketops.workspace import Workspace

#: Seconds a start waits for the warehouse (this server's own page reads let go within a request).
START_LOCK_WAIT = 3.0
#: Lines of a log kept and returned; older lines are dropped from the reply, not from the file.
MAX_LOG_LINES = 2000


class RunInProgress(MarketopsError):
    """A run is going on (from this server or another marketops process); try again later."""

    transient = True


@dataclass
class RunJob:
    """A run started from the web, followed while it goes on."""

    run_id: str
    root: Path
    started_by: str | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"  # running | succeeded | failed
    error: str | None = None
    current_step: str | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def log_path(self) -> Path:
        return log_path(self.root, self.run_id)

    def log(self, message: str) -> None:
        line = f"{datetime.now(UTC):%H:%M:%S} {message}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line.replace("\n", " ") + "\n")

    def wait(self, timeout: float | None = None) -> RunJob:
        """Block until the run has finished (or ``timeout`` seconds passed); returns the job."""
        self.finished.wait(timeout)
        return self


_guard = threading.Lock()
_current: dict[Path, RunJob] = {}  # workspace root -> its latest web run
_busy: dict[Path, str] = {}  # workspace root -> what this server is starting or loading now


def log_path(root: Path, run_id: str) -> Path:
    return Path(root) / ".marketops" / "runs" / f"{run_id}.log"


def current_job(root: Path) -> RunJob | None:
    """This server's run of the workspace at ``root`` that is still going on, if any."""
    job = _current.get(Path(root).resolve())
    return job if job is not None and job.running else None


def find_job(run_id: str) -> RunJob | None:
    """The web run with this id, if this server process started it."""
    return next((j for j in list(_current.values()) if j.run_id == run_id), None)


class _LogObserver:
    """Hears the pipeline's progress and writes it to the run's log."""

    def __init__(self, job: RunJob) -> None:
        self.job = job

    def step_started(self, step: str, total: int | None) -> None:
        self.job.current_step = step
        self.job.log(f"step {step} started" + (f" ({total} to do)" if total else ""))

    def advance(self, step: str, label: str) -> None:
        self.job.log(f"{step}: {label}")

    def step_finished(self, record) -> None:
        words = f"step {record.name} {record.status} in {record.seconds:.1f} s"
        if record.status == "succeeded":
            words += f" ({record.rows_in:,} rows in, {record.rows_out:,} rows out)"
        self.job.log(words)
        if record.error:
            self.job.log(f"error: {record.error}")


def start_run(root: Path, *, started_by: str | None = None, lock_wait: float = START_LOCK_WAIT) -> RunJob:
    """Start ingest + pipeline on the workspace at ``root`` in a background thread.

    Raises :class:`RunInProgress` when this server already runs it, or when another process
    holds the warehouse (a CLI run) for longer than ``lock_wait`` seconds.
    """
    from marketops.pipeline import new_run_id

    key = Path(root).resolve()
    with _guard:
        if key in _busy or current_job(key) is not None:
            raise RunInProgress("a run is in progress: wait for it to finish, then start another")
        _busy[key] = "starting a run"
    try:
        ws = Workspace.open(key, lock_wait=lock_wait)
        try:
            _ = ws.engine  # take the warehouse now, so a run held elsewhere is refused, not queued
        except WorkspaceLocked:
            ws.close()
            raise RunInProgress("a run is in progress in another marketops process (for example "
                                "`marketops run` in a terminal): try again when it has finished") from None
        job = RunJob(run_id=new_run_id(), root=key, started_by=started_by)
        job.log(f"run {job.run_id} started" + (f" by {started_by}" if started_by else ""))
        with _guard:
            _current[key] = job
        threading.Thread(target=_run, args=(job, ws), name=f"marketops-{job.run_id}", daemon=True).start()
        return job
    finally:
        with _guard:
            _busy.pop(key, None)


@contextmanager
def writing(root: Path, what: str) -> Iterator[None]:
    """Claim the workspace for a short write from the web (loading an upload now); raises
    :class:`RunInProgress` when a web run (or another such write) is going on."""
    key = Path(root).resolve()
    with _guard:
        if key in _busy or current_job(key) is not None:
            raise RunInProgress("a run is in progress")
        _busy[key] = what
    try:
        yield
    finally:
        with _guard:
            _busy.pop(key, None)


def _run(job: RunJob, ws: Workspace) -> None:
    from marketops.pipeline import run_pipeline

    try:
        record = run_pipeline(ws, run_id=job.run_id, observer=_LogObserver(job))
        job.status, job.error = record.status, record.error
        ingest = next((s for s in record.steps if s.name == "ingest" and s.detail), None)
        if ingest:
            d = ingest.detail
            job.log(f"files: {d.get('files', 0)} ({d.get('loaded', 0)} loaded, {d.get('unchanged', 0)} unchanged, "
                    f"{len(d.get('failed', []))} failed); rows quarantined: {d.get('quarantined', 0):,}")
            for failed in d.get("failed", []):
                job.log(f"file failed: {failed}")
        if record.status == "succeeded":
            job.log("run succeeded: the pages now show its results")
        else:
            job.log(f"run failed: {record.error}; nothing was published, the pages keep the last good run")
    except Exception as e:  # noqa: BLE001  (the run record must not stay 'running' whatever went wrong)
        job.status = "failed"
        job.error = str(e) if isinstance(e, MarketopsError) else f"{type(e).__name__}: {e}"
        job.log(f"run failed: {job.error}")
        traceback.print_exc()  # the server log keeps the details
        _mark_failed(ws, job)
    finally:
        job.current_step = None
        try:
            ws.close()
        finally:
            job.finished.set()


def _mark_failed(ws: Workspace, job: RunJob) -> None:
    path = ws.runs_dir / f"{job.run_id}.json"
    if not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("status") == "running":
        data.update(status="failed", error=job.error, finished_at=datetime.now(UTC).isoformat())
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        tmp.replace(path)


def read_log(root: Path, run_id: str, record=None) -> list[str]:
    """The log lines of a run: the file a web run writes, else lines made from its record (runs
    started with the CLI keep no log file)."""
    path = log_path(root, run_id)
    if path.exists():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[-MAX_LOG_LINES:]
    if record is None:
        return []
    lines = [f"{record.started_at:%H:%M:%S} run {record.run_id} started ({record.engine})"]
    for s in record.steps:
        if s.status == "pending":
            continue
        line = f"step {s.name} {s.status} in {s.seconds:.1f} s ({s.rows_in:,} rows in, {s.rows_out:,} rows out)"
        lines.append(line)
        if s.error:
            lines.append(f"error: {s.error}")
    if record.finished_at:
        lines.append(f"{record.finished_at:%H:%M:%S} run {record.status}" + (f": {record.error}" if record.error else ""))
    return lines


def wait_idle(root: Path, timeout: float = 60) -> bool:
    """Wait until this server has no run of ``root`` going on (used by tests and shutdown)."""
    deadline = time.monotonic() + timeout
    while (job := current_job(root)) is not None:
        if time.monotonic() >= deadline:
            return False
        job.wait(0.1)
    return True
