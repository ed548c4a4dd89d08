"""The two tables identity resolution writes: the identity map and the candidate pairs with evidence.

See :mod:`marketops.quality.identity` for what their columns mean. Both are built from Arrow
tables the resolver already holds, in a private in-memory DuckDB (hashing a million keys or
writing a few hundred thousand JSON documents is what it does fastest), so both engines get
byte-identical outputs.

Example:
    >>> short_hash("hubspot:1")
    '7be43c998959d024'
    >>> pair_id("crm:1", "web:7") == pair_id("web:7", "crm:1")
    True
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from marketops.engine.duckdb import quiet_duckdb
from marketops.quality.clusters import Links
from marketops.quality.decisions import Decisions, pair
from marketops.quality.identity_config import IdentityConfig

if TYPE_CHECKING:
    from splink.internals.splink_dataframe import SplinkDataFrame

    from marketops.engine.base import Engine

UNIQUE_ID = "record_key"
#: Columns shown beside each candidate pair in the review queue.
DISPLAY = ("first_name", "last_name", "email", "phone", "company", "city")
MAP_SCHEMA = pa.schema([("record_key", pa.string()), ("source_system", pa.string()), ("record_id", pa.string()),
                        ("email", pa.string()), ("person_id", pa.string()), ("match_probability", pa.float64()),
                        ("match_rule", pa.string())])
PAIRS_SCHEMA = pa.schema(
    [("pair_id", pa.string()), ("record_key_l", pa.string()), ("record_key_r", pa.string()),
     ("match_probability", pa.float64()), ("match_weight", pa.float64()), ("status", pa.string()),
     ("same_person", pa.bool_()), ("evidence", pa.string())]
    + [(f"{c}_{s}", pa.string()) for c in DISPLAY for s in ("l", "r")])
_SEP = "\x1f"


def short_hash(text: str) -> str:
    """16 hex digits of MD5, the stable hash ids are made of (the tables compute it in SQL)."""
    return hashlib.md5(text.encode()).hexdigest()[:16]


def pair_id(a: str, b: str) -> str:
    """The id of a pair of record keys, the same whichever way round."""
    lo, hi = pair(a, b)
    return short_hash(f"{lo}{_SEP}{hi}")


class KeyIndex:
    """Record key -> row position, built once for a million keys and reused for every look-up."""

    def __init__(self, keys: pa.Array | pa.ChunkedArray) -> None:
        self.index = pd.Index(keys.to_numpy(zero_copy_only=False))

    def positions(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return self.index.get_indexer(values.to_numpy(zero_copy_only=False)).astype(np.int64)


def floats(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False).astype(np.float64)


def fetch(engine: Engine, scored: SplinkDataFrame | None, columns: list[str]) -> pa.Table:
    """Scored pairs as Arrow: keys, probability, weight and per compared column the two values,
    the comparison level (gamma) and its match weights."""
    if scored is None:
        return pa.table({"record_key_l": pa.array([], pa.string()), "record_key_r": pa.array([], pa.string()),
                         "match_probability": pa.array([], pa.float64()), "match_weight": pa.array([], pa.float64())})
    t = engine.con.table(scored.physical_name)
    wanted = [f"{UNIQUE_ID}_l", f"{UNIQUE_ID}_r", "match_probability", "match_weight"]
    for c in columns:
        wanted += [f"gamma_{c}", f"mw_{c}", f"mw_tf_adj_{c}", f"{c}_l", f"{c}_r"]
    out = t.select(*[w for w in wanted if w in t.columns]).to_pyarrow()
    return out.rename_columns(["record_key_l" if c == f"{UNIQUE_ID}_l" else "record_key_r" if c == f"{UNIQUE_ID}_r"
                               else c for c in out.column_names])


def identity_map(records: pa.Table, labels: np.ndarray, links: Links, accepted: np.ndarray,
                 kinds: list[str]) -> pa.Table:
    """One row per record: its person and the strongest accepted link that joined it."""
    n = records.num_rows
    # links are ordered strongest first: the first accepted link touching a record is its strongest
    ok = np.flatnonzero(accepted)
    ends = np.concatenate([links.left[ok], links.right[ok]])
    via = np.concatenate([ok, ok])
    order = np.argsort(via, kind="stable")
    ends, via = ends[order], via[order]
    first_rec, first_at = np.unique(ends, return_index=True)
    prob = np.full(n, np.nan)
    prob[first_rec] = links.strength[via[first_at]]
    rule = np.full(n, len(kinds), dtype=np.int64)
    rule[first_rec] = links.kind[via[first_at]]
    assign = pa.table({
        "_i": np.arange(n, dtype=np.int64), "_root": labels.astype(np.int64),
        "match_probability": pa.array(prob, mask=np.isnan(prob), type=pa.float64()),
        "match_rule": pa.array(np.array([*kinds, "single"], dtype=object)[rule], type=pa.string()),
    })
    rows = records.select(["record_key", "source_system", "record_id", "email"]).append_column(
        "_i", pa.array(np.arange(n, dtype=np.int64)))
    sql = """
        SELECT r.record_key, r.source_system, r.record_id, r.email,
               'P' || substr(md5(root.record_key), 1, 16) AS person_id, a.match_probability, a.match_rule
        FROM assign a JOIN rows r ON r._i = a._i JOIN rows root ON root._i = a._root
        ORDER BY a._i"""
    return _run(sql, MAP_SCHEMA, assign=assign, rows=rows)


def identity_pairs(candidates: pa.Table, records: pa.Table, labels: np.ndarray,
                   cfg: IdentityConfig, decisions: Decisions, refused: set[tuple[int, int]],
                   levels: dict[str, dict[int, str]], columns: list[str]) -> pa.Table:
    """The candidate pairs with status, evidence and the two records' display values.

    ``candidates`` holds the model's pairs at or above the review threshold and the identifier
    pairs the model vetoed, with the row positions of their records (``_l``, ``_r``);
    ``identifier`` names the identifier two records share, ``vetoed`` says the model overruled it.
    A pair whose records ended in one person is ``merged`` whatever the model says of the pair
    itself (an identifier or other records joined them); a reviewer who disagrees splits them.
    """
    pl = candidates["_l"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    pr = candidates["_r"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    # Two records that ended as one person (directly or through others) need no review; every other
    # candidate is uncertain: scored between the thresholds, or an identifier the model vetoed.
    same = labels[pl] == labels[pr]
    status = np.where(same, "merged", "review").astype(object)
    if decisions or refused:
        row = {pair(a, b): i for i, (a, b) in enumerate(zip(candidates["record_key_l"].to_pylist(),
                                                           candidates["record_key_r"].to_pylist()))}
        key_list = records[UNIQUE_ID]
        refused_pairs = {pair(key_list[a].as_py(), key_list[b].as_py()) for a, b in refused}
        for p in decisions.always:
            if p in row:
                status[row[p]] = "merged"
        for p in decisions.never | refused_pairs:
            if p in row:
                status[row[p]] = "rejected"
    table = candidates.append_column("_status", pa.array(status.tolist(), type=pa.string())).append_column(
        "_same", pa.array(same, type=pa.bool_()))
    rows = records.select([UNIQUE_ID, *dict.fromkeys([*DISPLAY, *cfg.deterministic])]).append_column(
        "_i", pa.array(np.arange(records.num_rows, dtype=np.int64)))
    display = ", ".join(f'{side}."{c}" AS "{c}_{side}"' for c in DISPLAY for side in ("l", "r"))
    sql = f"""
        SELECT substr(md5(least(c.record_key_l, c.record_key_r) || chr(31)
                          || greatest(c.record_key_l, c.record_key_r)), 1, 16) AS pair_id,
               c.record_key_l, c.record_key_r, c.match_probability, c.match_weight, c._status AS status,
               c._same AS same_person, {_evidence_sql(table.column_names, levels, columns, cfg)} AS evidence,
               {display}
        FROM candidates c JOIN rows l ON l._i = c._l JOIN rows r ON r._i = c._r
        ORDER BY c.match_probability DESC, pair_id"""
    return _run(sql, PAIRS_SCHEMA, candidates=table, rows=rows)


def _evidence_sql(available: list[str], levels: dict[str, dict[int, str]], columns: list[str],
                  cfg: IdentityConfig) -> str:
    """A JSON list per pair, one object per compared column: ``column``, ``left``, ``right``,
    ``level`` (the comparison level's label), ``bayes_factor`` and ``match_weight`` (bits, term
    frequency adjustment included). A pair that shares an identifier starts with it."""
    def lit(v: str | None) -> str:
        return "NULL::VARCHAR" if v is None else exp.Literal.string(v).sql("duckdb")

    def col(table: str, name: str) -> str:
        return f"{table}.{exp.to_identifier(name, quoted=True).sql('duckdb')}"

    items = []
    for c in columns:
        if f"gamma_{c}" not in available:
            continue
        weight = col("c", f"mw_{c}")
        if f"mw_tf_adj_{c}" in available:
            weight = f"({weight} + coalesce({col('c', f'mw_tf_adj_{c}')}, 0))"
        level = " ".join(f"WHEN {g} THEN {lit(label)}" for g, label in sorted(levels.get(c, {}).items()))
        items.append(
            f"struct_pack(\"column\" := {lit(c)}, \"left\" := {col('c', f'{c}_l')}::VARCHAR, "
            f"\"right\" := {col('c', f'{c}_r')}::VARCHAR, "
            f"\"level\" := CASE {col('c', f'gamma_{c}')} {level} ELSE NULL END, "
            f"bayes_factor := _sig(pow(2, {weight})), match_weight := round({weight}, 3))")
    def said(kind: str) -> str:
        what = "same " + kind.replace("_", " ")
        return (f"CASE WHEN c.vetoed THEN {lit(what.capitalize() + ', but the other columns say two people')} "
                f"ELSE {lit(what.capitalize() + ': linked outright')} END")

    shared = [
        f"CASE WHEN c.identifier = {lit(kind)} THEN [struct_pack(\"column\" := {lit(kind)}, "
        f"\"left\" := {col('l', kind)}::VARCHAR, \"right\" := {col('r', kind)}::VARCHAR, "
        f"\"level\" := {said(kind)}, bayes_factor := NULL::DOUBLE, match_weight := NULL::DOUBLE)] ELSE [] END"
        for kind in cfg.deterministic]
    parts = [*shared, f"[{', '.join(items)}]" if items else "[]"]
    combined = parts[0] if len(parts) == 1 else f"flatten([{', '.join(parts)}])"
    return f"to_json({combined})::VARCHAR"


def _run(sql: str, schema: pa.Schema, **tables: pa.Table) -> pa.Table:
    con = quiet_duckdb()
    try:
        # four significant digits: Bayes factors run from 1e-9 to 1e9
        con.execute("CREATE MACRO _sig(x) AS CASE WHEN x = 0 OR NOT isfinite(x) THEN x "
                    "ELSE round(x, 3 - CAST(floor(log10(abs(x))) AS INTEGER)) END")
        for name, t in tables.items():
            con.register(name, t)
        return con.sql(sql).to_arrow_table().cast(schema)
    finally:
        con.close()
