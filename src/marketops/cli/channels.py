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
