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

from functools import cached_property
from pathlib import Path

import ibis

from marketops.engine import Engine, connect
from marketops.errors import ConfigError
from marketops.settings import EnvSettings, WorkspaceConfig, default_config_text, load_config

CONFIG_FILE = "marketops.yaml"
STATE_DIR = ".marketops"


class Workspace:
    """An opened workspace; the engine opens on first use and closes with :meth:`close`."""

    def __init__(self, root: Path, config: WorkspaceConfig, *, engine: str | None = None,
                 read_only: bool = False) -> None:
        self.root = root
        self.config = config
        self.env = EnvSettings()
        self.engine_name = engine or self.env.engine or config.engine
        self.read_only = read_only

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
    def open(cls, root: Path | str, *, engine: str | None = None, read_only: bool = False) -> Workspace:
        """Open the workspace at ``root`` (or the nearest parent that has a marketops.yaml)."""
        start = Path(root).resolve()
        for candidate in (start, *start.parents):
            if (candidate / CONFIG_FILE).exists():
                return cls(candidate, load_config(candidate / CONFIG_FILE), engine=engine, read_only=read_only)
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
        return connect(self.engine_name, self.state_dir, read_only=self.read_only)

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

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self.config.name!r} at {self.root} on {self.engine_name}>"
