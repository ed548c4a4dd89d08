"""Data quality: the scorecard page ``/quality`` with its trends, the quarantine browser
``/quality/quarantine``, and their API (``/api/v1/quality/scorecard``, ``/api/v1/quality/history``,
``/api/v1/quarantine``; each answers ``?format=csv|xlsx`` with every matching row).

Thresholds are judged against marketops.yaml as it is now (as ``marketops quality`` does), so an
edited rule shows without a new run. Quarantine can hold hundreds of thousands of rows: pages are
cut in the warehouse (limit / offset), only a download reads every matching row.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlencode

import ibis
import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketops.app.charts import line_chart
from marketops.app.deps import Reader, read_workspace
from marketops.app.downloads import Format, Limit, Offset, download, page_json
from marketops.app.errors import api_error
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of
from marketops.ingest.loader import QUARANTINE_TABLE
from marketops.quality.scorecard import Scorecard, compute_scorecard
from marketops.quality.scorecard_history import load_history, load_scorecard
from marketops.quality.scorecard_thresholds import METRICS, QualityConfig, evaluate, format_value, verdicts
from marketops.schema import ENTITIES
from marketops.workspace import Workspace

router = APIRouter()

COLUMN_METRICS = ("completeness", "validity", "consistency", "uniqueness")
SOURCE_METRICS = ("rows", "identifier_coverage", "freshness_hours", "hours_since_load", "quarantine_rate",
                  "duplicate_rate", "utm_compliance")
HEADINGS = {"rows": N_("Records"), "identifier_coverage": N_("Identified"), "utm_compliance": N_("UTM compliance"),
            "freshness_hours": N_("Freshness"), "hours_since_load": N_("Since load"),
            "quarantine_rate": N_("Quarantined"), "duplicate_rate": N_("Duplicates"),
            "completeness": N_("Completeness"), "validity": N_("Validity"), "consistency": N_("Consistency"),
            "uniqueness": N_("Uniqueness")}
#: Runs a trend covers by default, and at most.
HISTORY_RUNS, MAX_HISTORY_RUNS = 10, 100
#: Lines per trend chart: more become unreadable.
MAX_SERIES = 8
#: ``?table=files`` on the scorecard downloads the files table (no entity is called "files").
FILES = "files"
FILE_COLUMNS = ["file", "table", "source", "rows_quarantined", "rows_in", "share", "notes"]
QUARANTINE_COLUMNS = ("file", "sheet", "row", "column", "reason", "raw", "entity", "load_id",
                      "quarantined_at")
#: Filter choices (files, entities) listed in the quarantine form.
MAX_CHOICES = 500

SearchText = Annotated[str | None, Query(max_length=200, description="Case-insensitive text to look for.")]


# -- the scorecard --------------------------------------------------------------------------------------
def latest_scorecard(ws: Workspace, run_id: str | None = None) -> tuple[Scorecard | None, bool]:
    """The kept scorecard (of ``run_id``, else the newest) with breaches judged by today's thresholds;
    without one, a scorecard measured now on the published tables (``live`` True); None before any run."""
    config = ws.config.quality
    card, live = load_scorecard(ws, run_id), False
    if card is None:
        published = ws.engine.published()
        if not published:
            return None, False
        run = next(iter(published.values())).rsplit("__", 1)[-1]
        card, live = compute_scorecard(ws.engine, published, run_id=run, config=config), True
    card.breaches = evaluate(card, config)
    return card, live


def _cell(row, judged: dict[tuple, str]) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"text": format_value(row.metric, row.value), "verdict": judged.get(
        (row.table, row.source, row.column, row.metric)), "detail": row.detail,
        "counts": (row.n, row.total) if row.n is not None and row.total is not None else None}


def scorecard_view(card: Scorecard, config: QualityConfig) -> dict[str, Any]:
    """The scorecard laid out for the page: per-table column grids, the sources grid, file quarantine."""
    judged = verdicts(card, config)
    index = {(r.table, r.source, r.column, r.metric): r for r in card.rows if r.file is None}
    tables = [t for t in ENTITIES if any(r.table == t for r in card.rows)]
    grids = []
    for name in tables:
        order = {c: i for i, c in enumerate(ENTITIES[name].column_names)}
        keys = sorted({(r.source, r.column) for r in card.rows if r.table == name and r.column
                       and r.metric in COLUMN_METRICS}, key=lambda k: (k[0], order.get(k[1], len(order))))
        rows = []
        for source, column in keys:
            found = [index.get((name, source, column, m)) for m in COLUMN_METRICS]
            notes = "; ".join(dict.fromkeys(r.detail for r in found[1:] if r is not None and r.detail))
            flagged = any(judged.get((name, source, column, m)) in ("warn", "fail") for m in COLUMN_METRICS)
            rows.append({"source": source, "column": column, "cells": [_cell(r, judged) for r in found],
                         "notes": notes, "flagged": flagged})
        if rows:
            grids.append({"table": name, "rows": rows, "flagged": sum(r["flagged"] for r in rows)})
    sources = [{"table": name, "source": source,
                "cells": [_cell(index.get((name, source, None, m)), judged) for m in SOURCE_METRICS]}
               for name in tables for source in sorted({r.source for r in card.rows if r.table == name})]
    # a workbook sheet's label is "file[sheet]"; quarantine keeps the file name alone
    files = [{"table": r.table, "source": r.source, "file": r.file, "file_name": r.file.split("[", 1)[0],
              "text": format_value(r.metric, r.value), "n": r.n, "total": r.total, "detail": r.detail}
             for r in quarantined_files(card)]
    return {"grids": grids, "sources": sources, "files": files,
            "column_metrics": [HEADINGS[m] for m in COLUMN_METRICS],
            "source_metrics": [HEADINGS[m] for m in SOURCE_METRICS],
            "fails": sum(b.action == "fail" for b in card.breaches),
            "warns": sum(b.action == "warn" for b in card.breaches)}


def quarantined_files(card: Scorecard) -> list:
    """The scorecard's per-file rows of files that had rows quarantined (the page's files table)."""
    return [r for r in card.rows if r.file is not None and r.metric == "quarantine_rate" and r.n]


def quarantined_file_rows(card: Scorecard) -> list[dict[str, Any]]:
    """:func:`quarantined_files` as a download: the share as a ratio (0.25 = 25 %)."""
    return [{"file": r.file, "table": r.table, "source": r.source, "rows_quarantined": r.n, "rows_in": r.total,
             "share": r.value, "notes": r.detail} for r in quarantined_files(card)]


def trend_series(history: list[Scorecard]) -> dict[tuple, list[float | None]]:
    """(table, source, column, metric) -> its value in each run of ``history`` (per-file rows left out)."""
    keys = sorted({(r.table, r.source, r.column, r.metric)
                   for c in history for r in c.rows if r.file is None},
                  key=lambda k: (k[0], k[1], k[2] or "", k[3]))
    indexes = [{(r.table, r.source, r.column, r.metric): r.value for r in c.rows if r.file is None}
               for c in history]
    return {k: [ix.get(k) for ix in indexes] for k in keys}


def _label(key: tuple) -> str:
    return " / ".join(p for p in key[:3] if p)


def run_labels(history: list[Scorecard]) -> list[str]:
    """A label per run for a chart's axis: its time, with the run id where two share a minute."""
    labels = [c.computed_at.strftime("%Y-%m-%d %H:%M") for c in history]
    return [f"{label} ({c.run_id[-4:]})" if labels.count(label) > 1 else label
            for label, c in zip(labels, history)]


