"""Loading a file: read -> map -> parse every column -> raw table + quarantine + load record.

Nothing is lost and nothing is doubled:

* every data row of a file ends up either in ``raw_<entity>`` or in ``_quarantine`` with the
  file, row, column and reason (rows in = rows loaded + rows quarantined, for every file);
* a file whose bytes were loaded before is skipped (``unchanged``), whatever its name;
* an overlapping newer export appends its rows, and the ``stage`` step keeps one row per natural
  key, so records are updated rather than duplicated.

Parsing is one SQL statement per file on DuckDB, so a million rows load at close to DuckDB's
own CSV speed (see ``bench/ingest.py``).

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> f = ws.inbox / "leads.csv"
    >>> _ = f.write_text("Email,First Name,Create Date\\na@x.com,Ann,2024-03-12\\nb@x.com,Bo,not a date\\n")
    >>> [(r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) for r in ingest_file(ws, f)]
    [('loaded', 2, 1, 1)]
    >>> [r.status for r in ingest_file(ws, f)]
    ['unchanged']
    >>> ws.close()
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from marketops.engine import Engine
from marketops.errors import MarketopsError, SourceError
from marketops.ingest import values
from marketops.ingest.mapping import MappingNeeded, MappingPlan, plan_mapping, rule_for
from marketops.ingest.readers import FORMATS, RawSheet, Reject, read_file
from marketops.schema import ENTITIES, LINEAGE, Entity, Kind
from marketops.workspace import Workspace

LOADS_TABLE = "_loads"
QUARANTINE_TABLE = "_quarantine"

LOADS_SCHEMA = pa.schema([
    ("load_id", pa.string()), ("file", pa.string()), ("path", pa.string()), ("sheet", pa.string()),
    ("sha256", pa.string()), ("entity", pa.string()), ("system", pa.string()), ("format", pa.string()),
    ("loaded_at", pa.timestamp("us")), ("rows_in", pa.int64()), ("rows_loaded", pa.int64()),
    ("rows_quarantined", pa.int64()), ("status", pa.string()), ("message", pa.string()),
    ("seconds", pa.float64()),
])
QUARANTINE_SCHEMA = pa.schema([
    ("load_id", pa.string()), ("file", pa.string()), ("sheet", pa.string()), ("row", pa.int64()),
    ("column", pa.string()), ("reason", pa.string()), ("raw", pa.string()), ("entity", pa.string()),
    ("quarantined_at", pa.timestamp("us")),
])


@dataclass
class LoadResult:
    """What happened to one file (or one sheet of a workbook)."""

    file: str
    status: str  # loaded | unchanged | failed
    load_id: str | None = None
    sheet: str | None = None
    entity: str | None = None
    system: str | None = None
    format: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: MarketopsError | None = field(default=None, repr=False)


Progress = Callable[[str], None]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def new_load_id() -> str:
    # Sortable by time: the stage step lets the latest load win between equal keys.
    return "L" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def list_files(paths: list[Path]) -> list[Path]:
    """Files to ingest: the given files, and every supported file below the given folders."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in FORMATS
                          and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


def ingest_paths(ws: Workspace, paths: list[Path] | None = None, *, entity: str | None = None,
                 system: str | None = None, sheet: str | None = None, force: bool = False,
                 on_file: Progress | None = None) -> list[LoadResult]:
    """Ingest files and folders (default: the workspace inbox); one result per file or sheet."""
    results: list[LoadResult] = []
    for f in list_files(paths or [ws.inbox]):
        if on_file:
            on_file(f.name)
        results += ingest_file(ws, f, entity=entity, system=system, sheet=sheet, force=force)
    return results


