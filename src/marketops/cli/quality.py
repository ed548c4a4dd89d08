"""`marketops quality`: the data-quality scorecard of the last run, its findings, breaches and trends.

Thresholds are those of marketops.yaml as it is now, so a changed rule shows at once. Exit code
2 when a ``fail`` threshold is breached by what is shown, so a script can stop on bad data
(``marketops quality --table people && send-report``); warnings exit 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.table import Table

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json
from marketops.errors import MarketopsError, unknown_name
from marketops.quality.scorecard import Scorecard, ScoreRow, compute_scorecard
from marketops.quality.scorecard_history import load_history, load_scorecard
from marketops.quality.scorecard_thresholds import QualityConfig, evaluate, format_value, verdicts
from marketops.schema import ENTITIES
from marketops.workspace import Workspace

#: Exit code when a fail threshold is breached (1 stays "the command itself failed").
EXIT_THRESHOLD_FAILED = 2
COLUMN_METRICS = ("completeness", "validity", "consistency", "uniqueness")
SOURCE_METRICS = ("rows", "identifier_coverage", "freshness_hours", "hours_since_load", "quarantine_rate",
                  "duplicate_rate", "utm_compliance")
HEADINGS = {"identifier_coverage": "identified", "freshness_hours": "freshness", "utm_compliance": "utm",
            "hours_since_load": "since load", "quarantine_rate": "quarantined",
            "duplicate_rate": "duplicates"}
STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green"}


def quality_config(ws: Workspace) -> QualityConfig:
    """The thresholds of marketops.yaml as it is now, so an edited rule shows without a new run."""
    return ws.config.quality


def _scorecard(ws: Workspace, run: str | None, config: QualityConfig) -> tuple[Scorecard, bool]:
    """The kept scorecard (of ``run``, else the newest); else one measured now on the published tables."""
    card = load_scorecard(ws, run)
    if card is not None:
        return card, False
    published = ws.engine.published()
    if not published:
        fail("no scorecard yet: no run has built any table", hint="run the pipeline first: `marketops run`")
    run_id = next(iter(published.values())).rsplit("__", 1)[-1]
    return compute_scorecard(ws.engine, published, run_id=run_id, config=config), True


def _check_filters(card: Scorecard, table: str | None, source: str | None) -> None:
    if table is not None and table not in ENTITIES:
        raise unknown_name("table", table, ENTITIES)
    if source is not None:
        sources = {r.source for r in card.rows if table is None or r.table == table}
        if source not in sources:
            raise unknown_name("source" + (f" of {table}" if table else ""), source, sources)


def _cell(row: ScoreRow | None, judged: dict[tuple, str]) -> str:
    if row is None:
        return ""
    text = format_value(row.metric, row.value)
    style = STYLE.get(judged.get((row.table, row.source, row.column, row.metric), ""))
    return f"[{style}]{text}[/]" if style else text


def _print_scorecard(card: Scorecard, config: QualityConfig) -> None:
    judged = verdicts(card, config)
    index = {(r.table, r.source, r.column, r.metric): r for r in card.rows if r.file is None}
    tables = [t for t in ENTITIES if any(r.table == t for r in card.rows)]
    for name in tables:
        order = {c: i for i, c in enumerate(ENTITIES[name].column_names)}
        keys = sorted({(r.source, r.column) for r in card.rows if r.table == name and r.column
                       and r.metric in COLUMN_METRICS}, key=lambda k: (k[0], order.get(k[1], len(order))))
        if not keys:
            continue
        grid = Table(title=f"{name}: columns", header_style="bold")
        grid.add_column("source")
        grid.add_column("column")
        for metric in COLUMN_METRICS:
            grid.add_column(metric, justify="right")
        grid.add_column("notes", overflow="fold")
        for source, column in keys:
            rows = [index.get((name, source, column, metric)) for metric in COLUMN_METRICS]
            notes = "; ".join(dict.fromkeys(r.detail for r in rows[1:] if r is not None and r.detail))
            grid.add_row(source, column, *(_cell(r, judged) for r in rows), notes)
        console.print(grid)
    grid = Table(title="Sources", header_style="bold")
    grid.add_column("table")
    grid.add_column("source")
    for metric in SOURCE_METRICS:
        grid.add_column(HEADINGS.get(metric, metric), justify="right")
    for name in tables:
        for source in sorted({r.source for r in card.rows if r.table == name}):
            grid.add_row(name, source, *(_cell(index.get((name, source, None, metric)), judged)
                                         for metric in SOURCE_METRICS))
    console.print(grid)


def _print_findings(card: Scorecard, config: QualityConfig) -> None:
    for f in sorted(card.findings, key=lambda f: f.severity != "warning"):
        colour = "yellow" if f.severity == "warning" else "dim"
        console.print(f"[{colour}]{f.severity}[/] {f.message}", highlight=False)
    for b in card.breaches:
        console.print(f"[{STYLE[b.action]}]{b.action.upper()}[/] {b.message}", highlight=False)
    if not config.thresholds:
        console.print(f"Run {card.run_id}: {len(card.findings)} finding(s); no thresholds set "
                      "(`quality: thresholds:` in marketops.yaml, see docs/quality.md)", highlight=False)
        return
    colour = {"fail": "bold red", "warn": "yellow", "ok": "green"}[card.status]
    word = {"fail": "failed a threshold", "warn": "has warnings", "ok": "passed every threshold"}[card.status]
    console.print(f"[{colour}]Run {card.run_id} {word}[/] ({len(card.breaches)} breach(es), "
                  f"{len(card.findings)} finding(s))", highlight=False)


def _series(history: list[Scorecard]) -> dict[tuple, list[float | None]]:
    keys = sorted({(r.table, r.source, r.column or "", r.metric)
                   for c in history for r in c.rows if r.file is None})
    return {k: [c.value(k[0], k[1], k[2] or None, k[3]) for c in history] for k in keys}


def _print_history(history: list[Scorecard], config: QualityConfig) -> None:
    series = _series(history)
    judged = {(r.table, r.source, r.column or "", r.metric) for c in history for r in c.rows
              if any(rule.applies_to(r) for rule in config.thresholds)}
    shown = {k: v for k, v in series.items() if len(set(v)) > 1 or k in judged}
    grid = Table(title=f"Trend over the last {len(history)} run(s)", header_style="bold")
    for h in ("table", "source", "column", "metric"):
        grid.add_column(h)
    for c in history:
        grid.add_column(c.computed_at.strftime("%m-%d %H:%M"), justify="right")
    for (table, source, column, metric), values in shown.items():
        grid.add_row(table, source, column, metric, *(format_value(metric, v) for v in values))
    if shown:
        console.print(grid)
    hidden = len(series) - len(shown)
    console.print(f"{len(shown)} metric(s) changed or have a threshold; {hidden} unchanged not shown "
                  "(`--json` has them all)" if len(history) > 1 else "Only one run has a scorecard so far.")


def quality(
    workspace: WorkspaceOpt = Path("."),
    table: Annotated[str | None, typer.Option(
        "--table", "-t", help="Only this table (people, accounts...).")] = None,
    source: Annotated[str | None, typer.Option(
        "--source", "-s", help="Only this source system (hubspot...).")] = None,
    run: Annotated[str | None, typer.Option(
        "--run", help="The scorecard of this run (default: the newest).")] = None,
    history: Annotated[int, typer.Option("--history", help="Also show the trend over the last N runs.")] = 0,
    export: Annotated[Path | None, typer.Option(
        "--export", "-o",
        help="Write the rows to CSV, XLSX or Parquet (with --history: every run's rows).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Data-quality scorecard per table, source and column: completeness, validity, uniqueness,
    consistency, freshness, quarantine and duplicates; findings; threshold breaches; trends."""
    from marketops.exports import export_table, format_from_path

    try:
        with Workspace.open(workspace, read_only=True) as ws:
            config = quality_config(ws)
            card, live = _scorecard(ws, run, config)
            past = load_history(ws, history) if history else []
        _check_filters(card, table, source)
        if export:
            format_from_path(export, None)
    except MarketopsError as e:
        fail(e.message, e.hint)
    card.breaches = evaluate(card, config)
    card = card.filter(table=table, source=source)
    past = [c.filter(table=table, source=source) for c in past]
    if export:
        rows = pa.concat_tables([c.to_arrow() for c in past]) if past else card.to_arrow()
        n = export_table(rows, export)
        if not json_:
            console.print(f"Wrote {n:,} scorecard rows to {export}")
    elif json_:
        out = {**card.to_json(), "live": live, "thresholds": len(config.thresholds)}
        if past:
            out["trend"] = [{"table": k[0], "source": k[1], "column": k[2] or None, "metric": k[3],
                             "values": [{"run_id": c.run_id, "value": v} for c, v in zip(past, values)]}
                            for k, values in _series(past).items()]
        print_json(out)
    else:
        if live:
            console.print("[dim]No run has kept a scorecard yet: measured now on the tables of run "
                          f"{card.run_id}.[/]")
        _print_scorecard(card, config)
        if past:
            _print_history(past, config)
        _print_findings(card, config)
    if card.status == "fail":
        raise typer.Exit(EXIT_THRESHOLD_FAILED)

