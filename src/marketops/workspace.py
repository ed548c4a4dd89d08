"""A workspace folder: ``marketops.yaml`` (rules, reviewed like code) and ``.marketops/`` (data).

::

    acme-marketing/
      marketops.yaml      settings and rules
      inbox/              files dropped here are picked up by `marketops ingest`
      .marketops/         warehouse.duckdb, app.sqlite, runs/, quarantine/ (ignorable by git)

Example:
    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> sorted(p.name for p in ws.root.iterdir())
    ['.gitignore', '.marketops', 'inbox', 'marketops.yaml']
    >>> ws.close()
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from functools import cached_property
from pathlib import Path

import ibis

from marketops.engine import Engine, connect
from marketops.errors import ConfigError, WorkspaceLocked
from marketops.settings import EnvSettings, WorkspaceConfig, default_config_text, load_config

CONFIG_FILE = "marketops.yaml"
STATE_DIR = ".marketops"

#: How long opening the DuckDB warehouse waits for another holder to let go before raising
#: WorkspaceLocked: writers (a CLI ingest or run) wait through the web server's short reads;
#: readers (a page) wait only briefly, then the page answers "try again in a moment".
WRITE_LOCK_WAIT = 60.0
READ_LOCK_WAIT = 1.0
_LOCK_POLL = 0.05
# DuckDB allows one configuration (read-only or not) per file in a process. While this process
# writes (a run started from the web), its readers open the file the writer's way and share its
# database: they read the last committed state, which is the last published run.
_open_guard = threading.Lock()
_writers: Counter[Path] = Counter()
WRITE_WANTED = "write.wanted"
#: A write.wanted older than this is left over from a process that died while waiting.
_WANTED_FRESH = 10.0


def _writer_waiting(marker: Path) -> bool:
    """Another process waits to write (and is still alive to say so)."""
    try:
        stat = marker.stat()
        return (time.time() - stat.st_mtime < _WANTED_FRESH
                and marker.read_text(encoding="utf-8").strip() != str(os.getpid()))
    except (OSError, ValueError):
        return False


def _say_writer_waiting(marker: Path) -> None:
    try:
        marker.write_text(str(os.getpid()), encoding="utf-8")  # also refreshes its time
    except OSError:
        pass


def _writer_done(marker: Path) -> None:
    try:
        if marker.read_text(encoding="utf-8").strip() == str(os.getpid()):
            marker.unlink()
    except OSError:
        pass


class Workspace:
    """An opened workspace; the engine opens on first use and closes with :meth:`close`."""

    def __init__(self, root: Path, config: WorkspaceConfig, *, engine: str | None = None,
                 read_only: bool = False, lock_wait: float | None = None) -> None:
        self.root = root
        self.config = config
        self.env = EnvSettings()
        self.engine_name = engine or self.env.engine or config.engine
        self.read_only = read_only
        #: seconds to wait for the warehouse when another process (or request) holds it
        self.lock_wait = lock_wait
        self._writer_key: Path | None = None

    # -- creating and opening ----------------------------------------------------------------
    @classmethod
    def init(cls, root: Path, *, name: str | None = None) -> Workspace:
        """Create a workspace folder (or complete one); an existing marketops.yaml is kept."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        cfg = root / CONFIG_FILE
        if not cfg.exists():
            cfg.write_text(default_config_text(name or root.resolve().name.replace("-", " ").title()),
                           encoding="utf-8")
        ignore = root / ".gitignore"
        if not ignore.exists():
            ignore.write_text(f"{STATE_DIR}/\n", encoding="utf-8")
        ws = cls.open(root)
        ws.inbox.mkdir(exist_ok=True)
        for sub in ("runs", "quarantine", "tmp"):
            (ws.state_dir / sub).mkdir(parents=True, exist_ok=True)
        return ws

    @classmethod
    def open(cls, root: Path | str, *, engine: str | None = None, read_only: bool = False,
             lock_wait: float | None = None) -> Workspace:
        """Open the workspace at ``root`` (or the nearest parent that has a marketops.yaml)."""
        start = Path(root).resolve()
        for candidate in (start, *start.parents):
            if (candidate / CONFIG_FILE).exists():
                return cls(candidate, load_config(candidate / CONFIG_FILE), engine=engine, read_only=read_only,
                           lock_wait=lock_wait)
        raise ConfigError(f"{start} is not a marketops workspace (no {CONFIG_FILE} here or above)",
                          hint=f"create one with `marketops init {root}`")

    # -- places --------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def inbox(self) -> Path:
        return self.root / self.config.inbox

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def tmp_dir(self) -> Path:
        path = self.state_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def app_database_url(self) -> str:
        return self.env.database_url or f"sqlite:///{self.state_dir / 'app.sqlite'}"

    # -- data ------------------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.engine_name == "spark":
            return connect("spark", self.state_dir, master=self.config.spark.master, conf=self.config.spark.conf)
        if self.engine_name == "duckdb":
            return self._open_duckdb()
        return connect(self.engine_name, self.state_dir, read_only=self.read_only)

    def _open_duckdb(self) -> Engine:
        """The warehouse, waiting up to ``lock_wait`` seconds while another holder has it (a CLI
        run, the web server's page reads): DuckDB lets one process write, or many read.

        A writer that has to wait says so in ``.marketops/write.wanted``; readers of other
        processes then stand back (WorkspaceLocked: the web answers "try again in a moment")
        instead of keeping the file busy with overlapping requests for ever.
        """
        import duckdb

        key = self.state_dir.resolve()
        wanted = self.state_dir / WRITE_WANTED
        wait = self.lock_wait if self.lock_wait is not None else (READ_LOCK_WAIT if self.read_only else WRITE_LOCK_WAIT)
        deadline = time.monotonic() + wait
        if not self.read_only:
            with _open_guard:
                _writers[key] += 1  # from now on this process's readers open the file the writer's way
        locked: Exception | None = None
        try:
            while True:
                with _open_guard:
                    read_only = self.read_only and not _writers[key]
                    try:
                        if read_only and _writer_waiting(wanted):
                            raise WorkspaceLocked(f"the warehouse {self.state_dir / 'warehouse.duckdb'} is about "
                                                  "to be written by another marketops process")
                        engine = connect("duckdb", self.state_dir, read_only=read_only)
                    except (WorkspaceLocked, duckdb.ConnectionException) as e:
                        # ConnectionException: this process has the file open the other way (pages
                        # reading while a web run starts); they close within a request.
                        locked = e
                    else:
                        if not self.read_only:
                            self._writer_key = key
                        return engine
                if time.monotonic() >= deadline:
                    if isinstance(locked, WorkspaceLocked):
                        raise locked
                    raise WorkspaceLocked(f"the warehouse {self.state_dir / 'warehouse.duckdb'} is in use",
                                          hint="wait for the running import or pipeline run to finish") from None
                if not self.read_only:
                    _say_writer_waiting(wanted)
                time.sleep(_LOCK_POLL)
        except BaseException:
            if not self.read_only:
                with _open_guard:
                    _writers[key] -= 1
            raise
        finally:
            if not self.read_only:
                _writer_done(wanted)

    def table(self, name: str) -> ibis.Table:
        """A canonical table of the last good run (or a system table such as ``_loads``)."""
        return self.engine.table(name)

    def __getattr__(self, name: str) -> ibis.Table:
        # ws.people, ws.ad_spend... for notebooks; only for published canonical tables.
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.engine.published():
            return self.engine.table(name)
        raise AttributeError(f"workspace has no table '{name}'")

    def table_names(self) -> list[str]:
        """Canonical tables the last good run published."""
        return sorted(self.engine.published())

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.close()
            del self.__dict__["engine"]
        if self._writer_key is not None:
            with _open_guard:
                _writers[self._writer_key] -= 1
            self._writer_key = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self.config.name!r} at {self.root} on {self.engine_name}>"
