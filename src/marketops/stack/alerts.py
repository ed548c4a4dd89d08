"""Renewals within 30 days as alerts of the plan's shape (:class:`marketops.plan.alerts.Alert`), ready
to join ``collect_alerts`` (kind ``stack``): warning, critical within a week; owner: the tool's owner.
:func:`marketops.plan.alerts.collect_alerts` gathers them for the alerts page and the digest.

Example:
    >>> import datetime as dt
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.stack.registry import ToolDraft, create_tool
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"  # a database of its own
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     _ = create_tool(s, ToolDraft(name="Drift", owner="Ana", renewal_date=dt.date(2026, 12, 12)), actor="x")
    ...     [(a.severity, a.title, a.owner) for a in renewal_alerts(s, dt.date(2026, 12, 7))]
    [('critical', 'Renewal in 5 days: Drift', 'Ana')]
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.plan.alerts import Alert
from marketops.stack.audit import RENEWAL_SOON
from marketops.state.stack import StackTool

CRITICAL_DAYS = 7


def renewal_alerts(session: Session, today: dt.date, days: int = RENEWAL_SOON) -> list[Alert]:
    """Tools renewing between today and ``days`` from now, soonest first."""
    tools = session.scalars(select(StackTool).where(StackTool.renewal_date >= today,
                                                    StackTool.renewal_date <= today + dt.timedelta(days=days))
                            .order_by(StackTool.renewal_date, StackTool.name))
    out = []
    for t in tools:
        left = (t.renewal_date - today).days
        out.append(Alert("stack", "critical" if left <= CRITICAL_DAYS else "warning",
                         f"Renewal in {left} days: {t.name}",
                         f"{t.name} renews on {t.renewal_date.isoformat()}: decide whether to keep it before the "
                         f"notice period ends.", f"/stack/{t.id}", owner=t.owner or None,
                         key=f"stack_renewal:{t.id}", status="renewal",
                         detail={"renewal_date": t.renewal_date.isoformat(), "days": left}))
    return out