def trend_charts(history: list[Scorecard], config: QualityConfig) -> list[dict[str, Any]]:
    """One line chart per metric worth watching: those a threshold judges, rates that moved, and
    the records per source (hours since load change every run and say nothing, so they are left out
    unless a threshold names them)."""
    if not history:
        return []
    series = trend_series(history)
    judged = {(r.table, r.source, r.column, r.metric) for c in history for r in c.rows
              if any(rule.applies_to(r) for rule in config.thresholds)}
    x = run_labels(history)
    by_metric: dict[str, list[tuple[int, float, tuple]]] = {}
    for key, values in series.items():
        metric = key[3]
        known = [v for v in values if v is not None]
        moved = len(set(known)) > 1 and METRICS.get(metric) is not None and METRICS[metric].unit == "rate"
        if key in judged or moved or metric == "rows":
            spread = (max(known) - min(known)) if known else 0.0
            by_metric.setdefault(metric, []).append((0 if key in judged else 1, -spread, key))
    charts = []
    order = [m for m in METRICS if m in by_metric]
    for metric in order:
        ranked = sorted(by_metric[metric], key=lambda t: (t[0], t[1], _label(t[2])))
        picked = [k for *_, k in ranked[:MAX_SERIES]]
        rate = METRICS[metric].unit == "rate"
        lines = {_label(k): [None if v is None else (v * 100 if rate else v) for v in series[k]]
                 for k in picked}
        figure = line_chart(x, lines, percent=rate, y_title="%" if rate else METRICS[metric].unit)
        # one point per run, evenly spaced: runs minutes or weeks apart read the same
        figure["layout"].setdefault("xaxis", {})["type"] = "category"
        charts.append({"metric": metric, "title": HEADINGS.get(metric, metric),
                       "description": METRICS[metric].description, "figure": figure})
    return charts