def ingest_file(ws: Workspace, path: Path, *, entity: str | None = None, system: str | None = None,
                sheet: str | None = None, force: bool = False) -> list[LoadResult]:
    """Load one file into the warehouse; never raises for bad input, reports it in the result."""
    path = Path(path)
    started = time.perf_counter()
    engine = ws.engine
    if sheet is None:
        rule = rule_for(path.name, ws.config.sources)
        sheet = rule.sheet if rule else None
    try:
        digest = sha256_of(path)
    except OSError as e:
        return [_failed(ws, path, None, SourceError(f"cannot read the file: {e.strerror}", file=str(path)),
                        started)]
    if not force:
        previous = [p for p in _previous_loads(engine, digest) if sheet is None or p["sheet"] == sheet]
        if previous:
            return [LoadResult(file=path.name, status="unchanged", load_id=p["load_id"], sheet=p["sheet"],
                               entity=p["entity"], system=p["system"], format=p["format"],
                               message=f"already loaded on {p['loaded_at']:%Y-%m-%d %H:%M} "
                                       f"(load {p['load_id']}); nothing changed")
                    for p in previous]
    con = engine.scratch()
    try:
        sheets = read_file(path, con, tmp_dir=ws.tmp_dir, sheet=sheet)
    except SourceError as e:
        return [_failed(ws, path, digest, e, started)]
    results = []
    for raw in sheets:
        try:
            results.append(_load_sheet(ws, raw, digest, entity=entity, system=system, started=started))
        except MarketopsError as e:
            results.append(_failed(ws, path, digest, e, started, sheet=raw.sheet, rows_in=raw.rows_in))
        except duckdb.Error as e:
            # The warehouse refused the rows (a full disk, a type it cannot hold): the file fails
            # whole, with the engine's words, and the other files still load.
            error = SourceError(f"the warehouse could not store this file: {str(e).splitlines()[0]}",
                                file=raw.label)
            results.append(_failed(ws, path, digest, error, started, sheet=raw.sheet, rows_in=raw.rows_in))
        finally:
            con.execute(f"DROP TABLE IF EXISTS {raw.relation}").fetchall()
        started = time.perf_counter()
    return results


def _previous_loads(engine: Engine, digest: str) -> list[dict]:
    if not engine.has_table(LOADS_TABLE):
        return []
    t = engine.con.table(LOADS_TABLE)
    rows = t.filter((t.sha256 == digest) & (t.status == "loaded")).order_by(t.loaded_at).to_pyarrow().to_pylist()
    return rows


def _failed(ws: Workspace, path: Path, digest: str | None, error: MarketopsError, started: float, *,
            sheet: str | None = None, rows_in: int = 0) -> LoadResult:
    """Record a file that could not be loaded at all, so `marketops loads` shows it too."""
    load_id = new_load_id()
    # A file that fails whole keeps its rows where they are (the file itself): they are counted in
    # rows_in, and loading the file again once the cause is fixed loads them.
    result = LoadResult(file=path.name, status="failed", load_id=load_id, sheet=sheet, rows_in=rows_in,
                        message=str(error), error=error, seconds=time.perf_counter() - started)
    _write_load(ws.engine, result, path, digest)
    return result


def _write_load(engine: Engine, r: LoadResult, path: Path, digest: str | None) -> None:
    row = {"load_id": r.load_id, "file": r.file, "path": str(path), "sheet": r.sheet, "sha256": digest,
           "entity": r.entity, "system": r.system, "format": r.format,
           "loaded_at": datetime.now(UTC).replace(tzinfo=None), "rows_in": r.rows_in,
           "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined, "status": r.status,
           "message": r.message, "seconds": round(r.seconds, 3)}
    _append_arrow(engine, LOADS_TABLE, pa.Table.from_pylist([row], schema=LOADS_SCHEMA))


def _append_arrow(engine: Engine, table: str, batch: pa.Table) -> None:
    con = engine.scratch()
    name = f"__append_{table.strip('_')}"
    con.register(name, batch)
    try:
        engine.append_scratch(table, f"SELECT * FROM {name}")
    finally:
        con.unregister(name)


# -- one sheet ------------------------------------------------------------------------------------
def _q(name: str) -> exp.Expression:
    return exp.column(name, quoted=True)


