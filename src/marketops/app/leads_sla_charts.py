"""The speed-to-lead board's chart: the met share per week (or owner) as bars, with the median response
business hours as a line on a second axis.

Example:
    >>> rows = [{"week": "2026-11-30", "met_share": 0.5, "median_hours": 3.0},
    ...         {"week": "2026-12-07", "met_share": None, "median_hours": None}]
    >>> fig = compliance_chart(rows, "week", labels={"met_share": "Met", "median_hours": "Median"})
    >>> [t["name"] for t in fig["data"]], list(fig["data"][0]["y"])
    (['Met', 'Median'], [50.0, None])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from marketops.app.charts import PALETTE

_LAYOUT = {"template": "none", "margin": {"l": 48, "r": 48, "t": 16, "b": 48}, "paper_bgcolor": "rgba(0,0,0,0)",
           "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
           "hovermode": "x unified", "legend": {"orientation": "h", "y": -0.25}, "height": 260}


def compliance_chart(rows: Sequence[dict[str, Any]], by: str, *, labels: dict[str, str]) -> dict:
    """Met share (%) per group as bars; median response business hours as a line on the right axis."""
    x = [str(r[by]) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(name=labels["met_share"], x=x,
                         y=[None if r["met_share"] is None else round(r["met_share"] * 100, 2) for r in rows],
                         marker={"color": PALETTE[2]}))
    fig.add_trace(go.Scatter(name=labels["median_hours"], x=x, y=[r["median_hours"] for r in rows], yaxis="y2",
                             mode="lines+markers", line={"color": PALETTE[0], "width": 2}))
    fig.update_layout(**_LAYOUT, showlegend=True, xaxis={"type": "category"},
                      yaxis={"ticksuffix": "%", "range": [0, 100]},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False})
    return fig.to_plotly_json()
