"""`marketops metrics`: any metrics by dimension and period, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError


def metrics(
    names: Annotated[list[str] | None, typer.Argument(help="Metrics to show (clicks ctr spend...).")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", "-b", help="Dimension to break down by (repeatable): "
                                                 "channel, source, medium, campaign, platform, country, segment, "
                                                 "industry... (`--list` shows each metric's)")] = None,
    grain: Annotated[str, typer.Option("--grain", "-g", help="day, week, month or quarter.")] = "month",
    from_: Annotated[dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                      help="First day (inclusive), YYYY-MM-DD.")] = None,
    to: Annotated[dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                   help="Last day (inclusive), YYYY-MM-DD.")] = None,
    compare: Annotated[list[str] | None, typer.Option(
        "--compare", "-c", help="previous (the period before) and/or year (same period last year).")] = None,
    rates: Annotated[Path | None, typer.Option(
        "--rates", help="CSV of exchange rates (date, currency, rate: reporting-currency units per unit); "
                        "default: the exchange_rates table loaded from the inbox.")] = None,
    csv_: Annotated[Path | None, typer.Option("--csv", help="Also write the result to this CSV file.")] = None,
    export: Annotated[Path | None, typer.Option("--export", "-o", help="Also write the result to a .csv, .xlsx "
                                                "or .parquet file.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the metrics that can be queried.")] = False,
    workspace: WorkspaceOpt = Path("."),
    json_: JsonOpt = False,
) -> None:
    """Metrics by dimension and period, e.g. `marketops metrics clicks ctr spend --by channel --grain month`."""
    from marketops.exports import export_table
    from marketops.metrics import load_catalog, query_metrics
    from marketops.metrics.query import engine_rates, rates_from_rows
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            catalog = load_catalog(ws.root / "marketops.yaml")
            if list_:
                rows = [{"metric": m.name, "label": m.label, "format": m.format,
                         "dimensions": ", ".join(catalog.dimensions(m.name)), "description": m.description}
                        for m in catalog.values()]
                if json_:
                    print_json(rows)
                else:
                    print_table(rows, title="Metrics")
                return
            if not names:
                fail("name at least one metric", hint="`marketops metrics --list` shows them")
            rate_table = None
            if rates is not None:
                with rates.open(newline="", encoding="utf-8") as f:
                    rate_table = rates_from_rows(csv.DictReader(f))
            else:  # the rates loaded like any other export, if any
                rate_table = engine_rates(ws.engine)
            result = query_metrics(ws.engine, names, by=by or [], grain=grain,
                                   start=from_.date() if from_ else None, end=to.date() if to else None,
                                   compare=compare or [], catalog=catalog,
                                   reporting_currency=ws.config.reporting_currency, rates=rate_table,
                                   segments=ws.config.segments)
        written = [(path, export_table(result, path, "csv" if path is csv_ else None))
                   for path in (csv_, export) if path is not None]
    except (MarketopsError, ValueError) as e:
        fail(getattr(e, "message", str(e)), getattr(e, "hint", None))
    rows = result.to_pylist()
    if json_:
        print_json(rows)
    elif not rows:
        console.print("No rows for this range.")
    else:
        shown = [{c: (f"{v:+.1%}" if v is not None and c.endswith("_change") else v) for c, v in r.items()}
                 for r in rows]
        print_table(shown, result.column_names, title=", ".join(names))
    if not json_:
        for path, n in written:
            console.print(f"Wrote {n:,} rows to {path}")
