"""Consent and privacy from the command line.

* ``marketops consent list [--purpose P] [--json] [--csv F | --xlsx F]``, ``consent show EMAIL``,
  ``consent set EMAIL --purpose P --granted|--withdrawn [--source S]``
* ``marketops suppress add VALUE --reason R``, ``suppress list``, ``suppress remove VALUE|ID``
* ``marketops erase --email X [--dry-run] [--yes] [--inbox] [--json]``: exit code 0 when erased,
  3 when nobody was found (a receipt is written all the same)
* ``marketops person export --email X [-o FILE]``
* ``marketops audience export --purpose P [--where column=value]... -o FILE``
* ``marketops retention apply [--dry-run]``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError
from marketops.workspace import Workspace

CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Also write the rows to this Excel file.")]
ACTOR = "cli"

consent_app = typer.Typer(no_args_is_help=True)
suppress_app = typer.Typer(no_args_is_help=True)
person_app = typer.Typer(no_args_is_help=True)
audience_app = typer.Typer(no_args_is_help=True)
retention_app = typer.Typer(no_args_is_help=True)


def _write(rows: list[dict[str, Any]], columns: list[str], csv_: Path | None, xlsx: Path | None) -> None:
    import pyarrow as pa

    from marketops.exports import export_table

    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]) if rows else \
        pa.table({c: pa.array([], pa.string()) for c in columns})
    for path, fmt in ((csv_, "csv"), (xlsx, "xlsx")):
        if path is not None:
            console.print(f"Wrote {export_table(table, path, fmt):,} rows to {path}")


# -- consent ---------------------------------------------------------------------------------------
@consent_app.command("list")
def consent_list(
    purpose: Annotated[str | None, typer.Option("--purpose", "-p", help="Only this purpose.")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown (files get all).")] = 50,
    summary: Annotated[bool, typer.Option("--summary", help="Coverage per purpose instead of people.")] = False,
    csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """Current consent per person and purpose (newest decision from imports, the CRM and the API)."""
    from marketops.privacy.audiences import coverage
    from marketops.privacy.consent import STATE_COLUMNS, current_state

    ws = Workspace.open(workspace, read_only=True)
    try:
        with app_session(workspace) as session:
            if summary:
                rows = coverage(ws, session)
                columns = ["purpose", "basis", "people", "granted", "withdrawn", "no_record", "may_contact"]
            else:
                if purpose:
                    ws.config.privacy.purpose(purpose)
                state = current_state(ws, session)
                if purpose:
                    state = state.filter(state.purpose == purpose)
                rows = state.order_by(["purpose", "email"]).to_pyarrow().to_pylist()
                columns = list(STATE_COLUMNS)
    except MarketopsError as e:
        fail(e.message, e.hint)
    finally:
        ws.close()
    if csv_ or xlsx:
        _write(rows, columns, csv_, xlsx)
    if json_:
        print_json(rows)
    elif not rows:
        console.print("No consent recorded yet: import a consent log or `marketops consent set`")
    else:
        print_table(rows[:limit], columns, title="Consent" if not summary else "Consent coverage")
        if len(rows) > limit:
            console.print(f"[dim]{len(rows) - limit:,} more: --csv FILE for all[/]")


@consent_app.command("show")
def consent_show(email: Annotated[str, typer.Argument(help="Email of the person.")],
                 workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """A person's consent per purpose (with the purpose's default where nothing was recorded)."""
    from marketops.privacy.person_export import person_data

    with Workspace.open(workspace, read_only=True) as ws:
        data = person_data(ws, email)
    rows = data["consent"]
    if json_:
        print_json({"email": data["requested"], "found": data["found"], "suppressed": data["suppressed"],
                    "consent": rows, "records": data["consent_records"]})
        return
    if not data["found"]:
        fail(f"nobody with the email {email} in this workspace", code=3)
    print_table(rows, ["purpose", "status", "may_contact"], title=f"Consent of {data['requested']}")
    if data["suppressed"]:
        console.print("[yellow]On the suppression list:[/] left out of every export")


@consent_app.command("set")
def consent_set(
    email: Annotated[str, typer.Argument(help="Email of the person.")],
    purpose: Annotated[str, typer.Option("--purpose", "-p", help="email_marketing, tracking, profiling...")],
    granted: Annotated[bool, typer.Option("--granted/--withdrawn", help="Consent given or withdrawn.")],
    source: Annotated[str, typer.Option(help="Where the decision was collected.")] = "cli",
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Record a consent decision (takes effect at once in exports and audiences)."""
    from marketops.privacy.consent import set_consent
    from marketops.state.audit import record

    config = Workspace.open(workspace).config.privacy
    with app_session(workspace) as session:
        rec = set_consent(session, email, purpose, "granted" if granted else "withdrawn", source=source,
                          actor=ACTOR, config=config)
        record(session, ACTOR, "privacy.consent", rec.email, {"purpose": purpose, "status": rec.status})
    console.print(f"[green]Recorded[/]: {rec.email} {rec.purpose} {rec.status}")


