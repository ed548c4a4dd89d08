"""`marketops leads sla`: the speed-to-lead SLA.

* ``marketops leads sla [--by owner|team|source|channel|touch|week] [--json] [-o FILE]``: the summary and
  compliance by the grouping (``-o`` writes every MQL with its response time and status to CSV/XLSX);
* ``marketops leads sla breaches [--near] [--json]``: breached MQLs (``--near``: near breaches) and the
  escalation notices;
* ``marketops leads sla explain EMAIL``: how one MQL's response time was counted on its team's calendar.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

sla_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                      help="Speed to lead: time from MQL to first sales touch in business hours.")

AtOpt = Annotated[dt.datetime | None, typer.Option(
    "--at", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    help="Judge the open MQLs at this moment (UTC, YYYY-MM-DD[THH:MM]; a day means its end). Default: now.")]
SinceOpt = Annotated[dt.datetime | None, typer.Option("--since", formats=["%Y-%m-%d"],
                                                      help="Only MQLs from this day on (YYYY-MM-DD).")]
_BOARD = ("email", "owner_name", "team", "mql_at", "status", "elapsed_hours", "time_left_hours", "touch_at", "touch_by")


def _moment(at: dt.datetime | None) -> tuple[dt.date | None, dt.datetime | None]:
    if at is None:
        return None, None
    if at.time() == dt.time() and at.second == 0:
        return at.date(), None
    return None, at


def _hours(v: float | None) -> str:
    return "" if v is None else f"{v:,.1f}"


@sla_app.callback()
def sla(ctx: typer.Context,
        by: Annotated[str, typer.Option("--by", help="Group by owner, team, source, channel, touch or week.")] = "owner",
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write every MQL (response time, status, "
                                                    "time left) to a .csv or .xlsx file.")] = None,
        since: SinceOpt = None, at: AtOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Speed to lead: MQLs, met share, median and p90 response business hours, by owner (or --by)."""
    if ctx.invoked_subcommand is not None:
        return
    from marketops.exports import export_table
    from marketops.leads.speed import speed_table
    from marketops.leads.speed_report import check_by, compliance, summary
    from marketops.workspace import Workspace

    today, now = _moment(at)
    try:
        check_by(by)
        with Workspace.open(workspace, read_only=True) as ws:
            table = speed_table(ws, since=since, today=today, now=now)
            written = export_table(table.rows, output) if output is not None else None
    except MarketopsError as e:
        fail(e.message, e.hint)
    total, groups = summary(table.rows), compliance(table.rows, by)
    if json_:
        print_json({"as_of": table.now, "summary": total, "by": by, "groups": groups})
        return
    if not table.ready:
        console.print("No MQLs yet: run the pipeline first (`marketops run`).")
        return
    if not table.has_activities:
        console.print("No sales activities imported yet: no MQL can have a first touch (import the CRM's "
                      "activities export and run the pipeline).", highlight=False)
    share = f"{total['met_share']:.0%}" if total["met_share"] is not None else "–"
    console.print(f"[bold]Speed to lead[/] at {table.now:%Y-%m-%d %H:%M} UTC: {total['mqls']:,} MQLs, "
                  f"{total['touched']:,} touched, met {share}; median {_hours(total['median_hours']) or '–'} h, "
                  f"p90 {_hours(total['p90_hours']) or '–'} h; {total['near_breach']:,} near breach, "
                  f"{total['open_breached']:,} open and breached.", highlight=False, soft_wrap=True)
    # open / breached as a rep reads them: still to touch, and past the target (touched late or not yet)
    print_table([{by: g[by], "mqls": g["mqls"], "met": g["met"], "late": g["breached"] + g["open_breached"],
                  "open": g["open"] + g["near_breach"],
                  "met %": f"{g['met_share']:.0%}" if g["met_share"] is not None else "",
                  "median h": g["median_hours"], "p90 h": g["p90_hours"]} for g in groups],
                title=f"Speed to lead by {by}")
    if written is not None:
        console.print(f"Wrote {written:,} rows to {output}")


