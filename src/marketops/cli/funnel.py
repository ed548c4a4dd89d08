"""`marketops funnel`: the lifecycle funnel, its conversion and speed per stage, and the bottleneck."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.funnel import Bottleneck, FunnelReport, FunnelStep, first_touch_groups, funnel, stage_options
from marketops.workspace import Workspace

BY = {"channel": "channel_group", "source": "source", "campaign": "campaign"}


def _rows(steps: list[FunnelStep], flags: dict[tuple[str | None, str], Bottleneck]) -> list[dict]:
    """Table rows; the bottleneck's (or a laggard's) conversion is marked ▼, its median days ▲."""
    rows = []
    for s in steps:
        flag = flags.get((s.group, s.stage))
        conversion = f"{s.conversion:.1%}" if s.conversion is not None else ""
        days = f"{s.median_days:.1f}" if s.median_days is not None else ""
        rows.append({"from": s.stage, "to": s.next_stage, "reached": s.reached, "moved on": s.converted,
                     "conversion": conversion + (" ▼" if flag and flag.kind == "conversion" else ""),
                     "median days": days + (" ▲" if flag and flag.kind == "speed" else "")})
    return rows


def _cohort_rows(report: FunnelReport, last: int) -> list[dict]:
    """One row per cohort month, one column per transition: windowed conversion and median days."""
    cohorts = [(c, steps) for c, steps in report.cohorts.items() if any(s.reached for s in steps)]
    rows = []
    for cohort, steps in cohorts[-last:] if last else cohorts:
        row = {"cohort": cohort}
        for s in steps:
            days = f" {s.median_days:.1f}d" if s.median_days is not None else ""
            row[f"{s.stage} -> {s.next_stage}"] = f"{s.conversion:.0%}{days}" if s.conversion is not None else ""
        rows.append(row)
    return rows


def funnel_command(
    workspace: WorkspaceOpt = Path("."),
    by: Annotated[str | None, typer.Option(help="Split by the first touch's channel, source or campaign.")] = None,
    stages: Annotated[str | None, typer.Option(help="Stages in order, comma separated.")] = None,
    window: Annotated[int, typer.Option(help="Days a cohort is given to move on to the next stage.")] = 30,
    cohorts: Annotated[int, typer.Option(help="Cohort months to show, newest last (0: all).", min=0)] = 6,
    json_: JsonOpt = False,
) -> None:
    """The lifecycle funnel: people per stage, conversion to the next, median days, cohorts, and the
    bottleneck: the transition whose conversion or speed got worst against the previous cohort."""
    if by is not None and by not in BY:
        fail(f"cannot split the funnel by {by!r}", hint=f"use one of: {', '.join(BY)}")
    with Workspace.open(workspace, read_only=True) as ws:
        if not ws.engine.has_table("lifecycle_stages"):
            fail("no lifecycle history yet", hint="load a lifecycle export (stage, entered at) and `marketops run`")
        groups = None
        if by and ws.engine.has_table("touchpoints"):
            groups = first_touch_groups(ws.table("touchpoints"), BY[by]).to_pyarrow()
        report = funnel(ws.table("lifecycle_stages").to_pyarrow(), groups=groups, window_days=window,
                        group_label=by or "group",
                        **({"stages": tuple(s.strip() for s in stages.split(","))} if stages else
                           stage_options(ws.config.leads.lifecycle)))
    if json_:
        print_json(report.to_json())
        return
    neck = report.bottleneck
    flags = {(None, neck.stage): neck} if neck and neck.loss is not None else {}
    flags |= {(lag.group, lag.stage): lag for lag in report.laggards}
    print_table(_rows(report.steps, flags), title="Funnel (median days from reaching a stage to the next)")
    if rows := _cohort_rows(report, cohorts):
        print_table(rows, title=f"Cohorts by first month: conversion within {window} days, median days")
    for name, steps in report.groups.items():
        print_table(_rows(steps, flags), title=f"Funnel: {by} {name}")
    if neck:
        console.print(f"[bold]Bottleneck ({neck.kind}):[/] {neck.reason}", highlight=False)
    for lag in report.laggards:
        console.print(f"[yellow]Lags ({lag.kind}):[/] {lag.reason}", highlight=False)
    for stage, n in report.unmatched_stages.items():
        console.print(f"[yellow]not a funnel stage[/] {stage!r} ({n:,} rows): add it with --stages")
