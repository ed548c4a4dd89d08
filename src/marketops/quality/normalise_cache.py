"""Normalised values kept between runs, so each distinct value is normalised once per workspace.

A run re-cleans every canonical table, and a million contacts hold about a million distinct
emails and phones: normalising them again at every run would cost a minute for nothing. The
normalise step opens a :class:`ValueCache` from the warehouse, :func:`normalise_values` (through
:func:`active`) answers known values from it and normalises only new ones, and the step saves it
back. Entries are keyed by the kind, the options (a phone's region, the source aliases) and a
fingerprint of the normalisers' code and libraries, so a change in any of them starts afresh;
values no run asked for are dropped when the cache is saved.

Example:
    >>> import pyarrow as pa
    >>> cache = ValueCache()
    >>> key = cache.key("country", {})
    >>> cache.add(key, pa.table({"raw_text": ["Italia"], "value": ["IT"]}))
    >>> cache.known(key, ["Italia", "Francia"]).column("value").to_pylist()
    ['IT']
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import json
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from marketops.engine.base import Engine

#: Warehouse tables holding the cache, one per kind of value.
PREFIX = "_normalised_values_"
_LIBRARIES = ("email-validator", "phonenumbers", "pycountry", "idna")
_current: contextvars.ContextVar[ValueCache | None] = contextvars.ContextVar("value_cache", default=None)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the normalisers' source and the libraries they rely on."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("normalise*.py")):
        digest.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


class ValueCache:
    """Normalisation results by cache key, each an Arrow table with a ``raw_text`` column."""

    def __init__(self, tables: dict[str, pa.Table] | None = None) -> None:
        self.tables: dict[str, pa.Table] = tables or {}
        self.used: set[str] = set()
        self.kinds: dict[str, str] = {}
        self.changed = False

    def key(self, kind: str, options: dict[str, Any]) -> str:
        payload = json.dumps([code_fingerprint(), kind, options], sort_keys=True, default=str)
        key = hashlib.sha256(payload.encode()).hexdigest()[:24]
        self.kinds[key] = kind
        return key

    def known(self, key: str, texts: Sequence[str | None]) -> pa.Table | None:
        """The cached rows for ``texts`` (in no particular order), or None when nothing is cached."""
        self.used.add(key)
        table = self.tables.get(key)
        if table is None:
            return None
        return table.filter(pc.is_in(table["raw_text"], value_set=pa.array(texts, pa.string())))

    def add(self, key: str, table: pa.Table) -> None:
        """Remember new results (rows whose ``raw_text`` is not cached yet)."""
        if table.num_rows == 0:
            return
        self.used.add(key)
        old = self.tables.get(key)
        self.tables[key] = table if old is None else pa.concat_tables([old, table.cast(old.schema)])
        self.changed = True

    # -- the warehouse ------------------------------------------------------------------------------
    # One table per kind (``_normalised_values_phone``...), since each kind's results have their own
    # columns; ``cache_key`` tells its option sets apart.
    @classmethod
    def load(cls, engine: Engine) -> ValueCache:
        tables: dict[str, pa.Table] = {}
        for name in engine.tables():
            if not name.startswith(PREFIX):
                continue
            stored = engine.con.table(name).to_pyarrow()
            for key in pc.unique(stored["cache_key"]).to_pylist():
                tables[key] = stored.filter(pc.equal(stored["cache_key"], key)).drop_columns(["cache_key"])
        return cls(tables)

    def save(self, engine: Engine, kinds: dict[str, str]) -> None:
        """Write the entries this run used (``kinds``: cache key -> kind); the rest (other options,
        older code, kinds this run did not need) is dropped: the cache holds what the last run used."""
        stale = set(self.tables) - self.used
        if not self.changed and not stale:
            return
        by_kind: dict[str, list[pa.Table]] = {}
        for key in sorted(self.used & set(self.tables)):
            table = self.tables[key]
            by_kind.setdefault(kinds[key], []).append(
                table.append_column("cache_key", pa.array([key] * table.num_rows, pa.string())))
        for name in [n for n in engine.tables() if n.startswith(PREFIX)]:
            if name.removeprefix(PREFIX) not in by_kind:
                engine.drop(name)
        for kind, parts in by_kind.items():
            engine.write(PREFIX + kind, pa.concat_tables(parts))


def active() -> ValueCache | None:
    """The cache of the normalise step running in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def using(engine: Engine) -> Iterator[ValueCache]:
    """Load the workspace's cache, make it :func:`active` inside the block, save it after."""
    cache = ValueCache.load(engine)
    token = _current.set(cache)
    try:
        yield cache
    finally:
        _current.reset(token)
    cache.save(engine, cache.kinds)
