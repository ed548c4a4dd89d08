"""The tasks timeline (Gantt) as a Plotly figure: one bar per task from its start to its due date,
coloured by status (overdue ones red), an arrow from each dependency's end to the dependent's
start, and a line at today. Drawn in the browser by ``static/charts.js`` like every chart.

A task with only a due date starts on its due date (a one-day bar); with only a start date, it
ends on its start date; with neither it is not on the timeline (the page lists it below).

Example:
    >>> from datetime import date
    >>> from marketops.state.planning import Task
    >>> a = Task(id=1, title="Brief", status="done", start_date=date(2026, 3, 2), due_date=date(2026, 3, 6))
    >>> b = Task(id=2, title="Design", status="todo", start_date=date(2026, 3, 9), due_date=date(2026, 3, 13))
    >>> b.depends_on = [a]
    >>> fig = timeline_figure([a, b], today=date(2026, 3, 10), labels=STATUS_NAMES)
    >>> sum(len(t["y"]) for t in fig["data"]), len([x for x in fig["layout"]["annotations"] if x.get("arrowhead")])
    (2, 1)
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go

from marketops.plan.tasks import STATUS_LABELS, is_overdue
from marketops.state.planning import Task

#: Bar colours per status; overdue bars are red whatever their status.
STATUS_COLOURS = {"todo": "#8da2b8", "in_progress": "#0091ae", "blocked": "#b36b00", "done": "#00a38d"}
OVERDUE_COLOUR = "#d93f4c"
STATUS_NAMES = {**STATUS_LABELS, "overdue": "Overdue"}
_DAY_MS = 24 * 3600 * 1000


def span(task: Task) -> tuple[date, date] | None:
    """The first and last day a task occupies on the timeline, or None when it has no dates."""
    start, due = task.start_date, task.due_date
    if start is None and due is None:
        return None
    return (start or due), (due or start)


def label(task: Task) -> str:
    """The bar's row label, unique per task (HTML in a title is shown as text, never run)."""
    title = task.title if len(task.title) <= 40 else task.title[:39] + "…"
    return html.escape(f"#{task.id} {title}", quote=False)


def timeline_figure(tasks: Sequence[Task], *, today: date | None = None,
                    labels: Mapping[str, str] = STATUS_NAMES) -> dict[str, Any]:
    """The Gantt figure of ``tasks`` (those with a date), ordered by start; ``labels`` names the
    legend entries (the reader's language: keys are statuses and ``overdue``)."""
    today = today or date.today()
    placed = sorted((t for t in tasks if span(t)), key=lambda t: (span(t)[0], span(t)[1], t.id))
    groups: dict[str, list[Task]] = {}
    for t in placed:
        groups.setdefault("overdue" if is_overdue(t, today) else t.status, []).append(t)
    fig = go.Figure()
    for key in (*STATUS_COLOURS, "overdue"):
        members = groups.get(key, [])
        if not members:
            continue
        spans = [span(t) for t in members]
        fig.add_trace(go.Bar(
            name=labels.get(key, key), orientation="h", y=[label(t) for t in members],
            base=[s.isoformat() for s, _ in spans], x=[((e - s).days + 1) * _DAY_MS for s, e in spans],
            marker={"color": OVERDUE_COLOUR if key == "overdue" else STATUS_COLOURS[key]},
            customdata=[[html.escape(t.owner or "–", quote=False), s.isoformat(), e.isoformat(),
                         labels.get(t.status, t.status)] for t, (s, e) in zip(members, spans, strict=True)],
            hovertemplate="<b>%{y}</b><br>%{customdata[3]} · %{customdata[0]}<br>"
                          "%{customdata[1]} → %{customdata[2]}<extra></extra>"))
    shown = {t.id for t in placed}
    arrows = [{"x": span(t)[0].isoformat(), "y": label(t), "ax": (span(d)[1] + timedelta(days=1)).isoformat(),
               "ay": label(d), "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "showarrow": True,
               "arrowhead": 2, "arrowsize": 1, "arrowwidth": 1.2, "arrowcolor": "#516f90", "text": ""}
              for t in placed for d in t.depends_on if d.id in shown]
    today_mark = {"x": today.isoformat(), "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                  "showarrow": False, "text": labels.get("today", "Today"), "font": {"color": OVERDUE_COLOUR}}
    fig.update_layout(
        template="none", barmode="overlay", height=max(220, 90 + 30 * len(placed)),
        margin={"l": 200, "r": 24, "t": 36, "b": 72}, paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"family": "system-ui, sans-serif", "size": 12}, hovermode="closest", bargap=0.35,
        # below the date ticks whatever the chart's height
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        xaxis={"type": "date", "showgrid": True, "gridcolor": "#eaf0f6"},
        yaxis={"autorange": "reversed", "type": "category", "categoryorder": "array",
               "categoryarray": [label(t) for t in placed], "automargin": True},
        shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": today.isoformat(), "x1": today.isoformat(),
                 "y0": 0, "y1": 1, "line": {"color": OVERDUE_COLOUR, "width": 2, "dash": "dot"}}],
        annotations=[*arrows, today_mark])
    return fig.to_plotly_json()


__all__ = ["OVERDUE_COLOUR", "STATUS_COLOURS", "STATUS_NAMES", "label", "span", "timeline_figure"]
