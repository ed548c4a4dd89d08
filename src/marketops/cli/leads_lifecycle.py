"""`marketops leads definitions / stages / handoff / rejected`: lifecycle, the MQL/SQL definitions and the
quality of the handoff.

* ``marketops leads definitions [--json]``: the MQL and SQL definitions in words, as marketops.yaml has them;
* ``marketops leads stages EMAIL`` or ``--account NAME``: a person's or an account's stage history;
* ``marketops leads handoff [--by source|channel|campaign] [--since DAY] [--json] [--csv F | --xlsx F]``:
  MQL -> SQL -> opportunity -> won rates;
* ``marketops leads rejected [--outcome recycled|rejected] [--list] [--json] [--csv F | --xlsx F]``:
  recycled and rejected leads with their reasons.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Also write the rows to this Excel file.")]
SinceOpt = Annotated[dt.datetime | None, typer.Option("--since", formats=["%Y-%m-%d"],
                                                      help="Only MQLs (outcomes) from this day on (YYYY-MM-DD).")]


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def _write(rows: list[dict[str, Any]], columns: list[str], csv_: Path | None, xlsx: Path | None) -> None:
    import pyarrow as pa

    from marketops.exports import export_table

    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]) if rows else \
        pa.table({c: pa.array([], pa.string()) for c in columns})
    for path, fmt in ((csv_, "csv"), (xlsx, "xlsx")):
        if path is not None:
            written = export_table(table, path, fmt)
            console.print(f"Wrote {written:,} rows to {path}")


def definitions(workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """The MQL and SQL definitions in plain words (configured in marketops.yaml, `leads.lifecycle`)."""
    from marketops.leads.qualification import definitions as describe
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            data = describe(ws.config)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json(data)
        return
    for what in ("mql", "sql"):
        d = data[what]
        console.print(f"[bold]{what.upper()}[/]: {d['words']}", highlight=False, soft_wrap=True)
        if d["description"]:
            console.print(f"  {d['description']}", style="dim", highlight=False, soft_wrap=True)
    console.print("Stages: " + " -> ".join(s["name"] for s in data["stages"]) + "; outcomes: "
                  + ", ".join(s["name"] for s in data["outcomes"]), highlight=False, soft_wrap=True)
    console.print("Configured in marketops.yaml, section leads.lifecycle.", style="dim")


def stages(
    who: Annotated[str | None, typer.Argument(help="The person's email or person id.")] = None,
    account: Annotated[str | None, typer.Option("--account", "-a", help="An account's name, domain or id.")] = None,
    workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """A person's (or with --account, an account's) lifecycle stage history, oldest first."""
    from marketops.leads.stage_history import account_history, person_history
    from marketops.workspace import Workspace

    if (who is None) == (account is None):
        fail("name a person (EMAIL) or an account (--account NAME)")
    try:
        with Workspace.open(workspace, read_only=True) as ws:
            h = account_history(ws, account) if account else person_history(ws, who)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json(h.to_json())
        return
    name = h.subject.get("email") or h.subject.get("name") or h.subject.get("account_id")
    at = f" since {h.stage_at:%Y-%m-%d}" if h.stage_at else ""
    console.print(f"[bold]{name}[/]: {h.stage or 'no stage yet'}{at}", highlight=False)
    cols = ["entered_at", "stage", "origin", "crm_stage", "reason"]
    if h.kind == "account":
        cols.insert(1, "email")
    print_table([{c: r.get(c) for c in cols} for r in h.events], cols, title="Stage history")


def handoff(
    by: Annotated[str, typer.Option("--by", help="Group by source (the CRM's lead source), channel or campaign "
                                    "(of the first touch).")] = "channel",
    since: SinceOpt = None,
    until: Annotated[dt.datetime | None, typer.Option("--until", formats=["%Y-%m-%d"],
                                                      help="Only MQLs up to this day (YYYY-MM-DD).")] = None,
    csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """Handoff quality: MQL -> SQL -> opportunity -> won, counts, rates and median days, by source, channel
    or campaign."""
    from marketops.leads.handoff import BY, RATE_COLUMNS
    from marketops.leads.handoff import handoff as report
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            h = report(ws, by, since=since.date() if since else None, until=until.date() if until else None)
    except MarketopsError as e:
        fail(e.message, e.hint)
    key = BY[by]
    if csv_ or xlsx:
        _write(h.items, [key, *RATE_COLUMNS], csv_, xlsx)
    if json_:
        print_json(h.to_json())
        return
    if not h.ready:
        console.print("No people yet: run the pipeline first (`marketops run`).")
        return
    rows = [*h.items, *([{**h.total, key: "all"}] if h.total else [])]
    print_table([{by: r[key], "MQLs": r["mqls"], "SQLs": r["sqls"], "opps": r["opportunities"], "won": r["won"],
                  "MQL>SQL": _pct(r["sql_rate"]), "SQL>opp": _pct(r["opportunity_rate"]),
                  "opp>won": _pct(r["won_rate"]), "MQL>won": _pct(r["mql_to_won"]),
                  "days to SQL": r["days_to_sql"], "days to won": r["days_to_won"]} for r in rows],
                title=f"Handoff by {by}")


def rejected(
    outcome: Annotated[str | None, typer.Option("--outcome", help="Only recycled or only rejected leads.")] = None,
    since: SinceOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="List the leads instead of counting reasons.")] = False,
    csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """Recycled and rejected leads: counts by reason and by channel (--list: the leads, newest first)."""
    from marketops.leads.handoff import OUTCOME_COLUMNS, outcomes
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            o = outcomes(ws, outcome=outcome, since=since.date() if since else None)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if csv_ or xlsx:
        if list_:
            _write(o.items, list(OUTCOME_COLUMNS), csv_, xlsx)
        else:
            _write(o.by_reason, ["outcome", "reason", "leads", "mqls"], csv_, xlsx)
    if json_:
        print_json(o.to_json())
        return
    if not o.items:
        console.print("No recycled or rejected leads." if o.ready else
                      "No people yet: run the pipeline first (`marketops run`).")
        return
    if list_:
        print_table(o.items, list(OUTCOME_COLUMNS), title="Recycled and rejected leads")
        return
    print_table(o.by_reason, ["outcome", "reason", "leads", "mqls"], title="By reason")
    print_table(o.by_channel, ["outcome", "channel_group", "leads", "mqls"], title="By channel")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `marketops leads` group."""
    app.command("definitions")(definitions)
    app.command("stages")(stages)
    app.command("handoff")(handoff)
    app.command("rejected")(rejected)
