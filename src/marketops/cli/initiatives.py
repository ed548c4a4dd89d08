"""``marketops initiatives``: initiatives from user stories — add, list, show, parse, update, comms, delete.

Every change is audited with the actor ``cli`` (target ``initiative:<id>``), like the web app's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError, ValidationFailed
from marketops.plan import initiatives as plan
from marketops.plan.initiative_fields import CHANNELS, FREQUENCIES, parse_stakeholder
from marketops.plan.initiative_summary import describe
from marketops.plan.stories import StoryFormatError, parse_story
from marketops.state.planning import INITIATIVE_STATUSES

app = typer.Typer(help="Initiatives from user stories: stakeholders, goals, communication plan.",
                  no_args_is_help=True)

ACTOR = "cli"
STATUS_HELP = f"One of: {', '.join(INITIATIVE_STATUSES)}."
DATE_HELP = "YYYY-MM-DD."
StoryArg = Annotated[str, typer.Argument(help='The story, e.g. "As a sales rep, I want faster lead routing, so that '
                                              'I call leads sooner" (English, Italian, Spanish or Russian).')]
GoalOpt = Annotated[list[int] | None, typer.Option("--goal", help="Id of a goal it serves (repeatable).")]
StakeholderOpt = Annotated[list[str] | None, typer.Option(
    "--stakeholder", help='"Name <email> (role)"; email and role optional (repeatable).')]


def _show(data: dict) -> None:
    """One initiative for people: the story's parts, dates, goals, tasks, stakeholders and plan."""
    console.print(f"[bold]#{data['id']} {escape(data['title'])}[/bold]  [dim]{data['status']}[/dim]")
    console.print(f"  Story:    {escape(data['story'])}")
    console.print(f"  Persona:  [cyan]{escape(data['persona'])}[/cyan]")
    console.print(f"  Want:     [yellow]{escape(data['want'])}[/yellow]")
    console.print(f"  Outcome:  [green]{escape(data['outcome'])}[/green]")
    console.print(f"  Owner:    {escape(data['owner'] or '-')}")
    console.print(f"  Dates:    {data['start_date'] or '?'} -> {data['end_date'] or '?'}")
    t = data["tasks"]
    share = f"{t['done_share']:.0%}" if t["done_share"] is not None else "-"
    console.print(f"  Tasks:    {t['total']} ({t['done']} done, {share}; {t['overdue']} overdue)")
    if data["goals"]:
        print_table([{"id": g["id"], "goal": g["title"], "metric": g["metric"], "status": g["status"] or "not measured"}
                     for g in data["goals"]], title="Goals")
    if data["stakeholders"]:
        print_table(data["stakeholders"], ["name", "role", "email"], title="Stakeholders")
    if data["communication_plan"]:
        print_table(data["communication_plan"], ["audience", "message", "channel", "frequency"],
                    title="Communication plan")


@contextmanager
def _session(workspace: Path) -> Iterator[Session]:
    """The app database; a refusal ends the command with its message (printed as text: the story
    forms' "[persona]" is not rich markup)."""
    with app_session(workspace) as session:
        try:
            yield session
        except MarketopsError as e:
            fail(e.message, e.hint)


def _stakeholders(texts: list[str] | None) -> list[dict]:
    return [parse_stakeholder(t) for t in texts or []]


@app.command("parse")
def parse(story: StoryArg, as_json: JsonOpt = False) -> None:
    """Show how a story splits into persona, want and outcome (nothing is saved)."""
    try:
        s = parse_story(story)
    except StoryFormatError as e:
        if as_json:
            print_json({"ok": False, "message": e.message, "language": e.language, "missing": list(e.missing),
                        "expected": e.expected})
            raise typer.Exit(1) from None
        fail(e.message)
    if as_json:
        print_json({"ok": True, "language": s.language, **s.parts})
        return
    console.print(f"Language: {s.language}")
    console.print(f"Persona:  [cyan]{escape(s.persona)}[/cyan]")
    console.print(f"Want:     [yellow]{escape(s.want)}[/yellow]")
    console.print(f"Outcome:  [green]{escape(s.outcome)}[/green]")


@app.command("add")
def add(story: StoryArg,
        title: Annotated[str | None, typer.Option("--title", help="Default: what the story wants.")] = None,
        owner: Annotated[str, typer.Option("--owner", help="Who leads it.")] = "",
        start: Annotated[str | None, typer.Option("--start", help=DATE_HELP)] = None,
        end: Annotated[str | None, typer.Option("--end", help=DATE_HELP)] = None,
        status: Annotated[str, typer.Option("--status", help=STATUS_HELP)] = "proposed",
        goal: GoalOpt = None, stakeholder: StakeholderOpt = None, as_json: JsonOpt = False,
        workspace: WorkspaceOpt = Path(".")) -> None:
    """Create an initiative from a user story."""
    with _session(workspace) as session:
        initiative = plan.create_initiative(session, story, actor=ACTOR, title=title, owner=owner, status=status,
                                            start_date=start, end_date=end, goal_ids=goal or [],
                                            stakeholders=_stakeholders(stakeholder))
        data = describe(session, [initiative])[0]
    if as_json:
        print_json(data)
        return
    console.print(f"Created initiative [bold]#{data['id']}[/bold] “{escape(data['title'])}” "
                  f"(persona: {escape(data['persona'])}).")


