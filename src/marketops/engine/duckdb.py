"""The default engine: a DuckDB file in the workspace's ``.marketops/`` folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import sqlglot.expressions as exp

from marketops.engine.base import Engine
from marketops.errors import WorkspaceLocked


def quiet_duckdb(path: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that draws no progress bar of its own (the CLI has rich bars)."""
    con = duckdb.connect(path, read_only=read_only)
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


class DuckDBEngine(Engine):
    """Warehouse in ``.marketops/warehouse.duckdb``.

    Example:
        >>> import tempfile, pathlib, pyarrow as pa
        >>> eng = DuckDBEngine(pathlib.Path(tempfile.mkdtemp()))
        >>> eng.write("t", pa.table({"a": [1, 2]}))
        >>> eng.count("t")
        2
    """

    name = "duckdb"
    scratch_is_warehouse = True

    def __init__(self, state_dir: Path, *, read_only: bool = False) -> None:
        super().__init__(state_dir)
        self.path = state_dir / "warehouse.duckdb"
        if read_only and not self.path.exists():
            read_only = False  # nothing to protect yet; create the file
        try:
            self._raw = quiet_duckdb(str(self.path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise WorkspaceLocked(
                    f"the warehouse {self.path} is in use by another marketops process",
                    hint="wait for the running import or pipeline run to finish, then try again") from None
            raise
        self._con = ibis.duckdb.from_connection(self._raw)

    @property
    def con(self) -> ibis.BaseBackend:
        return self._con

    def scratch(self) -> duckdb.DuckDBPyConnection:
        return self._raw

    def append_scratch(self, table: str, query: str) -> int:
        if table in self.tables():
            n = self._raw.execute(f"INSERT INTO {_ident(table)} BY NAME {query}").fetchall()[0][0]
        else:
            self._raw.execute(f"CREATE TABLE {_ident(table)} AS {query}")
            n = self._raw.execute(f"SELECT count(*) FROM {_ident(table)}").fetchall()[0][0]
        return int(n)

    def write(self, table: str, obj: ibis.Table | pa.Table) -> None:
        if isinstance(obj, pa.Table):
            self._raw.register("__incoming", obj)
            try:
                self._raw.execute(f"CREATE OR REPLACE TABLE {_ident(table)} AS SELECT * FROM __incoming")
            finally:
                self._raw.unregister("__incoming")
        else:
            sql = self._con.compile(obj)
            self._raw.execute(f"CREATE OR REPLACE TABLE {_ident(table)} AS {sql}")

    def drop(self, table: str) -> None:
        self._raw.execute(f"DROP TABLE IF EXISTS {_ident(table)}")

    def tables(self) -> list[str]:
        return [r[0] for r in self._raw.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]

    def _expose(self, mapping: dict[str, str]) -> None:
        # Views let SQL users and BI tools query `people` directly in warehouse.duckdb.
        with self.transaction():
            for name, physical in mapping.items():
                self._raw.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM {_ident(physical)}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._raw.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._raw.execute("ROLLBACK")
            raise
        self._raw.execute("COMMIT")

    def close(self) -> None:
        self._raw.close()
