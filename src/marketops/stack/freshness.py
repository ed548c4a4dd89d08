"""Data freshness of the tools linked to marketops source systems: when data from the tool was last
seen, read from the warehouse's load history (``_loads``: one row per file loaded, with its source
``system``). A tool is ``fresh`` when its newest load is younger than its ``stale_days`` (default 7),
``stale`` when older, ``no_data`` when none of its systems has ever loaded, ``not_linked`` when it
names no system.

Example:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    >>> seen = {"hubspot": SystemSeen("hubspot", datetime(2026, 12, 1, tzinfo=UTC), files=2, rows=900)}
    >>> f = tool_freshness(["hubspot"], None, seen, now)
    >>> f.status, f.age_days, f.stale_after
    ('fresh', 6, 7)
    >>> tool_freshness(["hubspot"], 3, seen, now).status, tool_freshness(["ga4"], None, seen, now).status
    ('stale', 'no_data')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


from marketops.ingest.loader import LOADS_TABLE
from marketops.quality.scorecard_metrics import as_utc

#: Days without new data after which a linked tool's data is stale, unless the tool sets its own.
DEFAULT_STALE_DAYS = 7
STATUSES = ("fresh", "stale", "no_data", "not_linked")


@dataclass(frozen=True)
class SystemSeen:
    """The newest successful load of one source system."""

    system: str
    last_loaded_at: datetime
    files: int
    rows: int


@dataclass(frozen=True)
class Freshness:
    """How fresh a tool's data is in marketops."""

    status: str
    last_seen: datetime | None = None
    age_days: int | None = None
    stale_after: int = DEFAULT_STALE_DAYS
    #: Systems the tool names with loads, and those with none yet.
    seen: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "last_seen": self.last_seen, "age_days": self.age_days,
                "stale_after": self.stale_after, "seen": list(self.seen), "missing": list(self.missing)}


def systems_seen(engine: Any, loads_table: str = LOADS_TABLE) -> dict[str, SystemSeen]:
    """system -> its newest successful load (files and rows loaded in all), from the load history."""
    if not engine.has_table(loads_table):
        return {}
    loads = engine.table(loads_table)
    if "system" not in loads.columns:
        return {}
    ok = loads.filter(loads.status == "loaded").filter(loads.system.notnull())
    rows_col = loads.rows_loaded if "rows_loaded" in loads.columns else loads.rows_in
    summary = (ok.group_by(ok.system)
               .aggregate(last=ok.loaded_at.max(), files=ok.file.nunique(),
                          rows=ok[rows_col.get_name()].cast("int64").sum())
               .to_pyarrow().to_pylist())
    return {r["system"]: SystemSeen(r["system"], as_utc(r["last"]), int(r["files"] or 0), int(r["rows"] or 0))
            for r in summary if r["last"] is not None}


def tool_freshness(systems: Iterable[str], stale_days: int | None, seen: dict[str, SystemSeen],
                   now: datetime | None = None) -> Freshness:
    """The freshness of a tool linked to ``systems`` (the newest load of any of them counts)."""
    systems = tuple(systems or ())
    limit = stale_days or DEFAULT_STALE_DAYS
    if not systems:
        return Freshness("not_linked", stale_after=limit)
    with_data = tuple(s for s in systems if s in seen)
    missing = tuple(s for s in systems if s not in seen)
    if not with_data:
        return Freshness("no_data", stale_after=limit, missing=missing)
    last = max(seen[s].last_loaded_at for s in with_data)
    now = now or datetime.now(UTC)
    age = max(0, (now - last).days)
    return Freshness("stale" if age >= limit else "fresh", last, age, limit, with_data, missing)


def freshness_of(ws: Any, tools: Iterable[Any], now: datetime | None = None) -> dict[int, Freshness]:
    """tool id -> freshness for registry tools (``ws`` None: nothing is known, linked tools say no_data)."""
    seen = systems_seen(ws.engine) if ws is not None else {}
    return {t.id: tool_freshness(t.systems or (), t.stale_days, seen, now) for t in tools}


