"""`marketops funnel`: the lifecycle funnel, its conversion and speed per stage, and the bottleneck."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.funnel import DEFAULT_STAGES, FunnelStep, first_touch_groups, funnel
from marketops.workspace import Workspace

BY = {"channel": "channel_group", "source": "source", "campaign": "campaign"}


def _rows(steps: list[FunnelStep]) -> list[dict]:
    return [{"from": s.stage, "to": s.next_stage, "reached": s.reached, "moved on": s.converted,
             "conversion": f"{s.conversion:.1%}" if s.conversion is not None else "",
             "median days": s.median_days if s.median_days is not None else ""} for s in steps]


def funnel_command(
    workspace: WorkspaceOpt = Path("."),
    by: Annotated[str | None, typer.Option(help="Split by the first touch's channel, source or campaign.")] = None,
    stages: Annotated[str | None, typer.Option(help="Stages in order, comma separated.")] = None,
    window: Annotated[int, typer.Option(help="Days a cohort is given to move on to the next stage.")] = 30,
    json_: JsonOpt = False,
) -> None:
    """The lifecycle funnel: people per stage, conversion to the next, median days, cohorts, bottleneck."""
    if by is not None and by not in BY:
        fail(f"cannot split the funnel by {by!r}", hint=f"use one of: {', '.join(BY)}")
    with Workspace.open(workspace, read_only=True) as ws:
        if not ws.engine.has_table("lifecycle_stages"):
            fail("no lifecycle history yet", hint="load a lifecycle export (stage, entered at) and `marketops run`")
        groups = None
        if by and ws.engine.has_table("touchpoints"):
            groups = first_touch_groups(ws.table("touchpoints"), BY[by]).to_pyarrow()
        report = funnel(ws.table("lifecycle_stages").to_pyarrow(), groups=groups, window_days=window,
                        stages=tuple(s.strip() for s in stages.split(",")) if stages else DEFAULT_STAGES)
    if json_:
        print_json(report.to_json())
        return
    print_table(_rows(report.steps), title="Funnel")
    for name, steps in report.groups.items():
        print_table(_rows(steps), title=f"Funnel: {by} {name}")
    if report.bottleneck:
        console.print(f"[bold]Bottleneck:[/] {report.bottleneck.reason}")
    for lag in report.laggards:
        console.print(f"[yellow]lags[/] {lag.reason}")
    for stage, n in report.unmatched_stages.items():
        console.print(f"[yellow]not a funnel stage[/] {stage!r} ({n:,} rows): add it with --stages")
