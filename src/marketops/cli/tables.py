"""`marketops tables` and `marketops export`: what the warehouse holds, and getting it out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.workspace import Workspace

app = typer.Typer()


@app.command("tables")
def tables(workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Canonical tables of the last good run with their row counts."""
    from marketops.schema import ENTITIES

    with Workspace.open(workspace, read_only=True) as ws:
        rows = [{"table": n, "rows": ws.engine.count(n),
                 "description": ENTITIES[n].description if n in ENTITIES else ""} for n in ws.table_names()]
    if json_:
        print_json(rows)
    elif not rows:
        console.print("No tables yet: `marketops run`")
    else:
        print_table(rows, title="Tables")


@app.command("export")
def export(
    table: Annotated[str, typer.Argument(help="Table to export (people, ad_spend, _loads, _quarantine...).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    format: Annotated[str | None, typer.Option("--format", "-f", help="csv, parquet or xlsx (default: from -o).")] = None,
    workspace: WorkspaceOpt = Path("."),
    purpose: Annotated[str | None, typer.Option("--purpose", help="Leave out people without consent for this "
                                                "purpose and suppressed addresses (people-like tables).")] = None,
) -> None:
    """Export a table to CSV, Parquet or XLSX."""
    from marketops.exports import export_table, format_from_path

    fmt = format_from_path(output, format)
    with Workspace.open(workspace, read_only=True) as ws:
        if not ws.table_names() and not table.startswith("_"):
            fail("no tables yet", hint="run the pipeline first: `marketops run`")
        data = ws.table(table)
        if purpose:  # consent and suppression: see docs/privacy.md
            from marketops.cli._state import app_session
            from marketops.privacy.audiences import with_consent

            with app_session(workspace) as session:
                data = with_consent(ws, session, data, purpose).to_pyarrow()
        n = export_table(data, output, fmt)
    console.print(f"Wrote {n:,} rows of {table} to {output}")
