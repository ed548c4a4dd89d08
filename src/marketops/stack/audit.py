"""The stack audit: what each tool costs per month in the reporting currency and per active user,
how much of what is paid for is used, where tools overlap, which renewals come in the next 90 days,
which tools nobody owns or no data flows through, the total by category, and the integration loops
where data may bounce and overwrite.

Money: each tool's cost is in its own currency per month or year; annual costs count a twelfth per
month. A currency other than the reporting currency needs a rate (reporting-currency units per unit,
the newest of the warehouse's ``exchange_rates`` or one given by hand): without one the cost is shown
unconverted, listed as such, and never summed into a total.

Example:
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> hs = ToolInput(1, "HubSpot", "Marketing automation", owner="Ana", cost_cents=300000, currency="EUR",
    ...                seats=10, active_users=8)
    >>> mc = ToolInput(2, "Mailchimp", "Email", cost_cents=1200000, cost_period="year", currency="USD",
    ...                seats=4, active_users=1, renewal_date=date(2027, 1, 15))
    >>> dr = ToolInput(3, "Drift", "Chat", owner="Bo", cost_cents=50000, currency="CHF")
    >>> a = build_audit([hs, mc, dr], [(1, 2), (2, 1)], {"USD": Decimal("0.9")}, "EUR", today=date(2026, 12, 7))
    >>> a.total_monthly, [(t.name, t.monthly_reporting, t.cost_per_user) for t in a.tools]
    (Decimal('3900.00'), [('Drift', None, None), ('HubSpot', Decimal('3000.00'), Decimal('375.00')), ('Mailchimp', Decimal('900.00'), Decimal('900.00'))])
    >>> a.unconverted, a.no_owner, a.no_data_flow, [r.name for r in a.renewals], a.cycles
    (['Drift'], ['Mailchimp'], ['Drift'], ['Mailchimp'], [['HubSpot', 'Mailchimp']])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marketops.stack.freshness import Freshness

CENT = Decimal("0.01")
#: Renewals within this many days are listed; within RENEWAL_SOON they are a warning.
RENEWAL_WINDOW = 90
RENEWAL_SOON = 30
#: Active users / seats below this share: the tool is underused.
UNDERUSED = 0.5
#: Categories where several tools are the norm, not an overlap: each ad platform is its own channel.
SEVERAL_EXPECTED = frozenset({"advertising", "social media"})
#: At most this many integration loops are named (a dense graph has very many).
MAX_CYCLES = 50


@dataclass(frozen=True)
class ToolInput:
    """What the audit needs of a registry tool (built from :class:`marketops.state.stack.StackTool`)."""

    id: int
    name: str
    category: str = ""
    vendor: str = ""
    owner: str = ""
    cost_cents: int | None = None
    cost_period: str = "month"
    currency: str = "EUR"
    renewal_date: dt.date | None = None
    seats: int | None = None
    active_users: int | None = None
    freshness: Freshness | None = None


@dataclass(frozen=True)
class ToolLine:
    """One tool's row of the audit (money in the reporting currency unless said otherwise)."""

    id: int
    name: str
    category: str
    vendor: str
    owner: str
    currency: str
    #: The cost as recorded, in the tool's currency per ``cost_period``; None: no cost recorded.
    cost: Decimal | None
    cost_period: str
    #: Per month in the tool's own currency.
    monthly_own: Decimal | None
    rate: Decimal | None
    monthly_reporting: Decimal | None
    annual_reporting: Decimal | None
    seats: int | None
    active_users: int | None
    utilisation: float | None
    cost_per_user: Decimal | None
    renewal_date: dt.date | None
    days_to_renewal: int | None
    integrations_in: int
    integrations_out: int
    freshness: str
    last_seen: dt.datetime | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    tools: tuple[str, ...]
    monthly: Decimal
    annual: Decimal
    #: Monthly costs that could not be converted: currency -> amount in that currency.
    unconverted: dict[str, Decimal] = field(default_factory=dict)

    @property
    def overlap(self) -> bool:
        return len(self.tools) > 1 and self.category.lower() not in SEVERAL_EXPECTED


