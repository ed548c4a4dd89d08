"""`marketops leads route`: routing new MQLs to owners.

* ``marketops leads route [--dry-run] [--json]``: route the MQLs without a decision now (and retry the
  unassigned ones); prints leads per owner and rule;
* ``marketops leads route explain EMAIL``: who owns one lead and why;
* ``marketops leads route queue [--status unassigned] [--owner NAME] [--rule NAME] [-o FILE.csv|xlsx]``:
  the decisions, unassigned first;
* ``marketops leads route reassign EMAIL --to NAME``: give one lead to another owner (audited);
* ``marketops leads route owners``: each owner's load against capacity and who is out of office.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

route_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                        help="Route new MQLs to owners (rules in leads.routing of marketops.yaml).")
_QUEUE = ("email", "status", "owner", "rule", "method", "mql_at", "decided_by", "explanation")


@contextmanager
def _opened(workspace: Path) -> Iterator[tuple[object, Session]]:
    """The workspace (read-only) and an app-database session committed when the block succeeds."""
    from marketops.state.db import init_db, session_scope
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            init_db(ws.app_database_url)
            with session_scope(ws.app_database_url) as session:
                yield ws, session
    except MarketopsError as e:
        fail(e.message, e.hint)


@route_app.callback()
def route(ctx: typer.Context,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the decisions without keeping them.")] = False,
          workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Route the MQLs that have no owner decision yet (and retry the unassigned ones)."""
    if ctx.invoked_subcommand is not None:
        return
    from marketops.leads.routing_run import route_new

    with _opened(workspace) as (ws, session):
        if not ws.config.leads.routing.owners:
            fail("no owners to route to: add them under leads: routing: owners: in marketops.yaml",
                 "see docs/leads.md, section Routing")
        result = route_new(ws, session, by="cli", dry_run=dry_run)
        sample = result.plan.decisions.slice(0, 10).to_pylist() if dry_run else []
    if json_:
        print_json({**result.to_json(), **({"sample": sample} if dry_run else {})})
        return
    c = result.plan.counts()
    verb = "Would route" if dry_run else "Routed"
    console.print(f"{verb} {c['routed']:,} MQLs: {c['assigned']:,} assigned, {c['unassigned']:,} unassigned "
                  f"({c['already_decided']:,} already had an owner) in {result.seconds:.2f} s.", highlight=False)
    rows = result.plan.summary()
    if rows:
        print_table([{**r, "owner": r["owner"] or "(queue)"} for r in rows], ["owner", "rule", "status", "leads"],
                    title="Leads per owner and rule")
    for r in sample:
        console.print(f"{escape(r['email'] or r['person_id'])}: {escape(r['explanation'])}", highlight=False,
                      soft_wrap=True)


@route_app.command("explain")
def explain(who: Annotated[str, typer.Argument(metavar="EMAIL", help="The lead's email or person id.")],
            workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Who owns one lead, by which rule, and why."""
    from marketops.leads.routing_run import get_decision
    from marketops.state.routing import decision_json

    with _opened(workspace) as (_ws, session):
        d = decision_json(get_decision(session, who))
    if json_:
        print_json(d)
        return
    console.print(f"[bold]{escape(d['email'] or d['person_id'])}[/]: {escape(d['owner'] or '(unassigned)')} "
                  f"[dim]({d['status']}, rule {escape(d['rule'] or '-')}, by {escape(d['decided_by'])})[/]",
                  highlight=False)
    console.print(escape(d["explanation"]), highlight=False, soft_wrap=True)


@route_app.command("queue")
def queue(status: Annotated[str | None, typer.Option("--status", help="assigned, unassigned or reassigned.")] = None,
          owner: Annotated[str | None, typer.Option("--owner", help="Only this owner ('-': unassigned).")] = None,
          rule: Annotated[str | None, typer.Option("--rule", help="Only decisions of this rule.")] = None,
          limit: Annotated[int, typer.Option("--limit", help="Rows to print.")] = 50,
          output: Annotated[Path | None, typer.Option("--output", "-o", help="Write every matching decision to "
                                                      "a .csv or .xlsx file.")] = None,
          workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """The routing queue: unassigned leads first, then the newest decisions, with explanations."""
    from marketops.exports import export_table
    from marketops.state.routing import COLUMNS, STATUSES, decision_json, search_decisions

    if status is not None and status not in STATUSES:
        from marketops.errors import did_you_mean

        fail(f"unknown status '{status}'{did_you_mean(status, STATUSES)}; use one of {', '.join(STATUSES)}")
    with _opened(workspace) as (_ws, session):
        found, total = search_decisions(session, status=status, owner=owner, rule=rule,
                                        limit=None if output else limit)
        rows = [decision_json(d) for d in found]
    if output is not None:
        import pyarrow as pa

        table = pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
        try:
            written = export_table(table, output)
        except MarketopsError as e:
            fail(e.message, e.hint)
        console.print(f"Wrote {written:,} decisions to {output}")
        return
    if json_:
        print_json({"items": rows, "total": total})
        return
    if not rows:
        console.print("No routing decisions match: route new MQLs with `marketops leads route`.")
        return
    print_table(rows, _QUEUE, title=f"Routing queue ({len(rows):,} of {total:,})")


@route_app.command("reassign")
def reassign(who: Annotated[str, typer.Argument(metavar="EMAIL", help="The lead's email or person id.")],
             to: Annotated[str, typer.Option("--to", help="The new owner's name (in leads.routing.owners).")],
             workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Give one lead to another owner by hand (recorded in the audit log)."""
    from marketops.leads.routing_run import reassign as do_reassign
    from marketops.state.routing import decision_json

    with _opened(workspace) as (ws, session):
        decision, warnings = do_reassign(session, ws.config.leads.routing, who, to, actor="cli")
        d = decision_json(decision)
    if json_:
        print_json({**d, "warnings": warnings})
        return
    console.print(f"{escape(d['email'] or d['person_id'])} now belongs to {escape(d['owner'])} "
                  f"(was {escape(d['previous_owner'] or 'unassigned')}).", highlight=False)
    for w in warnings:
        console.print(f"[yellow]Note:[/] {escape(w)}", highlight=False)


@route_app.command("owners")
def owners(workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Each owner's leads today and in all against capacity, and who is out of office today."""
    from marketops.leads.routing_run import owner_load

    with _opened(workspace) as (ws, session):
        rows = owner_load(session, ws.config.leads.routing, timezone=ws.config.timezone)
    if json_:
        print_json({"items": rows})
        return
    print_table([{**r, "upcoming_out_of_office": ", ".join(r["upcoming_out_of_office"])} for r in rows],
                ["owner", "team", "weight", "today", "max_per_day", "total", "max_total", "out_of_office",
                 "upcoming_out_of_office"], title="Owners")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `marketops leads` group."""
    app.add_typer(route_app, name="route")