# -- suppression -----------------------------------------------------------------------------------
@suppress_app.command("add")
def suppress_add(value: Annotated[str, typer.Argument(help="Email address or domain (competitor.com).")],
                 reason: Annotated[str, typer.Option(help="Why (bounced, complaint, competitor...).")] = "",
                 workspace: WorkspaceOpt = Path(".")) -> None:
    """Add an email or a domain to the suppression list."""
    from marketops.privacy.suppression import add_suppression
    from marketops.state.audit import record

    with app_session(workspace) as session:
        entry = add_suppression(session, value, reason=reason, actor=ACTOR)
        record(session, ACTOR, "privacy.suppress", f"suppression:{entry.id}", {"kind": entry.kind})
    console.print(f"[green]Suppressed[/] {entry.kind} {entry.value}")


@suppress_app.command("list")
def suppress_list(csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."),
                  json_: JsonOpt = False) -> None:
    """The suppression list (erased people show as a hash only)."""
    from marketops.privacy.suppression import as_row, list_suppressions

    with app_session(workspace) as session:
        rows = [as_row(e) for e in list_suppressions(session)]
    columns = ["id", "kind", "value", "reason", "added_by", "added_at"]
    if csv_ or xlsx:
        _write(rows, columns, csv_, xlsx)
    if json_:
        print_json(rows)
    elif not rows:
        console.print("The suppression list is empty: `marketops suppress add EMAIL|DOMAIN`")
    else:
        print_table(rows, columns, title="Suppression list")


