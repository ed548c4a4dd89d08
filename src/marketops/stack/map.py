"""The integration map's layout: tools on a circle, grouped by category so that tools of one category
sit side by side, and each integration as an edge. The web app draws it with Plotly; the printable
report draws the same layout as an inline SVG (:func:`map_svg`).

Example:
    >>> m = layout([(1, "HubSpot", "Marketing automation"), (2, "Salesforce", "CRM")],
    ...            [(1, 2, "contacts", "native", "realtime")])
    >>> [n.name for n in m.nodes], m.edges[0].label
    (['Salesforce', 'HubSpot'], 'contacts · native')
    >>> map_svg(m).startswith("<svg")
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

#: Colours per category, in order of first appearance (colour-blind safe, Okabe & Ito, then greys).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#7F7F7F",
           "#999933", "#882255", "#44AA99")


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    category: str
    x: float
    y: float
    colour: str


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node
    object: str
    method: str
    frequency: str
    #: Another edge runs the other way between the same two tools (drawn bent, not on top of it).
    two_way: bool = False

    @property
    def label(self) -> str:
        return f"{self.object} · {self.method}"


@dataclass(frozen=True)
class StackMap:
    nodes: list[Node]
    edges: list[Edge]
    colours: dict[str, str]


def layout(tools: Iterable[tuple[int, str, str]], flows: Iterable[tuple[int, int, str, str, str]]) -> StackMap:
    """Positions for ``tools`` (id, name, category) and edges for ``flows`` (from id, to id, object,
    method, frequency)."""
    tools = sorted(tools, key=lambda t: ((t[2] or "").lower(), t[1].lower()))
    colours: dict[str, str] = {}
    for _, _, category in tools:
        colours.setdefault(category or "", PALETTE[len(colours) % len(PALETTE)])
    n = max(len(tools), 1)
    nodes = []
    for i, (tid, name, category) in enumerate(tools):
        angle = math.pi / 2 - 2 * math.pi * i / n  # clockwise from the top
        nodes.append(Node(tid, name, category or "", round(math.cos(angle), 4), round(math.sin(angle), 4),
                          colours[category or ""]))
    by_id = {node.id: node for node in nodes}
    flows = [f for f in flows if f[0] in by_id and f[1] in by_id]
    pairs = {(f[0], f[1]) for f in flows}
    edges = [Edge(by_id[a], by_id[b], obj, method, freq, (b, a) in pairs) for a, b, obj, method, freq in flows]
    return StackMap(nodes, edges, colours)


def bend(edge: Edge, amount: float = 0.12) -> tuple[float, float]:
    """The middle of an edge, pushed sideways for two-way pairs so both arrows and labels show."""
    mx, my = (edge.source.x + edge.target.x) / 2, (edge.source.y + edge.target.y) / 2
    if not edge.two_way:
        return mx, my
    dx, dy = edge.target.x - edge.source.x, edge.target.y - edge.source.y
    length = math.hypot(dx, dy) or 1.0
    return mx - dy / length * amount, my + dx / length * amount


def map_svg(m: StackMap, size: int = 640) -> str:
    """The map as a self-contained SVG (for the printable report: no script needed)."""
    pad = 110
    scale = (size - 2 * pad) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return round(pad + (x + 1) * scale, 1), round(pad + (1 - y) * scale, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
             f'role="img" aria-label="Integration map" class="stack-map-svg">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for e in m.edges:
        (x1, y1), (x2, y2) = at(e.source.x, e.source.y), at(e.target.x, e.target.y)
        cx, cy = at(*bend(e, 0.24))
        # stop short of the target's circle so the arrowhead shows
        dx, dy = x2 - cx, y2 - cy
        d = math.hypot(dx, dy) or 1.0
        x2, y2 = round(x2 - dx / d * 12, 1), round(y2 - dy / d * 12, 1)
        parts.append(f'<path d="M{x1},{y1} Q{cx},{cy} {x2},{y2}" fill="none" stroke="#555" stroke-width="1.2" '
                     f'marker-end="url(#arrow)"><title>{escape(e.source.name)} → {escape(e.target.name)}: '
                     f'{escape(e.label)}, {escape(e.frequency)}</title></path>')
        lx, ly = at(*bend(e))
        parts.append(f'<text x="{lx}" y="{ly}" font-size="9" fill="#333" text-anchor="middle">'
                     f'{escape(e.label)}</text>')
    for node in m.nodes:
        x, y = at(node.x, node.y)
        anchor = "start" if node.x > 0.2 else "end" if node.x < -0.2 else "middle"
        tx = x + (14 if anchor == "start" else -14 if anchor == "end" else 0)
        ty = y + (4 if anchor != "middle" else (-16 if node.y > 0 else 24))
        parts.append(f'<circle cx="{x}" cy="{y}" r="10" fill="{node.colour}"><title>{escape(node.name)} '
                     f'({escape(node.category)})</title></circle>')
        parts.append(f'<text x="{tx}" y="{ty}" font-size="12" text-anchor="{anchor}">{escape(node.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