def _history_rows(history: list[Scorecard]) -> list[dict[str, Any]]:
    return [{"run_id": c.run_id, "computed_at": c.computed_at.isoformat(), "table": r.table,
             "source": r.source, "column": r.column, "metric": r.metric, "value": r.value, "n": r.n,
             "total": r.total}
            for c in history for r in c.rows if r.file is None]


def _filtered(card: Scorecard, table: str | None, source: str | None) -> Scorecard:
    return card.filter(table=table or None, source=source or None)


@router.get("/quality")
def quality_page(request: Request, user: Reader) -> Response:
    with read_workspace(request) as ws:
        config = ws.config.quality
        card, live = latest_scorecard(ws)
        history = load_history(ws, HISTORY_RUNS)
        quarantined = ws.engine.count(QUARANTINE_TABLE) if ws.engine.has_table(QUARANTINE_TABLE) else 0
    context: dict[str, Any] = {"card": card, "live": live, "runs": len(history), "quarantined": quarantined,
                               "thresholds": len(config.thresholds), "charts": bool(history)}
    if card is not None:
        context.update(view=scorecard_view(card, config), trends=trend_charts(history, config))
    return render(request, "quality.html", context)


@router.get("/api/v1/quality/scorecard", tags=["quality"], response_model=None)
def scorecard_api(request: Request, user: Reader, run_id: str | None = None, table: str | None = None,
                  source: str | None = None, format: Format = "json") -> Any:
    """The newest scorecard (or ``run_id``'s): rows, findings and breaches judged by today's thresholds.

    ``table`` and ``source`` narrow it; ``?format=csv|xlsx`` downloads its rows with their verdict, and
    ``?table=files&format=csv|xlsx`` the page's table of files with quarantined rows."""
    with read_workspace(request) as ws:
        config = ws.config.quality
        card, live = latest_scorecard(ws, run_id)
    if table == FILES and format != "json":
        rows = quarantined_file_rows(_filtered(card, None, source)) if card is not None else []
        return file_of(rows, FILE_COLUMNS, f"quarantined_files_{card.run_id}" if card else "quarantined_files",
                       format)
    if card is None:
        return _no_run(format, "scorecard")
    judged = verdicts(card, config)
    card = _filtered(card, table, source)
    if format != "json":
        rows = [{"run_id": card.run_id, **asdict(r),
                 "verdict": judged.get((r.table, r.source, r.column, r.metric))} for r in card.rows]
        return download(rows, f"scorecard_{card.run_id}", format)
    return {**card.to_json(), "live": live, "thresholds": len(config.thresholds)}


def _no_run(fmt: str, name: str) -> Any:
    if fmt != "json":
        return download([], name, fmt)
    return api_error(404, "no scorecard yet: no run has built any table; run the pipeline first")


@router.get("/api/v1/quality/history", tags=["quality"], response_model=None)
def history_api(request: Request, user: Reader,
                runs: Annotated[int, Query(ge=1, le=MAX_HISTORY_RUNS, description="How many runs back.")]
                = HISTORY_RUNS, table: str | None = None, source: str | None = None,
                metric: str | None = None, format: Format = "json") -> Any:
    """Every metric's value over the last ``runs`` runs that kept a scorecard, oldest first.

    JSON: ``{"runs": [...], "items": [{"table", "source", "column", "metric", "values"}], "total"}``;
    ``?format=csv|xlsx``: one row per run and metric."""
    with read_workspace(request) as ws:
        history = [_filtered(c, table, source) for c in load_history(ws, runs)]
    if metric:
        history = [c.filter(metric=metric) for c in history]
    if format != "json":
        return download(_history_rows(history), "scorecard_history", format)
    items = [{"table": k[0], "source": k[1], "column": k[2], "metric": k[3], "values": values}
             for k, values in trend_series(history).items()]
    return {"runs": [{"run_id": c.run_id, "computed_at": c.computed_at.isoformat()} for c in history],
            "items": items, "total": len(items)}


