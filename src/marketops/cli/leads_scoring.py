"""`marketops leads score` (scores, `--explain EMAIL`) and `marketops leads model` (the predictive score)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

_COLUMNS = ("name", "email", "company", "owner", "score", "fit", "engagement", "mql")


def score(
    group: Annotated[str | None, typer.Option("--group", "-g", help="Score group (default: the first).")] = None,
    top: Annotated[int, typer.Option("--top", "-n", help="Show the N best-scored people (0: everyone).")] = 20,
    mql: Annotated[bool, typer.Option("--mql", help="Only MQLs.")] = False,
    explain: Annotated[str | None, typer.Option("--explain", "-e", metavar="EMAIL",
                                                help="Explain one person's score (email or person id).")] = None,
    as_of: Annotated[dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"],
                                                      help="Score as of this day (YYYY-MM-DD).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write every scored person to a .csv "
                                                "or .xlsx file.")] = None,
    workspace: WorkspaceOpt = Path("."),
    json_: JsonOpt = False,
) -> None:
    """Lead scores: fit, engagement, score and MQL per person and group, best first; `--explain EMAIL` shows
    which rules fired and for how many points."""
    from marketops.exports import export_table
    from marketops.leads.scoring import LEAD_COLUMNS, explain_person, lead_page
    from marketops.workspace import Workspace

    today = as_of.date() if as_of else None
    try:
        with Workspace.open(workspace, read_only=True) as ws:
            if explain:
                result = explain_person(ws, explain, group=group, today=today)
                _print_explanation(result, json_)
                return
            page = lead_page(ws, group=group, mql=True if mql else None, limit=top or None, today=today)
            written = None
            if output is not None:
                everyone = lead_page(ws, group=group, mql=True if mql else None, limit=None, today=today)
                import pyarrow as pa

                rows = [{c: r[c] for c in LEAD_COLUMNS} for r in everyone.items]
                table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in LEAD_COLUMNS})
                written = export_table(table, output)
    except (MarketopsError, ValueError) as e:
        fail(getattr(e, "message", str(e)), getattr(e, "hint", None))
    if json_:
        print_json({"group": page.group, "total": page.total, "items": page.items})
        return
    if not page.ready:
        console.print("No people scored yet: run the pipeline first (`marketops run`).")
        return
    rows = [{**r, "name": " ".join(x for x in (r.get("first_name"), r.get("last_name")) if x)} for r in page.items]
    print_table([{c: r.get(c) for c in _COLUMNS} for r in rows],
                title=f"Lead scores - group {page.group} ({page.total:,} people)")
    if written is not None:
        console.print(f"Wrote {written:,} rows to {output}")


def _print_explanation(result, json_: bool) -> None:
    if json_:
        print_json(result.to_json())
        return
    p = result.person
    name = " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x) or p.get("email")
    console.print(f"[bold]{name}[/] <{p.get('email')}>  {p.get('company') or ''}  "
                  f"scored {result.scored_at:%Y-%m-%d %H:%M}" if result.scored_at else f"[bold]{name}[/]",
                  highlight=False)
    if result.method == "predictive":
        console.print("The predictive score is in use; the rules below explain the fit and engagement parts.")
    for g in result.groups:
        status = "MQL" if g.mql else "not MQL"
        rows = [{"category": r["category"], "rule": r["rule"], "events": int(r["events"]) or None,
                 "points": round(r["points"], 2)} for r in g.rules]
        rows.append({"category": "total", "rule": f"score ({status}; threshold {g.threshold:g})", "events": None,
                     "points": round(g.score, 2)})
        print_table(rows, ("category", "rule", "events", "points"),
                    title=f"Group {g.group}: fit {g.fit:.2f} + engagement {g.engagement:.2f} = {g.score:.2f}")


def model(
    show: Annotated[bool, typer.Option("--show", help="Show the last report without training.")] = False,
    workspace: WorkspaceOpt = Path("."),
    json_: JsonOpt = False,
) -> None:
    r"""Train the predictive lead score on historical conversions and report it against the rules score on
    held-out (newer) leads: AUC, lift by decile, calibration. Needs the predict extra
    (pip install 'marketops\[predict]')."""
    # (raw docstring: the backslash keeps rich from reading [predict] as a style in --help)
    from marketops.leads.predictive import load_report, train_model
    from marketops.workspace import Workspace

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            report = load_report(ws) if show else train_model(ws).to_json()
    except (MarketopsError, ValueError) as e:
        fail(getattr(e, "message", str(e)), getattr(e, "hint", None))
    if report is None:
        fail("no model trained yet", hint="train one with `marketops leads model`")
    if json_:
        print_json(report)
        return

    def auc(v):
        return "n/a" if v is None else f"{v:.3f}"

    console.print(f"[bold]Predictive lead score[/] trained {report['trained_at'][:16]} on {report['train']:,} "
                  f"leads, tested on {report['test']:,} newer ones ({report['test_converted']:,} converted).",
                  highlight=False)
    console.print(f"Label: {report['label']}.", highlight=False)
    console.print(f"Held-out AUC: model {auc(report['auc_model'])}, rules ({report['group']}) "
                  f"{auc(report['auc_rules'])}.", highlight=False)
    verdict = ("the model beats the rules by the margin" if report["model_beats_rules"]
               else f"the model does not beat the rules by {report['min_auc_gain']:g}")
    console.print(f"Verdict: {verdict}; score in use: {'predictive' if report['in_use'] else 'rules'}.",
                  highlight=False)
    for note in report.get("notes", []):
        console.print(f"Note: {note}", highlight=False)
    if report.get("lift"):
        rows = [{"decile": m["decile"], "leads": m["leads"], "model_converted": m["converted"],
                 "model_lift": m["lift"], "rules_converted": r["converted"], "rules_lift": r["lift"]}
                for m, r in zip(report["lift"]["model"], report["lift"]["rules"])]
        print_table(rows, title="Lift by decile (held-out leads, best first)")
        print_table(report["calibration"], ("bin", "leads", "predicted", "observed"),
                    title="Calibration of the model (held-out leads)")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `marketops leads` group."""
    app.command("score")(score)
    app.command("model")(model)
