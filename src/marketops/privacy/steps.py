"""The pipeline's privacy steps.

``privacy`` (right after ``ingest``, before anything is built from the raw tables):

* rows that carry an erased person's hashed email or record key are dropped from the raw tables,
  the quarantine and the normaliser's caches (or anonymised, for conversions and opportunities),
  so a re-export from the CRM does not bring an erased person back;
* consent-log rows whose purpose or status cannot be read move to the quarantine with the reason;
* retention rules (``privacy.retention``) trim the raw tables and the quarantine.

``consent`` (last): publishes ``consent_state``, the newest decision per person and purpose from
consent logs, the people exports' ``unsubscribed`` flag and the app's consent records.

Both write their counts in the step's detail (``marketops runs``, the run page, /privacy).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlglot.expressions as exp

from marketops.errors import MarketopsError, did_you_mean
from marketops.privacy.consent import build_state, canonical_purpose, canonical_status
from marketops.privacy.erase import erased_hashes
from marketops.privacy.erase_warehouse import ANONYMISED, IDENTIFYING, base_name
from marketops.privacy.retention import apply_retention

if TYPE_CHECKING:
    from marketops.pipeline import RunContext, StepRecord

_EMAIL_RE = r"[a-z0-9._%+\-]+@[a-z0-9.\-]+"


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema='main' "
                                      "AND table_name = ? AND data_type = 'VARCHAR'", [table]).fetchall()]


def drop_erased(ws, hashes: dict[str, set[str]]) -> dict[str, int]:
    """Remove re-imported rows of erased people from raw tables, quarantine and caches; counts per table."""
    if not (hashes.get("email") or hashes.get("record_key")):
        return {}
    if ws.engine.name != "duckdb":
        raise MarketopsError(f"erased people cannot be filtered on the {ws.engine.name} engine yet",
                             hint="see docs/privacy.md (erasure is supported on DuckDB)")
    con = ws.engine.scratch()
    con.register("__erased_email", pa.table({"h": pa.array(sorted(hashes.get("email", ())), pa.string())}))
    con.register("__erased_key", pa.table({"h": pa.array(sorted(hashes.get("record_key", ())), pa.string())}))
    out: dict[str, int] = {}
    try:
        with ws.engine.transaction():
            for table in ws.engine.tables():
                if not (table.startswith("raw_") or table == "_quarantine" or table.startswith("_normalised_values")):
                    continue
                cols = _columns(con, table)
                conds = []
                for c in cols:
                    q = _q(c)
                    if "email" in c or c in ("raw_text", "value"):
                        conds.append(f"sha256(regexp_extract(lower(trim({q})), '{_EMAIL_RE}')) IN "
                                     "(SELECT h FROM __erased_email)")
                    if c == "raw":
                        conds.append(f"EXISTS (SELECT 1 FROM unnest(regexp_extract_all(lower({q}), '{_EMAIL_RE}')) "
                                     "AS u(e) WHERE sha256(u.e) IN (SELECT h FROM __erased_email))")
                system = "_source_system" if "_source_system" in cols else None
                if system and base_name(table) == "people" and "record_id" in cols:
                    conds.append(f"sha256(lower({system} || ':' || coalesce(record_id, lower(trim(email))))) IN "
                                 "(SELECT h FROM __erased_key)")
                if system and "person_record_id" in cols:
                    conds.append(f"sha256(lower({system} || ':' || person_record_id)) IN (SELECT h FROM __erased_key)")
                if not conds:
                    continue
                where = " OR ".join(f"coalesce({c}, FALSE)" for c in conds)
                n = int(con.execute(f"SELECT count(*) FROM {_q(table)} WHERE {where}").fetchone()[0])
                if not n:
                    continue
                out[table] = n
                if base_name(table) in ANONYMISED:
                    sets = ", ".join(f"{_q(c)} = NULL" for c in cols if c in IDENTIFYING)
                    con.execute(f"UPDATE {_q(table)} SET {sets} WHERE {where}")
                else:
                    con.execute(f"DELETE FROM {_q(table)} WHERE {where}")
    finally:
        con.unregister("__erased_email")
        con.unregister("__erased_key")
    return out


def quarantine_bad_consent(ws) -> int:
    """Move consent-log rows with an unreadable purpose or status to ``_quarantine``; return how many."""
    if "raw_consent" not in ws.engine.tables() or ws.engine.name != "duckdb":
        return 0
    con = ws.engine.scratch()
    config = ws.config.privacy
    values = con.execute("SELECT DISTINCT purpose, status FROM raw_consent").fetchall()
    bad = []
    for purpose, status in values:
        if canonical_purpose(purpose, config) is None:
            bad.append({"purpose": purpose, "status": status, "column": "purpose",
                        "reason": f"unknown purpose '{purpose}'{did_you_mean(str(purpose), config.purposes)}; "
                                  f"valid: {', '.join(sorted(config.purposes))}"})
        elif canonical_status(status) is None:
            bad.append({"purpose": purpose, "status": status, "column": "status",
                        "reason": f"status '{status}' is neither granted nor withdrawn"})
    if not bad:
        return 0
    con.register("__bad_consent", pa.Table.from_pylist(bad))
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        with ws.engine.transaction():
            match = "FROM raw_consent r JOIN __bad_consent b ON r.purpose IS NOT DISTINCT FROM b.purpose " \
                    "AND r.status IS NOT DISTINCT FROM b.status"
            n = int(con.execute(f"SELECT count(*) {match}").fetchone()[0])
            con.execute(f"""INSERT INTO _quarantine BY NAME
                SELECT r._load_id AS load_id, r._source_file AS file, NULL::VARCHAR AS sheet, r._source_row AS "row",
                       b."column" AS "column", b.reason AS reason,
                       json_object('email', r.email, 'record id', r.person_record_id, 'purpose', r.purpose,
                                   'status', r.status, 'source', r.source,
                                   'timestamp', CAST(r.occurred_at AS VARCHAR))::VARCHAR AS raw,
                       'consent' AS entity, ?::TIMESTAMP AS quarantined_at {match}""", [now])
            con.execute("DELETE FROM raw_consent r USING __bad_consent b WHERE r.purpose IS NOT DISTINCT FROM "
                        "b.purpose AND r.status IS NOT DISTINCT FROM b.status")
    finally:
        con.unregister("__bad_consent")
    return n


def step_privacy(ctx: RunContext, rec: StepRecord) -> None:
    """Drop erased people's re-imported rows, quarantine unreadable consent rows, apply retention."""
    ws = ctx.ws
    ctx.observer.step_started(rec.name, 3)
    dropped = drop_erased(ws, erased_hashes(ws.app_database_url))
    ctx.observer.advance(rec.name, "erased")
    quarantined = quarantine_bad_consent(ws)
    ctx.observer.advance(rec.name, "consent")
    retention = []
    if ws.config.privacy.retention:
        if ws.engine.name == "duckdb":
            retention = apply_retention(ws, tables={})
        else:
            rec.detail["retention_skipped"] = f"not supported on {ws.engine.name}"
    ctx.observer.advance(rec.name, "retention")
    rec.rows_out = sum(dropped.values()) + quarantined + sum(r["raw_deleted"] + r["deleted"] for r in retention)
    rec.detail.update({"erased_rows_dropped": dropped, "consent_rows_quarantined": quarantined,
                       "retention": retention})


