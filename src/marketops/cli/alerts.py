"""``marketops alerts``: goals at risk, budget pacing problems, SLA breaches and overdue tasks in one
list; ``marketops alerts digest`` shows the daily email digest or sends it (``--send``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError
from marketops.workspace import Workspace

app = typer.Typer(invoke_without_command=True,
                  help="Goals at risk, pacing problems, SLA breaches, overdue tasks; the daily digest.")

ACTOR = "cli"
TodayOpt = Annotated[dt.datetime | None, typer.Option("--today", formats=["%Y-%m-%d"],
                                                      help="Pretend today is this day (YYYY-MM-DD).")]


@app.callback()
def alerts(ctx: typer.Context, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
           kind: Annotated[str | None, typer.Option(help="Only this kind: goal, budget, sla, task.")] = None,
           today: TodayOpt = None) -> None:
    """Every alert, most severe first, with its owner and who receives it."""
    if ctx.invoked_subcommand is not None:
        return
    from marketops.plan.alert_config import ALERT_KINDS
    from marketops.plan.alerts import collect_alerts, filter_alerts
    from marketops.plan.digest import local_today

    if kind is not None and kind not in ALERT_KINDS:
        from marketops.errors import unknown_name

        fail(unknown_name("alert kind", kind, ALERT_KINDS).message)
    try:
        ws = Workspace.open(workspace, read_only=True)
    except MarketopsError as e:
        fail(e.message, e.hint)
    try:
        with app_session(workspace) as session:
            listed = collect_alerts(ws, session, today=today.date() if today else local_today(ws.config.timezone))
    finally:
        ws.close()
    shown = filter_alerts(listed.alerts, kind=kind)
    if json_:
        print_json({"items": [a.to_json() for a in shown], "total": len(shown), "counts": listed.counts(),
                    "problems": listed.problems})
        return
    for p in listed.problems:
        console.print(f"[yellow]{p}[/]", highlight=False, soft_wrap=True)
    if not shown:
        console.print("No alerts: every goal is on track, budgets pace, SLAs hold, no task is overdue and "
                      "every MQL is followed up in time.")
        return
    print_table([{"severity": a.severity, "kind": a.kind, "title": a.title, "owner": a.owner or ""} for a in shown],
                title=f"{len(shown)} alert{'s' if len(shown) != 1 else ''}")
    for a in shown:
        console.print(f"[bold]{a.title}[/]: {a.message}", highlight=False, soft_wrap=True, markup=False)


@app.command("digest")
def digest(workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
           send: Annotated[bool, typer.Option("--send", help="Send it (default: only show it).")] = False,
           to: Annotated[str | None, typer.Option("--to", help="Only this address: a configured recipient gets "
                                                               "their own alerts, any other address all of them.")] = None,
           force: Annotated[bool, typer.Option("--force", help="Send again even if already sent today.")] = False,
           today: TodayOpt = None) -> None:
    """Show the daily digest per recipient, or send it with --send (once a day unless --force)."""
    from marketops.plan.digest import prepare, send_digests

    try:
        ws = Workspace.open(workspace, read_only=True)
    except MarketopsError as e:
        fail(e.message, e.hint)
    try:
        with app_session(workspace) as session:
            try:
                listed, digests = prepare(ws, session, today=today.date() if today else None, to=to)
                if send:
                    result = send_digests(session, ws.config.alerts.smtp, digests, day=listed.today, actor=ACTOR,
                                          force=force)
            except MarketopsError as e:
                fail(e.message, e.hint)
    finally:
        ws.close()
    if send:
        if json_:
            print_json(result.to_json())
        else:
            console.print(result.message, highlight=False, soft_wrap=True, markup=False)
        return
    if json_:
        print_json({"day": listed.today.isoformat(), "digests": [d.to_json(body=True) for d in digests]})
        return
    if not digests:
        console.print("Nobody receives the digest: add recipients under alerts: recipients: in marketops.yaml, "
                      "or pass --to EMAIL.")
        return
    for d in digests:
        console.rule(f"To {d.recipient}", style="dim")
        console.print(d.text if d.alerts else f"{d.subject}\n(nothing to report: no email is sent)",
                      highlight=False, soft_wrap=True, markup=False)
    console.print("Not sent: add --send to send it.", highlight=False)
