"""Computes the pages' default analyses in the background as soon as a run publishes.

Attribution over millions of touchpoints takes seconds; the pages answer from the analysis cache
in milliseconds once it holds a result. The warmer watches the data's version (the published
tables and marketops.yaml, see :mod:`marketops.app.cache`) every few seconds and, when it changes,
fills the cache with what the pages show by default, so the first visitor after a run does not
wait. While a CLI run holds the warehouse's write lock it simply tries again at the next tick.

Example:
    >>> w = Warmer(app=None, interval=60)
    >>> w.running
    False
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from marketops.app.cache import data_version
from marketops.errors import WorkspaceLocked

log = logging.getLogger("marketops.app")


class Warmer:
    """A daemon thread filling the analysis cache after each change of the data."""

    def __init__(self, app: Any, interval: float = 3.0) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.warmed_version: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="marketops-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def warm_once(self) -> bool:
        """Compute every default analysis for the current data; False when the warehouse is busy."""
        from marketops.app.routes.metrics import WARM, cached_analysis

        root = self.app.state.workspace_root
        version = data_version(root)
        if version == self.warmed_version or not (root / ".marketops" / "published.json").exists():
            return True
        for name, fn, params in WARM:
            if self._stop.is_set():
                return False
            try:
                cached_analysis(self.app, name, fn, **params)
            except WorkspaceLocked:
                return False  # a run is writing: its publish will change the version anyway
            except Exception:  # a page shows its own error; the warmer must not die with it
                log.warning("could not precompute %s", name, exc_info=True)
        self.warmed_version = version
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.warm_once()
            self._stop.wait(self.interval)
