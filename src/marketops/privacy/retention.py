"""Retention rules: rows older than a rule's age are deleted, at every run and on demand.

A rule names a canonical table; its raw copy (``raw_<table>``) is trimmed too, so the rows do not
come back at the next run, and so is the published table (on demand) so that readers see the
effect at once. Counts per table are returned for the run record and the privacy page.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> from marketops.privacy.config import RetentionRule
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> _ = (ws.inbox / "t.csv").write_text("Timestamp,Event,Email\\n2019-01-01,page_view,a@x.com\\n2099-01-01,page_view,b@x.com\\n")
    >>> from marketops.pipeline import run_pipeline
    >>> _ = run_pipeline(ws)
    >>> apply_retention(ws, [RetentionRule(table="touchpoints", older_than_days=365)])
    [{'table': 'touchpoints', 'column': 'occurred_at', 'older_than_days': 365, 'deleted': 1, 'raw_deleted': 1}]
    >>> ws.close()
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlglot.expressions as exp

from marketops.errors import MarketopsError
from marketops.privacy.config import RetentionRule
from marketops.workspace import Workspace


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _delete_older(con, table: str, column: str, cutoff: datetime, *, dry_run: bool) -> int:
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema='main' "
                                      "AND table_name = ?", [table]).fetchall()}
    if column not in cols:
        return 0
    where = f"CAST({_q(column)} AS TIMESTAMP) < ?"
    n = int(con.execute(f"SELECT count(*) FROM {_q(table)} WHERE {where}", [cutoff]).fetchone()[0])
    if n and not dry_run:
        con.execute(f"DELETE FROM {_q(table)} WHERE {where}", [cutoff])
    return n


def apply_retention(ws: Workspace, rules: list[RetentionRule] | None = None, *, dry_run: bool = False,
                    tables: dict[str, str] | None = None, now: datetime | None = None) -> list[dict]:
    """Apply the rules (default: ``privacy.retention``) to the raw tables and to ``tables`` (canonical
    name -> physical table; default: the published ones). Returns one entry per rule."""
    rules = ws.config.privacy.retention if rules is None else rules
    if not rules:
        return []
    if ws.engine.name != "duckdb":
        raise MarketopsError(f"retention rules are not applied on the {ws.engine.name} engine yet",
                             hint="see docs/privacy.md")
    con = ws.engine.scratch()
    physical = ws.engine.published() if tables is None else tables
    existing = set(ws.engine.tables())
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    out = []
    with ws.engine.transaction():
        for rule in rules:
            cutoff = now - timedelta(days=rule.older_than_days)
            entry = {"table": rule.table, "column": rule.column, "older_than_days": rule.older_than_days,
                     "deleted": 0, "raw_deleted": 0}
            if rule.table.startswith("_"):
                if rule.table in existing:
                    entry["deleted"] = _delete_older(con, rule.table, rule.column, cutoff, dry_run=dry_run)
            else:
                if rule.table in physical and physical[rule.table] in existing:
                    entry["deleted"] = _delete_older(con, physical[rule.table], rule.column, cutoff, dry_run=dry_run)
                if f"raw_{rule.table}" in existing:
                    entry["raw_deleted"] = _delete_older(con, f"raw_{rule.table}", rule.column, cutoff,
                                                         dry_run=dry_run)
            out.append(entry)
    return out