@sla_app.command("breaches")
def breaches_command(
        near: Annotated[bool, typer.Option("--near", help="Near breaches instead of breaches.")] = False,
        since: SinceOpt = None, at: AtOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Breached MQLs (untouched ones first, least time left first) or, with --near, the near breaches; and the
    escalation notices of the last `leads.sla.alert_days` days."""
    from marketops.leads.speed import speed_table
    from marketops.leads.speed_alerts import speed_alerts
    from marketops.leads.speed_report import breaches
    from marketops.workspace import Workspace

    today, now = _moment(at)
    try:
        with Workspace.open(workspace, read_only=True) as ws:
            table = speed_table(ws, since=since, today=today, now=now)
            notices = speed_alerts(ws, today, now=now)
    except MarketopsError as e:
        fail(e.message, e.hint)
    rows = breaches(table.rows, near=near).to_pylist()
    kind = "speed_to_lead_near_breach" if near else "speed_to_lead_breach"
    notices = [n for n in notices if n.kind == kind]
    if json_:
        print_json({"as_of": table.now, "near": near, "items": rows, "notices": [n.to_json() for n in notices]})
        return
    what = "near breaches" if near else "breaches"
    if not rows:
        console.print(f"No {what} at {table.now:%Y-%m-%d %H:%M} UTC.")
        return
    print_table([{c: (_hours(r[c]) if c.endswith("_hours") else r[c]) for c in _BOARD} for r in rows],
                _BOARD, title=f"Speed-to-lead {what} ({len(rows):,})")
    for n in notices:
        # titles and messages quote CRM data: never rich markup
        console.print(f"[{'red' if n.severity == 'critical' else 'yellow'}]{escape(n.title)}[/] -> "
                      f"{escape(', '.join(n.recipients) or 'no address (owner not in leads.routing.owners)')}: "
                      f"{escape(n.message)}",
                      highlight=False, soft_wrap=True, markup=True)


@sla_app.command("explain")
def explain(who: Annotated[str, typer.Argument(metavar="EMAIL", help="The MQL's email or person id.")],
            at: AtOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """How one MQL's response time was counted: its team's calendar, the working windows counted and the
    closed days skipped."""
    from marketops.leads.speed_alerts import explain_lead
    from marketops.workspace import Workspace

    today, now = _moment(at)
    try:
        with Workspace.open(workspace, read_only=True) as ws:
            result = explain_lead(ws, who, today=today, now=now)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json(result.to_json())
        return
    lead = result.lead
    console.print(f"[bold]{escape(lead['email'] or lead['person_id'])}[/]  owner "
                  f"{escape(lead['owner_name'] or '(none)')}  team {escape(lead['team'])}  ({result.timezone})",
                  highlight=False)
    for line in result.calendar:
        console.print(f"  {line}", highlight=False)
    zone = ZoneInfo(result.timezone)

    def local(t: dt.datetime) -> dt.datetime:
        return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(zone)

    console.print(f"MQL at {local(lead['mql_at']):%a %Y-%m-%d %H:%M %Z}"
                  + (f"; the clock starts {local(result.clock_starts):%a %Y-%m-%d %H:%M %Z}"
                     if result.clock_starts and result.clock_starts.replace(tzinfo=None) > lead["mql_at"] else ""),
                  highlight=False)
    if lead["touch_at"]:
        console.print(f"First touch {local(lead['touch_at']):%a %Y-%m-%d %H:%M %Z}: "
                      f"{escape(lead['touch_type'] or '')} by {escape(lead['touch_by'] or '(unknown)')}", highlight=False)
    else:
        console.print(f"No sales touch yet; counted until {local(result.counted_until):%a %Y-%m-%d %H:%M %Z}",
                      highlight=False)
    print_table([{"day": f"{s.day:%a %Y-%m-%d}", "from": f"{s.start:%H:%M}", "to": f"{s.end:%H:%M}",
                  "hours": round(s.hours, 2)} for s in result.segments], title="Working windows counted")
    if result.truncated:
        console.print(f"(the first {len(result.segments)} windows; more follow until "
                      f"{local(result.counted_until):%Y-%m-%d %H:%M %Z})", highlight=False)
    if result.closed_days:
        print_table([{"day": f"{d.day:%a %Y-%m-%d}", "closed": d.reason} for d in result.closed_days],
                    title="Closed days skipped")
    console.print(f"{result.counted_hours:g} business hours against a target of {lead['target_hours']:g} "
                  f"(deadline {local(lead['deadline']):%a %Y-%m-%d %H:%M %Z}): "
                  f"{lead['status'].replace('_', ' ')}.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `marketops leads` group."""
    app.add_typer(sla_app, name="sla")
