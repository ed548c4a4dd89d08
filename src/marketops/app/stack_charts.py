"""The integration map as a Plotly figure: tools on a circle coloured by category (one legend entry
per category), integrations as lines with an arrow at the receiving tool and a label (object ·
method, the flow on hover) in the middle; a two-way pair is drawn as two bent lines so both directions show.

Example:
    >>> from marketops.stack.map import layout
    >>> m = layout([(1, "HubSpot", "Marketing automation"), (2, "Salesforce", "CRM")],
    ...            [(1, 2, "contacts", "native", "daily"), (2, 1, "deals", "api", "hourly")])
    >>> fig = map_figure(m)
    >>> len(fig["layout"]["annotations"]), sorted(t["name"] for t in fig["data"] if t.get("showlegend"))
    (2, ['CRM', 'Marketing automation'])
"""

from __future__ import annotations

import math
from html import escape

import plotly.graph_objects as go

from marketops.stack.map import StackMap, bend

NODE_GAP = 0.07  # where an arrow stops short of the receiving tool's marker (axis units)


def map_figure(m: StackMap, *, height: int = 620) -> dict:
    """The figure for ``/stack/map``."""
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    annotations = []
    for e in m.edges:
        mx, my = bend(e)
        xs += [e.source.x, mx, e.target.x, None]
        ys += [e.source.y, my, e.target.y, None]
        dx, dy = e.target.x - mx, e.target.y - my
        d = math.hypot(dx, dy) or 1.0
        annotations.append({"x": e.target.x - dx / d * NODE_GAP, "y": e.target.y - dy / d * NODE_GAP,
                            "ax": mx, "ay": my, "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
                            # the label sits at the arrow's tail, the edge's middle; Plotly reads tags in
                            # text, so names typed by people are escaped
                            "text": escape(e.label), "font": {"size": 9, "color": "#374151"},
                            "bgcolor": "rgba(255,255,255,0.85)", "borderpad": 1,
                            "hovertext": escape(f"{e.source.name} → {e.target.name}: {e.object} ({e.method}, "
                                                f"{e.frequency})"),
                            "showarrow": True, "arrowhead": 2, "arrowsize": 1.3, "arrowwidth": 1.4,
                            "arrowcolor": "#6b7280"})
    if m.edges:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#9aa3ad", "width": 1.4},
                                 hoverinfo="skip", showlegend=False, name="integrations"))
    for category, colour in m.colours.items():
        nodes = [n for n in m.nodes if n.category == category]
        fig.add_trace(go.Scatter(
            x=[n.x for n in nodes], y=[n.y for n in nodes], mode="markers+text", name=category or "(no category)",
            text=[escape(n.name) for n in nodes], textposition=["top center" if n.y >= 0 else "bottom center" for n in nodes],
            marker={"size": 22, "color": colour, "line": {"color": "#ffffff", "width": 2}},
            customdata=[n.id for n in nodes], hovertemplate="%{text}<br>" + escape(category or "") + "<extra></extra>",
            showlegend=True))
    # a wide ellipse rather than a circle: the page is wider than tall and labels need the room
    axis = {"visible": False, "fixedrange": True}
    fig.update_layout(template="none", height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", hovermode="closest",
                      font={"family": "system-ui, sans-serif", "size": 12}, xaxis={**axis, "range": [-1.3, 1.3]},
                      yaxis={**axis, "range": [-1.22, 1.22]}, annotations=annotations,
                      legend={"orientation": "h", "y": -0.02})
    return fig.to_plotly_json()
