"""The PySpark engine: the same pipeline on Spark, local mode on a laptop or a cluster.

Tables are Parquet folders under ``.marketops/spark/`` registered as views at start, so they
outlive the Spark session without a Hive metastore. Files are still parsed by DuckDB (see
:class:`~marketops.engine.base.Engine`) and arrive here as Arrow batches.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from marketops.engine.base import Engine
from marketops.engine.duckdb import quiet_duckdb
from marketops.errors import MissingDependency

_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SparkEngine(Engine):
    """Warehouse as Parquet tables read and written by Spark through Ibis."""

    name = "spark"

    def __init__(self, state_dir: Path, *, master: str = "local[2]", conf: dict[str, str] | None = None) -> None:
        super().__init__(state_dir)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise MissingDependency("the spark engine", "spark") from None
        self.root = state_dir / "spark"
        self.root.mkdir(parents=True, exist_ok=True)
        builder = (SparkSession.builder.master(master).appName("marketops")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.warehouse.dir", str(state_dir / "spark-warehouse")))
        for k, v in (conf or {}).items():
            builder = builder.config(k, v)
        self.session = builder.getOrCreate()
        self.session.sparkContext.setLogLevel("ERROR")
        self._con = ibis.pyspark.connect(self.session)
        self._scratch = quiet_duckdb()
        for path in sorted(self.root.iterdir()):
            if path.is_dir():
                self._register(path.name)

    @property
    def con(self) -> ibis.BaseBackend:
        return self._con

    def scratch(self) -> duckdb.DuckDBPyConnection:
        return self._scratch

    def _path(self, table: str) -> Path:
        if not _SAFE.match(table):
            raise ValueError(f"not a valid table name: {table!r}")
        return self.root / table

    def _register(self, table: str) -> None:
        self.session.read.parquet(str(self._path(table))).createOrReplaceTempView(table)

    def _write_arrow(self, table: str, batch: pa.Table, *, append: bool) -> None:
        path = self._path(table)
        if not append and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        n = len(list(path.glob("*.parquet")))
        # Spark reads Parquet timestamps as instants; microseconds keep them exact.
        pq.write_table(batch, path / f"part-{n:05d}.parquet", coerce_timestamps="us",
                       allow_truncated_timestamps=False)
        self._register(table)

    def append_scratch(self, table: str, query: str) -> int:
        batch = self._scratch.sql(query).to_arrow_table()
        self._write_arrow(table, batch, append=True)
        return batch.num_rows

    def write(self, table: str, obj: ibis.Table | pa.Table) -> None:
        if isinstance(obj, pa.Table):
            self._write_arrow(table, obj, append=False)
            return
        df = self.session.sql(str(self._con.compile(obj)))
        tmp = self._path(table + "_tmp_write")
        df.write.mode("overwrite").parquet(str(tmp))
        path = self._path(table)
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
        self._register(table)

    def drop(self, table: str) -> None:
        shutil.rmtree(self._path(table), ignore_errors=True)
        self.session.catalog.dropTempView(table)

    def tables(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def close(self) -> None:
        self._scratch.close()
