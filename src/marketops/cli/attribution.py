"""`marketops attribution`: which channels, sources or campaigns earn the conversions and the revenue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, print_json, print_table
from marketops.workspace import Workspace


def attribution_command(
    workspace: WorkspaceOpt = Path("."),
    model: Annotated[str | None, typer.Option(help="first_touch, last_touch, last_non_direct, linear, time_decay, "
                                                   "position_based, w_shaped, markov, shapley.")] = None,
    by: Annotated[str, typer.Option(help="Attribute by channel, source or campaign.")] = "channel",
    conversion: Annotated[str | None, typer.Option(help="Only this conversion (a name under attribution:).")] = None,
    compare_: Annotated[bool, typer.Option("--compare", help="Every model side by side (share of conversions).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Credit conversions and revenue to channels with an attribution model, or compare every model."""
    from marketops.attribution import attribute, compare
    from marketops.attribution.inputs import workspace_journeys

    with Workspace.open(workspace, read_only=True) as ws:
        config = ws.config.attribution
        journeys = workspace_journeys(ws, config, by=by, conversion=conversion)
    if journeys.without_person and not json_:
        console.print(f"[yellow]{journeys.without_person:,} conversion(s) left out: no person could be found for "
                      "them (no email or id linked them to anyone); `marketops quality` shows why.[/]",
                      highlight=False)
    if compare_:
        from marketops.attribution import MODELS

        table = compare(journeys, {m: config.params(m) for m in MODELS})
        wide = table.pivot(on="model", index="channel", values="share").sort("channel")
        rows = [{by: r["channel"], **{m: f"{r[m]:.1%}" if r[m] is not None else "" for m in MODELS}}
                for r in wide.to_dicts()]
        if json_:
            print_json([{**r, "conversions": str(r["conversions"]), "revenue": str(r["revenue"])}
                        for r in table.to_dicts()])
        else:
            print_table(rows, title=f"Share of {journeys.conversions:,} conversions by model")
        return
    chosen = model or config.model
    result = attribute(journeys, chosen, **config.params(chosen))
    rows = [{by: r["channel"], "conversions": r["conversions"], "revenue": r["revenue"], "share": r["share"]}
            for r in result.to_dicts()]
    if json_:
        print_json({"model": chosen, "by": by, "conversions": journeys.conversions,
                    "conversions_without_person": journeys.without_person,
                    "revenue": f"{journeys.revenue_cents / 100:.2f}",
                    "credits": [{**r, "conversions": str(r["conversions"]), "revenue": str(r["revenue"])}
                                for r in rows]})
        return
    print_table([{**r, "share": f"{r['share']:.1%}"} for r in rows],
                title=f"{chosen}: {journeys.conversions:,} conversions, "
                      f"{journeys.revenue_cents / 100:,.2f} {ws.config.reporting_currency}")
    console.print("Credits add up to the conversions and the revenue exactly; `--compare` shows every model.")
