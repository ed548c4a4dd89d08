"""What the overview page and ``GET /api/v1/overview`` show: one plain dict, no web types.

The warehouse is opened read-only for the time of one call and closed again, because a CLI run in
another process needs DuckDB's write lock; while it holds it this raises WorkspaceLocked.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "acme"
    >>> root.mkdir()
    >>> _ = (root / "marketops.yaml").write_text("name: Acme\\n")
    >>> data = build_overview(root)
    >>> data["workspace"]["name"], data["tables"], data["rows_quarantined"]
    ('Acme', [], 0)
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from marketops.app.cache import AnalysisCache
from marketops.workspace import Workspace

RECENT = 10
LOAD_COLUMNS = ("load_id", "file", "entity", "system", "loaded_at", "rows_in", "rows_loaded",
                "rows_quarantined", "status")


def run_to_dict(run: Any) -> dict[str, Any]:
    """A RunRecord as JSON-ready data (steps included)."""
    data = asdict(run) if is_dataclass(run) else dict(vars(run))
    data["seconds"] = getattr(run, "seconds", None)
    for step in data.get("steps", []):
        # Tracebacks are for the server log and `marketops runs show`, not for API clients.
        (step.get("detail") or {}).pop("traceback", None)
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy/pyarrow scalars
        return value.item()
    return value


def _exact(value: Any) -> Any:
    """Money stays exact in JSON: a Decimal becomes its string, as in the other reports."""
    return str(value) if isinstance(value, Decimal) else value


def _recent_loads(ws: Workspace) -> list[dict[str, Any]]:
    if not ws.engine.has_table("_loads"):
        return []
    loads = ws.table("_loads")
    columns = [c for c in LOAD_COLUMNS if c in loads.columns]
    rows = loads.select(*columns).order_by(loads.loaded_at.desc()).limit(RECENT).to_pyarrow().to_pylist()
    return rows


def build_overview(root: Path, cache: AnalysisCache | None = None) -> dict[str, Any]:
    """Workspace name, last run, rows per canonical table, quarantined rows and recent loads.

    Datetimes stay datetimes (the page formats them per language); :func:`overview_json`
    turns the result into JSON-ready data. With ``cache``, the rows per table are counted once per
    published run (they change only when a run publishes); runs, loads and quarantine stay live.
    """
    # Imported here: the pipeline pulls in the whole ingest machinery, which sign-in and
    # health checks do not need.
    from marketops.pipeline import list_runs

    ws = Workspace.open(root, read_only=True)
    try:
        runs = list_runs(ws, limit=RECENT)
        def count_tables() -> list[dict[str, Any]]:
            return [{"name": name, "rows": ws.engine.count(name)} for name in ws.table_names()]

        tables = cache.get(root, ("table_counts",), count_tables) if cache is not None else count_tables()
        quarantined = ws.engine.count("_quarantine") if ws.engine.has_table("_quarantine") else 0
        loads = _recent_loads(ws)
        goals = goal_summary(ws.app_database_url)
        return {
            "workspace": {"name": ws.config.name, "engine": ws.engine_name},
            "last_run": runs[0] if runs else None,
            "runs": runs,
            "tables": tables,
            "rows_total": sum(t["rows"] for t in tables),
            "rows_quarantined": quarantined,
            "recent_loads": loads,
            "goal_summary": goals,
        }
    finally:
        ws.close()


def goal_summary(database_url: str) -> dict[str, Any] | None:
    """Goals by status and the ones at risk or off track (newest measurement of each), for the overview;
    None when there are no goals (or no app database yet), which hides the section.

    Example:
        >>> from marketops.state.db import init_db
        >>> _ = init_db("sqlite://")
        >>> goal_summary("sqlite://") is None
        True
    """
    from sqlalchemy.engine import make_url

    from marketops.plan.goals import goal_tree
    from marketops.state.db import session_scope

    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return None
    with session_scope(database_url) as session:
        rows = goal_tree(session)
        if not rows:
            return None
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        order = {"off_track": 0, "at_risk": 1}
        attention = sorted((r for r in rows if r.status in order),
                           key=lambda r: (order[r.status], r.goal.deadline or date.max, r.goal.id))
        return {"total": len(rows), "counts": counts,
                "attention": [{"id": r.goal.id, "title": r.goal.title, "status": r.status, "owner": r.goal.owner,
                               "deadline": r.goal.deadline, "progress": r.progress.progress if r.progress else None,
                               "message": (r.progress.detail or {}).get("message", "") if r.progress else ""}
                              for r in attention[:RECENT]]}


def overview_json(data: dict[str, Any]) -> dict[str, Any]:
    """The API form of :func:`build_overview`'s result: runs as dicts, datetimes as ISO strings, and the
    KPI tiles (``kpis``, added by the route from :func:`marketops.app.analytics.kpis`) with exact money.

    Example:
        >>> from datetime import datetime, timezone
        >>> overview_json({"last_run": None, "runs": [], "recent_loads": [
        ...     {"loaded_at": datetime(2025, 1, 2, tzinfo=timezone.utc)}]})["recent_loads"]
        [{'loaded_at': '2025-01-02T00:00:00+00:00'}]
    """
    out = dict(data)
    if data.get("kpis") is not None:
        kpis = dict(data["kpis"])
        kpis["tiles"] = [{**t, "value": _exact(t["value"]), "previous": _exact(t["previous"]),
                          "series": [{**p, "value": _exact(p["value"])} for p in t["series"]]} for t in kpis["tiles"]]
        out["kpis"] = kpis
    out["last_run"] = run_to_dict(data["last_run"]) if data.get("last_run") is not None else None
    out["runs"] = [run_to_dict(r) for r in data.get("runs", [])]
    return _jsonable(out)