@dataclass(frozen=True)
class Finding:
    """Something the audit wants a person to look at."""

    kind: str
    severity: str  # warning | info
    message: str
    tools: tuple[str, ...] = ()


@dataclass
class StackAudit:
    """The whole audit; :meth:`tables` gives its tables as rows for CSV/XLSX/HTML."""

    as_of: dt.date
    reporting_currency: str
    rates: dict[str, Decimal]
    tools: list[ToolLine]
    categories: list[CategoryTotal]
    overlaps: list[CategoryTotal]
    renewals: list[ToolLine]
    no_owner: list[str]
    no_data_flow: list[str]
    no_cost: list[str]
    unconverted: list[str]
    underused: list[str]
    cycles: list[list[str]]
    findings: list[Finding]
    total_monthly: Decimal
    total_annual: Decimal

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """The audit's tables: tools, categories, renewals, findings."""
        tools = [{**{k: v for k, v in asdict(t).items() if k != "flags"}, "flags": ", ".join(t.flags)}
                 for t in self.tools]
        categories = [{"category": c.category, "tools": ", ".join(c.tools), "count": len(c.tools),
                       "monthly": c.monthly, "annual": c.annual, "overlap": c.overlap,
                       "unconverted": "; ".join(f"{v} {k}" for k, v in sorted(c.unconverted.items()))}
                      for c in self.categories]
        renewals = [{"name": t.name, "renewal_date": t.renewal_date, "days_to_renewal": t.days_to_renewal,
                     "owner": t.owner, "annual_reporting": t.annual_reporting, "cost": t.cost,
                     "currency": t.currency, "cost_period": t.cost_period, "utilisation": t.utilisation}
                    for t in self.renewals]
        findings = [{"kind": f.kind, "severity": f.severity, "message": f.message, "tools": ", ".join(f.tools)}
                    for f in self.findings]
        return {"tools": tools, "categories": categories, "renewals": renewals, "findings": findings}

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON-ready values; money as exact decimal strings ("4050.00")."""
        return _exact({"as_of": self.as_of, "reporting_currency": self.reporting_currency,
                "rates": {k: str(v) for k, v in self.rates.items()},
                "total_monthly": self.total_monthly, "total_annual": self.total_annual,
                "overlaps": [{"category": c.category, "tools": list(c.tools)} for c in self.overlaps],
                "no_owner": self.no_owner, "no_data_flow": self.no_data_flow, "no_cost": self.no_cost,
                "unconverted": self.unconverted, "underused": self.underused, "cycles": self.cycles,
                **self.tables()})


def _exact(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dict):
        return {k: _exact(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_exact(x) for x in v]
    return v


#: Columns of each audit table, in order (downloads with no rows still have them).
TABLE_COLUMNS = {
    "tools": ["id", "name", "category", "vendor", "owner", "currency", "cost", "cost_period", "monthly_own", "rate",
              "monthly_reporting", "annual_reporting", "seats", "active_users", "utilisation", "cost_per_user",
              "renewal_date", "days_to_renewal", "integrations_in", "integrations_out", "freshness", "last_seen",
              "flags"],
    "categories": ["category", "tools", "count", "monthly", "annual", "overlap", "unconverted"],
    "renewals": ["name", "renewal_date", "days_to_renewal", "owner", "annual_reporting", "cost", "currency",
                 "cost_period", "utilisation"],
    "findings": ["kind", "severity", "message", "tools"],
}


def simple_cycles(edges: Iterable[tuple[Any, Any]], limit: int = MAX_CYCLES) -> list[list[Any]]:
    """The loops of a directed graph, each once, starting at its smallest node (self-loops ignored).

    >>> simple_cycles([(1, 2), (2, 3), (3, 1), (2, 1), (4, 4)])
    [[1, 2], [1, 2, 3]]
    """
    graph: dict[Any, set[Any]] = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
    nodes = sorted(set(graph) | {b for v in graph.values() for b in v})
    order = {n: i for i, n in enumerate(nodes)}
    found: list[list[Any]] = []
    budget = 200_000  # steps: a pathological graph ends the search, not the request
    for start in nodes:
        stack = [(start, iter(sorted(graph.get(start, ()), key=order.get)))]
        path = [start]
        on_path = {start}
        while stack and budget > 0:
            budget -= 1
            node, neighbours = stack[-1]
            nxt = next(neighbours, None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            if nxt == start:
                found.append(list(path))
                if len(found) >= limit:
                    return sorted(found, key=lambda c: (len(c), [order[n] for n in c]))
            elif order[nxt] > order[start] and nxt not in on_path:
                path.append(nxt)
                on_path.add(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ()), key=order.get))))
    return sorted(found, key=lambda c: (len(c), [order[n] for n in c]))


def _money(v: Decimal | None) -> Decimal | None:
    return None if v is None else v.quantize(CENT, ROUND_HALF_UP)


def _line(t: ToolInput, rates: Mapping[str, Decimal], reporting: str, today: dt.date, ins: int,
          outs: int) -> ToolLine:
    cost = None if t.cost_cents is None else Decimal(t.cost_cents) / 100
    monthly_own = None if cost is None else (cost / 12 if t.cost_period == "year" else cost)
    rate = Decimal(1) if t.currency == reporting else rates.get(t.currency)
    monthly = None if monthly_own is None or rate is None else monthly_own * rate
    users, seats = t.active_users, t.seats
    utilisation = round(users / seats, 4) if users is not None and seats else None
    per_user = monthly / users if monthly is not None and users else None
    days = (t.renewal_date - today).days if t.renewal_date else None
    fresh = t.freshness
    flags = []
    if cost is None:
        flags.append("no cost recorded")
    elif rate is None:
        flags.append(f"no {t.currency} rate")
    if not t.owner.strip():
        flags.append("no owner")
    if not ins and not outs:
        flags.append("no data flow")
    if utilisation is not None and utilisation < UNDERUSED:
        flags.append("underused")
    if users is not None and seats is not None and users > seats:
        flags.append("more users than seats")
    if users == 0 and cost:
        flags.append("nobody uses it")
    if days is not None and 0 <= days <= RENEWAL_WINDOW:
        flags.append(f"renews in {days} days")
    if days is not None and days < 0:
        flags.append("renewal date passed")
    if fresh is not None and fresh.status in ("stale", "no_data"):
        flags.append("data stale" if fresh.status == "stale" else "no data seen")
    return ToolLine(t.id, t.name, t.category, t.vendor, t.owner, t.currency, _money(cost), t.cost_period,
                    _money(monthly_own), rate if t.currency != reporting else None, _money(monthly),
                    _money(monthly * 12) if monthly is not None else None, seats, users, utilisation,
                    _money(per_user), t.renewal_date, days, ins, outs,
                    fresh.status if fresh else "not_linked", fresh.last_seen if fresh else None, tuple(flags))


def build_audit(tools: Iterable[ToolInput], edges: Iterable[tuple[int, int]], rates: Mapping[str, Decimal],
                reporting_currency: str, *, today: dt.date) -> StackAudit:
    """The audit of ``tools`` with integrations ``edges`` (source id, target id) at ``today``."""
    tools = sorted(tools, key=lambda t: t.name.lower())
    edges = list(edges)
    reporting = reporting_currency.upper()
    rates = {k.upper(): Decimal(v) for k, v in rates.items()}
    ins = {t.id: sum(1 for _, b in edges if b == t.id) for t in tools}
    outs = {t.id: sum(1 for a, _ in edges if a == t.id) for t in tools}
    lines = [_line(t, rates, reporting, today, ins[t.id], outs[t.id]) for t in tools]
    by_category: dict[str, list[ToolLine]] = {}
    for line in lines:
        by_category.setdefault(line.category or "(no category)", []).append(line)
    categories = []
    for name, members in by_category.items():
        unconverted: dict[str, Decimal] = {}
        for m in members:
            if m.monthly_own is not None and m.monthly_reporting is None:
                unconverted[m.currency] = unconverted.get(m.currency, Decimal(0)) + m.monthly_own
        monthly = sum((m.monthly_reporting for m in members if m.monthly_reporting is not None), Decimal(0))
        categories.append(CategoryTotal(name, tuple(m.name for m in members), _money(monthly),
                                        _money(monthly * 12), {k: _money(v) for k, v in unconverted.items()}))
    categories.sort(key=lambda c: (-c.monthly, c.category.lower()))
    names = {t.id: t.name for t in tools}
    cycles = [[names[n] for n in c] for c in simple_cycles((a, b) for a, b in edges if a in names and b in names)]
    renewals = sorted((t for t in lines if t.days_to_renewal is not None and 0 <= t.days_to_renewal <= RENEWAL_WINDOW),
                      key=lambda t: (t.days_to_renewal, t.name.lower()))
    audit = StackAudit(
        as_of=today, reporting_currency=reporting, rates=rates, tools=lines, categories=categories,
        overlaps=[c for c in categories if c.overlap and c.category != "(no category)"], renewals=renewals,
        no_owner=[t.name for t in lines if "no owner" in t.flags],
        no_data_flow=[t.name for t in lines if "no data flow" in t.flags],
        no_cost=[t.name for t in lines if t.cost is None],
        unconverted=[t.name for t in lines if t.cost is not None and t.monthly_reporting is None],
        underused=[t.name for t in lines if "underused" in t.flags],
        cycles=cycles, findings=[],
        total_monthly=_money(sum((t.monthly_reporting for t in lines if t.monthly_reporting is not None), Decimal(0))),
        total_annual=Decimal(0))
    audit.total_annual = _money(audit.total_monthly * 12)
    audit.findings = _findings(audit)
    return audit


def _findings(a: StackAudit) -> list[Finding]:
    out = []
    for t in a.renewals:
        soon = t.days_to_renewal <= RENEWAL_SOON
        use = f", {t.utilisation:.0%} of seats used" if t.utilisation is not None else ""
        out.append(Finding("renewal", "warning" if soon else "info",
                           f"{t.name} renews on {t.renewal_date.isoformat()} (in {t.days_to_renewal} days){use}: "
                           f"decide before the notice period ends", (t.name,)))
    for c in a.overlaps:
        out.append(Finding("overlap", "warning", f"{len(c.tools)} tools in {c.category}: {', '.join(c.tools)}; "
                           f"could one do the job?", c.tools))
    for cycle in a.cycles:
        ring = " -> ".join([*cycle, cycle[0]])
        out.append(Finding("loop", "warning", f"Integration loop {ring}: data may bounce and overwrite; make sure "
                           f"one side wins for each field", tuple(cycle)))
    for name in a.no_owner:
        out.append(Finding("no_owner", "warning", f"{name} has no owner: nobody answers for its cost and use",
                           (name,)))
    for name in a.no_data_flow:
        out.append(Finding("no_data_flow", "info", f"{name} has no integration: its data flows nowhere", (name,)))
    for name in a.unconverted:
        t = next(t for t in a.tools if t.name == name)
        out.append(Finding("no_rate", "warning", f"{name} costs {t.cost} {t.currency} per {t.cost_period} but there "
                           f"is no {t.currency} -> {a.reporting_currency} rate: shown unconverted, left out of the "
                           f"totals", (name,)))
    for name in a.no_cost:
        out.append(Finding("no_cost", "info", f"{name}: no cost recorded (left out of cost per user)", (name,)))
    for t in a.tools:
        if "underused" in t.flags:
            out.append(Finding("underused", "warning", f"{t.name}: {t.active_users} active users of {t.seats} "
                               f"seats ({t.utilisation:.0%})", (t.name,)))
        if t.freshness == "stale":
            out.append(Finding("stale", "warning", f"{t.name}: no new data since {t.last_seen:%Y-%m-%d}",
                               (t.name,)))
        if t.freshness == "no_data":
            out.append(Finding("no_data", "info", f"{t.name}: linked to a source, but no data loaded yet",
                               (t.name,)))
    return out
