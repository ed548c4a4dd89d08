"""Runs every benchmark and prints one table.

    python bench/run.py --size small    # a few minutes
    python bench/run.py --size large    # the sizes the issues name
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

SIZES = {
    "small": {"ingest": [20_000, 100_000], "identity": [10_000, 100_000], "attribution": [100_000],
              "metrics": [1_000_000], "web": [20_000], "leads": [100_000]},
    "large": {"ingest": [100_000, 1_000_000], "identity": [10_000, 100_000, 1_000_000],
              "attribution": [100_000, 1_000_000], "metrics": [1_000_000, 10_000_000], "web": [1_000_000],
              "leads": [100_000, 1_000_000]},
}
COLUMNS = ["bench", "size", "rows", "seconds", "rows_per_s", "peak_mb", "peer", "peer_seconds", "ratio", "note"]


def print_results(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="marketops benchmarks (ratio = marketops time / peer time, same run)")
    for c in COLUMNS:
        table.add_column(c, justify="right" if c not in ("bench", "size", "peer", "note") else "left")
    for r in rows:
        table.add_row(*(f"{r.get(c):,}" if isinstance(r.get(c), int) else str(r.get(c, "")) for c in COLUMNS))
    Console(width=200).print(table)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    args = p.parse_args()
    import attribution
    import identity
    import ingest
    import leads
    import metrics
    import web

    rows = ingest.run(SIZES[args.size]["ingest"])
    rows += identity.run(SIZES[args.size]["identity"])
    rows += attribution.run(SIZES[args.size]["attribution"])
    rows += metrics.run(SIZES[args.size]["metrics"])
    rows += web.run(SIZES[args.size]["web"])
    rows += leads.run(SIZES[args.size]["leads"])
    print_results(rows)


if __name__ == "__main__":
    main()
