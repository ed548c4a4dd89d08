"""``marketops tasks``: the steps of initiatives, from the command line (add, list, show, update,
comment, import, export). The CLI's actor in the audit log is "cli"."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, err_console, fail, print_json, print_table
from marketops.errors import MarketopsError
from marketops.plan import task_csv, tasks

app = typer.Typer(no_args_is_help=True, help="Tasks of initiatives: owners, due dates, dependencies, CSV.")

ACTOR = "cli"
STATUS_HELP = "todo, in_progress, blocked or done (also 'To do', 'In progress'...)."
LIST_COLUMNS = ("id", "title", "initiative", "owner", "status", "due", "flags")


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date like 2026-05-31, not '{value}'")


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        err_console.print(f"[yellow]Warning:[/] {w}", highlight=False)


def _row(task, today: date) -> dict:
    row = tasks.task_row(task, today)
    flags = [f for f, on in (("overdue", row["overdue"]), ("blocked", row["blocked"])) if on]
    return {**row, "flags": ", ".join(flags)}


def _json(task) -> dict:
    return tasks.task_json(task)


@app.command("add")
def add(title: Annotated[str, typer.Argument(help="What is to be done.")],
        initiative: Annotated[int, typer.Option("--initiative", "-i", help="The initiative's id.")],
        owner: Annotated[str, typer.Option("--owner", help="Who does it: a name or a user's email.")] = "",
        due: Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,
        start: Annotated[str | None, typer.Option("--start", help="Start date, YYYY-MM-DD.")] = None,
        estimate: Annotated[float | None, typer.Option("--estimate", min=0, help="Effort in hours.")] = None,
        depends_on: Annotated[list[int] | None, typer.Option("--depends-on", help="A task id it waits for "
                                                                                 "(repeat for several).")] = None,
        status: Annotated[str, typer.Option("--status", help=STATUS_HELP)] = "todo",
        description: Annotated[str, typer.Option("--description", help="Details.")] = "",
        as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Add a task to an initiative."""
    with app_session(workspace) as session:
        change = tasks.create_task(session, initiative_id=initiative, title=title, owner=owner, status=status,
                                   start_date=_date(start, "--start"), due_date=_date(due, "--due"),
                                   estimate_hours=estimate, depends_on=depends_on or [], description=description,
                                   actor=ACTOR)
        _warn(change.warnings)
        if as_json:
            print_json(_json(change.task))
        else:
            console.print(f"Added task {change.task.id}: [bold]{change.task.title}[/bold]", highlight=False)


