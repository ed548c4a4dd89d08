"""A reallocation hint: move part of a month's budget from channels whose attributed ROAS is
clearly worse towards the channel whose attributed ROAS is best. Only a suggestion: nothing is
ever changed by it.

The rules, in plain words:

- A channel's **attributed ROAS** is the revenue the attribution model (the workspace's default,
  or the one asked for) credits it with, per unit of its ad spend, over all the loaded data
  (:func:`marketops.attribution.report.channel_report`).
- A channel is **judged** only when it has a budget in the month, spend, and at least
  :data:`MIN_CONVERSIONS` credited conversions; fewer is too thin to tell luck from skill.
- With fewer than two judged channels there is no hint, and the answer says why.
- A judged channel **gives** when the best judged channel's ROAS is at least
  :data:`CLEARLY_BETTER` times its own; it gives at most ``cap`` (default 20 %) of its plan.
- The expected gain is the moved amount times the difference in ROAS: an upper bound, since a
  channel's returns usually fall as it spends more.

Example:
    >>> from decimal import Decimal as D
    >>> from datetime import date
    >>> plans = {"Paid Social": D("10000"), "Email": D("2000")}
    >>> returns = {"Paid Social": ChannelReturn(D("50000"), D("40000"), D("40")),
    ...            "Email": ChannelReturn(D("5000"), D("21000"), D("60"))}
    >>> r = reallocate(date(2026, 3, 1), plans, returns, model="linear", currency="EUR")
    >>> [(m.giver, m.receiver, m.amount, m.expected_gain) for m in r.moves]
    [('Paid Social', 'Email', Decimal('2000.00'), Decimal('6800.00'))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from marketops.plan.budget_lines import scope_of
from marketops.state.planning import BudgetLine

if TYPE_CHECKING:
    from marketops.workspace import Workspace

CENT = Decimal("0.01")
#: How many times better the best ROAS must be than a channel's for that channel to give budget.
CLEARLY_BETTER = Decimal("1.5")
#: Credited conversions a channel needs before its ROAS is judged.
MIN_CONVERSIONS = Decimal(5)
#: The most of a giving channel's plan a hint moves.
DEFAULT_CAP = 0.20


@dataclass(frozen=True)
class ChannelReturn:
    """What a channel spent and was credited with over the loaded data."""

    spend: Decimal | None
    revenue: Decimal
    conversions: Decimal

    @property
    def roas(self) -> Decimal | None:
        return self.revenue / self.spend if self.spend else None


@dataclass(frozen=True)
class ChannelView:
    """One budgeted channel as the hint saw it."""

    channel: str
    planned: Decimal
    spend: Decimal | None
    revenue: Decimal
    conversions: Decimal
    roas: Decimal | None
    judged: bool
    #: Why a channel was left out of the comparison (None when judged).
    note: str | None = None

    def to_json(self) -> dict:
        return {"channel": self.channel, "planned": str(self.planned),
                "spend": None if self.spend is None else str(self.spend.quantize(CENT)),
                "revenue": str(self.revenue.quantize(CENT)), "conversions": str(self.conversions),
                "roas": None if self.roas is None else str(self.roas.quantize(CENT, ROUND_HALF_UP)),
                "judged": self.judged, "note": self.note}


@dataclass(frozen=True)
class Move:
    giver: str
    receiver: str
    amount: Decimal
    giver_roas: Decimal
    receiver_roas: Decimal
    expected_gain: Decimal
    reason: str

    def to_json(self) -> dict:
        return {"from": self.giver, "to": self.receiver, "amount": str(self.amount),
                "from_roas": str(self.giver_roas.quantize(CENT, ROUND_HALF_UP)),
                "to_roas": str(self.receiver_roas.quantize(CENT, ROUND_HALF_UP)),
                "expected_gain": str(self.expected_gain), "reason": self.reason}


@dataclass(frozen=True)
class Reallocation:
    month: date
    model: str
    currency: str
    cap: float
    channels: list[ChannelView] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    #: The reasoning in plain words: why these moves, or why no hint.
    reasoning: str = ""

    @property
    def has_hint(self) -> bool:
        return bool(self.moves)

    def to_json(self) -> dict:
        return {"month": f"{self.month:%Y-%m}", "model": self.model, "currency": self.currency, "cap": self.cap,
                "suggestion": bool(self.moves), "reasoning": self.reasoning,
                "moves": [m.to_json() for m in self.moves], "channels": [c.to_json() for c in self.channels],
                "applied": False}


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def reallocate(month: date, plans: Mapping[str, Decimal], returns: Mapping[str, ChannelReturn], *, model: str,
               currency: str, cap: float = DEFAULT_CAP) -> Reallocation:
    """The hint for ``month`` from each channel's plan and attributed returns (see the module)."""
    if not 0 < cap <= 1:
        raise ValueError("the cap is a share of the giving channel's plan, between 0 and 1 (0.2 = 20%)")
    views = []
    for channel, planned in sorted(plans.items()):
        ret = returns.get(channel)
        if ret is None or not ret.spend:
            views.append(ChannelView(channel, planned, ret.spend if ret else None, ret.revenue if ret else Decimal(0),
                                     ret.conversions if ret else Decimal(0), None, False,
                                     "no ad spend in the loaded data, so no ROAS"))
        elif ret.conversions < MIN_CONVERSIONS:
            views.append(ChannelView(channel, planned, ret.spend, ret.revenue, ret.conversions, ret.roas, False,
                                     f"only {ret.conversions:.1f} credited conversions: too few to judge "
                                     f"(at least {MIN_CONVERSIONS} needed)"))
        elif planned <= 0:
            views.append(ChannelView(channel, planned, ret.spend, ret.revenue, ret.conversions, ret.roas, False,
                                     "no budget this month"))
        else:
            views.append(ChannelView(channel, planned, ret.spend, ret.revenue, ret.conversions, ret.roas, True))
    judged = [v for v in views if v.judged]
    out = Reallocation(month, model, currency, cap, views)
    if not plans:
        return _with(out, f"No hint: there is no budget for {month:%Y-%m} to reallocate. Set budget lines first.")
    if len(judged) < 2:
        left = "; ".join(f"{v.channel}: {v.note}" for v in views if not v.judged)
        return _with(out, f"No hint: the data is too thin. A hint compares at least two budgeted channels with spend "
                          f"and at least {MIN_CONVERSIONS} credited conversions each; {len(judged)} qualify"
                          + (f" ({left})." if left else "."))
    best = max(judged, key=lambda v: (v.roas, v.channel))
    givers = [v for v in judged if v is not best and v.roas * CLEARLY_BETTER <= best.roas]
    if not givers:
        worst = min(judged, key=lambda v: v.roas)
        return _with(out, f"No hint: under the {model} model the budgeted channels' attributed ROAS ranges from "
                          f"{worst.roas:.2f} ({worst.channel}) to {best.roas:.2f} ({best.channel}), less than "
                          f"{CLEARLY_BETTER}x apart, so no channel is clearly worse than another.")
    moves = []
    for g in sorted(givers, key=lambda v: v.roas):
        amount = (g.planned * Decimal(str(cap))).quantize(CENT, ROUND_DOWN)
        gain = (amount * (best.roas - g.roas)).quantize(CENT, ROUND_HALF_UP)
        reason = (f"{g.channel} returned {g.roas:.2f} {currency} of attributed revenue per {currency} spent, "
                  f"{best.channel} {best.roas:.2f} ({best.roas / g.roas if g.roas else 0:.1f}x as much"
                  f"{'' if g.roas else ', against nothing'}). Moving {_money(amount)} {currency} "
                  f"({cap:.0%} of {g.channel}'s {_money(g.planned)} {currency} plan) to {best.channel} would, at those "
                  f"past returns, earn about {_money(gain)} {currency} more revenue: an upper bound, since returns "
                  f"usually fall as a channel spends more.")
        moves.append(Move(g.channel, best.channel, amount, g.roas, best.roas, gain, reason))
    total = sum((m.amount for m in moves), Decimal(0))
    summary = (f"Suggestion for {month:%Y-%m} under the {model} attribution model (not applied): move "
               f"{_money(total)} {currency} towards {best.channel}, the budgeted channel with the best attributed "
               f"ROAS ({best.roas:.2f}), from " + ", ".join(m.giver for m in moves)
               + f", whose ROAS is at most 1/{CLEARLY_BETTER} of it. Each giving channel keeps at least "
               f"{1 - cap:.0%} of its plan.")
    return Reallocation(month, model, currency, cap, views, moves, summary)


