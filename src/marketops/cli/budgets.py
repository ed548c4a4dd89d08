"""``marketops budget``: the budget plan per channel or platform and month, its actual spend,
variance and pacing, and the reallocation hint from attribution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError
from marketops.workspace import Workspace

app = typer.Typer(no_args_is_help=True, help="Budget plan per channel and month: actuals, variance, pacing.")

ACTOR = "cli"
MonthArg = Annotated[str, typer.Argument(help="The month, YYYY-MM (e.g. 2026-12).")]
MonthOpt = Annotated[str | None, typer.Option("--month", "-m", help="The month, YYYY-MM (default: this month).")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", "-c", help="Channel group, e.g. 'Paid Search'.")]
PlatformOpt = Annotated[str | None, typer.Option("--platform", "-p", help="Ad platform, e.g. google_ads.")]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Only this campaign of the channel or platform.")]
TodayOpt = Annotated[dt.datetime | None, typer.Option("--today", formats=["%Y-%m-%d"],
                                                      help="Pretend today is this day (YYYY-MM-DD).")]


def _context(workspace: Path):
    from marketops.plan.budget_lines import budget_context

    with Workspace.open(workspace, read_only=True) as ws:
        return budget_context(ws)


def _refused(e: MarketopsError) -> None:
    fail(e.message, e.hint)


@app.command("set")
def set_(month: MonthArg,
         amount: Annotated[str, typer.Argument(help="Amount, e.g. 12000, '12 000', '12.000,50' or '€12,000'.")],
         channel: ChannelOpt = None, platform: PlatformOpt = None, campaign: CampaignOpt = None,
         currency: Annotated[str | None, typer.Option(help="Currency of the amount (default: the reporting "
                                                           "currency, or the one written in the amount).")] = None,
         note: Annotated[str | None, typer.Option(help="A note kept with the line.")] = None,
         workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Set the budget of a month for a channel or a platform (setting it again updates it), e.g.
    `marketops budget set 2026-12 --channel "Paid Search" 12000`."""
    from marketops.plan.budget_lines import line_json, set_line

    try:
        ctx = _context(workspace)
    except MarketopsError as e:
        _refused(e)
    with app_session(workspace) as session:
        result = set_line(session, ctx, month, amount, channel=channel, platform=platform, campaign=campaign,
                          currency=currency, note=note, actor=ACTOR)
        if json_:
            print_json({"status": result.status, "message": result.message, "line": line_json(result.line)})
        else:
            console.print(result.message + f" (line {result.line.id}).", highlight=False, soft_wrap=True)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="CSV with columns month, channel, platform, campaign, "
                                                      "amount, currency (and optionally note).")],
            workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Import a budget plan from CSV; good rows load, bad rows are listed with their row and column.
    Importing the same file again changes nothing."""
    from marketops.plan.budget_import import import_file

    try:
        ctx = _context(workspace)
    except MarketopsError as e:
        _refused(e)
    with app_session(workspace) as session:
        result = import_file(session, ctx, file, actor=ACTOR, name=str(file))
    if json_:
        print_json(result.to_json())
    else:
        console.print(result.summary + ".", highlight=False, soft_wrap=True)
        for row, note in result.conversions:
            console.print(f"  row {row}: {note}", highlight=False, soft_wrap=True)
        for e in result.errors:
            console.print(f"  [red]{e}[/]", highlight=False, soft_wrap=True)
    if result.errors and not (result.created or result.updated or result.unchanged):
        raise typer.Exit(1)


@app.command("list")
def list_(month: MonthOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """List the budget lines (of one month with --month), with their ids."""
    from decimal import Decimal

    from marketops.plan.budget_lines import line_json, list_lines, total_cents

    with app_session(workspace) as session:
        lines = list_lines(session, month)
        if json_:
            print_json([line_json(line) for line in lines])
            return
        if not lines:
            console.print("No budget lines" + (f" for {month}" if month else "") +
                          ". Add one with `marketops budget set 2026-12 --channel \"Paid Search\" 12000`.")
            return
        rows = [{"id": line.id, "month": f"{line.month:%Y-%m}", "scope": j["scope"], "amount": Decimal(j["amount"]),
                 "currency": line.currency, "note": line.note} for line in lines for j in [line_json(line)]]
        print_table(rows, title="Budget lines")
        console.print(f"Total: {Decimal(total_cents(lines)) / 100:,.2f} {lines[0].currency}", highlight=False, soft_wrap=True)


@app.command("remove")
def remove(line_id: Annotated[int | None, typer.Argument(help="Id of the line (`marketops budget list`).")] = None,
           month: MonthOpt = None, channel: ChannelOpt = None, platform: PlatformOpt = None,
           campaign: CampaignOpt = None, workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove a budget line, by id or by month and scope."""
    from marketops.plan.budget_lines import find_by_scope, remove_line, scope_of

    if line_id is None and not (month and (channel or platform)):
        fail("name the line: its id, or --month with --channel or --platform",
             hint="`marketops budget list` shows the ids")
    with app_session(workspace) as session:
        if line_id is None:
            ctx = _context(workspace)
            line_id = find_by_scope(session, ctx, month, channel=channel, platform=platform, campaign=campaign).id
        line = remove_line(session, line_id, actor=ACTOR)
        console.print(f"Removed the {line.month:%Y-%m} budget of {scope_of(line).label} (line {line_id}).",
                      highlight=False, soft_wrap=True)