@suppress_app.command("remove")
def suppress_remove(value: Annotated[str, typer.Argument(help="Email, domain or the entry's id.")],
                    workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove an entry from the suppression list."""
    from marketops.privacy.suppression import remove_suppression
    from marketops.state.audit import record

    with app_session(workspace) as session:
        entry = remove_suppression(session, value)
        record(session, ACTOR, "privacy.unsuppress", f"suppression:{entry.id}", {"kind": entry.kind})
    console.print(f"Removed {entry.kind} entry {entry.id}")


# -- erasure ---------------------------------------------------------------------------------------
def erase(
    email: Annotated[str, typer.Option("--email", "-e", help="Email of the person to erase.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    inbox: Annotated[bool, typer.Option("--inbox", help="Also rewrite source files in inbox/ without the "
                                                        "person's rows.")] = False,
    workspace: WorkspaceOpt = Path("."),
    json_: JsonOpt = False,
) -> None:
    """Erase a person everywhere marketops keeps data (all their emails and records) and write a receipt.

    Exit code 0: erased; 3: nobody found under that email (the receipt says so).
    """
    from marketops.privacy.erase import EXIT_NOTHING_FOUND, erase_person

    with Workspace.open(workspace) as ws:
        try:
            if not dry_run and not yes:
                preview = erase_person(ws, email, actor=ACTOR, dry_run=True, inbox=inbox)
                if preview.status == "erased":
                    _show_receipt(preview)
                    if not typer.confirm("Erase this person? This cannot be undone", default=False):
                        raise typer.Exit(1)
            receipt = erase_person(ws, email, actor=ACTOR, dry_run=dry_run, inbox=inbox)
        except MarketopsError as e:
            fail(e.message, e.hint)
    if json_:
        print_json(receipt.to_json())
    else:
        _show_receipt(receipt)
    if receipt.status == "nothing_found":
        raise typer.Exit(EXIT_NOTHING_FOUND)


def _show_receipt(r) -> None:
    head = "Would remove" if r.dry_run else ("Erased" if r.status == "erased" else "Nothing found")
    s = r.subject
    console.print(f"[bold]{head}[/]: {r.requested} — {s['emails_found']} email(s), {s['persons_found']} person(s), "
                  f"records per system: {s['records_by_system'] or 'none'}")
    if r.warehouse:
        print_table(r.warehouse, ["table", "rows", "action"], title="Warehouse")
    if r.app_database:
        print_table(r.app_database, ["table", "rows", "action"], title="App database")
    for f in r.files:
        console.print(f"file {f['path']}: {f['action']}")
    for f in r.inbox + r.other_files:
        console.print(f"[yellow]{f['path']}[/]: {f['action']}" + (f" ({f['rows']:,} row{'s' if f['rows'] != 1 else ''})" if "rows" in f else ""))
    for n in r.notes:
        console.print(f"[dim]{n}[/]")
    if r.erasure_id:
        console.print(f"Receipt #{r.erasure_id} saved ({r.rows_removed:,} row{'s' if r.rows_removed != 1 else ''}). {r.suppression}")


# -- person export ---------------------------------------------------------------------------------
@person_app.command("export")
def person_export(
    email: Annotated[str, typer.Option("--email", "-e", help="Email of the person.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON file to write (default: print).")] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Everything marketops holds on a person, as JSON (exit code 3 when nobody was found)."""
    from marketops.cli.output import _default
    from marketops.privacy.erase_files import record_export
    from marketops.privacy.person_export import person_data
    from marketops.state.audit import record

    with Workspace.open(workspace, read_only=output is None) as ws:
        data = person_data(ws, email)
        with app_session(workspace) as session:
            record(session, ACTOR, "privacy.person_export", "person-export", {"found": data["found"]})
        text = json.dumps(data, indent=2, default=_default, ensure_ascii=False)
        if output:
            output.write_text(text, encoding="utf-8")
            record_export(ws, output)
            console.print(f"Wrote {sum(len(v) for v in data['tables'].values()):,} rows from "
                          f"{len(data['tables'])} tables to {output}")
        else:
            print(text)
    if not data["found"]:
        raise typer.Exit(3)


# -- audience --------------------------------------------------------------------------------------
@audience_app.command("export")
def audience_export(
    purpose: Annotated[str, typer.Option("--purpose", "-p", help="email_marketing, tracking, profiling...")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.csv, .xlsx, .parquet).")],
    where: Annotated[list[str] | None, typer.Option("--where", help="column=value on the golden record, "
                                                     "e.g. country=IT (repeatable).")] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """People who may be contacted for a purpose (consent or an opt-out basis; never suppressed)."""
    from marketops.exports import export_table, format_from_path
    from marketops.privacy.audiences import audience
    from marketops.privacy.erase_files import record_export

    filters = {}
    for w in where or []:
        column, sep, value = w.partition("=")
        if not sep:
            fail(f"--where '{w}' is not column=value", hint="e.g. --where country=IT")
        filters[column.strip()] = value.strip()
    fmt = format_from_path(output, None)
    with Workspace.open(workspace) as ws:
        with app_session(workspace) as session:
            n = export_table(audience(ws, session, purpose, filters).to_pyarrow(), output, fmt)
        record_export(ws, output)
    console.print(f"Wrote {n:,} people who may be contacted for {purpose} to {output}")


# -- retention -------------------------------------------------------------------------------------
@retention_app.command("apply")
def retention_apply(dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only.")] = False,
                    workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False) -> None:
    """Apply the retention rules of marketops.yaml now (they also run at every pipeline run)."""
    from marketops.privacy.retention import apply_retention
    from marketops.state.audit import record

    with Workspace.open(workspace) as ws:
        if not ws.config.privacy.retention:
            fail("no retention rules", hint="add them under privacy.retention in marketops.yaml, e.g. "
                 "- {table: touchpoints, older_than_days: 1095}")
        try:
            rows = apply_retention(ws, dry_run=dry_run)
        except MarketopsError as e:
            fail(e.message, e.hint)
    if not dry_run:
        with app_session(workspace) as session:
            record(session, ACTOR, "privacy.retention", "retention", {"rules": rows})
    if json_:
        print_json(rows)
    else:
        print_table(rows, ["table", "column", "older_than_days", "deleted", "raw_deleted"],
                    title="Retention (dry run)" if dry_run else "Retention applied")


def register(app: typer.Typer) -> None:
    """Add the privacy commands to the `marketops` app (called from cli/main.py)."""
    app.add_typer(consent_app, name="consent", help="Consent per person and purpose: list, show, set.")
    app.add_typer(suppress_app, name="suppress", help="The suppression list: addresses and domains never exported.")
    app.add_typer(person_app, name="person", help="A person's data: export everything held on them as JSON.")
    app.add_typer(audience_app, name="audience", help="Audiences that honour consent and the suppression list.")
    app.add_typer(retention_app, name="retention", help="Retention rules: delete data past its age.")
    app.command("erase")(erase)
