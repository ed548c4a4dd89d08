"""`marketops utm`: UTM governance (docs/utm.md).

* ``marketops utm build URL --source S --medium M --campaign C [--term T] [--content X] [--fix] [--note N]
  [--json]``: a tagged link that follows the ``utm:`` taxonomy, kept in the register (building the same
  link again returns the existing entry); a link that breaks the taxonomy is refused with each problem
  and its fix (``--fix`` applies the fixes);
* ``marketops utm links [--search Q] [--campaign C] [--json] [--csv F | --xlsx F]``: the register;
* ``marketops utm check [--json] [--csv F | --xlsx F]``: compliance of the ingested touchpoints with the
  taxonomy: the rate per source system and parameter, the most frequent problems with their fixes
  (``--csv``/``--xlsx``: every violation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

app = typer.Typer(no_args_is_help=True, help="UTM governance: taxonomy, link builder and register, compliance.")

ACTOR = "cli"
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Also write the rows to this Excel file.")]


def _write(table: Any, csv_: Path | None, xlsx: Path | None) -> None:
    from marketops.exports import export_table

    for path, fmt in ((csv_, "csv"), (xlsx, "xlsx")):
        if path is not None:
            written = export_table(table, path, fmt)
            console.print(f"Wrote {written:,} rows to {path}")


def _rows_table(rows: list[dict[str, Any]], columns: list[str]) -> Any:
    import pyarrow as pa

    if not rows:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])


def _share(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


@app.command("build")
def build(
    url: Annotated[str, typer.Argument(help="Landing page, e.g. https://acme.com/pricing.")],
    source: Annotated[str | None, typer.Option("--source", help="utm_source, e.g. google.")] = None,
    medium: Annotated[str | None, typer.Option("--medium", help="utm_medium, e.g. cpc.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="utm_campaign.")] = None,
    term: Annotated[str | None, typer.Option("--term", help="utm_term (search keyword).")] = None,
    content: Annotated[str | None, typer.Option("--content", help="utm_content (which ad or link).")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the suggested fixes instead of refusing.")] = False,
    note: Annotated[str, typer.Option("--note", help="A note kept with the link in the register.")] = "",
    workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """Build a tagged link that follows the taxonomy and keep it in the register."""
    from marketops.cli._state import app_session
    from marketops.quality.utm_builder import UtmRefused, build_link
    from marketops.state.utm_links import link_json, register_link
    from marketops.workspace import Workspace

    values = {"source": source, "medium": medium, "campaign": campaign, "term": term, "content": content}
    try:
        with Workspace.open(workspace, read_only=True) as ws:
            tax = ws.config.utm
        link = build_link(url, values, tax, fix=fix)
    except UtmRefused as e:
        if json_:
            print_json({"error": e.message, "problems": [p.to_json() for p in e.problems]})
            raise typer.Exit(1) from None
        console.print("[bold red]Refused:[/] the link breaks the UTM taxonomy", highlight=False)
        for p in e.problems:
            console.print(f"  - {p.message}", markup=False, highlight=False)
        fail("fix the values above" + (", or build with --fix to apply the suggestions"
                                      if all(p.fix is not None for p in e.problems) else ""))
    except MarketopsError as e:
        fail(e.message, e.hint)
    with app_session(workspace) as session:
        entry, created = register_link(session, link, actor=ACTOR, notes=note)
        shown = link_json(entry)
    if json_:
        print_json({**link.to_json(), "created": created, "link": shown})
        return
    for p in link.fixed:
        console.print(f"[yellow]fixed[/] {p.param}: '{p.value}' -> '{p.fix}'", highlight=False)
    if not tax.configured:
        console.print("[dim]No UTM taxonomy in marketops.yaml: the values were encoded, not checked.[/]")
    console.print(link.final_url, markup=False, highlight=False, soft_wrap=True)
    console.print(f"[dim]{'Added to' if created else 'Already in'} the register as link {shown['id']}.[/]")


@app.command("links")
def links(
    search: Annotated[str | None, typer.Option("--search", "-q", help="Text in the URL, values, creator or notes.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Only this campaign.")] = None,
    csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False,
) -> None:
    """The register of tagged links, newest first."""
    from marketops.cli._state import app_session
    from marketops.state.utm_links import COLUMNS, link_json, search_links

    with app_session(workspace) as session:
        found, total = search_links(session, q=search, campaign=campaign, limit=None)
        rows = [link_json(x) for x in found]
    if json_:
        print_json({"items": rows, "total": total})
    elif not rows:
        console.print("No links in the register yet: build one with `marketops utm build URL ...`.")
    else:
        print_table(rows, ["id", "campaign", "source", "medium", "content", "final_url", "created_by", "created_at"],
                    title=f"UTM links ({total:,})")
    if csv_ or xlsx:
        _write(_rows_table(rows, list(COLUMNS)), csv_, xlsx)


@app.command("check")
def check(csv_: CsvOpt = None, xlsx: XlsxOpt = None, workspace: WorkspaceOpt = Path("."),
          json_: JsonOpt = False) -> None:
    """Compliance of the ingested touchpoints with the taxonomy, the most frequent problems and their fixes."""
    from marketops.quality.utm_ingestion import VIOLATION_COLUMNS, empty_violations, workspace_report
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            report = workspace_report(ws)
            if csv_ or xlsx:
                _write(report.violations.select(*VIOLATION_COLUMNS) if report.violations is not None
                       else empty_violations(), csv_, xlsx)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json(report.to_json())
        return
    if not report.configured:
        console.print("No UTM taxonomy set: add a utm: section to marketops.yaml (docs/utm.md). "
                      f"{report.tagged:,} of {report.touchpoints:,} touchpoints carry UTM values.", highlight=False)
        return
    if not report.touchpoints:
        console.print("No touchpoints yet: run the pipeline first (`marketops run`).")
        return
    console.print(f"[bold]UTM compliance[/]: {_share(report.rate)} of {report.tagged:,} tagged touchpoints "
                  f"({report.compliant:,} compliant, {report.tagged - report.compliant:,} flagged).", highlight=False)
    print_table([{**r, "rate": _share(r["rate"])} for r in report.by_system],
                ["source_system", "touchpoints", "tagged", "compliant", "rate"], title="By source system")
    print_table([{**r, "share": _share(r["share"])} for r in report.by_param], ["param", "touchpoints", "share"],
                title="Touchpoints flagged per parameter")
    if report.top:
        print_table(report.top, ["touchpoints", "param", "value", "suggested_fix", "problem"],
                    title="Most frequent problems")