def _s(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _sql(e: exp.Expression) -> str:
    return e.sql("duckdb")


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _load_sheet(ws: Workspace, raw: RawSheet, digest: str, *, entity: str | None, system: str | None,
                started: float) -> LoadResult:
    file_label = raw.label
    if raw.rows_in == 0:
        raise SourceError("the file has a header but no data rows", file=file_label)
    plan = plan_mapping(raw.headers, file_name=raw.file.name, rules=ws.config.sources, entity=entity,
                        system=system)
    ent = ENTITIES[plan.entity]
    load_id = new_load_id()
    con = ws.engine.scratch()
    raw_col = {h: f"c{i}" for i, h in enumerate(raw.headers)}
    select = _parse_select(ws, raw, plan, ent, raw_col, load_id)
    out_cols = ", ".join(_ident(c.name) for c in ent.all_columns)
    engine = ws.engine
    target = f"raw_{ent.name}"
    result = LoadResult(file=raw.file.name, status="loaded", load_id=load_id, sheet=raw.sheet, entity=ent.name,
                        system=plan.system, format=plan.format, rows_in=raw.rows_in, warnings=list(plan.warnings))
    with engine.transaction():
        if engine.scratch_is_warehouse:
            # Parse once and write once: every row goes into the raw table, then the few bad
            # ones move to quarantine in the same transaction (the raw table keeps empty
            # _error columns for that).
            written = engine.append_scratch(target, f"SELECT * FROM ({select})")
            bad = engine.append_scratch(QUARANTINE_TABLE, _quarantine_select(raw, raw_col, ent, load_id, target))
            con.execute(f"DELETE FROM {_ident(target)} WHERE _load_id = ? AND _error IS NOT NULL",
                        [load_id]).fetchall()
            result.rows_loaded = written - bad
        else:
            # The warehouse is elsewhere: parse into a local table, then send good and bad rows.
            parsed = f"{raw.relation}_parsed"
            con.execute(f"CREATE TEMP TABLE {parsed} AS {select}").fetchall()
            result.rows_loaded = engine.append_scratch(target, f"SELECT {out_cols} FROM {parsed} WHERE _error IS NULL")
            bad = engine.append_scratch(QUARANTINE_TABLE, _quarantine_select(raw, raw_col, ent, load_id, parsed))
            con.execute(f"DROP TABLE IF EXISTS {parsed}").fetchall()
        if raw.rejects:
            _append_arrow(engine, QUARANTINE_TABLE, _rejects_batch(raw.rejects, load_id, raw, ent.name))
        result.rows_quarantined = bad + len(raw.rejects)
        result.seconds = time.perf_counter() - started
        if result.rows_quarantined:
            result.message = f"{result.rows_quarantined} row(s) quarantined; see `marketops quarantine`"
        _write_load(engine, result, raw.file, digest)
    return result


def _quarantine_select(raw: RawSheet, raw_col: dict[str, str], ent: Entity, load_id: str, parsed: str) -> str:
    """Rows of this load that failed a check, with the reason and every original cell."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    raw_json = _json_object({h: raw_col[h] for h in raw.headers}, prefix="r.")
    return f"""
        SELECT {_sql(_s(load_id))} AS load_id, {_sql(_s(raw.file.name))} AS file,
               {_sql(_s(raw.sheet)) if raw.sheet else 'NULL::VARCHAR'} AS sheet, p._source_row AS row,
               p._error_column AS "column", p._error AS reason, left({raw_json}::VARCHAR, 4000) AS raw,
               {_sql(_s(ent.name))} AS entity, TIMESTAMP '{now}' AS quarantined_at
        FROM {_ident(parsed)} p JOIN {raw.relation} r ON r._row = p._source_row
        WHERE p._load_id = {_sql(_s(load_id))} AND p._error IS NOT NULL"""


def _rejects_batch(rejects: list[Reject], load_id: str, raw: RawSheet, entity: str) -> pa.Table:
    now = datetime.now(UTC).replace(tzinfo=None)
    return pa.Table.from_pylist([
        {"load_id": load_id, "file": raw.file.name, "sheet": raw.sheet, "row": r.row, "column": r.column,
         "reason": r.reason, "raw": r.raw, "entity": entity, "quarantined_at": now} for r in rejects],
        schema=QUARANTINE_SCHEMA)


def _json_object(pairs: dict[str, str], prefix: str = "") -> str:
    if not pairs:
        return "NULL"
    args = ", ".join(f"{_s(k).sql('duckdb')}, {prefix}{v}" for k, v in pairs.items())
    return f"json_object({args})"


def _parse_select(ws: Workspace, raw: RawSheet, plan: MappingPlan, ent: Entity, raw_col: dict[str, str],
                  load_id: str) -> str:
    """The SELECT that turns raw text into the entity's typed columns plus an error per row.

    Two levels: the inner query parses each raw cell once into ``v<N>``; the outer one builds
    the canonical columns from those and flags cells that had text but did not parse.
    """
    con = ws.engine.scratch()
    # Which raw cells (or derived text) feed each canonical column.
    feeds: dict[str, list[str]] = {}  # canonical column -> raw columns (several when a vendor splits a total)
    split_text: dict[str, str] = {}  # canonical column -> SQL taking part of a cell ("google / cpc")
    origin: dict[str, str] = {}  # canonical column -> header named in messages
    header_of = {v: k for k, v in raw_col.items()}
    for header, col in plan.mapped.items():
        if col in ent.column_names and col not in feeds:
            feeds[col] = [raw_col[header]]
    for col, hs in plan.sums.items():
        if col in ent.column_names and col not in feeds and any(h in raw_col for h in hs):
            feeds[col] = [raw_col[h] for h in hs if h in raw_col]
    for header, (sep, left, right) in plan.splits.items():
        for i, col in ((1, left), (2, right)):
            if header in raw_col and col not in feeds and col not in split_text:
                split_text[col] = _sql(exp.func("nullif", exp.func("trim", exp.func(
                    "split_part", _q(raw_col[header]), _s(sep), exp.Literal.number(i))), _s("")))
                origin[col] = header
    typed = {r: ent.column(c).kind for c, rs in feeds.items() for r in rs if ent.column(c).kind is not Kind.STRING}
    formats = values.infer_formats(con, raw.relation, typed, timezone=ws.config.timezone,
                                   default_date_order=ws.config.date_order) if typed else {}
    inner = ["*"] + [f"{_sql(values.parse_expression(r, f))} AS v{r[1:]}" for r, f in formats.items()]

    select: list[str] = []
    errors: list[tuple[str, str]] = []  # (SQL giving a message or NULL, header it is about)
    for r, f in formats.items():
        blank = _sql(values.blank_expression(r))
        msg = _sql(_s(f"{header_of[r]!r}: expected {f.expected()}, got '"))
        errors.append((f"CASE WHEN v{r[1:]} IS NULL AND NOT ({blank}) THEN {msg} || left({r}, 60) || '''' END",
                       header_of[r]))
    for c in ent.columns:
        target = {"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR"}.get(c.storage_type, c.storage_type)
        const = plan.constants.get(c.name)
        rs = feeds.get(c.name, [])
        if len(rs) > 1:  # a total the vendor splits (hard + soft bounces)
            parts = [f"v{r[1:]}" for r in rs]
            value = (f"CASE WHEN {' AND '.join(p + ' IS NULL' for p in parts)} THEN NULL ELSE "
                     f"{' + '.join(f'coalesce({p}, 0)' for p in parts)} END")
        elif rs and rs[0] in formats:
            value = f"v{rs[0][1:]}"
        elif rs:
            value = _sql(exp.func("nullif", exp.func("trim", _q(rs[0])), _s("")))
        else:
            value = split_text.get(c.name, "NULL")
        if const is not None and c.name != "currency":
            value = f"coalesce({value}, {_sql(_s(const))})"
        if c.name == "currency":
            value = _currency_sql(ent, value, feeds, formats, plan)
        select.append(f"CAST({value} AS {target}) AS {_ident(c.name)}")
        if c.required:
            where = origin.get(c.name) or (header_of[rs[0]] if rs else c.name)
            errors.append((f"CASE WHEN ({value}) IS NULL THEN {_sql(_s(f'missing required value for {c.name}'))} END",
                           where))
    if plan.footer_prefixes and raw.headers:
        first = raw_col[raw.headers[0]]
        cond = " OR ".join(f"starts_with({first}, {_sql(_s(p))})" for p in plan.footer_prefixes)
        # A footer row (totals, a copyright notice) is not data: say so, and only that.
        footer = f"CASE WHEN {cond} THEN 'report footer (totals or a notice), not data' END"
        errors = [(footer, raw.headers[0])] + [(f"CASE WHEN NOT ({cond}) THEN {e} END", h) for e, h in errors]
    custom = {h: raw_col[h] for h in plan.custom}
    select.append(f"{_json_object(custom)}::VARCHAR AS properties")
    lineage = {"_source_system": _sql(_s(plan.system)), "_source_file": _sql(_s(raw.label)),
               "_source_row": "_row", "_load_id": _sql(_s(load_id))}
    select += [f"CAST({lineage[c.name]} AS {'BIGINT' if c.kind is Kind.INTEGER else 'VARCHAR'}) AS {c.name}"
               for c in LINEAGE]
    # Each check is computed once (as e<N>), then joined into the row's reason and first column.
    select += [f"{e} AS e{i}" for i, (e, _) in enumerate(errors)]
    names = [_ident(c.name) for c in ent.all_columns]
    if errors:
        reason = f"nullif(concat_ws('; ', {', '.join(f'e{i}' for i in range(len(errors)))}), '') AS _error"
        column = "coalesce(" + ", ".join(f"CASE WHEN e{i} IS NOT NULL THEN {_sql(_s(h))} END"
                                         for i, (_, h) in enumerate(errors)) + ") AS _error_column"
    else:
        reason, column = "NULL::VARCHAR AS _error", "NULL::VARCHAR AS _error_column"
    return (f"SELECT {', '.join(names)}, {reason}, {column} FROM ("
            f"SELECT {', '.join(select)} FROM (SELECT {', '.join(inner)} FROM {raw.relation}))")


def _currency_sql(ent: Entity, value: str, feeds: dict, formats: dict, plan: MappingPlan) -> str:
    """Currency: the file's currency column, else a symbol or code in the money cell, else a constant."""
    options = [f"upper(trim({value}))" if value != "NULL" else None]
    for c in ent.columns:
        rs = feeds.get(c.name, [])
        if c.kind is Kind.MONEY and rs and rs[0] in formats:
            cur = values.currency_expression(rs[0], formats[rs[0]])
            if cur is not None:
                options.append(cur.sql("duckdb"))
    if plan.constants.get("currency"):
        options.append(_s(plan.constants["currency"]).sql("duckdb"))
    options = [o for o in options if o]
    return f"coalesce({', '.join(options)})" if options else "NULL"


def loads_as_rows(engine: Engine, limit: int | None = None) -> list[dict]:
    """The load history, newest first."""
    if not engine.has_table(LOADS_TABLE):
        return []
    t = engine.con.table(LOADS_TABLE).order_by(lambda t: t.loaded_at.desc())
    if limit:
        t = t.limit(limit)
    return t.to_pyarrow().to_pylist()


def quarantine_rows(engine: Engine, *, file: str | None = None, limit: int | None = None) -> list[dict]:
    """Quarantined rows with file, row, column and reason, newest load first."""
    if not engine.has_table(QUARANTINE_TABLE):
        return []
    t = engine.con.table(QUARANTINE_TABLE)
    if file:
        t = t.filter(t.file == file)
    t = t.order_by([t.load_id.desc(), t.row])
    if limit:
        t = t.limit(limit)
    rows = t.to_pyarrow().to_pylist()
    for r in rows:
        try:
            r["raw"] = json.loads(r["raw"]) if r["raw"] and r["raw"].startswith("{") else r["raw"]
        except json.JSONDecodeError:
            pass
    return rows


__all__ = ["LoadResult", "MappingNeeded", "ingest_file", "ingest_paths", "loads_as_rows", "quarantine_rows"]