@app.command("list")
def list_(status: Annotated[str | None, typer.Option("--status", help=STATUS_HELP)] = None,
          owner: Annotated[str | None, typer.Option("--owner", help="Part of the owner.")] = None,
          as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """List initiatives, the active ones first, with goals and task progress."""
    with _session(workspace) as session:
        data = describe(session, plan.list_initiatives(session, status=status, owner=owner))
    if as_json:
        print_json(data)
        return
    if not data:
        console.print('No initiatives yet: `marketops initiatives add "As a …, I want …, so that …"` creates one.')
        return
    print_table([{"id": d["id"], "title": d["title"], "status": d["status"], "owner": d["owner"],
                  "start": d["start_date"] or "", "end": d["end_date"] or "", "goals": len(d["goals"]),
                  "tasks": f"{d['tasks']['done']}/{d['tasks']['total']}", "overdue": d["tasks"]["overdue"]}
                 for d in data])


@app.command("show")
def show(initiative_id: Annotated[int, typer.Argument(help="The initiative's id.")], as_json: JsonOpt = False,
         workspace: WorkspaceOpt = Path(".")) -> None:
    """Show one initiative: its story's parts, goals, tasks, stakeholders and communication plan."""
    with _session(workspace) as session:
        data = describe(session, [plan.get_initiative(session, initiative_id)], detail=True)[0]
    if as_json:
        print_json(data)
        return
    _show(data)


@app.command("update")
def update(initiative_id: Annotated[int, typer.Argument(help="The initiative's id.")],
           story: Annotated[str | None, typer.Option("--story", help="A new story (parsed again).")] = None,
           title: Annotated[str | None, typer.Option("--title")] = None,
           owner: Annotated[str | None, typer.Option("--owner")] = None,
           status: Annotated[str | None, typer.Option("--status", help=STATUS_HELP)] = None,
           start: Annotated[str | None, typer.Option("--start", help=DATE_HELP + ' "" clears it.')] = None,
           end: Annotated[str | None, typer.Option("--end", help=DATE_HELP + ' "" clears it.')] = None,
           goal: GoalOpt = None,
           unlink_goal: Annotated[list[int] | None, typer.Option("--unlink-goal", help="Goal id to unlink.")] = None,
           stakeholder: StakeholderOpt = None,
           remove_stakeholder: Annotated[list[str] | None, typer.Option(
               "--remove-stakeholder", help="Name or email of a stakeholder to remove (repeatable).")] = None,
           as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Change an initiative; only the options given change. Goals and stakeholders are added or removed."""
    with _session(workspace) as session:
        initiative = plan.get_initiative(session, initiative_id)
        changes: dict = {k: v for k, v in {"story": story, "title": title, "owner": owner, "status": status,
                                          "start_date": start, "end_date": end}.items() if v is not None}
        if goal or unlink_goal:
            ids = [g.id for g in initiative.goals if g.id not in set(unlink_goal or [])]
            missing = [g for g in unlink_goal or [] if g not in {x.id for x in initiative.goals}]
            if missing:
                raise ValidationFailed(f"goal {missing[0]} is not linked to initiative {initiative_id}")
            changes["goal_ids"] = ids + [g for g in goal or [] if g not in ids]
        if stakeholder or remove_stakeholder:
            gone = {r.strip().lower() for r in remove_stakeholder or []}
            kept = [p for p in initiative.stakeholders if p["name"].lower() not in gone and p["email"] not in gone]
            found = {p["name"].lower() for p in initiative.stakeholders} | {p["email"] for p in initiative.stakeholders}
            unknown = sorted(gone - found)
            if unknown:
                raise ValidationFailed(f"no stakeholder named '{unknown[0]}' on initiative {initiative_id}; "
                            f"`marketops initiatives show {initiative_id}` lists them")
            changes["stakeholders"] = kept + _stakeholders(stakeholder)
        if not changes:
            fail("nothing to change", "give at least one option, e.g. --status active; see --help")
        plan.update_initiative(session, initiative_id, changes, actor=ACTOR)
        data = describe(session, [initiative])[0]
    if as_json:
        print_json(data)
        return
    console.print(f"Updated initiative #{initiative_id} ({', '.join(sorted(changes))}).")


@app.command("comms")
def comms(initiative_id: Annotated[int, typer.Argument(help="The initiative's id.")],
          audience: Annotated[str, typer.Option("--audience", help="Who is told, e.g. 'Sales team'.")],
          message: Annotated[str, typer.Option("--message", help="What they are told.")],
          channel: Annotated[str, typer.Option("--channel", help=f"One of: {', '.join(CHANNELS)}.")],
          frequency: Annotated[str, typer.Option("--frequency", help=f"One of: {', '.join(FREQUENCIES)}.")],
          as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Add an entry to an initiative's communication plan (who is told what, how and how often)."""
    with _session(workspace) as session:
        initiative = plan.add_communication(session, initiative_id, {"audience": audience, "message": message,
                                                                     "channel": channel, "frequency": frequency},
                                            actor=ACTOR)
        plan_rows = list(initiative.communication_plan)
    if as_json:
        print_json(plan_rows)
        return
    entry = plan_rows[-1]
    console.print(f"Added to the plan of #{initiative_id}: {escape(entry['audience'])} hears "
                  f"“{escape(entry['message'])}” by {entry['channel']}, {entry['frequency']}.")


@app.command("delete")
def delete(initiative_id: Annotated[int, typer.Argument(help="The initiative's id.")],
           yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Delete an initiative and its tasks (its goals stay)."""
    if not yes:
        typer.confirm(f"Delete initiative #{initiative_id} and its tasks?", abort=True)
    with _session(workspace) as session:
        plan.delete_initiative(session, initiative_id, actor=ACTOR)
    console.print(f"Deleted initiative #{initiative_id}.")
