"""The warehouse engine: one Ibis backend plus the few things that differ per engine.

Shared logic lives in :class:`Engine` and is final; an engine implements only a handful of small
primitives (how to store an Arrow batch or an Ibis expression, how to drop a table, how to make
published tables visible). Everything above this layer writes Ibis expressions and runs on every
engine.

Files are always parsed by DuckDB (:meth:`Engine.scratch`): it reads CSV, JSON and Parquet at
native speed and gives exact reject records. On the DuckDB engine the scratch connection *is*
the warehouse, so parsed rows never leave the engine; on Spark they travel as Arrow batches.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, final

import ibis
import pyarrow as pa

from marketops.errors import unknown_name

if TYPE_CHECKING:
    import duckdb


class Engine(ABC):
    """A warehouse: named tables you can read as Ibis tables and write from Ibis or Arrow."""

    #: Short name used in settings and messages ("duckdb", "spark").
    name: str
    #: True when :meth:`scratch` is the warehouse itself, so parsed rows need not travel.
    scratch_is_warehouse: bool = False

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.manifest_path = state_dir / "published.json"

    # -- primitives each engine implements -------------------------------------------------
    @property
    @abstractmethod
    def con(self) -> ibis.BaseBackend:
        """The Ibis backend."""

    @abstractmethod
    def scratch(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for parsing files (the warehouse itself on the DuckDB engine)."""

    @abstractmethod
    def append_scratch(self, table: str, query: str) -> int:
        """Append the rows of a DuckDB ``query`` on :meth:`scratch` to ``table``; return the count."""

    @abstractmethod
    def write(self, table: str, obj: ibis.Table | pa.Table) -> None:
        """Create or replace ``table`` with the rows of ``obj``."""

    @abstractmethod
    def drop(self, table: str) -> None:
        """Drop ``table`` if it exists."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Physical table names."""

    def _expose(self, mapping: dict[str, str]) -> None:
        """Make the published tables visible under their canonical names (views), if the engine can."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing writes where the engine has transactions (DuckDB); a no-op elsewhere,
        where loads stay safe because their record is written last."""
        yield

    def close(self) -> None:
        """Release the engine's connections."""

    # -- shared logic ------------------------------------------------------------------------
    @final
    def published(self) -> dict[str, str]:
        """Canonical name -> physical table of the last good run (empty before the first)."""
        try:
            return json.loads(self.manifest_path.read_text())["tables"]
        except FileNotFoundError:
            return {}

    @final
    def publish(self, mapping: dict[str, str], run_id: str) -> None:
        """Point canonical names at a run's tables, atomically: readers see old or new, never half.

        The manifest is replaced with one rename (atomic on POSIX); tables of older runs are
        dropped afterwards, keeping the ones just replaced so a reader mid-query finishes.
        """
        previous = self.published()
        merged = {**previous, **mapping}
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"run_id": run_id, "tables": merged}, indent=2))
        os.replace(tmp, self.manifest_path)
        self._expose(merged)
        keep = set(merged.values()) | set(previous.values())
        for name in self.tables():
            if "__" in name and name.split("__")[0] in merged and name not in keep:
                self.drop(name)

    @final
    def table(self, name: str) -> ibis.Table:
        """A published canonical table (``people``) or any physical table, as an Ibis table."""
        published = self.published()
        if name in published:
            return self.con.table(published[name])
        if name in self.tables():
            return self.con.table(name)
        raise unknown_name("table", name, set(published) | {t for t in self.tables() if "__" not in t})

    @final
    def has_table(self, name: str) -> bool:
        return name in self.published() or name in self.tables()

    @final
    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())
