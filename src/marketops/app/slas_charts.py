"""The SLA page's chart: the measured value per period as bars (green when met, red when breached,
grey while in progress) against the threshold as a line.

Example:
    >>> import datetime as dt
    >>> from marketops.plan.slas import SlaPeriod
    >>> ps = [SlaPeriod(dt.date(2026, 1, 1), 12, 10, "met"), SlaPeriod(dt.date(2026, 2, 1), 8, 10, "breached")]
    >>> fig = compliance_chart(ps, per="month", percent=False, labels={"value": "Value", "threshold": "Threshold"})
    >>> [t["name"] for t in fig["data"]], fig["data"][0]["marker"]["color"]
    (['Value', 'Threshold'], ['#12b76a', '#d92d20'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from marketops.app.charts import PALETTE
from marketops.plan.slas import period_label

COLOURS = {"met": "#12b76a", "breached": "#d92d20", "in_progress": "#98a2b3", "no_data": "#d0d5dd"}
_LAYOUT = {"template": "none", "margin": {"l": 48, "r": 16, "t": 16, "b": 40}, "paper_bgcolor": "rgba(0,0,0,0)",
           "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
           "hovermode": "x unified", "legend": {"orientation": "h", "y": -0.22}, "height": 240}


def compliance_chart(periods: Sequence[Any], *, per: str, percent: bool, labels: dict[str, str]) -> dict:
    """Bars of the value per period coloured by status, the threshold as a line (shares as %)."""
    scale = 100 if percent else 1
    x = [period_label(p.period, per) for p in periods]
    fig = go.Figure()
    fig.add_trace(go.Bar(name=labels["value"], x=x,
                         y=[None if p.value is None else round(p.value * scale, 4) for p in periods],
                         marker={"color": [COLOURS[p.status] for p in periods]}))
    fig.add_trace(go.Scatter(name=labels["threshold"], x=x, y=[round(p.threshold * scale, 4) for p in periods],
                             mode="lines", line={"color": PALETTE[7], "width": 2, "dash": "dash"}))
    # periods are labels ("2026-04", "2026-Q2"): a category axis, not dates Plotly would re-space
    fig.update_layout(**_LAYOUT, showlegend=True, xaxis={"type": "category"},
                      yaxis={"ticksuffix": "%", "rangemode": "tozero"} if percent else {"rangemode": "tozero"})
    return fig.to_plotly_json()