def step_consent(ctx: RunContext, rec: StepRecord) -> None:
    """Publish ``consent_state``: newest decision per person and purpose."""
    from marketops.state.db import init_db, session_scope

    engine, out = ctx.ws.engine, ctx.outputs
    if "consent" not in out and "people" not in out:
        return
    ctx.observer.step_started(rec.name, 1)
    url = ctx.ws.app_database_url
    init_db(url)
    table = f"consent_state__{ctx.run_id}"
    with session_scope(url) as session:
        state = build_state(engine.con.table(out["consent"]) if "consent" in out else None,
                            engine.con.table(out["people"]) if "people" in out else None,
                            engine.con.table(out["identity_map"]) if "identity_map" in out else None,
                            session, ctx.ws.config.privacy)
        engine.write(table, state.to_pyarrow())  # memtables (app records) travel with the query
    out["consent_state"] = table
    ctx.observer.advance(rec.name, "consent_state")
    rec.rows_in = engine.count(out["consent"]) if "consent" in out else 0
    rec.rows_out = engine.count(table)
    by = engine.con.table(table).group_by("purpose", "status").aggregate(n=lambda t: t.count()).to_pyarrow().to_pylist()
    rec.detail = {"state": {f"{r['purpose']}:{r['status']}": r["n"] for r in by}}
