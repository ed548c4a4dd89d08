"""`marketops ingest`, `map`, `quarantine`, `loads`: getting files in, and seeing what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.workspace import Workspace

app = typer.Typer()


def load_rows(results) -> list[dict]:
    return [{"file": r.file + (f"[{r.sheet}]" if r.sheet else ""), "status": r.status, "entity": r.entity,
             "source": r.system, "rows_in": r.rows_in, "loaded": r.rows_loaded,
             "quarantined": r.rows_quarantined, "message": r.message or "; ".join(r.warnings) or ""}
            for r in results]


@app.command("ingest")
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the inbox).")] = None,
    workspace: WorkspaceOpt = Path("."),
    entity: Annotated[str | None, typer.Option(help="Treat the files as this entity (people, ad_spend...).")] = None,
    source: Annotated[str | None, typer.Option(help="Source system name to record (e.g. legacy_crm).")] = None,
    sheet: Annotated[str | None, typer.Option(help="For workbooks: load only this sheet (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Load files again even if their bytes were loaded before.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Load export files into the warehouse; bad rows go to quarantine, good rows still load."""
    from marketops.ingest.loader import ingest_paths, list_files

    with Workspace.open(workspace) as ws:
        files = list_files(paths or [ws.inbox])
        if not files:
            fail(f"no files to ingest in {', '.join(str(p) for p in (paths or [ws.inbox]))}",
                 hint="drop CSV, XLSX, Parquet, JSON or JSONL files there")
        with Progress(TextColumn("[bold]ingest[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True, disable=json_) as bar:
            task = bar.add_task("", total=len(files))

            def on_file(name: str) -> None:
                bar.update(task, description=name)

            results = []
            for f in files:
                on_file(f.name)
                results += ingest_paths(ws, [f], entity=entity, system=source, sheet=sheet, force=force)
                bar.advance(task)
    if json_:
        print_json(load_rows(results))
    else:
        print_table(load_rows(results), title="Ingest")
        for r in results:
            for w in r.warnings:
                console.print(f"[yellow]note[/] {r.file}: {w}")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(2)


@app.command("map")
def map_file(
    file: Annotated[Path, typer.Argument(help="The file to map.", exists=True, dir_okay=False)],
    workspace: WorkspaceOpt = Path("."),
    entity: Annotated[str | None, typer.Option(help="Map onto this entity instead of the best guess.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Save the mapping as a sources: rule in marketops.yaml.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Show how a file's columns map onto the canonical model, and save it as a rule."""
    from marketops.ingest.mapping_proposal import propose, write_rule

    with Workspace.open(workspace) as ws:
        proposal = propose(ws, file, entity=entity)
        if json_:
            print_json(proposal.to_json())
        else:
            print_table(proposal.rows(), title=f"{file.name}: {proposal.plan.label}"
                        f" ({proposal.plan.entity}, source {proposal.plan.system})")
            if proposal.missing_required:
                console.print(f"[red]missing required columns:[/] {', '.join(proposal.missing_required)}")
        if write:
            line = write_rule(ws, file, proposal)
            console.print(f"[green]Saved[/] a sources: rule for '{file.name}' in marketops.yaml (line {line}).")


@app.command("quarantine")
def quarantine(
    workspace: WorkspaceOpt = Path("."),
    file: Annotated[str | None, typer.Option(help="Only rows from this file name.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show (export has no limit).")] = 50,
    export: Annotated[Path | None, typer.Option("--export", "-o", help="Write all quarantined rows to CSV/XLSX.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Rows that could not be loaded, with file, row, column and the reason."""
    from marketops.exports import export_table
    from marketops.ingest.loader import QUARANTINE_TABLE, quarantine_rows

    with Workspace.open(workspace, read_only=True) as ws:
        if export:
            if not ws.engine.has_table(QUARANTINE_TABLE):
                fail("nothing is in quarantine")
            t = ws.engine.con.table(QUARANTINE_TABLE)
            if file:
                t = t.filter(t.file == file)
            n = export_table(t.order_by([t.file, t.row]), export)
            console.print(f"Wrote {n:,} quarantined rows to {export}")
            return
        rows = quarantine_rows(ws.engine, file=file, limit=None if json_ else limit)
    if json_:
        print_json(rows)
        return
    if not rows:
        console.print("[green]Nothing in quarantine.[/]")
        return
    print_table(rows, ["file", "row", "column", "reason"], title="Quarantine")


@app.command("loads")
def loads(workspace: WorkspaceOpt = Path("."),
          limit: Annotated[int, typer.Option(help="How many loads to show.")] = 30,
          json_: JsonOpt = False) -> None:
    """Load history: file, hash, when, rows loaded and quarantined."""
    from marketops.ingest.loader import loads_as_rows

    with Workspace.open(workspace, read_only=True) as ws:
        rows = loads_as_rows(ws.engine, limit)
    if json_:
        print_json(rows)
        return
    for r in rows:
        r["sha256"] = (r["sha256"] or "")[:12]
    print_table(rows, ["loaded_at", "file", "sheet", "entity", "system", "status", "rows_in", "rows_loaded",
                       "rows_quarantined", "sha256", "message"], title="Loads")