@app.command("report")
def report(month: MonthOpt = None, tolerance: Annotated[float, typer.Option(
               help="Pacing tolerance: 0.1 alerts beyond 10% ahead of or behind the curve.")] = 0.10,
           today: TodayOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Plan vs actual spend per line for a month: variance, pacing and alerts."""
    from marketops.plan.budgets import budget_report

    try:
        with Workspace.open(workspace, read_only=True) as ws, app_session(workspace) as session:
            r = budget_report(ws, session, month, today=today.date() if today else None, tolerance=tolerance)
    except MarketopsError as e:
        _refused(e)
    if json_:
        print_json(r.to_json())
        return
    if r.problem:
        console.print(f"[yellow]Actual spend unavailable: {r.problem}[/]", highlight=False, soft_wrap=True)
    if not r.rows:
        console.print(f"No budget lines for {r.month:%Y-%m}.")
    else:
        shown = []
        for row in r.rows:
            flat = {k: v for k, v in row.flat().items() if k not in ("channel", "platform", "campaign", "note")}
            pct = flat.pop("variance_pct")
            flat["variance %"] = "" if pct is None else f"{pct:+.1%}"
            shown.append(flat)
        print_table(shown, title=f"Budget {r.month:%Y-%m} ({r.currency})")
        console.print(f"Plan {r.planned_total:,.2f}, actual {r.actual_total:,.2f} {r.currency}.", highlight=False, soft_wrap=True)
    for channel, spent in r.unplanned.items():
        console.print(f"[yellow]{channel} spent {spent:,.2f} {r.currency} with no budget line.[/]", highlight=False, soft_wrap=True)
    for a in r.alerts:
        console.print(f"[red]{a.message}[/]" if a.kind == "over_pacing" else f"[yellow]{a.message}[/]",
                      highlight=False, soft_wrap=True)


@app.command("pacing")
def pacing(tolerance: Annotated[float, typer.Option(help="Alert beyond this share ahead or behind (0.1 = 10%).")]
           = 0.10, today: TodayOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Over- and under-pacing alerts of the current month."""
    from marketops.plan.budgets import alert_json, pacing_alerts

    try:
        with Workspace.open(workspace, read_only=True) as ws, app_session(workspace) as session:
            alerts = pacing_alerts(ws, session, today=today.date() if today else None, tolerance=tolerance)
    except MarketopsError as e:
        _refused(e)
    if json_:
        print_json([alert_json(a) for a in alerts])
        return
    if not alerts:
        console.print(f"Every budget line of this month is within {tolerance:.0%} of its curve.")
    for a in alerts:
        console.print(a.message, highlight=False, soft_wrap=True)


@app.command("reallocate")
def reallocate(month: MonthOpt = None,
               model: Annotated[str | None, typer.Option(help="Attribution model (default: the workspace's).")] = None,
               cap: Annotated[float, typer.Option(help="Most of a giving channel's plan to move (0.2 = 20%).")] = 0.20,
               workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """A suggestion (never applied) to move budget towards channels with better attributed ROAS."""
    from marketops.plan.budget_lines import list_lines, parse_month
    from marketops.plan.reallocation import channel_plans, channel_returns
    from marketops.plan.reallocation import reallocate as hint

    try:
        first = parse_month(month) if month else dt.date.today().replace(day=1)
        with Workspace.open(workspace, read_only=True) as ws, app_session(workspace) as session:
            plans = channel_plans(list_lines(session, first))
            used, returns = channel_returns(ws, model)
            r = hint(first, plans, returns, model=used, currency=ws.config.reporting_currency, cap=cap)
    except (MarketopsError, ValueError) as e:
        fail(getattr(e, "message", str(e)), getattr(e, "hint", None))
    if json_:
        print_json(r.to_json())
        return
    console.print(r.reasoning, highlight=False, soft_wrap=True)
    for m in r.moves:
        console.print(f"  • {m.reason}", highlight=False, soft_wrap=True)
    if r.channels:
        print_table([{"channel": c.channel, "planned": c.planned, "spend": c.spend, "revenue": c.revenue,
                      "conversions": c.conversions, "roas": None if c.roas is None else round(c.roas, 2),
                      "note": c.note or ""} for c in r.channels], title=f"Attributed returns ({r.model})")
