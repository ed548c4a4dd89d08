"""The stack audit as files: a printable HTML report (tables, findings and the integration map as an
inline SVG; the browser's "Save as PDF" makes the PDF) and CSV of the audit's tables.

Example:
    >>> from datetime import date
    >>> from marketops.stack.audit import ToolInput, build_audit
    >>> a = build_audit([ToolInput(1, "Asana", "Project management", cost_cents=None)], [], {}, "EUR",
    ...                 today=date(2026, 12, 7))
    >>> html = audit_html(a, [], workspace="Acme")
    >>> "no cost recorded" in html and "Stack audit" in html
    True
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from marketops.stack.audit import StackAudit
from marketops.stack.map import layout, map_svg


@cache
def _template():
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    text = (resources.files("marketops.stack") / "report.html").read_text(encoding="utf-8")
    return env.from_string(text)


def _money(v: Decimal | None) -> str:
    return "–" if v is None else f"{v:,.2f}"


def audit_html(audit: StackAudit, flows: list[dict[str, Any]], *, workspace: str = "marketops") -> str:
    """The printable report. ``flows`` are integrations as :func:`registry.integration_json` gives them."""
    tools = [(t.id, t.name, t.category) for t in audit.tools]
    svg = map_svg(layout(tools, [(f["from_id"], f["to_id"], f["object"], f["method"], f["frequency"])
                                 for f in flows])) if flows else ""
    return _template().render(audit=audit, flows=flows, svg=svg, workspace=workspace, money=_money)
