"""`marketops channels`: which channel a source / medium / campaign gets, and by which rule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, console, fail, print_json
from marketops.errors import MarketopsError

app = typer.Typer(help="Channel grouping: GA4's default channel group plus the workspace's `channels:` rules.")


@app.callback()
def channels() -> None:
    """Channel grouping: GA4's default channel group plus the workspace's `channels:` rules."""
    # a callback keeps `explain` a subcommand even while it is the group's only command


@app.command("explain")
def explain_command(
    source: Annotated[str | None, typer.Option("--source", "-s", help="utm_source or referring site.")] = None,
    medium: Annotated[str | None, typer.Option("--medium", "-m", help="utm_medium.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", help="utm_campaign.")] = None,
    gclid: Annotated[str | None, typer.Option("--gclid", help="Google Ads click id, if the touchpoint has one.")] = None,
    wbraid: Annotated[str | None, typer.Option("--wbraid", help="Google Ads app-to-web click id.")] = None,
    gbraid: Annotated[str | None, typer.Option("--gbraid", help="Google Ads web-to-app click id.")] = None,
    dclid: Annotated[str | None, typer.Option("--dclid", help="Campaign Manager / DV360 click id.")] = None,
    msclkid: Annotated[str | None, typer.Option("--msclkid", help="Microsoft Ads click id.")] = None,
    fbclid: Annotated[str | None, typer.Option("--fbclid", help="Meta click id (also on organic links).")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Channel the touchpoint arrived with.")] = None,
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", envvar="MARKETOPS_WORKSPACE",
        help="Workspace whose `channels:` rules apply (default: this folder or a parent, if any).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Show the channel of a touchpoint and the rule that decides it."""
    from marketops.quality.channels import explain
    from marketops.workspace import Workspace

    rules, where = [], None
    try:
        ws = Workspace.open(workspace or Path("."), read_only=True)
        rules, where = list(ws.config.channels), ws.root
        ws.close()
    except MarketopsError as e:
        # outside a workspace GA4's defaults still answer; a named workspace must exist and be valid
        if workspace is not None or "not a marketops workspace" not in e.message:
            fail(e.message, e.hint)
    clicks = {"gclid": gclid, "wbraid": wbraid, "gbraid": gbraid, "dclid": dclid, "msclkid": msclkid,
              "fbclid": fbclid}
    result = explain(source, medium, campaign, click_ids=clicks, given_channel=channel, rules=rules)
    if json_:
        print_json({"source": source, "medium": medium, "campaign": campaign,
                    "click_ids": sorted(k for k, v in clicks.items() if v), "channel": result.channel,
                    "rule": result.rule, "origin": result.origin,
                    "workspace": str(where) if where else None, "workspace_rules": len(rules)})
        return
    console.print(f"[bold]{result.channel}[/]", highlight=False)
    console.print(f"  [dim]rule:[/] {result.rule}", highlight=False)
    if where:
        console.print(f"  [dim]{len(rules)} workspace rule(s) from {where}/marketops.yaml tried first[/]",
                      highlight=False)


@app.command("report")
def report_command(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", envvar="MARKETOPS_WORKSPACE",
                                            help="Workspace folder.")] = Path("."),
    model: Annotated[str | None, typer.Option(help="Attribution model (default: attribution.model).")] = None,
    by: Annotated[str, typer.Option(help="channel, source or campaign.")] = "channel",
    export: Annotated[Path | None, typer.Option("--export", "-o", help="Also write the rows to a .csv, .xlsx "
                                                "or .parquet file.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Channel performance: spend, sessions, and the leads, pipeline, conversions and revenue the model
    credits; CPL, CAC and ROAS; flags the channels whose CAC or ROAS is far worse than the rest."""
    from marketops.attribution.report import channel_report
    from marketops.cli.output import print_table
    from marketops.exports import export_table
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            used, rows = channel_report(ws, ws.config.attribution, model=model, by=by)
            currency = ws.config.reporting_currency
        if export is not None:
            n = export_table(_rows_table(rows, by), export)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json({"model": used, "by": by, "currency": currency, "rows": [r.to_json() for r in rows]})
        return
    blank = ""
    print_table([{by: r.channel, f"spend {currency}": _or(r.spend, blank), "sessions": _or(r.sessions, blank),
                  "leads": _or(r.leads, blank), f"pipeline {currency}": _or(r.pipeline, blank),
                  "conversions": r.conversions, f"revenue {currency}": r.revenue, "CPL": _or(r.cpl, blank),
                  "CAC": _or(r.cac, blank), "ROAS": _or(r.roas, blank)} for r in rows],
                title=f"Channel performance ({used})")
    for r in rows:
        if r.flag:
            console.print(f"[bold red]{r.channel}[/]: {r.flag}", highlight=False)
    if export is not None:
        console.print(f"Wrote {n:,} rows to {export}")


def _or(value: object, blank: str) -> object:
    return blank if value is None else value


def _rows_table(rows: list, by: str):
    """The report as an Arrow table with exact decimals, for CSV/XLSX/Parquet export."""
    from decimal import Decimal

    import pyarrow as pa

    data = [r.to_json() for r in rows]
    money = pa.decimal128(24, 6)
    types = {"channel": pa.string(), "spend": money, "sessions": pa.int64(), "leads": money, "pipeline": money,
             "conversions": money, "revenue": money, "cpl": money, "cac": money, "roas": money, "flag": pa.string()}

    def cell(v, t):
        return Decimal(v) if v is not None and pa.types.is_decimal(t) else v

    return pa.table({(by if c == "channel" else c): pa.array([cell(d[c], t) for d in data], t)
                     for c, t in types.items()})
