"""Run the same build on a fresh DuckDB workspace and a fresh PySpark one, for parity tests.

Import it in a test module (``from tests.engines import on_each_engine``) and mark the test
``@pytest.mark.spark``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from marketops.engine.base import Engine
from marketops.workspace import Workspace

T = TypeVar("T")


def on_each_engine(root: Path, build: Callable[[Engine], T]) -> dict[str, T]:
    """``build(engine)`` on each engine, in a workspace of its own under ``root``: results by engine."""
    pytest.importorskip("pyspark")
    results: dict[str, Any] = {}
    for name in ("duckdb", "spark"):
        Workspace.init(root / name).close()
        with Workspace.open(root / name, engine=name) as ws:
            results[name] = build(ws.engine)
    return results
