"""marketops: a self-hosted marketing operations hub.

In a notebook::

    >>> import marketops, tempfile, pathlib
    >>> ws = marketops.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> ws.table_names()   # canonical tables appear after `marketops run`
    []
    >>> ws.close()

``marketops.open("acme-marketing").people.to_pandas()`` gives a canonical table as a DataFrame
(``.to_polars()`` works too): every table is an Ibis table, so filters and joins run in the
warehouse, not in memory.
"""

from __future__ import annotations

from pathlib import Path

from marketops.errors import MarketopsError

__version__ = "0.1.0"


def open(path: str | Path = ".", *, engine: str | None = None, read_only: bool = True):  # noqa: A001
    """Open a workspace for reading; its canonical tables are attributes (``ws.people``)."""
    from marketops.workspace import Workspace

    return Workspace.open(path, engine=engine, read_only=read_only)


def init(path: str | Path, *, name: str | None = None):
    """Create (or complete) a workspace folder and open it."""
    from marketops.workspace import Workspace

    return Workspace.init(Path(path), name=name)


__all__ = ["MarketopsError", "__version__", "init", "open"]
