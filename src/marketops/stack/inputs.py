"""What the audit reads: the registry (app database), the exchange rates and the load history
(warehouse). Kept apart from :mod:`marketops.stack.audit`, which is pure and works on plain values.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> from marketops.stack.registry import ToolDraft, create_tool
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"  # a database of its own
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     _ = create_tool(s, ToolDraft(name="Tableau", cost="840", cost_period="year", currency="USD"), actor="cli")
    ...     a = audit_of(s, None, rates={"USD": "0.9"}, reporting_currency="EUR")
    ...     a.total_monthly, a.no_owner
    (Decimal('63.00'), ['Tableau'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from marketops.errors import ValidationFailed
from marketops.stack.audit import StackAudit, ToolInput, build_audit
from marketops.stack.freshness import SystemSeen, systems_seen, tool_freshness
from marketops.stack.registry import list_integrations, list_tools


def warehouse_rates(ws: Any) -> dict[str, tuple[dt.date, Decimal]]:
    """currency -> (day, rate) of the newest row of the warehouse's ``exchange_rates`` table (rates are
    reporting-currency units per unit of the currency, as budgets read them)."""
    if ws is None or not ws.engine.has_table("exchange_rates"):
        return {}
    t = ws.engine.table("exchange_rates")
    if not {"date", "currency", "rate"} <= set(t.columns):
        return {}
    newest = t.filter(t.rate.notnull() & t.currency.notnull() & t.date.notnull())
    newest = newest.group_by(newest.currency).aggregate(day=newest.date.max())
    rows = (t.join(newest, [t.currency == newest.currency, t.date == newest.day])
            .select(t.currency, t.date, t.rate).to_pyarrow().to_pylist())
    out: dict[str, tuple[dt.date, Decimal]] = {}
    for r in rows:
        day = r["date"].date() if isinstance(r["date"], dt.datetime) else r["date"]
        out[str(r["currency"]).upper()] = (day, Decimal(str(r["rate"])))
    return out


def parse_rates(items: list[str] | None) -> dict[str, Decimal]:
    """``["USD=0.92", "GBP=1.17"]`` -> rates; ValidationFailed names the item written wrongly.

    >>> parse_rates(["usd=0.92"])
    {'USD': Decimal('0.92')}
    """
    out = {}
    for item in items or []:
        code, _, value = item.partition("=")
        code = code.strip().upper()
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            rate = None
        if len(code) != 3 or not code.isalpha() or rate is None or not rate.is_finite() or rate <= 0:
            raise ValidationFailed(f"rate '{item}': write CURRENCY=RATE, e.g. USD=0.92 (reporting-currency units "
                                   f"per unit)")
        out[code] = rate
    return out


def audit_of(session: Session, ws: Any, *, today: dt.date | None = None,
             rates: Mapping[str, Any] | None = None, reporting_currency: str | None = None,
             now: dt.datetime | None = None) -> StackAudit:
    """The audit of the registry: costs converted with the warehouse's newest rates (``rates`` given by
    hand win), freshness from the load history (``ws`` None: no warehouse, nothing seen)."""
    known = {k: v for k, (_, v) in warehouse_rates(ws).items()}
    known.update({k.upper(): Decimal(str(v)) for k, v in (rates or {}).items()})
    reporting = reporting_currency or (ws.config.reporting_currency if ws is not None else "EUR")
    seen = systems_seen(ws.engine) if ws is not None else {}
    return audit_from(session, seen=seen, rates=known, reporting_currency=reporting, today=today, now=now)


def audit_from(session: Session, *, seen: Mapping[str, SystemSeen], rates: Mapping[str, Decimal],
               reporting_currency: str, today: dt.date | None = None, now: dt.datetime | None = None) -> StackAudit:
    """The audit with the warehouse's facts already read (what the web app caches between runs)."""
    tools = list_tools(session)
    flows = list_integrations(session)
    seen = dict(seen)
    inputs = [ToolInput(t.id, t.name, t.category, t.vendor, t.owner, t.cost_cents, t.cost_period, t.currency,
                        t.renewal_date, t.seats, t.active_users,
                        tool_freshness(t.systems or (), t.stale_days, seen, now)) for t in tools]
    return build_audit(inputs, [(f.source_id, f.target_id) for f in flows], rates, reporting_currency,
                       today=today or dt.date.today())
