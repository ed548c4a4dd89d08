"""Warehouse engines behind one interface: DuckDB by default, PySpark for large companies.

Example:
    >>> import tempfile, pathlib
    >>> eng = connect("duckdb", pathlib.Path(tempfile.mkdtemp()))
    >>> eng.name
    'duckdb'
"""

from __future__ import annotations

from pathlib import Path

from marketops.engine.base import Engine
from marketops.errors import unknown_name

ENGINES = ("duckdb", "spark")


def connect(name: str, state_dir: Path, *, read_only: bool = False, **options) -> Engine:
    """Open the warehouse engine ``name`` keeping its data under ``state_dir``."""
    if name == "duckdb":
        from marketops.engine.duckdb import DuckDBEngine

        return DuckDBEngine(state_dir, read_only=read_only)
    if name == "spark":
        from marketops.engine.spark import SparkEngine

        return SparkEngine(state_dir, **options)
    raise unknown_name("engine", name, ENGINES)


__all__ = ["ENGINES", "Engine", "connect"]
