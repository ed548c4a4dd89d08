"""Budget lines: the planned spend of one month on a channel or an ad platform (optionally one
campaign), in the reporting currency, one line per month and scope.

What a line may name is checked against the workspace (:class:`BudgetContext`): a channel must
be one the data or the workspace's channel rules know (or a GA4 default channel group), a
platform one the ad data or marketops knows; amounts in another currency are converted with the
workspace's exchange rates when they cover the month, else refused. Every change is audited
(target ``budget:<id>``); setting a line to what it already is changes nothing.

Example:
    >>> from decimal import Decimal
    >>> from marketops.state.db import init_db, session_scope
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"
    >>> _ = init_db(url)
    >>> ctx = BudgetContext(reporting_currency="EUR", channels=("Paid Search",), platforms=("google_ads",))
    >>> with session_scope(url) as s:
    ...     r = set_line(s, ctx, "2026-12", "12 000", channel="paid search", actor="ana@acme.test")
    ...     again = set_line(s, ctx, "2026-12", "12000.00", channel="Paid Search", actor="ana@acme.test")
    ...     (r.status, r.line.channel, r.line.amount_cents, again.status)
    ('created', 'Paid Search', 1200000, 'unchanged')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed, did_you_mean
from marketops.metrics.query import PLATFORM_CHANNELS
from marketops.plan.budget_amounts import parse_amount
from marketops.state.audit import record
from marketops.state.planning import BudgetLine

if TYPE_CHECKING:
    from marketops.workspace import Workspace

CENT = Decimal("0.01")
MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
RATES_HINT = ("load an exchange-rates export (columns date, currency, rate: {reporting} per unit of {currency}) "
              "with a rate dated in {month}: drop it in the inbox and `marketops run`")


class BudgetRefused(ValidationFailed):
    """A budget line that cannot be accepted; ``column`` names the field that is wrong."""

    def __init__(self, message: str, column: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.hint = hint


@dataclass(frozen=True)
class BudgetContext:
    """What the workspace allows a budget line to name, and the rates that convert currencies.

    ``rates``: currency -> [(day, rate)] sorted by day (reporting-currency units per unit).
    """

    reporting_currency: str
    channels: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    rates: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)
    #: Channels seen in the data and in the channel rules (what messages list as valid).
    data_channels: tuple[str, ...] = ()


def budget_context(ws: Workspace) -> BudgetContext:
    """The context of ``ws``: channels in its data and rules, platforms in its ad data, its rates."""
    from marketops.quality.channels import CHANNELS

    eng = ws.engine
    seen: set[str] = {r.channel for r in ws.config.channels}
    for table, column in (("web_traffic", "channel_group"), ("touchpoints", "channel_group")):
        if eng.has_table(table) and column in eng.table(table).columns:
            t = eng.table(table)
            seen |= {v for v in t.select(column).distinct().to_pyarrow().column(0).to_pylist() if v}
    platforms: set[str] = set()
    if eng.has_table("ad_spend") and "platform" in eng.table("ad_spend").columns:
        t = eng.table("ad_spend")
        platforms = {str(v).lower() for v in t.select("platform").distinct().to_pyarrow().column(0).to_pylist() if v}
        seen |= {PLATFORM_CHANNELS.get(p, "Paid Other") for p in platforms}
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    if eng.has_table("exchange_rates"):
        for r in eng.table("exchange_rates").select("date", "currency", "rate").to_pyarrow().to_pylist():
            if r["currency"] and r["rate"] is not None and r["date"] is not None:
                day = r["date"].date() if hasattr(r["date"], "date") and not isinstance(r["date"], date) else r["date"]
                rates.setdefault(str(r["currency"]).upper(), []).append((day, Decimal(str(r["rate"]))))
    return BudgetContext(reporting_currency=ws.config.reporting_currency.upper(),
                         channels=tuple(sorted(seen | set(CHANNELS))),
                         platforms=tuple(sorted(platforms | set(PLATFORM_CHANNELS))),
                         rates={c: sorted(v) for c, v in rates.items()},
                         data_channels=tuple(sorted(seen)))


# -- checking what a line names ---------------------------------------------------------------------

def parse_month(text: str | date) -> date:
    """The first day of the month written ``YYYY-MM``.

    >>> parse_month("2026-3")
    datetime.date(2026, 3, 1)
    >>> parse_month("03/2026")
    Traceback (most recent call last):
    ...
    marketops.plan.budget_lines.BudgetRefused: month '03/2026' is not a month written YYYY-MM, e.g. 2026-12
    """
    if isinstance(text, date):
        return text.replace(day=1)
    m = MONTH_RE.match(str(text or ""))
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise BudgetRefused(f"month '{text}' is not a month written YYYY-MM, e.g. 2026-12", "month")
    return date(int(m.group(1)), int(m.group(2)), 1)


def _choose(kind: str, value: str, valid: Sequence[str], listed: Sequence[str], column: str) -> str:
    for v in valid:
        if v.lower() == value.strip().lower():
            return v
    if kind == "channel":
        known = (f"channels in your data and channel rules: {', '.join(listed)}" if listed
                 else f"no channel in your data yet; valid: {', '.join(valid)}")
        hint = ("channels come from your data and the `channels:` rules of marketops.yaml; GA4's default channel "
                "groups are accepted too")
    else:
        known, hint = f"known platforms: {', '.join(listed)}", None
    raise BudgetRefused(f"unknown {kind} '{value}'{did_you_mean(value.strip(), valid)}; {known}", column, hint)


def _campaign(value: str) -> str:
    from marketops.quality.normalise_utm import utm_value

    out = utm_value(value)
    if out.value is None:
        raise BudgetRefused(f"campaign '{value}' is not a campaign name: {out.reason}", "campaign")
    return str(out.value)


@dataclass(frozen=True)
class Scope:
    """What a line plans: a channel or a platform, optionally one campaign of it."""

    channel: str | None = None
    platform: str | None = None
    campaign: str | None = None

    @property
    def label(self) -> str:
        """``Paid Search``, ``google_ads``, ``google_ads / brand_search``."""
        return " / ".join(p for p in (self.channel or self.platform, self.campaign) if p)

    @property
    def channel_group(self) -> str:
        """The channel the scope's spend belongs to."""
        return self.channel or PLATFORM_CHANNELS.get((self.platform or "").lower(), "Paid Other")