def _with(r: Reallocation, reasoning: str) -> Reallocation:
    return Reallocation(r.month, r.model, r.currency, r.cap, r.channels, [], reasoning)


def channel_plans(lines: Iterable[BudgetLine]) -> dict[str, Decimal]:
    """The month's plan per channel: its channel-wide lines when it has any, else its platforms'
    lines, else its campaigns' (so that a plan written at two levels is not counted twice).

    >>> from datetime import date
    >>> lines = [BudgetLine(month=date(2026, 3, 1), channel="Paid Search", amount_cents=100000),
    ...          BudgetLine(month=date(2026, 3, 1), platform="google_ads", amount_cents=70000),
    ...          BudgetLine(month=date(2026, 3, 1), platform="meta_ads", amount_cents=50000)]
    >>> channel_plans(lines)
    {'Paid Search': Decimal('1000'), 'Paid Social': Decimal('500')}
    """
    levels: dict[str, dict[int, int]] = {}
    for line in lines:
        scope = scope_of(line)
        level = (0 if scope.channel else 1) + (2 if scope.campaign else 0)
        by_level = levels.setdefault(scope.channel_group, {})
        by_level[level] = by_level.get(level, 0) + line.amount_cents
    return {channel: Decimal(by_level[min(by_level)]) / 100 for channel, by_level in sorted(levels.items())}


def channel_returns(ws: Workspace, model: str | None = None) -> tuple[str, dict[str, ChannelReturn]]:
    """The attribution model used and each channel's spend, credited revenue and conversions."""
    from marketops.attribution.report import channel_report

    model, rows = channel_report(ws, ws.config.attribution, model=model)
    return model, {r.channel: ChannelReturn(r.spend, r.revenue, r.conversions) for r in rows}
