"""`marketops stack`: the martech registry, its integrations, the audit and the evaluation form.

* ``add NAME [--catalogue HubSpot] [--cost 1200 --per month|year --currency USD] [--owner ...]``,
  ``list``, ``show TOOL``, ``update TOOL [--field ...]``, ``remove TOOL``;
* ``link FROM TO --object contacts --method native --frequency daily``, ``unlink ID``, ``map``;
* ``catalogue [--category CRM]``: common tools to pick from;
* ``audit [--json] [--csv FILE] [--xlsx FILE] [--html FILE] [--rate USD=0.92]``;
* ``evaluate TOOL --goals yes --journey partly --budget yes --time no [--save]``, ``evaluations``.

Tools are named by id or name (case-insensitive) everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.markup import escape

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

app = typer.Typer(no_args_is_help=True, help="The martech stack: tools, costs, integrations, audit, evaluations.")

ACTOR = "cli"
Vendor = Annotated[str | None, typer.Option("--vendor", help="Who sells it.")]
Category = Annotated[str | None, typer.Option("--category", help="e.g. CRM, Email marketing (see `stack catalogue`).")]
Owner = Annotated[str | None, typer.Option("--owner", help="Who answers for the tool (name or email).")]
Cost = Annotated[str | None, typer.Option("--cost", help="Cost per period in the tool's currency, e.g. 1200.50; "
                                                         "empty: no cost recorded.")]
Per = Annotated[str | None, typer.Option("--per", help="month or year.")]
Currency = Annotated[str | None, typer.Option("--currency", help="ISO 4217 code, e.g. EUR, USD.")]
Renewal = Annotated[str | None, typer.Option("--renewal", help="Renewal date, YYYY-MM-DD.")]
Seats = Annotated[int | None, typer.Option("--seats", help="Seats paid for.")]
Users = Annotated[int | None, typer.Option("--active-users", help="Seats actually used.")]
Notes = Annotated[str | None, typer.Option("--notes", help="Contract notes: term, notice period, price steps.")]
Goals = Annotated[list[str] | None, typer.Option("--goal", help="A business goal it serves (repeatable; a plan "
                                                                "goal's id or title links to it).")]
Systems = Annotated[list[str] | None, typer.Option("--system", help="marketops source system whose loads show its "
                                                                    "data freshness, e.g. hubspot (repeatable).")]
Stale = Annotated[int | None, typer.Option("--stale-days", help="Days without new data before it counts as stale "
                                                                "(default 7).")]
Today = Annotated[dt.datetime | None, typer.Option("--today", formats=["%Y-%m-%d"], hidden=True)]


@contextmanager
def _session(workspace: Path) -> Iterator[Any]:
    with app_session(workspace) as session:
        try:
            yield session
        except MarketopsError as e:
            session.rollback()
            fail(e.message, e.hint)


@contextmanager
def _warehouse(workspace: Path) -> Iterator[Any]:
    """The workspace read-only for freshness and rates; None when the warehouse is busy or absent."""
    from marketops.workspace import Workspace

    try:
        ws = Workspace.open(workspace, read_only=True)
    except MarketopsError as e:
        if e.__class__.__name__ == "WorkspaceLocked":
            console.print("[yellow]The warehouse is busy (a run?): data freshness and rates are left out.[/]")
            yield None
            return
        fail(e.message, e.hint)
    try:
        yield ws
    finally:
        ws.close()


def _write(rows: list[dict[str, Any]], columns: list[str], path: Path) -> int:
    from marketops.exports import export_table

    if path.suffix.lower() not in (".csv", ".xlsx"):
        fail(f"write {path.name} as .csv or .xlsx")
    table = (pa.Table.from_pylist([{c: _cell(r.get(c)) for c in columns} for r in rows]) if rows
             else pa.table({c: pa.array([], pa.string()) for c in columns}))
    return export_table(table, path)


def _cell(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None) if v.tzinfo else v
    return v


def _changes(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


LIST_COLUMNS = ["id", "name", "vendor", "category", "owner", "cost", "currency", "cost_period", "renewal_date",
                "seats", "active_users", "systems", "goals"]


@app.command("add")
def add(name: str, catalogue: Annotated[str | None, typer.Option("--catalogue", "-c", help="Fill vendor, "
                                                                 "category and systems from this catalogue tool.")] = None,
        vendor: Vendor = None, category: Category = None, owner: Owner = None, cost: Cost = None, per: Per = None,
        currency: Currency = None, renewal: Renewal = None, seats: Seats = None, active_users: Users = None,
        notes: Notes = None, goal: Goals = None, system: Systems = None, stale_days: Stale = None,
        workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Add a tool, e.g. `marketops stack add HubSpot --catalogue HubSpot --cost 3200 --per month --owner Ana`."""
    from marketops.stack.registry import ToolDraft, create_tool, tool_json

    draft = ToolDraft(name=name, catalogue=catalogue or (name if _in_catalogue(name) and not category else None),
                      **_changes(vendor=vendor, category=category, owner=owner, cost=cost, cost_period=per,
                                 currency=currency, renewal_date=renewal, seats=seats, active_users=active_users,
                                 contract_notes=notes, goals=goal, systems=system, stale_days=stale_days))
    with _session(workspace) as session:
        tool = create_tool(session, draft, actor=ACTOR)
        data = tool_json(tool)
    if json_:
        print_json(data)
        return
    console.print(f"Added [bold]{escape(data['name'])}[/] (id {data['id']}, {escape(data['category'] or 'no category')}"
                  f"{', no owner' if not data['owner'] else ''}).", highlight=False)


