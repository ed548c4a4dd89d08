"""The goal page's chart: the measured value per period, baseline and target lines, and the forecast
to the deadline (dashed), from a GoalProgress row's ``detail``.

Example:
    >>> fig = progress_chart({"series": [{"period": "2026-01-01", "value": 10}],
    ...     "forecast_series": [{"period": "2026-02-01", "value": 12}]}, baseline=9, target=15,
    ...     labels={"actual": "Actual", "forecast": "Forecast", "baseline": "Baseline", "target": "Target"})
    >>> [t["name"] for t in fig["data"]]
    ['Actual', 'Forecast', 'Baseline', 'Target']
    >>> fig["data"][1]["line"]["dash"]
    'dash'
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from marketops.app.charts import PALETTE

_LAYOUT = {"template": "none", "margin": {"l": 56, "r": 16, "t": 24, "b": 40}, "paper_bgcolor": "rgba(0,0,0,0)",
           "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
           "hovermode": "x unified", "legend": {"orientation": "h", "y": -0.18}}


def series_rows(detail: dict[str, Any], *, baseline: float | None, target: float | None) -> list[dict[str, Any]]:
    """The chart's numbers as a table: one row per period with actual, forecast, baseline and target.

    >>> series_rows({"series": [{"period": "2026-01-01", "value": 3}], "forecast_series": []}, baseline=1, target=5)
    [{'period': '2026-01-01', 'actual': 3, 'forecast': None, 'baseline': 1, 'target': 5}]
    """
    rows: dict[str, dict[str, Any]] = {}
    for p in detail.get("series") or []:
        rows.setdefault(p["period"], {"period": p["period"], "actual": None, "forecast": None})["actual"] = p["value"]
    for p in detail.get("forecast_series") or []:
        rows.setdefault(p["period"], {"period": p["period"], "actual": None, "forecast": None})["forecast"] = p["value"]
    return [{**r, "baseline": baseline, "target": target} for _, r in sorted(rows.items())]


def progress_chart(detail: dict[str, Any], *, baseline: float | None, target: float | None,
                   labels: dict[str, str], y_title: str | None = None) -> dict:
    """A Plotly figure (as a dict) of a goal's progress."""
    actual = detail.get("series") or []
    future = detail.get("forecast_series") or []
    fig = go.Figure()
    fig.add_trace(go.Scatter(name=labels["actual"], x=[p["period"] for p in actual], y=[p["value"] for p in actual],
                             mode="lines+markers", line={"color": PALETTE[0], "width": 2}))
    if future:
        # the dashed line starts at the last measured point so that it reads as its continuation
        start = actual[-1:] if actual else []
        fig.add_trace(go.Scatter(name=labels["forecast"], x=[p["period"] for p in start + future],
                                 y=[p["value"] for p in start + future], mode="lines",
                                 line={"color": PALETTE[0], "width": 2, "dash": "dash"}))
    periods = [p["period"] for p in actual + future]
    if periods:
        first, last = periods[0], periods[-1]
        if baseline is not None:
            fig.add_trace(go.Scatter(name=labels["baseline"], x=[first, last], y=[baseline, baseline], mode="lines",
                                     line={"color": "#7c98b6", "width": 1, "dash": "dot"}, hoverinfo="skip"))
        if target is not None:
            fig.add_trace(go.Scatter(name=labels["target"], x=[first, last], y=[target, target], mode="lines",
                                     line={"color": PALETTE[5], "width": 2}, hoverinfo="skip"))
    fig.update_layout(**_LAYOUT, yaxis_title=y_title, showlegend=True)
    return fig.to_plotly_json()
