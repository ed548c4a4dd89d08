"""Charts for the pages: Plotly figures built on the server, drawn in the browser by the
``plotly.min.js`` that ships inside the plotly wheel (served from ``/static/vendor/``; nothing
comes from a CDN).

A chart reaches the page as JSON in a ``data-figure`` attribute (see ``templates/_chart.html``);
``static/charts.js`` draws every such element and marks it ``data-drawn="1"``. Each chart's
numbers are also a table the page can download as CSV or XLSX.

Example:
    >>> fig = bar_chart(["Email", "Paid Search"], {"Leads": [12, 30]}, y_title="Leads")
    >>> fig["data"][0]["type"], fig["data"][0]["y"]
    ('bar', [12.0, 30.0])
    >>> '"type":"bar"' in figure_json(fig)
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

#: Colours for series, in order (colour-blind safe, from Okabe & Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# "none": the default template would add ~10 KB of styling to every chart's JSON
_LAYOUT = {"template": "none", "margin": {"l": 48, "r": 16, "t": 32, "b": 40}, "paper_bgcolor": "rgba(0,0,0,0)",
           "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": "system-ui, sans-serif", "size": 12},
           "colorway": list(PALETTE), "hovermode": "x unified",
           "legend": {"orientation": "h", "y": -0.2}}


def plotly_js() -> Path:
    """The ``plotly.min.js`` bundled in the installed plotly wheel."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _number(v: Any) -> float | None:
    if v is None:
        return None
    return float(v) if isinstance(v, Decimal | int | float) else v


def _figure(fig: go.Figure, title: str | None, y_title: str | None, x_title: str | None, **layout: Any) -> dict:
    fig.update_layout(**{**_LAYOUT, **layout}, title={"text": title} if title else None,
                      yaxis_title=y_title, xaxis_title=x_title)
    return fig.to_plotly_json()


def bar_chart(x: Sequence[Any], series: Mapping[str, Sequence[Any]], *, title: str | None = None,
              y_title: str | None = None, x_title: str | None = None, stacked: bool = False,
              horizontal: bool = False, percent: bool = False) -> dict:
    """Bars per ``x`` category, one trace per series (grouped, or ``stacked``)."""
    fig = go.Figure()
    for name, values in series.items():
        ys = [_number(v) for v in values]
        fig.add_trace(go.Bar(name=name, x=ys if horizontal else list(x), y=list(x) if horizontal else ys,
                             orientation="h" if horizontal else "v"))
    axis = {"ticksuffix": "%"} if percent else {}
    return _figure(fig, title, y_title, x_title, barmode="stack" if stacked else "group",
                   showlegend=len(series) > 1, **({"xaxis": axis} if horizontal else {"yaxis": axis}))


def line_chart(x: Sequence[Any], series: Mapping[str, Sequence[Any]], *, title: str | None = None,
               y_title: str | None = None, x_title: str | None = None, percent: bool = False) -> dict:
    """Lines over ``x`` (dates or periods), one per series."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(name=name, x=list(x), y=[_number(v) for v in values], mode="lines+markers"))
    return _figure(fig, title, y_title, x_title, showlegend=len(series) > 1,
                   yaxis={"ticksuffix": "%"} if percent else {})


def funnel_chart(stages: Sequence[str], counts: Sequence[int], *, title: str | None = None) -> dict:
    """A funnel: people reaching each stage, with the share of the first stage on the bars and on hover."""
    fig = go.Figure(go.Funnel(y=list(stages), x=[_number(c) for c in counts], textinfo="value+percent initial",
                              hovertemplate="%{y}: %{x:,} (%{percentInitial:.1%})<extra></extra>"))
    return _figure(fig, title, None, None, hovermode="closest", margin={**_LAYOUT["margin"], "l": 100})


def sparkline(x: Sequence[Any], values: Sequence[Any]) -> dict:
    """A small line with no axes, for KPI tiles (hover still shows each value)."""
    fig = go.Figure(go.Scatter(x=list(x), y=[_number(v) for v in values], mode="lines",
                               line={"width": 2, "color": PALETTE[0]}, fill="tozeroy",
                               fillcolor="rgba(0,114,178,0.12)"))
    fig.update_layout(template="none", margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=48, showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", hovermode="x",
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig.to_plotly_json()


def figure_json(fig: Mapping[str, Any]) -> str:
    """The figure as compact JSON for the page (dates as ISO strings, decimals as numbers)."""
    def default(v: Any) -> Any:
        if isinstance(v, Decimal):
            return float(v)
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if hasattr(v, "tolist"):
            return v.tolist()
        raise TypeError(f"cannot put {type(v).__name__} in a chart")

    return json.dumps(fig, default=default, separators=(",", ":"))
