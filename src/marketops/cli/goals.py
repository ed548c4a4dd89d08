"""`marketops goals`: add, check, list, show and measure SMART goals bound to metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json
from marketops.errors import MarketopsError
from marketops.plan.goals import (
    GoalDraft,
    GoalRejected,
    check_goal,
    create_goal,
    get_goal,
    goal_json,
    goal_tree,
    history,
    initiative_ids,
    parse_filters,
    progress_json,
    saved_checks,
)
from marketops.plan.progress import latest_progress, measure_goals
from marketops.state.planning import GOAL_LEVELS, GOAL_STATUSES
from marketops.workspace import Workspace

app = typer.Typer(no_args_is_help=True, help="SMART goals bound to metrics: add, check, list, show, measure.")

STATUS_STYLE = {"on_track": "green", "achieved": "green", "at_risk": "yellow", "off_track": "red", "missed": "red",
                "no_data": "dim"}

Metric = Annotated[str, typer.Option("--metric", "-m", help="Metric name (`marketops metrics --list`).")]
Target = Annotated[float | None, typer.Option("--target", help="Target value, e.g. 1250.")]
Change = Annotated[str | None, typer.Option("--change", help="Target as a change from the baseline: +25% or +300.")]
Deadline = Annotated[dt.datetime | None, typer.Option("--deadline", formats=["%Y-%m-%d"], help="YYYY-MM-DD.")]
Where = Annotated[list[str] | None, typer.Option("--where", help="Scope: dimension=value (repeatable).")]
Grain = Annotated[str, typer.Option("--grain", help="day, week, month or quarter.")]
Cumulative = Annotated[bool, typer.Option("--cumulative", help="Track the total since the start, not the value "
                                                               "per period.")]
Owner = Annotated[str, typer.Option("--owner", help="Who answers for the goal (an email or a name).")]
Level = Annotated[str, typer.Option("--level", help=f"One of: {', '.join(GOAL_LEVELS)}.")]
Team = Annotated[str | None, typer.Option("--team", help="Team the goal belongs to.")]
Parent = Annotated[int | None, typer.Option("--parent", help="Id of the parent goal.")]
InitiativeOpt = Annotated[list[int] | None, typer.Option("--initiative", help="Id of an initiative it serves "
                                                                             "(repeatable).")]
Baseline = Annotated[float | None, typer.Option("--baseline", help="Baseline value (default: measured over the "
                                                                   "period before the start).")]
Start = Annotated[dt.datetime | None, typer.Option("--start", formats=["%Y-%m-%d"], help="YYYY-MM-DD (default: "
                                                                                         "today).")]
Description = Annotated[str, typer.Option("--description", help="Why the goal matters.")]
# "today" is an option so that examples and tests can be replayed on old data; hidden from help
Today = Annotated[dt.datetime | None, typer.Option("--today", formats=["%Y-%m-%d"], hidden=True)]


@contextmanager
def _opened(workspace: Path) -> Iterator[tuple[Workspace, object]]:
    try:
        ws = Workspace.open(workspace, read_only=True)
    except MarketopsError as e:
        fail(e.message, e.hint)
    try:
        with app_session(workspace) as session:
            yield ws, session
    finally:
        ws.close()


def _draft(title: str, metric: str, target: float | None, change: str | None, deadline: dt.datetime | None,
           where: list[str] | None, grain: str, cumulative: bool, owner: str, level: str, team: str | None,
           parent: int | None, initiative: list[int] | None, baseline: float | None, start: dt.datetime | None,
           description: str) -> GoalDraft:
    try:
        filters = parse_filters(where or [])
    except MarketopsError as e:
        fail(e.message)
    return GoalDraft(title=title, metric=metric, target=target, change=change,
                     deadline=deadline.date() if deadline else None, filters=filters, grain=grain,
                     measure="cumulative" if cumulative else "period", baseline=baseline,
                     start_date=start.date() if start else None, owner=owner, level=level, team=team,
                     parent_id=parent, initiative_ids=list(initiative or []), description=description)


def print_checks(checks: list) -> None:
    """The SMART verdicts, one line per letter."""
    for c in checks:
        c = c if isinstance(c, dict) else c.to_json()
        mark = "[green]ok[/]" if c["ok"] else ("[red]error[/]" if c["severity"] == "error" else "[yellow]warning[/]")
        console.print(f"  [bold]{c['letter']}[/] {c['name']:<11} {mark}  {c['message']}", highlight=False)


@app.command("add")
def add(title: str, metric: Metric, target: Target = None, change: Change = None, deadline: Deadline = None,
        where: Where = None, grain: Grain = "month", cumulative: Cumulative = False, owner: Owner = "",
        level: Level = "company", team: Team = None, parent: Parent = None, initiative: InitiativeOpt = None,
        baseline: Baseline = None, start: Start = None, description: Description = "",
        workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, today: Today = None) -> None:
    """Add a goal, e.g. `marketops goals add "More email clicks" --metric email_clicks --change +25% --deadline
    2027-06-30`. Prints the SMART check; errors save nothing."""
    draft = _draft(title, metric, target, change, deadline, where, grain, cumulative, owner, level, team, parent,
                   initiative, baseline, start, description)
    with _opened(workspace) as (ws, session):
        try:
            goal, result = create_goal(session, ws, draft, actor="cli", today=today.date() if today else None)
        except GoalRejected as e:
            if json_:
                print_json({"ok": False, "checks": [c.to_json() for c in e.checks]})
            else:
                console.print("[bold]SMART check[/]")
                print_checks(e.checks)
            fail("the goal was not saved: fix the errors above")
        progress = latest_progress(session, [goal.id]).get(goal.id)
        if json_:
            print_json({**goal_json(goal, progress), "smart": result.to_json()})
            return
        console.print("[bold]SMART check[/]")
        print_checks(result.checks)
        console.print(f"Added goal [bold]{goal.id}[/]: {goal.title} (target {goal.target:,.2f}"
                      + (f", baseline {goal.baseline:,.2f}" if goal.baseline is not None else "") + ").")
        if progress:
            console.print(progress.detail.get("message", ""), highlight=False)


@app.command("check")
def check(title: str, metric: Metric, target: Target = None, change: Change = None, deadline: Deadline = None,
          where: Where = None, grain: Grain = "month", cumulative: Cumulative = False, owner: Owner = "",
          level: Level = "company", team: Team = None, parent: Parent = None, initiative: InitiativeOpt = None,
          baseline: Baseline = None, start: Start = None, description: Description = "",
          workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, today: Today = None) -> None:
    """The SMART check of a goal, without saving it (same options as `add`). Exits 1 when a letter has an error."""
    draft = _draft(title, metric, target, change, deadline, where, grain, cumulative, owner, level, team, parent,
                   initiative, baseline, start, description)
    with _opened(workspace) as (ws, session):
        result = check_goal(session, ws, draft, today=today.date() if today else None)
        session.rollback()
    if json_:
        print_json(result.to_json())
    else:
        console.print("[bold]SMART check[/]")
        print_checks(result.checks)
        if result.target is not None:
            console.print(f"Target {result.target:,.2f}"
                          + (f", baseline {result.baseline:,.2f}" + (" (measured)" if result.baseline_measured else "")
                             if result.baseline is not None else ", no baseline"))
    if not result.ok:
        raise typer.Exit(1)


def _rows(session, status: str | None = None, owner: str | None = None, level: str | None = None) -> list[dict]:
    return [goal_json(r.goal, r.progress, depth=r.depth) for r in goal_tree(session, status=status, owner=owner,
                                                                              level=level)]


@app.command("list")
def list_(status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(GOAL_STATUSES)}.")] = None,
          owner: Annotated[str | None, typer.Option(help="Only goals whose owner contains this.")] = None,
          level: Annotated[str | None, typer.Option(help=f"Only this level: {', '.join(GOAL_LEVELS)}.")] = None,
          workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Every goal as a tree (company -> team -> person) with its status, progress and forecast."""
    with app_session(workspace) as session:
        rows = _rows(session, status, owner, level)
    if json_:
        print_json(rows)
        return
    if not rows:
        console.print("No goals yet: `marketops goals add TITLE --metric M --target N --deadline YYYY-MM-DD`")
        return
    table = Table("Id", "Goal", "Metric", "Status", "Progress", "Now", "Forecast", "Target", "Deadline", "Owner",
                  header_style="bold")
    for r in rows:
        p = r["progress"] or {}
        style = STATUS_STYLE.get(r["status"], "")
        table.add_row(str(r["id"]), "  " * r["depth"] + ("└ " if r["depth"] else "") + r["title"],
                      r["metric"] + (f" ({r['scope']})" if r["filters"] else ""),
                      f"[{style}]{r['status'].replace('_', ' ')}[/]",
                      f"{p['progress']:.0%}" if p.get("progress") is not None else "",
                      _n(p.get("value")), _n(p.get("forecast")), _n(r["target"]), r["deadline"] or "",
                      r["owner"] or "")
    console.print(table)


