"""Cleaning a canonical table: clean values beside the loaded ones, on any engine.

The pipeline's ``normalise`` step calls :func:`clean_table` for each canonical table whose model
marks columns as normalised (:attr:`marketops.schema.Entity.normalised`). For every such column
``c`` the cleaned table holds ``c`` (the clean value, NULL when rejected or empty), ``c_original``
(the value as loaded) and ``c_issue`` (the normaliser's plain-language reason when a non-empty
value was rejected), plus the entity's derived columns (``email_domain``, ``company_key``,
``channel_group``...). Rows are never added or dropped.

How, on every engine: the distinct raw values of a column come out of the warehouse with Ibis;
each is normalised once in Python (:func:`~marketops.quality.normalise.normalise_values`); the
mapping goes back as an Arrow table (:meth:`Engine.write <marketops.engine.base.Engine.write>`)
and is joined back with Ibis. Scratch tables are dropped afterwards, whatever happens.

What each entity needs beyond that lives beside this module: :mod:`~marketops.quality.clean_people`
(phones read in the record's country, names from ``full_name``, email flags) and
:mod:`~marketops.quality.clean_touchpoints` (source aliases, referrers, channel group).

Example:
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from marketops.engine.duckdb import DuckDBEngine
    >>> from marketops.schema import ENTITIES
    >>> eng = DuckDBEngine(pathlib.Path(tempfile.mkdtemp()))
    >>> cols = {c.name: pa.array([None, None], pa.string()) for c in ENTITIES["accounts"].all_columns}
    >>> cols.update(record_key=pa.array(["crm:1", "crm:2"]), name=pa.array(["ACME Inc.", "n/a"]),
    ...             domain=pa.array(["https://www.Acme.com/", None]), _source_row=pa.array([2, 3]))
    >>> eng.write("accounts_x", pa.table(cols))
    >>> report = clean_table(eng, "accounts_x", ENTITIES["accounts"], CleanOptions())
    >>> report.columns["name"]
    ColumnCounts(cleaned=1, rejected=1, changed=1, filled=0, distinct=2)
    >>> cleaned = eng.table("accounts_x").order_by("record_key").to_pyarrow().to_pylist()
    >>> [(r["name"], r["name_original"], r["name_issue"], r["company_key"], r["domain"]) for r in cleaned]
    [('ACME', 'ACME Inc.', None, 'acme', 'acme.com'), (None, 'n/a', 'not a company name', None, None)]
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import ibis

from marketops.quality.clean_mapping import CleanOptions, ColumnCounts, TableCleaning, column_counts
from marketops.quality.clean_people import clean_people
from marketops.quality.clean_touchpoints import clean_touchpoints, clean_web_traffic
from marketops.schema import Entity

if TYPE_CHECKING:
    from collections.abc import Callable

    from marketops.engine.base import Engine

__all__ = ["CLEANERS", "CleanOptions", "CleanReport", "ColumnCounts", "clean_table", "cleanable"]


@dataclass
class CleanReport:
    """What :func:`clean_table` did to one table."""

    entity: str
    rows_in: int
    rows_out: int
    columns: dict[str, ColumnCounts]

    def to_json(self) -> dict[str, Any]:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out,
                "columns": {name: asdict(c) for name, c in self.columns.items()}}


def cleanable(entity: Entity) -> bool:
    """True when the normalise step has work on ``entity`` (columns to clean or to derive).

    >>> from marketops.schema import ENTITIES
    >>> [name for name, e in ENTITIES.items() if cleanable(e)]
    ['people', 'accounts', 'touchpoints', 'ad_spend', 'web_traffic']
    """
    return bool(entity.normalised or entity.derived)


def clean_accounts(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    """Accounts: company name (display name and ``company_key``), domain, country."""
    t = work.normalise(t, "name", "company")
    t = work.normalise(t, "domain", "domain")
    t = work.normalise(t, "country", "country")
    return work.finish(t, derived={"company_key": t["name__key"]})


def _generic(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    for cleaning in work.entity.normalised:
        t = work.normalise(t, cleaning.column, cleaning.kind)
    return work.finish(t)


#: Entity name -> how its table is cleaned; others get each normalised column cleaned by its kind.
CLEANERS: dict[str, Callable[[TableCleaning, ibis.Table], ibis.Table]] = {
    "people": clean_people, "accounts": clean_accounts, "touchpoints": clean_touchpoints,
    "web_traffic": clean_web_traffic,
}


def clean_table(engine: Engine, table: str, entity: Entity, options: CleanOptions, *,
                into: str | None = None, tag: str | None = None) -> CleanReport:
    """Clean the canonical ``table`` of ``entity`` into ``into`` (default: replace ``table``).

    ``tag`` ends the names of the scratch tables (``_norm_<entity>_<column>__<tag>``); the
    pipeline passes its run id so that a failed run's leftovers are dropped with the run.
    """
    source = engine.con.table(table)
    work = TableCleaning(engine, entity, source, options, tag or secrets.token_hex(4))
    rows_in = int(source.count().execute())
    try:
        cleaned = CLEANERS.get(entity.name, _generic)(work, source)
        engine.write(into or table, cleaned)
    finally:
        work.drop_scratch()
    out = engine.con.table(into or table)
    return CleanReport(entity.name, rows_in, int(out.count().execute()),
                       column_counts(out, entity, work.distinct))
