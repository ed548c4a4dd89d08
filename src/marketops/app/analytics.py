"""What the analytics pages and their API show: KPIs, channel performance, attribution models side by
side, the funnel and metric queries, as plain dicts and lists built from the capability functions
(:func:`~marketops.metrics.query_metrics`, :func:`~marketops.attribution.report.channel_report`,
:func:`~marketops.attribution.compare`, :func:`~marketops.funnel.funnel`). No web types here: the
routes turn these into pages, JSON and CSV/XLSX files.

A bad parameter (an unknown model, dimension, grain...) raises :class:`InvalidParameter` with the
capability layer's "did you mean" message; data that is not there yet (no touchpoints, no lifecycle
history, no run) gives a result with ``empty`` set to what to load instead of an error.

Example:
    >>> choose("attribution model", "linaer", MODEL_LABELS)
    Traceback (most recent call last):
    ...
    marketops.app.analytics.InvalidParameter: unknown attribution model 'linaer' (did you mean 'linear'?); valid: ...
    >>> latest_complete(dt.date(2024, 7, 2), "month"), latest_complete(dt.date(2024, 6, 30), "month")
    (datetime.date(2024, 6, 1), datetime.date(2024, 6, 1))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from decimal import Decimal
from statistics import median_low
from typing import Any

import polars as pl

from marketops.app.render import N_
from marketops.attribution import MODELS, attribute, compare
from marketops.attribution.config import DIMENSIONS as ATTRIBUTION_BY
from marketops.errors import MarketopsError, NotFound, unknown_name
from marketops.funnel import FunnelReport, FunnelStep, first_touch_groups, funnel, stage_options
from marketops.metrics import GRAINS, Catalog, load_catalog, query_metrics
from marketops.metrics.query import COMPARE, check_dimensions, engine_rates, period_start, shift_period
from marketops.workspace import Workspace

#: Readable names of the attribution models (keys of ``marketops.attribution.MODELS``).
MODEL_LABELS = {
    "first_touch": N_("First touch"), "last_touch": N_("Last touch"), "last_non_direct": N_("Last non-direct touch"),
    "linear": N_("Linear"), "time_decay": N_("Time decay"), "position_based": N_("Position-based (U-shaped)"),
    "w_shaped": N_("W-shaped"), "markov": N_("Markov chain (data-driven)"), "shapley": N_("Shapley value (data-driven)"),
}
#: What reports can be broken down by (attribution, channel report, funnel split).
BY_LABELS = {"channel": N_("Channel"), "source": N_("Source"), "campaign": N_("Campaign")}
STAGE_LABELS = {"subscriber": N_("Subscriber"), "lead": N_("Lead"), "mql": N_("MQL"), "sql": N_("SQL"),
                "opportunity": N_("Opportunity"), "customer": N_("Customer")}
GRAIN_LABELS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month"), "quarter": N_("Quarter")}
#: KPI tiles of the overview, in order; a tile shows only when its tables are loaded.
DEFAULT_KPIS = ("sessions", "leads", "mqls", "pipeline_value", "revenue", "spend", "roas", "cac")
#: Periods a KPI tile's sparkline covers (the latest complete one included).
SPARK_PERIODS = 12
#: The funnel's split: report dimension -> touchpoint column of the first touch.
FUNNEL_BY = {"channel": "channel_group", "source": "source", "campaign": "campaign"}

NO_RUN = {"message": N_("No data yet."), "hint": N_("Load files on Imports, then start a run.")}
NO_TOUCHPOINTS = {"message": N_("No touchpoints yet."),
                  "hint": N_("Load web analytics, ad clicks or email clicks and a CRM export of people, then start "
                             "a run.")}
NO_LIFECYCLE = {"message": N_("No lifecycle history yet."),
                "hint": N_("Load a lifecycle-stage export from the CRM (person, stage, date entered), then start "
                           "a run.")}
NO_KPIS = {"message": N_("No KPI can be computed from the loaded tables yet."),
           "hint": N_("Load web analytics, ad spend, the CRM's lifecycle stages or its deals, then start a run.")}
NO_SPEND = N_("No ad spend loaded: load ad platform exports (Google Ads, Meta, LinkedIn...) to see spend, CPL, CAC "
              "and ROAS.")


class InvalidParameter(MarketopsError):
    """A report parameter names nothing known (the API answers 400 with this message)."""


def choose(kind: str, value: str, valid: Iterable[str]) -> str:
    """``value`` when it is among ``valid``; else InvalidParameter with a "did you mean"."""
    valid = list(valid)
    if value not in valid:
        raise InvalidParameter(str(unknown_name(kind, value, valid)))
    return value


def has_data(ws: Workspace) -> bool:
    """Whether a run has published any canonical table."""
    return bool(ws.table_names())


def money_json(value: Any) -> Any:
    """Decimals as strings (exact, as the CLI's JSON), everything else as is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def rows_json(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: money_json(v) for k, v in r.items()} for r in rows]


# -- KPIs --------------------------------------------------------------------------------------

def catalog_of(ws: Workspace) -> Catalog:
    """The workspace's metric catalog: built-ins plus ``metrics:`` of marketops.yaml."""
    return load_catalog(ws.root / "marketops.yaml")


def metric_ready(ws: Workspace, catalog: Catalog, name: str) -> bool:
    """Whether every table (and column) metric ``name`` is computed from is loaded."""
    for base in catalog.base_metrics(name):
        if not ws.engine.has_table(base.table):
            return False
        needed = {base.time, *base.aggregate.columns, *(c.column for c in base.conditions)}
        if not needed <= set(ws.table(base.table).columns):
            return False
    return True


def data_as_of(ws: Workspace, catalog: Catalog, names: Sequence[str]) -> dt.date | None:
    """The day the metrics' data is complete up to: the median of each table's newest day, so that one
    table running ahead (deals closing after the export) or behind (ad spend not reloaded for months)
    does not move the period every tile shows."""
    days = []
    for table, time in sorted({(b.table, b.time) for n in names for b in catalog.base_metrics(n)}):
        newest = ws.table(table)[time].max().to_pyarrow().as_py()
        if newest is not None:
            days.append(newest.date() if isinstance(newest, dt.datetime) else newest)
    return median_low(days) if days else None


def latest_complete(as_of: dt.date, grain: str) -> dt.date:
    """The first day of the newest period that ends on or before ``as_of``: a month with data up to the
    2nd is not over, so its numbers would read as a collapse against the full month before."""
    current = period_start(as_of, grain)
    return current if period_start(as_of + dt.timedelta(days=1), grain) != current else shift_period(current, grain, -1)


def period_end(period: dt.date, grain: str) -> dt.date:
    return shift_period(period, grain, 1) - dt.timedelta(days=1)


def _tone(change: float | None, higher_is_better: bool) -> str | None:
    if change is None or change == 0:
        return None if change is None else "flat"
    return "good" if (change > 0) == higher_is_better else "bad"


def kpis(ws: Workspace, *, grain: str = "month", names: Sequence[str] = DEFAULT_KPIS,
         periods: int = SPARK_PERIODS) -> dict[str, Any]:
    """KPI tiles for the latest complete period at ``grain``: value, previous period, change (with
    ``tone`` good/bad by the metric's ``higher_is_better``) and the last ``periods`` values.

    Only metrics whose tables are loaded get a tile; ``empty`` says what to load when none is.
    """
    grain = choose("grain", grain, GRAINS)
    catalog = catalog_of(ws)
    ready = [n for n in names if n in catalog and metric_ready(ws, catalog, n)]
    out: dict[str, Any] = {"grain": grain, "period": None, "period_end": None, "previous": None,
                           "as_of": None, "tiles": [], "currency": ws.config.reporting_currency, "empty": None}
    as_of = data_as_of(ws, catalog, ready) if ready else None
    if as_of is None:
        out["empty"] = NO_KPIS if has_data(ws) else NO_RUN
        return out
    latest = latest_complete(as_of, grain)
    first = shift_period(latest, grain, -(periods - 1))
    table = query_metrics(ws.engine, ready, grain=grain, start=first, end=period_end(latest, grain),
                          compare=["previous"], catalog=catalog, reporting_currency=ws.config.reporting_currency,
                          rates=engine_rates(ws.engine), segments=ws.config.segments).to_pylist()
    by_period = {r["period"]: r for r in table}
    series_periods = [shift_period(first, grain, i) for i in range(periods)]
    now = by_period.get(latest, {})
    for name in ready:
        m = catalog[name]
        change = now.get(f"{name}_change")
        out["tiles"].append({
            "name": name, "label": m.label, "description": m.description, "format": m.format,
            "higher_is_better": m.higher_is_better, "value": now.get(name), "previous": now.get(f"{name}_prev"),
            "change": change, "tone": _tone(change, m.higher_is_better),
            "series": _from_first_value([{"period": p, "value": by_period.get(p, {}).get(name)}
                                         for p in series_periods]),
        })
    out.update(period=latest, period_end=period_end(latest, grain), previous=shift_period(latest, grain, -1), as_of=as_of)
    return out


def _from_first_value(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The series from its first known value on: periods before the data begins are not zeros."""
    known = [i for i, p in enumerate(series) if p["value"] is not None]
    return series[known[0]:] if known else series


def kpi_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The tiles as a table (one row per metric) for downloads."""
    def number(v: Any) -> float | None:  # one column holds counts, money and ratios: all as numbers
        return None if v is None else float(v)

    return [{"metric": t["name"], "label": t["label"], "period": data["period"], "value": number(t["value"]),
             "previous": number(t["previous"]), "change": t["change"]} for t in data["tiles"]]


def kpi_series_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The sparklines as a table: one row per period, one column per metric."""
    if not data["tiles"]:
        return []
    values = {(t["name"], p["period"]): p["value"] for t in data["tiles"] for p in t["series"]}
    periods = sorted({period for _, period in values})
    return [{"period": p, **{t["name"]: values.get((t["name"], p)) for t in data["tiles"]}} for p in periods]


# -- channels ----------------------------------------------------------------------------------

def channels(ws: Workspace, *, model: str | None = None, by: str = "channel") -> dict[str, Any]:
    """The channel report under ``model`` (default: the workspace's), one row per channel, source or
    campaign: spend, sessions, credited leads, pipeline, conversions and revenue, CPL, CAC, ROAS and
    the flag of a channel doing far worse than the others."""
    from marketops.attribution.report import channel_report

    config = ws.config.attribution
    model = choose("attribution model", model or config.model, MODELS)
    by = choose("dimension", by, ATTRIBUTION_BY)
    out: dict[str, Any] = {"model": model, "by": by, "currency": ws.config.reporting_currency, "rows": [],
                           "flagged": [], "empty": None, "notes": []}
    if not has_data(ws):
        out["empty"] = NO_RUN
        return out
    try:
        model, rows = channel_report(ws, config, model=model, by=by)
    except NotFound as e:  # no touchpoints, or none tied to a person yet
        out["empty"] = {"message": e.message, "hint": e.hint or NO_TOUCHPOINTS["hint"]}
        return out
    out["rows"] = [asdict(r) for r in rows]
    out["flagged"] = [{"channel": r.channel, "flag": r.flag} for r in rows if r.flag]
    if not ws.engine.has_table("ad_spend"):
        out["notes"].append(NO_SPEND)
    return out


# -- attribution -------------------------------------------------------------------------------

def _journeys(ws: Workspace, by: str, conversion: str | None):
    from marketops.attribution.inputs import workspace_journeys

    return workspace_journeys(ws, ws.config.attribution, by=by, conversion=conversion)


def attribution(ws: Workspace, *, by: str = "channel", conversion: str | None = None,
                model: str | None = None, side_by_side: bool = True) -> dict[str, Any]:
    """Credits per channel under every model side by side (``side_by_side``), or under one ``model``.

    ``items`` has one row per (model, channel): conversions, revenue and share; ``table`` one row per
    channel with each model's share (what the page's table and chart show).
    """
    config = ws.config.attribution
    by = choose("dimension", by, ATTRIBUTION_BY)
    names = [d.name for d in config.conversions]
    if conversion:
        choose("conversion", conversion, names)
    model = choose("attribution model", model or config.model, MODELS)
    models = list(MODELS) if side_by_side else [model]
    out: dict[str, Any] = {"by": by, "conversion": conversion or None, "conversion_names": names,
                           "model": model, "models": models, "currency": ws.config.reporting_currency,
                           "conversions": 0, "revenue": Decimal(0), "items": [], "table": [], "empty": None}
    if not has_data(ws):
        out["empty"] = NO_RUN
        return out
    try:
        journeys = _journeys(ws, by, conversion)
    except NotFound as e:
        out["empty"] = {"message": e.message, "hint": e.hint or NO_TOUCHPOINTS["hint"]}
        return out
    out["conversions"] = journeys.conversions
    out["revenue"] = Decimal(journeys.revenue_cents) / 100
    if not journeys.conversions:
        out["empty"] = {"message": N_("No conversions yet."),
                        "hint": N_("Load conversions (orders, demo requests, closed deals) or adjust the "
                                   "attribution: conversion definitions in marketops.yaml, then start a run.")}
        return out
    if side_by_side:
        frame = compare(journeys, {m: config.params(m) for m in models})
    else:
        frame = attribute(journeys, model, **config.params(model)).select("channel", "conversions", "revenue",
                                                                          "share")
        frame = frame.select(pl.lit(model).alias("model"), *frame.columns)
    items = frame.to_dicts()
    out["items"] = items
    shares: dict[str, dict[str, float]] = {}
    for r in items:
        shares.setdefault(r["channel"], {})[r["model"]] = r["share"]
    # the channels in the order of the workspace's own model (the one the Channels page uses)
    lead = {r["channel"]: r["share"] for r in items if r["model"] == model}
    order = sorted(shares, key=lambda c: (-lead.get(c, 0.0), c))
    out["table"] = [{"channel": c, **{m: shares[c].get(m, 0.0) for m in models}} for c in order]
    return out


# -- funnel ------------------------------------------------------------------------------------

def funnel_data(ws: Workspace, *, by: str | None = None, window_days: int = 30) -> dict[str, Any]:
    """The lifecycle funnel: people reaching each stage, steps, cohorts, the bottleneck and laggards,
    and with ``by`` the funnel of each first-touch channel (source, campaign)."""
    if by:
        by = choose("dimension", by, FUNNEL_BY)
    out: dict[str, Any] = {"by": by or None, "report": None, "stages": [], "empty": None, "notes": []}
    if not ws.engine.has_table("lifecycle_stages"):
        out["empty"] = NO_LIFECYCLE if has_data(ws) else NO_RUN
        return out
    groups = None
    if by:
        if ws.engine.has_table("touchpoints") and "person_id" in ws.table("touchpoints").columns:
            groups = first_touch_groups(ws.table("touchpoints"), FUNNEL_BY[by]).to_pyarrow()
        else:
            out["notes"].append(NO_TOUCHPOINTS["message"])
    report = funnel(ws.table("lifecycle_stages").to_pyarrow(), groups=groups, window_days=window_days,
                    group_label=by or "group", **stage_options(ws.config.leads.lifecycle))
    out["report"] = report
    if not any(s.reached for s in report.steps):
        out["empty"] = {"message": N_("No one has reached a funnel stage yet."),
                        "hint": N_("The lifecycle history holds no stage the funnel knows; check its stage names.")}
        return out
    out["stages"] = stage_counts(report)
    return out


def stage_counts(report: FunnelReport) -> list[dict[str, Any]]:
    """People reaching each stage (the funnel chart's bars)."""
    if not report.steps:
        return []
    rows = [{"stage": s.stage, "people": s.reached} for s in report.steps]
    return rows + [{"stage": report.steps[-1].next_stage, "people": report.steps[-1].converted}]


def step_rows(steps: Sequence[FunnelStep], label: str | None = None) -> list[dict[str, Any]]:
    return [{**({label: s.group} if label else {}), "from": s.stage, "to": s.next_stage, "reached": s.reached,
             "moved_on": s.converted, "conversion": s.conversion, "median_days": s.median_days} for s in steps]


def cohort_rows(report: FunnelReport) -> list[dict[str, Any]]:
    """One row per cohort month and transition (cohorts with nobody in them left out)."""
    return [{"cohort": cohort, **r} for cohort, steps in report.cohorts.items() if any(s.reached for s in steps)
            for r in step_rows(steps)]


def group_rows(report: FunnelReport, by: str) -> list[dict[str, Any]]:
    return [r for steps in report.groups.values() for r in step_rows(steps, by)]


# -- metrics -----------------------------------------------------------------------------------

def metrics(ws: Workspace, names: Sequence[str], *, by: Sequence[str] = (), grain: str = "month",
            start: dt.date | None = None, end: dt.date | None = None,
            compare_with: Sequence[str] = ()) -> dict[str, Any]:
    """:func:`~marketops.metrics.query_metrics` with the workspace's catalog, currency, rates and
    segments. Parameters are checked first (InvalidParameter); metrics whose tables are not loaded
    give ``empty`` instead of rows."""
    catalog = catalog_of(ws)
    if not names:
        raise InvalidParameter(f"name at least one metric with names=; valid: {', '.join(sorted(catalog))}")
    try:
        for n in names:
            catalog.get(n)
        choose("grain", grain, GRAINS)
        for c in compare_with:
            choose("comparison", c, COMPARE)
        check_dimensions(catalog, [catalog[n] for n in names], by)
    except NotFound as e:
        raise InvalidParameter(e.message) from None
    if start and end and end < start:
        raise InvalidParameter(f"the range ends ({end}) before it starts ({start})")
    out: dict[str, Any] = {"names": list(names), "by": list(by), "grain": grain, "compare": list(compare_with),
                           "currency": ws.config.reporting_currency, "rows": [], "empty": None}
    missing = [n for n in names if not metric_ready(ws, catalog, n)]
    if missing:
        tables = sorted({b.table for n in missing for b in catalog.base_metrics(n)})
        out["empty"] = {"message": f"not loaded yet: {', '.join(tables)} (needed by {', '.join(missing)})",
                        "hint": NO_RUN["hint"]}
        return out
    table = query_metrics(ws.engine, names, by=by, grain=grain, start=start, end=end, compare=compare_with,
                          catalog=catalog, reporting_currency=ws.config.reporting_currency,
                          rates=engine_rates(ws.engine), segments=ws.config.segments)
    out["rows"] = table.to_pylist()
    return out


def catalog_rows(ws: Workspace) -> list[dict[str, Any]]:
    """Every metric of the workspace's catalog: name, label, description, format, direction, dimensions."""
    catalog = catalog_of(ws)
    return [{"name": m.name, "label": m.label, "description": m.description, "format": m.format,
             "higher_is_better": m.higher_is_better, "table": m.table, "ratio": m.ratio, "difference": m.difference,
             "dimensions": catalog.dimensions(m.name), "owner": m.owner,
             "ready": metric_ready(ws, catalog, m.name)} for m in catalog.values()]
