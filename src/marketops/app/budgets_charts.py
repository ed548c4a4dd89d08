"""The budgets page's chart: plan against actual spend per budget line, with the spend expected
by today as a marker on lines of the current month.

Example:
    >>> from decimal import Decimal as D
    >>> from types import SimpleNamespace as Row
    >>> fig = plan_vs_actual([Row(scope="Email", planned=D("1000"), actual=D("400"), pacing=None)])
    >>> [t["name"] for t in fig["data"]], fig["data"][1]["y"]
    (['Plan', 'Actual'], [400.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketops.app.charts import PALETTE, bar_chart


def plan_vs_actual(rows: Sequence[Any], *, plan_label: str = "Plan", actual_label: str = "Actual",
                   expected_label: str = "Expected by now", y_title: str | None = None) -> dict:
    """Grouped bars (plan, actual) per scope; a marker for the expected spend to date where pacing runs."""
    scopes = [r.scope for r in rows]
    fig = bar_chart(scopes, {plan_label: [r.planned for r in rows], actual_label: [r.actual for r in rows]},
                    y_title=y_title)
    fig["data"][0]["marker"] = {"color": "#cbd6e2"}
    fig["data"][1]["marker"] = {"color": PALETTE[0]}
    expected = [(r.scope, float(r.pacing.expected_to_date)) for r in rows
                if getattr(r, "pacing", None) is not None and r.pacing.status not in ("not_started",)
                and r.pacing.as_of is not None and r.pacing.as_of < _last_day(r.pacing)]
    if expected:
        fig["data"].append({"type": "scatter", "mode": "markers", "name": expected_label,
                            "x": [s for s, _ in expected], "y": [v for _, v in expected],
                            "marker": {"symbol": "line-ew-open", "size": 28, "color": PALETTE[5],
                                       "line": {"width": 3}}})
        fig["layout"]["showlegend"] = True
    return fig


def _last_day(p: Any):
    from marketops.plan.pacing import month_days

    return month_days(p.month)[-1]