def _in_catalogue(name: str) -> bool:
    from marketops.stack.catalogue import entries

    return name.strip().lower() in {e.name.lower() for e in entries()}


@app.command("list")
def list_command(category: Category = None,
                 owner: Annotated[str | None, typer.Option("--owner", help="Part of the owner; '-' for tools with "
                                                                          "no owner.")] = None,
                 output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the list to a .csv or "
                                                             ".xlsx file.")] = None,
                 workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """The registry: every tool with its cost, owner, renewal and seats."""
    from marketops.stack.registry import list_tools, tool_json

    with _session(workspace) as session:
        rows = [tool_json(t) for t in list_tools(session, category=category, owner=owner)]
    if output is not None:
        n = _write(rows, LIST_COLUMNS, output)
        console.print(f"Wrote {n:,} tools to {output}")
        return
    if json_:
        print_json({"items": rows, "total": len(rows)})
        return
    if not rows:
        console.print("No tools yet: `marketops stack add NAME --catalogue NAME` (see `marketops stack catalogue`).")
        return
    print_table([{"id": r["id"], "name": r["name"], "category": r["category"], "owner": r["owner"] or "–",
                  "cost": f"{r['cost']} {r['currency']}/{r['cost_period']}" if r["cost"] is not None else "–",
                  "renewal": r["renewal_date"], "seats": r["seats"], "active": r["active_users"]} for r in rows],
                title=f"Martech stack ({len(rows)} tools)")


