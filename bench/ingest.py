"""Ingest benchmark: marketops loading the sample company's export files, against DuckDB's floor.

The floor is DuckDB reading the same files into tables of a fresh database file with its own readers
(`read_csv` with its type sniffing, `read_json`; workbooks through python-calamine, the fastest reader
there is for them), in the same run. marketops does more on top (finds the header row, maps headers,
decides number and date formats from whole columns, parses every cell, quarantines bad rows with
reasons, records lineage and the load), so the ratio says what that costs.

    python bench/ingest.py --contacts 100000 1000000
"""

from __future__ import annotations

import argparse

from common import in_subprocess, sample

OURS = """
import time, tempfile, pathlib, shutil
from marketops.workspace import Workspace
from marketops.ingest.loader import ingest_paths
root = pathlib.Path(tempfile.mkdtemp())
ws = Workspace.init(root / "ws")
t = time.perf_counter()
res = ingest_paths(ws, [pathlib.Path({inbox!r})])
secs = time.perf_counter() - t
_r = {{"seconds": secs, "rows": sum(r.rows_in for r in res), "loaded": sum(r.rows_loaded for r in res),
      "quarantined": sum(r.rows_quarantined for r in res), "failed": [r.file for r in res if r.status == "failed"]}}
ws.close(); shutil.rmtree(root)
"""

FLOOR = """
import time, tempfile, pathlib, shutil, duckdb, codecs
root = pathlib.Path(tempfile.mkdtemp())
con = duckdb.connect(str(root / "floor.duckdb"))
t = time.perf_counter()
rows = 0
for i, f in enumerate(sorted(pathlib.Path({inbox!r}).iterdir())):
    name = f"t{{i}}"
    if f.suffix in (".csv", ".tsv", ".txt"):
        head = f.open("rb").read(4)
        enc = "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8"
        try:
            con.execute(f"CREATE TABLE {{name}} AS SELECT * FROM read_csv(?, encoding=?, ignore_errors=true)", [str(f), enc])
        except duckdb.Error:
            con.execute(f"CREATE TABLE {{name}} AS SELECT * FROM read_csv(?, encoding='latin-1', ignore_errors=true)", [str(f)])
    elif f.suffix in (".jsonl", ".ndjson", ".json"):
        con.execute(f"CREATE TABLE {{name}} AS SELECT * FROM read_json(?, ignore_errors=true)", [str(f)])
    elif f.suffix == ".xlsx":
        import pyarrow as pa
        from python_calamine import CalamineWorkbook
        wb = CalamineWorkbook.from_path(str(f))
        for j, s in enumerate(wb.sheet_names):
            data = wb.get_sheet_by_name(s).to_python()
            if not data:
                continue
            cols = list(zip(*data[1:])) if len(data) > 1 else [[] for _ in data[0]]
            tbl = pa.table({{f"c{{k}}": pa.array([None if v == "" else str(v) for v in c]) for k, c in enumerate(cols)}})
            con.register("x", tbl)
            con.execute(f"CREATE TABLE {{name}}_{{j}} AS SELECT * FROM x")
            con.unregister("x")
    else:
        continue
for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
    rows += con.execute(f"SELECT count(*) FROM {{n}}").fetchone()[0]
secs = time.perf_counter() - t
_r = {{"seconds": secs, "rows": rows}}
con.close(); shutil.rmtree(root)
"""


def run(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        inbox = str(sample(n) / "inbox")
        floor = in_subprocess(FLOOR.format(inbox=inbox))
        ours = in_subprocess(OURS.format(inbox=inbox))
        out.append({
            "bench": "ingest", "size": f"{n:,} contacts", "rows": ours["rows"],
            "seconds": round(ours["seconds"], 2), "rows_per_s": int(ours["rows"] / ours["seconds"]),
            "peak_mb": round(ours["peak_mb"]), "peer": "duckdb read_csv/read_json",
            "peer_seconds": round(floor["seconds"], 2), "ratio": round(ours["seconds"] / floor["seconds"], 2),
            "note": f"{ours['quarantined']:,} quarantined" + (f"; failed: {ours['failed']}" if ours["failed"] else ""),
        })
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--contacts", type=int, nargs="+", default=[20_000, 100_000])
    args = p.parse_args()
    from run import print_results

    print_results(run(args.contacts))
