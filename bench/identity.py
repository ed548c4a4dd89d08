"""Identity resolution benchmark: marketops' resolver against a plain Splink 5 script, same data, same run.

Input: the sample company's CRM exports (HubSpot contacts and Salesforce leads) at N contacts, run
through the pipeline up to its normalise step once and cached (bench/.data/). Both sides resolve
the same people table in a fresh process each (so peak memory is their own) and are scored against
the generator's truth (truth/identity.csv) by pairwise precision, recall and F1:

- overall: all pairs of records that are one person;
- hard: only pairs whose two records share no email (different addresses, or one missing), the
  pairs no email match can find: typos, nicknames, personal versus work address.

The peer is bench/identity_peer.py: the tutorial's recipe, written by a competent Splink user.

    python bench/identity.py --contacts 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import DATA, in_subprocess, people_workspace, sample

OURS = """
import time
from marketops.workspace import Workspace
from marketops.quality.identity import resolve_people
ws = Workspace.open({root!r})
t = time.perf_counter()
res = resolve_people(ws.engine, {table!r}, map_table="bench_identity_map", pairs_table="bench_identity_pairs")
secs = time.perf_counter() - t
ws.engine.scratch().execute("COPY (SELECT record_key, person_id FROM bench_identity_map) TO '{out}' (FORMAT parquet)")
_r = {{"seconds": secs, "phases": res.seconds, "records": res.records, "persons": res.persons,
      "compared_pairs": res.compared_pairs, "review_pairs": res.review_pairs, "links": res.links,
      "vetoed": res.vetoed_identifier_links}}
ws.close()
"""

PEER = """
import sys
sys.path.insert(0, "bench")
from identity_peer import run
_r = run({warehouse!r}, {table!r}, {out!r})
"""


def score(assignments: Path, cluster_col: str, root: Path, table: str, truth: Path) -> dict:
    """Pairwise precision, recall, F1 overall and on the pairs that share no email."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{root / '.marketops' / 'warehouse.duckdb'}' AS wh (READ_ONLY)")
    con.execute(f"""CREATE TABLE d AS
        SELECT a.record_key, a.{cluster_col}::VARCHAR AS found, t.person_id AS truth, p.email
        FROM read_parquet('{assignments}') a
        JOIN (SELECT DISTINCT source_system || ':' || source_record_id AS record_key, person_id
              FROM read_csv('{truth}', all_varchar = true)) t USING (record_key)
        JOIN wh."{table}" p USING (record_key)""")

    def pairs(*cols: str, email: bool = False) -> int:
        keys = ", ".join(cols + (("email",) if email else ()))
        where = "WHERE email IS NOT NULL" if email else ""
        sql = f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) n FROM d {where} GROUP BY {keys})"
        return int(con.execute(sql).fetchall()[0][0])

    out = {}
    for name, same_email in (("", False), ("hard_", True)):
        tp, found, true = pairs("found", "truth"), pairs("found"), pairs("truth")
        if same_email:  # remove the pairs that share an email
            tp -= pairs("found", "truth", email=True)
            found -= pairs("found", email=True)
            true -= pairs("truth", email=True)
        p = tp / found if found else 1.0
        r = tp / true if true else 1.0
        out.update({f"{name}precision": p, f"{name}recall": r, f"{name}f1": 2 * p * r / (p + r) if p + r else 0.0,
                    f"{name}true_pairs": true})
    con.close()
    return out


def run(sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        root, table = people_workspace(n)
        truth = sample(n) / "truth" / "identity.csv"
        outdir = DATA / "identity_out"
        outdir.mkdir(parents=True, exist_ok=True)
        ours_out, peer_out = outdir / f"ours_{n}.parquet", outdir / f"peer_{n}.parquet"
        warehouse = str(root / ".marketops" / "warehouse.duckdb")
        peer = in_subprocess(PEER.format(warehouse=warehouse, table=table, out=str(peer_out)))
        ours = in_subprocess(OURS.format(root=str(root), table=table, out=str(ours_out)))
        q = score(ours_out, "person_id", root, table, truth)
        pq = score(peer_out, "cluster_id", root, table, truth)
        rows.append({
            "bench": "identity", "size": f"{n:,} contacts", "rows": ours["records"],
            "seconds": round(ours["seconds"], 2), "rows_per_s": int(ours["records"] / ours["seconds"]),
            "peak_mb": round(ours["peak_mb"]), "peer": "plain Splink 5 script", "peer_seconds": round(peer["seconds"], 2),
            "ratio": round(ours["seconds"] / peer["seconds"], 2),
            "note": (f"F1 {q['f1']:.4f} (no shared email {q['hard_f1']:.4f}); "
                     f"peer F1 {pq['f1']:.4f} ({pq['hard_f1']:.4f}), peer {round(peer['peak_mb'])} MB"),
            "detail": {"ours": {**ours, **q}, "peer": {**peer, **pq}},
        })
    return rows


def print_detail(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="identity resolution: pairwise accuracy against the generator's truth, and where time goes")
    cols = ["size", "side", "seconds", "peak_mb", "precision", "recall", "f1", "hard_precision", "hard_recall",
            "hard_f1", "true pairs (no shared email)"]
    for c in cols:
        table.add_column(c, justify="left" if c in ("size", "side") else "right")
    for r in rows:
        for side in ("ours", "peer"):
            d = r["detail"][side]
            table.add_row(r["size"], "marketops" if side == "ours" else "plain Splink", f"{d['seconds']:.2f}",
                          f"{d['peak_mb']:.0f}", *(f"{d[k]:.4f}" for k in cols[4:10]),
                          f"{d['true_pairs']:,} ({d['hard_true_pairs']:,})")
    console = Console(width=200)
    console.print(table)
    for r in rows:
        phases = r["detail"]["ours"]["phases"]
        console.print(f"{r['size']}: marketops phases (s) " + json.dumps(phases)
                      + f"; compared pairs {r['detail']['ours']['compared_pairs']:,}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    args = p.parse_args()
    from run import print_results

    results = run(args.contacts)
    print_results(results)
    print_detail(results)