def check_scope(ctx: BudgetContext, channel: str | None, platform: str | None, campaign: str | None) -> Scope:
    """The scope as stored (channel spelled as the data spells it, platform lowercased, campaign
    cleaned as ad data's campaigns are), or BudgetRefused."""
    channel = (channel or "").strip() or None
    platform = (platform or "").strip() or None
    campaign = (campaign or "").strip() or None
    if channel is None and platform is None:
        raise BudgetRefused("a budget line needs a channel (e.g. 'Paid Search') or an ad platform "
                            "(e.g. google_ads)", "channel")
    if platform is not None:
        platform = _choose("platform", platform, ctx.platforms, ctx.platforms, "platform").lower()
    if channel is not None:
        channel = _choose("channel", channel, ctx.channels, ctx.data_channels, "channel")
    if channel and platform:
        belongs = PLATFORM_CHANNELS.get(platform, "Paid Other")
        if belongs != channel:
            raise BudgetRefused(f"platform {platform} spends in channel '{belongs}', not '{channel}': give the "
                                "platform alone, or its own channel", "platform")
        channel = None  # the platform says it all, and one scope has one spelling
    return Scope(channel, platform, _campaign(campaign) if campaign else None)


def negative(text: str) -> BudgetRefused:
    return BudgetRefused(f"the amount {text} is negative: a budget is what you plan to spend, 0 or more", "amount")


def check_amount(ctx: BudgetContext, month: date, amount: str | Decimal | float,
                 currency: str | None, written_as: str | None = None) -> tuple[int, str | None]:
    """The amount in cents of the reporting currency, and a note when it was converted
    (``written_as``: the amount as the user wrote it, for messages)."""
    parsed = parse_amount(amount)
    if parsed.amount is None:
        what = "is empty" if parsed.blank else f"'{parsed.text}' is not {parsed.expected()}"
        raise BudgetRefused(f"the amount {what}", "amount")
    if parsed.amount < 0:
        raise negative(written_as or parsed.text)
    written = (currency or "").strip().upper() or None
    if written and parsed.currency and written != parsed.currency:
        raise BudgetRefused(f"the amount '{parsed.text}' is in {parsed.currency} but the currency says {written}",
                            "currency")
    code = written or parsed.currency or ctx.reporting_currency
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise BudgetRefused(f"currency '{code}' is not an ISO 4217 code such as EUR or USD", "currency")
    if code == ctx.reporting_currency:
        return int(parsed.amount * 100), None
    in_month = [(d, r) for d, r in ctx.rates.get(code, []) if d.year == month.year and d.month == month.month]
    if not in_month:
        raise BudgetRefused(
            f"the budget is in {code} but reports are in {ctx.reporting_currency}, and the exchange-rates table has "
            f"no {code} rate dated in {month:%Y-%m} to convert it with", "currency",
            hint=RATES_HINT.format(reporting=ctx.reporting_currency, currency=code, month=f"{month:%Y-%m}"))
    day, rate = in_month[0]
    converted = (parsed.amount * rate).quantize(CENT, ROUND_HALF_UP)
    note = (f"converted {parsed.amount:,.2f} {code} to {converted:,.2f} {ctx.reporting_currency} at {rate} "
            f"(the {code} rate of {day.isoformat()} in the exchange-rates table)")
    return int(converted * 100), note


# -- changing lines -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SetResult:
    line: BudgetLine
    #: created, updated or unchanged
    status: str
    #: How a foreign amount was converted (None when it was in the reporting currency).
    conversion: str | None = None

    @property
    def message(self) -> str:
        line = self.line
        verb = {"created": "Set", "updated": "Updated", "unchanged": "Unchanged:"}[self.status]
        text = (f"{verb} the {line.month:%Y-%m} budget of {scope_of(line).label}: "
                f"{Decimal(line.amount_cents) / 100:,.2f} {line.currency}")
        return text + (f"; {self.conversion}" if self.conversion else "")


