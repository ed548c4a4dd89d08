"""Erasure in the warehouse: every physical table (raw, staged, canonical, marts, the run tables
kept for readers, ``_loads``, ``_quarantine``, the normaliser's caches) is searched for the person.

Rows *about* the person are deleted. Rows that also carry business facts (a conversion's revenue,
an opportunity's amount, a scorecard figure, a load record) are anonymised instead: identifying
columns emptied, mentions in text replaced by ``[erased]``, so totals do not change.

Every value reaches DuckDB as a bound parameter, never inside the SQL text; table and column names
come from the catalogue and are quoted with sqlglot.

Example:
    >>> base_name("touchpoints__r2026120705280785ac"), base_name("raw_people"), base_name("_quarantine")
    ('touchpoints', 'people', '_quarantine')
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot.expressions as exp

from marketops.errors import MarketopsError
from marketops.privacy.identifiers import Subject
from marketops.workspace import Workspace

#: Tables whose rows carry business facts: anonymised, not deleted.
ANONYMISED = frozenset({"conversions", "opportunities", "quality_scorecard", "_loads", "golden_accounts",
                        "email_campaigns", "ad_spend", "web_traffic", "accounts", "exchange_rates"})
#: Columns emptied in an anonymised row that is about the person.
IDENTIFYING = frozenset({"person_id", "person_match", "email", "email_original", "email_issue", "person_record_id",
                         "anonymous_id", "user_id", "phone", "phone_original", "first_name", "last_name",
                         "full_name", "contact_email", "contact_name"})
#: Tables whose ``record_id`` is a person's record id (elsewhere it is the event's own id).
PEOPLE_TABLES = frozenset({"people", "identity_map"})
ERASED = "[erased]"


def base_name(table: str) -> str:
    """The table a physical table stands for: run suffix and ``raw_``/``stg_`` prefix removed."""
    name = table.split("__")[0]
    for prefix in ("raw_", "stg_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


@dataclass
class TableErasure:
    """What erasure did (or would do) to one table."""

    table: str
    rows: int
    action: str  # deleted | anonymised

    def to_json(self) -> dict:
        return {"table": self.table, "rows": self.rows, "action": self.action}


def _predicates(subject: Subject, table: str, columns: list[str]) -> tuple[dict[str, str], dict]:
    """Per string column, the SQL condition that its value identifies the person; and the parameters."""
    base = base_name(table)
    params: dict = {"pat": subject.sql_pattern()}
    lists = {"ids": sorted({i for _, i in subject.record_ids}), "visitors": sorted(subject.visitor_ids),
             "phones": sorted(subject.phones), "names": sorted({n.lower() for n in subject.names}),
             "persons": sorted(subject.person_ids)}
    used: set[str] = set()
    conds: dict[str, str] = {}
    for c in columns:
        q = _q(c)
        parts = [f"regexp_matches(lower({q}), $pat)"]
        exact: list[str] = []
        if c in ("person_id", "visitor_id") or c.startswith("person_id"):
            exact += ["persons", "visitors"]
        if c == "person_record_id" or (c == "record_id" and base in PEOPLE_TABLES):
            exact.append("ids")
        if c in ("anonymous_id", "user_id", "visitor_id"):
            exact.append("visitors")
        if "phone" in c:
            exact.append("phones")
        if base.startswith("_normalised_values") and c in ("raw_text", "value"):
            exact += ["phones", "names", "visitors"]
        for name in exact:
            if lists[name]:
                used.add(name)
                parts.append(f"list_contains(${name}::VARCHAR[], lower(trim({q})))" if name == "names"
                             else f"list_contains(${name}::VARCHAR[], trim({q}))")
        conds[c] = "(" + " OR ".join(parts) + ")"
    params.update({k: lists[k] for k in used})
    return conds, params


def erase_warehouse(ws: Workspace, subject: Subject, *, dry_run: bool = False) -> list[TableErasure]:
    """Delete or anonymise the person's rows in every warehouse table; return what was done per table.

    Only DuckDB: Spark tables are Parquet folders that would have to be rewritten (a MarketopsError
    says so).
    """
    if ws.engine.name != "duckdb":
        raise MarketopsError(f"erasure is not supported on the {ws.engine.name} engine yet",
                             hint="erase on a DuckDB copy of the workspace, or delete the person's rows in "
                                  "Spark by hand; see docs/privacy.md")
    con = ws.engine.scratch()
    done: list[TableErasure] = []
    with ws.engine.transaction():
        for table in sorted(ws.engine.tables()):
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                "AND table_name = ? AND data_type = 'VARCHAR' ORDER BY ordinal_position", [table]).fetchall()]
            if not columns:
                continue
            conds, params = _predicates(subject, table, columns)
            where = " OR ".join(conds.values())
            n = int(con.execute(f"SELECT count(*) FROM {_q(table)} WHERE {where}", params).fetchone()[0])
            if not n:
                continue
            base = base_name(table)
            action = "anonymised" if base in ANONYMISED else "deleted"
            done.append(TableErasure(table, n, action))
            if dry_run:
                continue
            if action == "deleted":
                con.execute(f"DELETE FROM {_q(table)} WHERE {where}", params)
            else:
                # a row about the person (matched on an identifying column) loses every identifying
                # column; mentions elsewhere in the row (JSON properties, notes) are replaced in place
                about = " OR ".join(cond for c, cond in conds.items() if c in IDENTIFYING) or "FALSE"
                sets = [f"{_q(c)} = CASE WHEN {about} THEN NULL ELSE {_q(c)} END" if c in IDENTIFYING else
                        f"{_q(c)} = CASE WHEN {cond} THEN regexp_replace({_q(c)}, $pat, '\\1{ERASED}\\3', 'gi') "
                        f"ELSE {_q(c)} END" for c, cond in conds.items()]
                con.execute(f"UPDATE {_q(table)} SET {', '.join(sets)} WHERE {where}", params)
    if not dry_run and done:
        con.execute("CHECKPOINT")
    return done