@app.command("list")
def list_(initiative: Annotated[int | None, typer.Option("--initiative", "-i", help="Only this initiative.")] = None,
          owner: Annotated[str | None, typer.Option("--owner", help="Only this owner.")] = None,
          mine: Annotated[str | None, typer.Option("--mine", help="A user's email: their tasks, overdue first.")] = None,
          status: Annotated[str | None, typer.Option("--status", help=STATUS_HELP)] = None,
          overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")] = False,
          as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """List tasks by due date (with --mine: that user's open tasks, overdue first)."""
    today = date.today()
    with app_session(workspace) as session:
        if mine:
            found = tasks.my_tasks(session, mine, today=today)
            found = [t for t in found if (initiative is None or t.initiative_id == initiative)
                     and (not owner or t.owner.lower() == owner.lower())
                     and (not status or t.status == tasks.parse_status(status))
                     and (not overdue or tasks.is_overdue(t, today))]
        else:
            found = tasks.list_tasks(session, initiative_id=initiative, owner=owner, status=status,
                                     overdue=True if overdue else None, today=today)
        if as_json:
            print_json([_json(t) for t in found])
            return
        if not found:
            console.print("No tasks match.")
            return
        print_table([_row(t, today) for t in found], LIST_COLUMNS,
                    styles={"flags": "bold red"})


@app.command("show")
def show(task_id: Annotated[int, typer.Argument(help="The task's id.")],
         as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """One task: its fields, dependencies, comments and activity."""
    with app_session(workspace) as session:
        task = tasks.get_task(session, task_id)
        events = tasks.activity(session, task_id)
        if as_json:
            print_json({**_json(task),
                        "comments": [{"id": c.id, "at": c.at, "author": c.author, "body": c.body}
                                     for c in task.comments],
                        "activity": [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                                     for e in events]})
            return
        row = _row(task, date.today())
        for key in ("id", "title", "initiative", "owner", "status", "start", "due", "estimate", "flags"):
            console.print(f"[dim]{key:>11}[/]  {'' if row[key] is None else row[key]}", highlight=False)
        for dep in task.depends_on:
            console.print(f"[dim] depends on[/]  {dep.id} {dep.title} ({dep.status})", highlight=False)
        if task.description:
            console.print(task.description, highlight=False)
        for c in task.comments:
            console.print(f"[bold]{c.author}[/] {c.at:%Y-%m-%d %H:%M}: {c.body}", highlight=False)
        for e in events:
            console.print(f"[dim]{e.at:%Y-%m-%d %H:%M} {e.actor} {e.action}[/] {e.detail}", highlight=False)


@app.command("update")
def update(task_id: Annotated[int, typer.Argument(help="The task's id.")],
           status: Annotated[str | None, typer.Option("--status", help=STATUS_HELP)] = None,
           title: Annotated[str | None, typer.Option("--title")] = None,
           owner: Annotated[str | None, typer.Option("--owner")] = None,
           due: Annotated[str | None, typer.Option("--due", help="YYYY-MM-DD; 'none' clears it.")] = None,
           start: Annotated[str | None, typer.Option("--start", help="YYYY-MM-DD; 'none' clears it.")] = None,
           estimate: Annotated[float | None, typer.Option("--estimate", min=0, help="Hours.")] = None,
           depends_on: Annotated[list[int] | None, typer.Option("--depends-on", help="Replace the dependencies "
                                                                                    "(repeat; 0 clears them).")] = None,
           description: Annotated[str | None, typer.Option("--description")] = None,
           as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Change a task: only the options given change."""
    changes: dict = {k: v for k, v in {"status": status, "title": title, "owner": owner, "estimate_hours": estimate,
                                       "description": description}.items() if v is not None}
    for key, value, name in (("due_date", due, "--due"), ("start_date", start, "--start")):
        if value is not None:
            changes[key] = None if value.lower() == "none" else _date(value, name)
    if depends_on is not None:
        changes["depends_on"] = [d for d in depends_on if d != 0]
    if not changes:
        fail("nothing to change; give at least one option, e.g. --status done")
    with app_session(workspace) as session:
        change = tasks.update_task(session, task_id, actor=ACTOR, **changes)
        _warn(change.warnings)
        if as_json:
            print_json(_json(change.task))
        elif change.changed:
            console.print(f"Task {task_id} updated: {', '.join(change.changed)}.", highlight=False)
        else:
            console.print(f"Task {task_id} already had these values; nothing changed.", highlight=False)


@app.command("comment")
def comment(task_id: Annotated[int, typer.Argument(help="The task's id.")],
            text: Annotated[str, typer.Argument(help="The comment.")],
            author: Annotated[str, typer.Option("--author", help="Who says it (default: cli).")] = ACTOR,
            workspace: WorkspaceOpt = Path(".")) -> None:
    """Comment on a task."""
    with app_session(workspace) as session:
        tasks.add_comment(session, task_id, author=author, body=text)
        console.print(f"Comment added to task {task_id}.")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A CSV of tasks (see docs/tasks.md for the columns).",
                                                  exists=True, dir_okay=False, readable=True)],
            as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Load tasks from a CSV: new ones are created, changed ones updated; bad rows are reported."""
    with app_session(workspace) as session:
        result = task_csv.import_tasks(session, file.read_bytes(), file=file.name, actor=ACTOR)
        if as_json:
            print_json(result.as_dict())
        else:
            c = result.counts()
            console.print(f"{file.name}: {c['rows']} rows: {c['created']} created, {c['updated']} updated, "
                          f"{c['unchanged']} unchanged, {c['rejected']} rejected.", highlight=False)
            for e in result.errors:
                err_console.print(f"[red]Rejected:[/] {e}", highlight=False)
            _warn(result.warnings)
    if result.errors:
        raise typer.Exit(2 if not (result.created or result.updated or result.unchanged) else 1)


@app.command("export")
def export(output: Annotated[Path, typer.Option("--output", "-o", help="FILE.csv or FILE.xlsx.")],
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Write every task (with its initiative's title and dependency ids) to a CSV or XLSX file."""
    import pyarrow as pa

    from marketops.exports import export_table, format_from_path

    try:
        fmt = format_from_path(output, None)
    except MarketopsError as e:
        fail(e.message)
    if fmt not in ("csv", "xlsx"):
        fail(f"export tasks as .csv or .xlsx, not .{fmt}")
    with app_session(workspace) as session:
        rows = task_csv.export_rows(session)
    table = (pa.Table.from_pylist(rows) if rows
             else pa.table({c: pa.array([], pa.string()) for c in tasks.EXPORT_COLUMNS}))
    n = export_table(table, output, fmt)
    console.print(f"Wrote {n} tasks to {output}.", highlight=False)
