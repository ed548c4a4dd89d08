"""``marketops slas``: internal SLAs between teams (rules in marketops.yaml), compliance per period.

``marketops slas`` lists every SLA with its current and last complete period; ``marketops slas show
NAME`` prints one SLA's history.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError
from marketops.workspace import Workspace

app = typer.Typer(invoke_without_command=True, help="Internal SLAs between teams: compliance per period.")

PeriodsOpt = Annotated[int, typer.Option("--periods", "-n", min=1, max=120,
                                         help="How many periods to show, the current one included.")]
TodayOpt = Annotated[dt.datetime | None, typer.Option("--today", formats=["%Y-%m-%d"],
                                                      help="Pretend today is this day (YYYY-MM-DD).")]


def _value(v: float | None, kind: str) -> str:
    if v is None:
        return "–"
    return f"{v:.0%}" if kind == "response" else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}")


def _margin(v: float | None, kind: str) -> str:
    if v is None:
        return ""
    return f"{v:+.1f}pt" if kind == "response" else f"{v:+,.2f}".rstrip("0").rstrip(".")


def _status(p) -> str:
    from marketops.plan.slas import STATUS_WORDS

    return STATUS_WORDS[p.status] + (", at risk" if p.near_breach else "")


@app.callback()
def slas(ctx: typer.Context, workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, periods: PeriodsOpt = 12,
         today: TodayOpt = None) -> None:
    """Every SLA with its rule, its last complete period and the period in progress."""
    if ctx.invoked_subcommand is not None:
        return
    from marketops.plan.slas import sla_reports

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            reports = sla_reports(ws, periods=periods, today=today.date() if today else None)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json([r.to_json() for r in reports])
        return
    if not reports:
        console.print("No SLAs yet: add rules under `slas:` in marketops.yaml (see docs/slas-and-alerts.md).")
        return
    rows = []
    for r in reports:
        last, cur = r.last_complete, r.current
        rows.append({"sla": r.name, "teams": f"{r.rule.from_team} → {r.rule.to_team}",
                     "threshold": _value(r.rule.threshold, r.rule.kind),
                     "last period": f"{_value(last.value, r.rule.kind)} {last.status}" if last else "",
                     "so far": _value(cur.value, r.rule.kind) if cur else "",
                     "compliance": f"{r.compliance_rate:.0%}" if r.compliance_rate is not None else "",
                     "status": r.status.replace("_", " ")})
    print_table(rows, title="Internal SLAs")
    for r in reports:
        console.print(f"[bold]{r.name}[/]: {r.words}" + (f" [yellow]{r.message}[/]" if r.message else ""),
                      highlight=False, soft_wrap=True)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="The SLA's name (as in marketops.yaml).")],
         workspace: WorkspaceOpt = Path("."), json_: JsonOpt = False, periods: PeriodsOpt = 12,
         today: TodayOpt = None) -> None:
    """One SLA's compliance history: value, threshold, met or breached, margin per period."""
    from marketops.plan.slas import period_label, sla_report_named

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            r = sla_report_named(ws, name, periods=periods, today=today.date() if today else None)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if json_:
        print_json(r.to_json())
        return
    console.print(f"[bold]{r.name}[/] ({r.rule.from_team} → {r.rule.to_team}): {r.words}", highlight=False,
                  soft_wrap=True)
    if r.rule.description:
        console.print(r.rule.description, highlight=False, soft_wrap=True)
    if r.message:
        console.print(f"[yellow]{r.message}[/]", highlight=False, soft_wrap=True)
        return
    kind = r.rule.kind
    rows = []
    for p in r.periods:
        row = {"period": period_label(p.period, r.rule.per), "value": _value(p.value, kind),
               "target": _value(p.threshold, kind), "status": _status(p), "margin": _margin(p.margin, kind)}
        if kind == "response":
            row |= {"in time": p.in_time, "late": p.late, "pending": p.pending, "median h": p.median_hours}
        elif p.projected is not None:
            row["projected"] = _value(p.projected, kind)
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    print_table(rows, columns, title=f"{r.name} per {r.rule.per}")
    rate = f"{r.compliance_rate:.0%}" if r.compliance_rate is not None else "–"
    console.print(f"Compliance: {rate} of complete periods met; data through {r.as_of}.", highlight=False)