def scope_of(line: BudgetLine) -> Scope:
    return Scope(line.channel, line.platform, line.campaign)


def find_line(session: Session, month: date, scope: Scope) -> BudgetLine | None:
    """The line of ``month`` and ``scope`` (NULL parts compared as NULL)."""
    query = select(BudgetLine).where(BudgetLine.month == month)
    for column, value in ((BudgetLine.channel, scope.channel), (BudgetLine.platform, scope.platform),
                          (BudgetLine.campaign, scope.campaign)):
        query = query.where(column.is_(None) if value is None else column == value)
    return session.scalars(query.order_by(BudgetLine.id)).first()


def line_json(line: BudgetLine) -> dict[str, Any]:
    """A line as the API and ``--json`` show it (amount as an exact decimal string)."""
    return {"id": line.id, "month": f"{line.month:%Y-%m}", "scope": scope_of(line).label, "channel": line.channel,
            "platform": line.platform, "campaign": line.campaign,
            "amount": str((Decimal(line.amount_cents) / 100).quantize(CENT)), "currency": line.currency, "note": line.note,
            "created_by": line.created_by,
            "updated_at": line.updated_at.isoformat() if line.updated_at else None}


def set_line(session: Session, ctx: BudgetContext, month: str | date, amount: str | Decimal | float, *,
             channel: str | None = None, platform: str | None = None, campaign: str | None = None,
             currency: str | None = None, note: str | None = None, actor: str, ip: str | None = None,
             written_as: str | None = None) -> SetResult:
    """Create or update the line of ``month`` and the scope; BudgetRefused says what is wrong
    (``written_as``: the amount as the user wrote it, when ``amount`` is already parsed)."""
    first = parse_month(month)
    scope = check_scope(ctx, channel, platform, campaign)
    cents, conversion = check_amount(ctx, first, amount, currency, written_as)
    note = (note or "").strip()[:2000]
    if conversion:
        note = (note + " · " if note else "") + conversion
    line = find_line(session, first, scope)
    if line is None:
        line = BudgetLine(month=first, channel=scope.channel, platform=scope.platform, campaign=scope.campaign,
                          amount_cents=cents, currency=ctx.reporting_currency, note=note, created_by=actor)
        session.add(line)
        session.flush()
        record(session, actor, "budget.create", f"budget:{line.id}",
               {"month": f"{first:%Y-%m}", "scope": scope.label, "amount_cents": cents,
                **({"conversion": conversion} if conversion else {})}, ip)
        return SetResult(line, "created", conversion)
    if line.amount_cents == cents and (not note or line.note == note):
        return SetResult(line, "unchanged", conversion)
    before = line.amount_cents
    line.amount_cents = cents
    if note:
        line.note = note
    session.flush()
    record(session, actor, "budget.update", f"budget:{line.id}",
           {"month": f"{first:%Y-%m}", "scope": scope.label, "from_cents": before, "amount_cents": cents,
            **({"conversion": conversion} if conversion else {})}, ip)
    return SetResult(line, "updated", conversion)


def get_line(session: Session, line_id: int) -> BudgetLine:
    line = session.get(BudgetLine, line_id)
    if line is None:
        raise NotFound(f"no budget line {line_id}", hint="`marketops budget list` shows the lines and their ids")
    return line


def remove_line(session: Session, line_id: int, *, actor: str, ip: str | None = None) -> BudgetLine:
    """Delete a line (audited with what it held)."""
    line = get_line(session, line_id)
    record(session, actor, "budget.delete", f"budget:{line.id}",
           {"month": f"{line.month:%Y-%m}", "scope": scope_of(line).label, "amount_cents": line.amount_cents}, ip)
    session.delete(line)
    session.flush()
    return line


def find_by_scope(session: Session, ctx: BudgetContext, month: str | date, *, channel: str | None = None,
                  platform: str | None = None, campaign: str | None = None) -> BudgetLine:
    """The line of a month and scope, or NotFound."""
    first = parse_month(month)
    scope = check_scope(ctx, channel, platform, campaign)
    line = find_line(session, first, scope)
    if line is None:
        raise NotFound(f"no {first:%Y-%m} budget line for {scope.label}")
    return line


def list_lines(session: Session, month: str | date | None = None) -> list[BudgetLine]:
    """Lines of ``month`` (every month when None), by month then scope."""
    query = select(BudgetLine)
    if month is not None:
        query = query.where(BudgetLine.month == parse_month(month))
    lines = list(session.scalars(query))
    return sorted(lines, key=lambda x: (x.month, scope_of(x).channel_group, scope_of(x).label.lower(), x.id))


def total_cents(lines: Iterable[BudgetLine]) -> int:
    return sum(line.amount_cents for line in lines)
