"""Analyses the pages show, computed once per version of the data.

The warehouse only changes when a run publishes (one atomic rename of ``published.json``), and an
analysis only changes with the data or with ``marketops.yaml`` (conversion definitions, metrics,
segments). So a result is kept under (version of those two, analysis, parameters) and every later
request for it answers from memory: attribution over millions of touchpoints takes seconds, a page
must take milliseconds. A run that publishes, or an edit of marketops.yaml, changes the version and
the next request computes afresh; older entries fall out of the bounded cache.

Concurrent requests for the same missing result wait for one computation instead of each starting
their own.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "marketops.yaml").write_text("name: Acme\\n")
    >>> cache = AnalysisCache(max_entries=8)
    >>> calls = []
    >>> cache.get(root, ("channels", "linear"), lambda: calls.append(1) or 42)
    42
    >>> cache.get(root, ("channels", "linear"), lambda: calls.append(1) or 42), len(calls)
    (42, 1)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MANIFEST = Path(".marketops") / "published.json"


def data_version(root: Path) -> str:
    """A fingerprint of what analyses read: the published tables and marketops.yaml."""
    h = hashlib.sha256()
    for path in (root / MANIFEST, root / "marketops.yaml"):
        try:
            h.update(path.read_bytes())
        except FileNotFoundError:
            h.update(b"-")
    return h.hexdigest()[:16]


class AnalysisCache:
    """A bounded, thread-safe map from (workspace, data version, key) to a computed result."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}

    def get(self, root: Path, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for ``key`` at the data's current version, computed if missing.
        Errors are not cached: the next request tries again."""
        full = (str(root), data_version(root), key)
        with self._lock:
            if full in self._values:
                self._values.move_to_end(full)
                return self._values[full]
            gate = self._computing.setdefault(full, threading.Lock())
        with gate:
            with self._lock:
                if full in self._values:
                    return self._values[full]
            value = compute()
            with self._lock:
                self._values[full] = value
                self._values.move_to_end(full)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
                self._computing.pop(full, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
