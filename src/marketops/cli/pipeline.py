"""`marketops run` and `marketops status`: run the pipeline with progress bars, see recent runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fmt, print_json, print_table
from marketops.pipeline import RunRecord, StepRecord, list_runs, run_pipeline
from marketops.workspace import Workspace

app = typer.Typer()


class RichObserver:
    """Progress bars per step for the terminal."""

    def __init__(self, bar: Progress) -> None:
        self.bar, self.tasks = bar, {}

    def step_started(self, step: str, total: int | None) -> None:
        self.tasks[step] = self.bar.add_task(step, total=total)

    def advance(self, step: str, label: str) -> None:
        self.bar.update(self.tasks[step], advance=1, description=f"{step}: {label}")

    def step_finished(self, record: StepRecord) -> None:
        if record.name in self.tasks:
            self.bar.update(self.tasks[record.name], description=f"{record.name} ({record.status})")


def summary_rows(ws: Workspace) -> list[dict]:
    """Rows per canonical table, for the run summary."""
    return [{"table": name, "rows": ws.engine.count(name)} for name in ws.table_names()]


def print_run(run: RunRecord, ws: Workspace) -> None:
    print_table([{"step": s.name, "status": s.status, "rows_in": s.rows_in, "rows_out": s.rows_out,
                  "seconds": s.seconds, "error": s.error or ""} for s in run.steps],
                title=f"Run {run.run_id} ({run.engine})")
    ingest = next((s for s in run.steps if s.name == "ingest"), None)
    if run.status == "succeeded":
        print_table(summary_rows(ws), title="Canonical tables")
    if ingest and ingest.detail:
        d = ingest.detail
        console.print(f"Files: {d['files']} ({d['loaded']} loaded, {d['unchanged']} unchanged, "
                      f"{len(d['failed'])} failed); rows quarantined: {d['quarantined']:,}"
                      + ("  -> `marketops quarantine`" if d["quarantined"] else ""))
        for f in d["failed"]:
            console.print(f"[red]failed[/] {f}")
    resolve = next((s for s in run.steps if s.name == "resolve" and s.status == "succeeded" and s.detail), None)
    if resolve:
        d = resolve.detail
        console.print(f"People: {d['records']:,} source records -> {d['persons']:,} persons; "
                      f"{d['review_pairs']:,} uncertain pairs"
                      + ("  -> `marketops review list`" if d["review_pairs"] else ""))
    quality = next((s for s in run.steps if s.name == "quality" and s.detail), None)
    if quality:
        warnings = quality.detail.get("warnings", [])
        console.print(f"Data quality: {quality.detail.get('findings', 0)} findings, {len(warnings)} warnings"
                      "  -> `marketops quality`")
        for w in warnings[:5]:
            console.print(f"[yellow]warning[/] {w}")
    leads = next((s for s in run.steps if s.name == "lead_stages" and s.detail), None)
    if leads:
        routing = run.after.get("routing", {})
        routed = (f"; {routing['routed']:,} new MQLs routed, {routing['unassigned']:,} unassigned"
                  if routing.get("routed") else "")
        console.print(f"Leads: {leads.detail.get('mqls', 0):,} MQLs, {leads.detail.get('sqls', 0):,} SQLs{routed}"
                      + ("  -> `marketops leads route queue`" if routing.get("unassigned") else
                         "  -> `marketops leads handoff`"))
        if routing.get("error"):
            console.print(f"[yellow]warning[/] routing new MQLs failed: {escape(routing['error'])}")
    _print_governance(run)
    colour = "green" if run.status == "succeeded" else "red"
    console.print(f"[{colour}]Run {run.status}[/] in {run.seconds:.1f} s"
                  + (f": {run.error}" if run.error else ""))


@app.command("run")
def run(
    workspace: WorkspaceOpt = Path("."),
    step: Annotated[list[str] | None, typer.Option("--step", help="Run only these steps.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine for this run: duckdb or spark.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Run the pipeline: ingest new files, stage, build the canonical tables, publish."""
    with Workspace.open(workspace, engine=engine) as ws:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True, disable=json_) as bar:
            record = run_pipeline(ws, steps=step, observer=RichObserver(bar))
        if json_:
            out = record.to_json()
            out["tables"] = {r["table"]: r["rows"] for r in summary_rows(ws)}
            print_json(out)
        else:
            print_run(record, ws)
    if record.status != "succeeded":
        raise typer.Exit(1)


@app.command("status")
def status(workspace: WorkspaceOpt = Path("."),
           limit: Annotated[int, typer.Option(help="How many runs to show.")] = 10,
           json_: JsonOpt = False) -> None:
    """Recent pipeline runs with their steps, durations and errors."""
    ws = Workspace.open(workspace)
    runs = list_runs(ws, limit)
    if json_:
        print_json([r.to_json() for r in runs])
        return
    if not runs:
        console.print("No runs yet: `marketops run`")
        return
    print_table([{"run": r.run_id, "status": r.status, "started": r.started_at, "seconds": r.seconds,
                  "steps": " > ".join(f"{s.name} {fmt(s.rows_out)}" for s in r.steps),
                  "error": r.error or ""} for r in runs], title="Runs")


def _print_governance(run: RunRecord) -> None:
    """The UTM compliance rate, the consent state and what the privacy step removed, one line each."""
    steps = {s.name: s for s in run.steps if s.detail}
    utm = steps.get("utm")
    if utm and utm.detail.get("rate") is not None:
        d = utm.detail
        console.print(f"UTM: {d['rate']:.1%} of {d['tagged']:,} tagged touchpoints follow the taxonomy"
                      "  -> `marketops utm check`")
    consent = steps.get("consent")
    if consent and consent.detail.get("state"):
        by_purpose: dict[str, dict[str, int]] = {}
        for key, n in consent.detail["state"].items():
            purpose, _, status = key.partition(":")
            by_purpose.setdefault(purpose, {})[status] = n
        parts = [f"{p} {v.get('granted', 0):,} granted / {v.get('withdrawn', 0):,} withdrawn"
                 for p, v in sorted(by_purpose.items())]
        console.print("Consent: " + "; ".join(parts) + "  -> `marketops consent list`")
    privacy = steps.get("privacy")
    if privacy:
        dropped = sum((privacy.detail.get("erased_rows_dropped") or {}).values())
        trimmed = sum(r.get("raw_deleted", 0) + r.get("deleted", 0) for r in privacy.detail.get("retention") or [])
        if dropped or trimmed:
            console.print(f"Privacy: {dropped:,} rows of erased people dropped, {trimmed:,} rows past retention "
                          "deleted  -> the Privacy page (/privacy)")