def _n(v: float | None) -> str:
    return "" if v is None else f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


@app.command("show")
def show(goal_id: int, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """One goal: its numbers, SMART check, newest status and measurement history."""
    with app_session(workspace) as session:
        goal = get_goal(session, goal_id)
        progress = latest_progress(session, [goal.id]).get(goal.id)
        data = {**goal_json(goal, progress), "smart": saved_checks(session, goal.id),
                "initiative_ids": initiative_ids(session, goal.id),
                "children": [{"id": c.id, "title": c.title} for c in goal.children],
                "history": [progress_json(p) for p in history(session, goal.id, limit=20)]}
        if progress:
            data["progress"] = progress_json(progress, detail=True)
    if json_:
        print_json(data)
        return
    console.print(f"[bold]{data['title']}[/] (goal {data['id']}, {data['level']}"
                  + (f", team {data['team']}" if data["team"] else "") + ")", highlight=False)
    console.print(f"{data['metric']} for {data['scope']}, {data['measure']} per {data['grain']}: "
                  f"baseline {_n(data['baseline']) or 'none'} -> target {_n(data['target'])} by {data['deadline']}"
                  + (f"; owner {data['owner']}" if data["owner"] else ""), highlight=False)
    p = data["progress"]
    if p:
        style = STATUS_STYLE.get(p["status"], "")
        console.print(f"[{style}]{p['status'].replace('_', ' ')}[/]: {p['message']}", highlight=False)
    if data["smart"]:
        console.print("[bold]SMART check[/]")
        print_checks(data["smart"])
    if data["children"]:
        console.print("Sub-goals: " + ", ".join(f"{c['id']} {c['title']}" for c in data["children"]),
                      highlight=False)
    if data["history"]:
        table = Table("Measured", "As of", "Value", "Progress", "Forecast", "Status", header_style="bold")
        for h in data["history"]:
            table.add_row(h["computed_at"][:16].replace("T", " "), h["as_of"] or "", _n(h["value"]),
                          f"{h['progress']:.0%}" if h["progress"] is not None else "", _n(h["forecast"]),
                          h["status"].replace("_", " "))
        console.print(table)


@app.command("measure")
def measure(goal_id: Annotated[list[int] | None, typer.Argument(help="Goal ids (default: all).")] = None,
            workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, today: Today = None) -> None:
    """Recompute every goal's progress now (a run does it too)."""
    with _opened(workspace) as (ws, session):
        rows = measure_goals(session, ws, goal_ids=goal_id or None, today=today.date() if today else None)
        data = [{"goal_id": r.goal_id, **progress_json(r)} for r in rows]
    if json_:
        print_json(data)
        return
    if not data:
        console.print("No goals to measure.")
    for d in data:
        style = STATUS_STYLE.get(d["status"], "")
        console.print(f"{d['goal_id']}: [{style}]{d['status'].replace('_', ' ')}[/] {d['message']}", highlight=False)
