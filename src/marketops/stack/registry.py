"""Create, change and remove tools and integrations of the martech registry, with validation that
names the field and what is allowed. Every change is audited (``stack.tool.create|update|delete``,
``stack.link|unlink`` on ``stack_tool:<id>``); the caller commits.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"  # a database of its own
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     hs = create_tool(s, ToolDraft(name="HubSpot", catalogue="HubSpot", cost="3200", currency="eur"), actor="cli")
    ...     sf = create_tool(s, ToolDraft(name="Salesforce", catalogue="Salesforce"), actor="cli")
    ...     flow = link(s, "hubspot", "Salesforce", object="contacts", method="native", frequency="realtime",
    ...                 actor="cli")
    ...     hs.category, hs.systems, hs.currency, hs.cost_cents, flow.target.name
    ('Marketing automation', ['hubspot'], 'EUR', 320000, 'Salesforce')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, did_you_mean, unknown_name
from marketops.stack.catalogue import SYSTEMS, find_entry
from marketops.state.audit import record
from marketops.state.stack import COST_PERIODS, FREQUENCIES, METHODS, StackIntegration, StackTool

#: The fields a tool draft can carry (and an update can change).
TOOL_FIELDS = ("name", "vendor", "category", "owner", "cost", "cost_period", "currency", "renewal_date", "seats",
               "active_users", "contract_notes", "goals", "systems", "stale_days")


@dataclass
class ToolDraft:
    """A tool as someone typed it. ``catalogue`` names a catalogue entry whose vendor, category and
    systems fill the fields left empty; ``cost`` is a number in ``currency`` per ``cost_period``."""

    name: str
    vendor: str = ""
    category: str = ""
    owner: str = ""
    cost: str | float | Decimal | None = None
    cost_period: str = "month"
    currency: str = "EUR"
    renewal_date: dt.date | str | None = None
    seats: int | None = None
    active_users: int | None = None
    contract_notes: str = ""
    goals: list[str] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    stale_days: int | None = None
    catalogue: str | None = None


def parse_cost(value: str | float | Decimal | None) -> int | None:
    """A cost as cents; None for blank. Refuses negative or unreadable amounts.

    >>> parse_cost("1,200.50"), parse_cost(99), parse_cost(""), parse_cost(None)
    (120050, 9900, None, None)
    >>> parse_cost("-5")
    Traceback (most recent call last):
    ...
    marketops.errors.ValidationFailed: cost: '-5' is negative; a cost is 0 or more
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().replace(",", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"cost: '{value}' is not a number (write e.g. 1200 or 1200.50)") from None
    if not amount.is_finite():
        raise ValidationFailed(f"cost: '{value}' is not a number (write e.g. 1200 or 1200.50)")
    if amount < 0:
        raise ValidationFailed(f"cost: '{value}' is negative; a cost is 0 or more")
    return int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _currency(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationFailed(f"currency: '{value}' is not an ISO 4217 code (three letters, e.g. EUR or USD)")
    return code


def _date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{what}: '{value}' is not a date (YYYY-MM-DD)") from None


def _count(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{what}: '{value}' is not a whole number") from None
    if number < 0:
        raise ValidationFailed(f"{what}: {number} is negative")
    return number


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    word = (value or "").strip().lower()
    if word not in allowed:
        raise ValidationFailed(f"{what}: '{value}'{did_you_mean(word, allowed)} is not one of {', '.join(allowed)}")
    return word


def _systems(values: list[str]) -> list[str]:
    out = []
    for v in values:
        word = v.strip().lower()
        if not word:
            continue
        if word not in SYSTEMS:
            raise ValidationFailed(f"system: unknown source system '{v}'{did_you_mean(word, SYSTEMS)}; "
                                   f"valid: {', '.join(SYSTEMS)}")
        if word not in out:
            out.append(word)
    return out


def _words(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _values(draft: ToolDraft) -> dict[str, Any]:
    """The draft's fields as validated column values (catalogue entries fill the blanks)."""
    name = (draft.name or "").strip()
    if not name:
        raise ValidationFailed("name: a tool needs a name")
    if len(name) > 200:
        raise ValidationFailed("name: at most 200 characters")
    vendor, category, systems = draft.vendor.strip(), draft.category.strip(), list(draft.systems)
    if draft.catalogue:
        entry = find_entry(draft.catalogue)
        vendor, category = vendor or entry.vendor, category or entry.category
        systems = systems or list(entry.systems)
    cost = parse_cost(draft.cost)
    seats, users = _count(draft.seats, "seats"), _count(draft.active_users, "active users")
    stale = _count(draft.stale_days, "stale after (days)")
    if stale == 0:
        raise ValidationFailed("stale after (days): at least 1 day")
    return {"name": name, "vendor": vendor[:200], "category": category[:100], "owner": draft.owner.strip()[:320],
            "cost_cents": cost, "cost_period": _choice(draft.cost_period or "month", COST_PERIODS, "cost period"),
            "currency": _currency(draft.currency or "EUR"), "renewal_date": _date(draft.renewal_date, "renewal date"),
            "seats": seats, "active_users": users, "contract_notes": draft.contract_notes.strip(),
            "goals": _words(draft.goals), "systems": _systems(systems), "stale_days": stale}


def _unique_name(session: Session, name: str, own_id: int | None = None) -> None:
    clash = session.scalar(select(StackTool).where(func.lower(StackTool.name) == name.lower()))
    if clash is not None and clash.id != own_id:
        raise ValidationFailed(f"name: a tool called '{clash.name}' is already in the registry (id {clash.id})")


def create_tool(session: Session, draft: ToolDraft, *, actor: str, ip: str | None = None) -> StackTool:
    """Add a tool to the registry (ValidationFailed names the field that is wrong)."""
    values = _values(draft)
    _unique_name(session, values["name"])
    tool = StackTool(**values, created_by=actor)
    session.add(tool)
    session.flush()
    record(session, actor, "stack.tool.create", f"stack_tool:{tool.id}", {"name": tool.name}, ip)
    return tool


def draft_of(tool: StackTool) -> ToolDraft:
    """The draft a saved tool would be created from (what an edit form starts with)."""
    return ToolDraft(name=tool.name, vendor=tool.vendor, category=tool.category, owner=tool.owner,
                     cost=None if tool.cost_cents is None else Decimal(tool.cost_cents) / 100,
                     cost_period=tool.cost_period, currency=tool.currency, renewal_date=tool.renewal_date,
                     seats=tool.seats, active_users=tool.active_users, contract_notes=tool.contract_notes,
                     goals=list(tool.goals or []), systems=list(tool.systems or []), stale_days=tool.stale_days)


def update_tool(session: Session, tool: StackTool, changes: dict[str, Any], *, actor: str,
                ip: str | None = None) -> StackTool:
    """Change the fields in ``changes`` (keys of :data:`TOOL_FIELDS`); the audit event lists what changed."""
    unknown = [k for k in changes if k not in TOOL_FIELDS]
    if unknown:
        raise ValidationFailed(f"unknown field '{unknown[0]}'{did_you_mean(unknown[0], TOOL_FIELDS)}; "
                               f"valid: {', '.join(TOOL_FIELDS)}")
    draft = draft_of(tool)
    for key, value in changes.items():
        setattr(draft, key, value)
    values = _values(draft)
    _unique_name(session, values["name"], tool.id)
    changed = {k: v for k, v in values.items() if getattr(tool, k) != v}
    for key, value in changed.items():
        setattr(tool, key, value)
    session.flush()
    if changed:
        record(session, actor, "stack.tool.update", f"stack_tool:{tool.id}",
               {"name": tool.name, "changed": sorted(changed)}, ip)
    return tool


def remove_tool(session: Session, tool: StackTool, *, actor: str, ip: str | None = None) -> None:
    """Remove a tool and every integration from or to it."""
    record(session, actor, "stack.tool.delete", f"stack_tool:{tool.id}",
           {"name": tool.name, "integrations": len(tool.outgoing) + len(tool.incoming)}, ip)
    session.delete(tool)
    session.flush()


def get_tool(session: Session, key: int | str) -> StackTool:
    """A tool by id or (case-insensitive) name; NotFound with "did you mean" otherwise."""
    text = str(key).strip()
    tool = session.get(StackTool, int(text)) if text.isdigit() else None
    if tool is None:
        tool = session.scalar(select(StackTool).where(func.lower(StackTool.name) == text.lower()))
    if tool is None:
        names = list(session.scalars(select(StackTool.name)))
        if not names:
            raise NotFound(f"no tool '{text}': the registry is empty", hint="add one with `marketops stack add`")
        raise unknown_name("tool", text, names)
    return tool


def list_tools(session: Session, *, category: str | None = None, owner: str | None = None,
               q: str | None = None) -> list[StackTool]:
    """Tools by category then name. ``owner='-'`` gives the tools nobody owns; ``q`` matches name or vendor."""
    query = select(StackTool)
    if category:
        query = query.where(func.lower(StackTool.category) == category.strip().lower())
    if owner == "-":
        query = query.where(StackTool.owner == "")
    elif owner:
        query = query.where(func.lower(StackTool.owner).contains(owner.strip().lower(), autoescape=True))
    if q:
        word = q.strip().lower()
        query = query.where(or_(func.lower(StackTool.name).contains(word, autoescape=True),
                                func.lower(StackTool.vendor).contains(word, autoescape=True)))
    return list(session.scalars(query.order_by(func.lower(StackTool.category), func.lower(StackTool.name))))


def link(session: Session, source: int | str, target: int | str, *, object: str, method: str = "native",
         frequency: str = "daily", notes: str = "", actor: str, ip: str | None = None) -> StackIntegration:
    """Record that ``object`` flows from one tool to another. A tool cannot integrate with itself; the
    same object between the same two tools is recorded once. Loops (A -> B -> A) are allowed: the
    audit names them."""
    src, dst = get_tool(session, source), get_tool(session, target)
    if src.id == dst.id:
        raise ValidationFailed(f"an integration joins two different tools; '{src.name}' cannot feed itself")
    what = (object or "").strip()
    if not what:
        raise ValidationFailed("object: say what flows (e.g. contacts, deals, conversions)")
    flow = StackIntegration(source_id=src.id, target_id=dst.id, object=what[:200],
                            method=_choice(method, METHODS, "method"),
                            frequency=_choice(frequency, FREQUENCIES, "sync frequency"), notes=notes.strip(),
                            created_by=actor)
    existing = session.scalar(select(StackIntegration).where(
        StackIntegration.source_id == src.id, StackIntegration.target_id == dst.id,
        func.lower(StackIntegration.object) == what.lower()))
    if existing is not None:
        raise ValidationFailed(f"{src.name} -> {dst.name} already carries '{existing.object}' (integration "
                               f"{existing.id})")
    session.add(flow)
    session.flush()
    session.refresh(flow)
    record(session, actor, "stack.link", f"stack_tool:{src.id}",
           {"integration": flow.id, "from": src.name, "to": dst.name, "object": flow.object}, ip)
    return flow


def get_integration(session: Session, integration_id: int) -> StackIntegration:
    flow = session.get(StackIntegration, integration_id)
    if flow is None:
        raise NotFound(f"no integration {integration_id}", hint="`marketops stack map` lists them with their ids")
    return flow


def unlink(session: Session, flow: StackIntegration, *, actor: str, ip: str | None = None) -> None:
    """Remove one integration."""
    record(session, actor, "stack.unlink", f"stack_tool:{flow.source_id}",
           {"integration": flow.id, "from": flow.source.name, "to": flow.target.name, "object": flow.object}, ip)
    session.delete(flow)
    session.flush()


def list_integrations(session: Session) -> list[StackIntegration]:
    """Every integration, by source then target name."""
    flows = list(session.scalars(select(StackIntegration)))
    return sorted(flows, key=lambda f: (f.source.name.lower(), f.target.name.lower(), f.object.lower()))


def money(cents: int | None) -> Decimal | None:
    """Cents as a Decimal amount.

    >>> money(120050), money(None)
    (Decimal('1200.5'), None)
    """
    return None if cents is None else Decimal(cents) / 100


def tool_json(tool: StackTool) -> dict[str, Any]:
    """A tool as the API and ``--json`` show it (cost as a decimal string in the tool's currency)."""
    cost = money(tool.cost_cents)
    return {"id": tool.id, "name": tool.name, "vendor": tool.vendor, "category": tool.category, "owner": tool.owner,
            "cost": None if cost is None else str(cost.quantize(Decimal("0.01"))), "cost_period": tool.cost_period,
            "currency": tool.currency, "renewal_date": tool.renewal_date, "seats": tool.seats,
            "active_users": tool.active_users, "contract_notes": tool.contract_notes, "goals": list(tool.goals or []),
            "systems": list(tool.systems or []), "stale_days": tool.stale_days, "created_by": tool.created_by,
            "created_at": tool.created_at, "updated_at": tool.updated_at}


def integration_json(flow: StackIntegration) -> dict[str, Any]:
    return {"id": flow.id, "from_id": flow.source_id, "from": flow.source.name, "to_id": flow.target_id,
            "to": flow.target.name, "object": flow.object, "method": flow.method, "frequency": flow.frequency,
            "notes": flow.notes}