@app.command("show")
def show(tool: str, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """One tool: cost, users, goals, integrations in and out, data freshness."""
    from marketops.stack.freshness import freshness_of
    from marketops.stack.registry import get_tool, integration_json, tool_json

    with _session(workspace) as session, _warehouse(workspace) as ws:
        t = get_tool(session, tool)
        data = {**tool_json(t), "integrations_out": [integration_json(f) for f in t.outgoing],
                "integrations_in": [integration_json(f) for f in t.incoming],
                "freshness": freshness_of(ws, [t])[t.id].to_json()}
    if json_:
        print_json(data)
        return
    console.print(f"[bold]{escape(data['name'])}[/] (id {data['id']}) · {escape(data['vendor'] or '–')} · "
                  f"{escape(data['category'] or 'no category')}", highlight=False)
    cost = f"{data['cost']} {data['currency']} per {data['cost_period']}" if data["cost"] is not None \
        else "no cost recorded"
    lines = [("Owner", data["owner"] or "nobody"), ("Cost", cost), ("Renewal", data["renewal_date"] or "–"),
             ("Seats / active", f"{data['seats'] if data['seats'] is not None else '–'} / "
                                f"{data['active_users'] if data['active_users'] is not None else '–'}"),
             ("Goals", ", ".join(data["goals"]) or "–"), ("Systems", ", ".join(data["systems"]) or "–"),
             ("Data", _fresh_text(data["freshness"])), ("Notes", data["contract_notes"] or "–")]
    for label, value in lines:
        console.print(f"  {label:<15} {escape(str(value))}", highlight=False)
    flows = [{"id": f["id"], "direction": "out", "other": f["to"], "object": f["object"], "method": f["method"],
              "frequency": f["frequency"]} for f in data["integrations_out"]]
    flows += [{"id": f["id"], "direction": "in", "other": f["from"], "object": f["object"], "method": f["method"],
               "frequency": f["frequency"]} for f in data["integrations_in"]]
    if flows:
        print_table(flows, title="Integrations")


def _fresh_text(f: dict[str, Any]) -> str:
    if f["status"] == "not_linked":
        return "not linked to a source system"
    if f["status"] == "no_data":
        return f"no data loaded yet from {', '.join(f['missing'])}"
    return (f"{f['status']}: last seen {f['last_seen']:%Y-%m-%d %H:%M} UTC ({f['age_days']} days ago; stale after "
            f"{f['stale_after']})")


@app.command("update")
def update(tool: str, name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
           vendor: Vendor = None, category: Category = None, owner: Owner = None, cost: Cost = None, per: Per = None,
           currency: Currency = None, renewal: Renewal = None, seats: Seats = None, active_users: Users = None,
           notes: Notes = None, goal: Goals = None, system: Systems = None, stale_days: Stale = None,
           workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Change a tool's fields (only the options given; `--cost ''` clears the cost, `--owner ''` the owner)."""
    from marketops.stack.registry import get_tool, tool_json, update_tool

    changes = _changes(name=name, vendor=vendor, category=category, owner=owner, cost=cost, cost_period=per,
                       currency=currency, renewal_date=renewal, seats=seats, active_users=active_users,
                       contract_notes=notes, goals=goal, systems=system, stale_days=stale_days)
    if not changes:
        fail("nothing to change: give at least one option (see --help)")
    with _session(workspace) as session:
        t = update_tool(session, get_tool(session, tool), changes, actor=ACTOR)
        data = tool_json(t)
    if json_:
        print_json(data)
        return
    console.print(f"Saved [bold]{escape(data['name'])}[/].", highlight=False)


@app.command("remove")
def remove(tool: str, workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove a tool and its integrations."""
    from marketops.stack.registry import get_tool, remove_tool

    with _session(workspace) as session:
        t = get_tool(session, tool)
        name, flows = t.name, len(t.outgoing) + len(t.incoming)
        remove_tool(session, t, actor=ACTOR)
    console.print(f"Removed {escape(name)} and {flows} integration(s).", highlight=False)


@app.command("link")
def link_command(source: Annotated[str, typer.Argument(metavar="FROM")], target: Annotated[str, typer.Argument(
                     metavar="TO")],
                 object: Annotated[str, typer.Option("--object", help="What flows: contacts, deals, events...")],
                 method: Annotated[str, typer.Option("--method", help="native, zapier, file or api.")] = "native",
                 frequency: Annotated[str, typer.Option("--frequency", help="realtime, hourly, daily, weekly, "
                                                                            "monthly or manual.")] = "daily",
                 notes: Annotated[str, typer.Option("--notes")] = "",
                 workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Record an integration: OBJECT flows from one tool to another."""
    from marketops.stack.registry import integration_json, link

    with _session(workspace) as session:
        flow = integration_json(link(session, source, target, object=object, method=method, frequency=frequency,
                                     notes=notes, actor=ACTOR))
    if json_:
        print_json(flow)
        return
    console.print(f"Linked {escape(flow['from'])} -> {escape(flow['to'])}: {escape(flow['object'])} "
                  f"({flow['method']}, {flow['frequency']}); integration {flow['id']}.", highlight=False)


@app.command("unlink")
def unlink_command(integration: Annotated[int, typer.Argument(help="The integration's id (`marketops stack map`).")],
                   workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove an integration."""
    from marketops.stack.registry import get_integration, unlink

    with _session(workspace) as session:
        flow = get_integration(session, integration)
        text = f"{flow.source.name} -> {flow.target.name}: {flow.object}"
        unlink(session, flow, actor=ACTOR)
    console.print(f"Removed the integration {escape(text)}.", highlight=False)


@app.command("map")
def map_command(output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the integrations to "
                                                            "a .csv or .xlsx file.")] = None,
                workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """The integration map as a list of flows, and the loops in it."""
    from marketops.stack.audit import simple_cycles
    from marketops.stack.registry import integration_json, list_integrations

    with _session(workspace) as session:
        flows = [integration_json(f) for f in list_integrations(session)]
    names = {f["from_id"]: f["from"] for f in flows} | {f["to_id"]: f["to"] for f in flows}
    cycles = [[names[n] for n in c] for c in simple_cycles((f["from_id"], f["to_id"]) for f in flows)]
    columns = ["id", "from", "to", "object", "method", "frequency", "notes"]
    if output is not None:
        n = _write(flows, columns, output)
        console.print(f"Wrote {n:,} integrations to {output}")
        return
    if json_:
        print_json({"items": flows, "total": len(flows), "cycles": cycles})
        return
    if not flows:
        console.print("No integrations yet: `marketops stack link FROM TO --object contacts`.")
        return
    print_table([{c: f[c] for c in columns[:-1]} for f in flows], title=f"Integrations ({len(flows)})")
    for c in cycles:
        console.print(f"[yellow]Loop:[/] {escape(' -> '.join([*c, c[0]]))} (data may bounce and overwrite)",
                      highlight=False)


@app.command("catalogue")
def catalogue_command(category: Category = None, json_: JsonOpt = False) -> None:
    """Common marketing tools and their categories, to pick from with `stack add NAME --catalogue NAME`."""
    from marketops.stack.catalogue import categories, entries

    rows = [e.to_json() for e in entries(category)]
    if json_:
        print_json({"categories": list(categories()), "items": rows})
        return
    if not rows:
        fail(f"no catalogue tool in category '{category}'", hint="categories: " + ", ".join(categories()))
    print_table([{**r, "systems": ", ".join(r["systems"])} for r in rows], title="Catalogue")


@app.command("audit")
def audit_command(
        rate: Annotated[list[str] | None, typer.Option("--rate", help="CURRENCY=RATE in reporting-currency units "
                                                      "per unit, e.g. USD=0.92 (repeatable; wins over the "
                                                      "warehouse's exchange rates).")] = None,
        csv: Annotated[Path | None, typer.Option("--csv", help="Write an audit table to this CSV file.")] = None,
        xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write an audit table to this XLSX file.")] = None,
        table: Annotated[str, typer.Option("--table", help="With --csv/--xlsx: tools, categories, renewals or "
                                                           "findings.")] = "tools",
        html: Annotated[Path | None, typer.Option("--html", help="Write the printable report (HTML; print it to "
                                                                 "PDF from a browser).")] = None,
        workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, today: Today = None) -> None:
    """The stack audit: cost per month and per active user, utilisation, overlaps, renewals in 90 days, tools
    with no owner or no data flow, cost by category, integration loops."""
    from marketops.stack.audit import TABLE_COLUMNS
    from marketops.stack.inputs import audit_of, parse_rates
    from marketops.stack.registry import integration_json, list_integrations
    from marketops.stack.report import audit_html

    if table not in TABLE_COLUMNS:
        fail(f"unknown table '{table}'; valid: {', '.join(TABLE_COLUMNS)}")
    with _session(workspace) as session, _warehouse(workspace) as ws:
        audit = audit_of(session, ws, today=today.date() if today else None, rates=parse_rates(rate))
        flows = [integration_json(f) for f in list_integrations(session)]
        name = ws.config.name if ws is not None else "marketops"
    written = []
    for path in (csv, xlsx):
        if path is not None:
            n = _write(audit.tables()[table], TABLE_COLUMNS[table], path)
            written.append(f"Wrote {n:,} rows ({table}) to {path}")
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(audit_html(audit, flows, workspace=name), encoding="utf-8")
        written.append(f"Wrote the report to {html} (print it to PDF from a browser)")
    if json_:
        print_json(audit.to_json())
        return
    cur = audit.reporting_currency
    console.print(f"[bold]Stack audit[/] as of {audit.as_of}: {len(audit.tools)} tools, "
                  f"{audit.total_monthly:,.2f} {cur} a month ({audit.total_annual:,.2f} a year)"
                  + (f"; not converted (no rate): {', '.join(audit.unconverted)}" if audit.unconverted else ""),
                  highlight=False)
    print_table([{"tool": t.name, "category": t.category, "owner": t.owner or "–",
                  f"{cur}/month": t.monthly_reporting if t.monthly_reporting is not None else (
                      f"{t.monthly_own} {t.currency}" if t.monthly_own is not None else "no cost"),
                  "used": f"{t.utilisation:.0%}" if t.utilisation is not None else "–",
                  "per user": t.cost_per_user, "renewal": t.renewal_date, "flags": ", ".join(t.flags)}
                 for t in audit.tools], title="Tools")
    print_table([{"category": c.category, "tools": len(c.tools), f"{cur}/month": c.monthly, f"{cur}/year": c.annual,
                  "not converted": "; ".join(f"{v} {k}" for k, v in c.unconverted.items())}
                 for c in audit.categories], title="Cost by category")
    for f in audit.findings:
        colour = "yellow" if f.severity == "warning" else "dim"
        console.print(f"[{colour}]•[/] {escape(f.message)}", highlight=False)
    for line in written:
        console.print(line, highlight=False)


@app.command("evaluate")
def evaluate_command(
        tool: str,
        goals: Annotated[str, typer.Option("--goals", help="Does it serve our goals? yes, partly or no.")],
        journey: Annotated[str, typer.Option("--journey", help="Does it improve the buyer's journey?")],
        budget: Annotated[str, typer.Option("--budget", help="Do we have the budget?")],
        time: Annotated[str, typer.Option("--time", help="Do we have the time to use it well?")],
        vendor: Vendor = None, category: Category = None,
        save: Annotated[bool, typer.Option("--save", help="Keep the evaluation (listed by `stack evaluations`).")] = False,
        workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Evaluate a tool under consideration on four questions; prints the recommendation and why."""
    from marketops.stack.evaluation import evaluate

    answers = {"serves_goals": goals, "improves_journey": journey, "has_budget": budget, "has_time": time}
    with _session(workspace) as session:
        verdict, row = evaluate(session, tool, answers, vendor=vendor or "", category=category or "", save=save,
                                actor=ACTOR)
        saved = row.id if row is not None else None
    if json_:
        print_json({**verdict.to_json(), "saved_id": saved})
        return
    console.print(f"[bold]{escape(tool)}[/]: {verdict.label}", highlight=False)
    for reason in verdict.reasons:
        console.print(f"  • {escape(reason)}", highlight=False)
    if saved:
        console.print(f"Saved as evaluation {saved}.")


@app.command("evaluations")
def evaluations_command(workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Saved evaluations, newest first."""
    from marketops.stack.evaluation import evaluation_json, list_evaluations

    with _session(workspace) as session:
        rows = [evaluation_json(e) for e in list_evaluations(session)]
    if json_:
        print_json({"items": rows, "total": len(rows)})
        return
    if not rows:
        console.print("No saved evaluations: `marketops stack evaluate TOOL ... --save`.")
        return
    print_table([{"id": r["id"], "tool": r["tool"], "category": r["category"], "goals": r["serves_goals"],
                  "journey": r["improves_journey"], "budget": r["has_budget"], "time": r["has_time"],
                  "recommendation": r["label"], "at": r["created_at"]} for r in rows], title="Evaluations")