# -- quarantine -----------------------------------------------------------------------------------------
def quarantine_query(ws: Workspace, *, file: str | None = None, entity: str | None = None,
                     reason: str | None = None) -> ibis.Table | None:
    """Quarantined rows matching the filters, newest first (None before anything was quarantined).

    ``reason`` is looked for as plain text (case-insensitive): the engine's CONTAINS has no
    wildcards, so ``%`` or ``_`` in it mean themselves, and Ibis quotes it as a literal."""
    if not ws.engine.has_table(QUARANTINE_TABLE):
        return None
    t = ws.engine.table(QUARANTINE_TABLE)
    if file:
        t = t.filter(t.file == file)
    if entity:
        t = t.filter(t.entity == entity)
    if reason and reason.strip():
        t = t.filter(t.reason.lower().contains(reason.strip().lower()))
    present = [c for c in QUARANTINE_COLUMNS if c in t.columns]
    order = [ibis.desc(c) for c in ("quarantined_at", "load_id") if c in t.columns]
    order += [c for c in ("file", "row") if c in t.columns]
    return t.select(*present).order_by(order)


def _raw_cells(raw: Any) -> dict[str, Any] | str | None:
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        return value if isinstance(value, dict) else raw
    return raw


def quarantine_page_rows(query: ibis.Table | None, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of ``query`` (cut in the warehouse) and the number of matching rows."""
    if query is None:
        return [], 0
    total = int(query.count().to_pyarrow().as_py())
    rows = query.limit(limit, offset=offset).to_pyarrow().to_pylist() if total > offset else []
    for r in rows:
        r["raw"] = _raw_cells(r.get("raw"))
    return rows, total


def _choices(ws: Workspace, column: str) -> list[str]:
    if not ws.engine.has_table(QUARANTINE_TABLE):
        return []
    t = ws.engine.table(QUARANTINE_TABLE)
    if column not in t.columns:
        return []
    values = t.select(column).filter(t[column].notnull()).distinct().order_by(column).limit(MAX_CHOICES)
    return [r[column] for r in values.to_pyarrow().to_pylist()]


def _quarantine_download(query: ibis.Table | None, fmt: str) -> Response:
    table = query.to_pyarrow() if query is not None else pa.table(
        {c: pa.array([], pa.string()) for c in QUARANTINE_COLUMNS})
    return download(table, "quarantine", fmt)


@router.get("/api/v1/quarantine", tags=["quality"], response_model=None)
def quarantine_api(request: Request, user: Reader, limit: Limit = 50, offset: Offset = 0,
                   file: str | None = None, entity: str | None = None, reason: SearchText = None,
                   format: Format = "json") -> Any:
    """Rows that failed a check when loaded (file, row, column, reason, original cells), newest first.

    Filters: ``file`` and ``entity`` (exact), ``reason`` (text). ``?format=csv|xlsx`` downloads every
    matching row, not just the page."""
    with read_workspace(request) as ws:
        query = quarantine_query(ws, file=file, entity=entity, reason=reason)
        if format != "json":
            return _quarantine_download(query, format)
        rows, total = quarantine_page_rows(query, limit, offset)
    return page_json([_json_row(r) for r in rows], total, limit, offset)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    at = row.get("quarantined_at")
    return {**row, "quarantined_at": at.isoformat() if hasattr(at, "isoformat") else at}


@router.get("/quality/quarantine")
def quarantine_page(request: Request, user: Reader, limit: Limit = 50, offset: Offset = 0,
                    file: str | None = None, entity: str | None = None,
                    reason: SearchText = None) -> Response:
    with read_workspace(request) as ws:
        query = quarantine_query(ws, file=file, entity=entity, reason=reason)
        rows, total = quarantine_page_rows(query, limit, offset)
        files, entities = _choices(ws, "file"), _choices(ws, "entity")
    filters = {k: v for k, v in (("file", file), ("entity", entity), ("reason", reason)) if v}
    api = "/api/v1/quarantine" + ("?" + urlencode(filters) if filters else "")
    return render(request, "quarantine.html", {
        "rows": rows, "total": total, "limit": limit, "offset": offset, "files": files, "entities": entities,
        "filters": {"file": file or "", "entity": entity or "", "reason": reason or ""},
        "params": filters, "filtered": bool(filters), "download_url": api, "empty_store": query is None})
