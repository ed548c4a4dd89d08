"""Channel performance: what each channel costs and what the chosen attribution model says it earns.

One row per channel (or source, or campaign): spend (ad platforms, in the reporting currency),
sessions (web analytics), and under the chosen model the leads (people becoming leads, each once),
pipeline (amount of the deals created, credited at creation), conversions and revenue (the
workspace's conversion definitions) it is credited with; then CPL (spend per credited lead), CAC
(spend per credited conversion) and ROAS (credited revenue per unit of spend). A channel is **flagged** when its CAC is more than
:data:`FAR_WORSE` times the median CAC of the channels with spend, or its ROAS less than the median
divided by it: the "Facebook is performing horribly and nobody knows" case.

Example:
    >>> from decimal import Decimal
    >>> rows = combine({"Paid Social": Decimal("900"), "Paid Search": Decimal("100"), "Email": Decimal("100")},
    ...                {}, {"Paid Social": (Decimal(3), Decimal("300")), "Paid Search": (Decimal(10), Decimal("900")),
    ...                     "Email": (Decimal(10), Decimal("1000"))}, leads={}, pipeline={})
    >>> [(r.channel, r.cac, r.flag) for r in rows][:1]
    [('Paid Social', Decimal('300.00'), 'CAC 300.00 is 30.0x the median (10.00); ROAS 0.33 is 27.3x below the median (9.00)')]
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from marketops.attribution import attribute
from marketops.attribution.config import AttributionConfig, ConversionDefinition
from marketops.attribution.inputs import journeys_for
from marketops.metrics.query import engine_rates, query_metrics
from marketops.workspace import Workspace

#: How many times worse than the median a channel's CAC or ROAS must be to be flagged.
FAR_WORSE = 2.0
#: What spend and sessions are broken down by, per report dimension (None: not available).
_SPEND_BY = {"channel": "channel", "campaign": "campaign", "source": None}
_SESSIONS_BY = {"channel": "channel", "campaign": "campaign", "source": "source"}
CENT = Decimal("0.01")
#: Conversions credited for the lead and pipeline columns, beside the workspace's own definitions.
LEADS = ConversionDefinition(name="lead", table="lifecycle_stages", match={"stage": "lead"}, first_only=True)
PIPELINE = ConversionDefinition(name="pipeline", table="opportunities", at="created_at", revenue=True)


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    spend: Decimal | None
    sessions: int | None
    leads: Decimal | None
    pipeline: Decimal | None
    conversions: Decimal
    revenue: Decimal
    cpl: Decimal | None
    cac: Decimal | None
    roas: Decimal | None
    flag: str | None = None

    def to_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def channel_report(ws: Workspace, config: AttributionConfig, *, model: str | None = None,
                   by: str = "channel") -> tuple[str, list[ChannelRow]]:
    """The model used and one row per channel (or campaign/source), worst flagged first."""
    model = model or config.model
    sets = {"conversions": config.conversions}
    if ws.engine.has_table("lifecycle_stages"):
        sets["leads"] = [LEADS]
    if ws.engine.has_table("opportunities"):
        sets["pipeline"] = [PIPELINE]
    journeys = dict(zip(sets, journeys_for(ws, config, list(sets.values()), by=by), strict=True))
    credited = {name: {r["channel"]: (Decimal(r["conversions"]), Decimal(r["revenue"]))
                       for r in attribute(j, model, **config.params(model)).to_dicts()}
                for name, j in journeys.items()}
    spend = _totals(ws, "spend", _SPEND_BY[by], "ad_spend")
    sessions = {k: int(v) for k, v in _totals(ws, "sessions", _SESSIONS_BY[by], "web_traffic").items()}
    leads = {k: n for k, (n, _) in credited["leads"].items()} if "leads" in credited else None
    pipeline = {k: amount for k, (_, amount) in credited["pipeline"].items()} if "pipeline" in credited else None
    return model, combine(spend, sessions, credited["conversions"], leads=leads, pipeline=pipeline)


def _totals(ws: Workspace, metric: str, dimension: str | None, table: str) -> dict[str, Decimal]:
    """A metric summed over all time per dimension value (empty when the data is not there)."""
    if dimension is None or not ws.engine.has_table(table):
        return {}
    result = query_metrics(ws.engine, [metric], by=[dimension], grain="quarter",
                           reporting_currency=ws.config.reporting_currency, rates=engine_rates(ws.engine))
    out: dict[str, Decimal] = {}
    for row in result.to_pylist():
        if row[dimension] is not None and row[metric] is not None:
            out[row[dimension]] = out.get(row[dimension], Decimal(0)) + Decimal(row[metric])
    return out


def combine(spend: dict[str, Decimal], sessions: dict[str, int], credits: dict[str, tuple[Decimal, Decimal]],
            *, leads: dict[str, Decimal] | None, pipeline: dict[str, Decimal] | None) -> list[ChannelRow]:
    """Rows for every channel seen anywhere, with CPL, CAC, ROAS and the flags; flagged first, then by
    revenue. ``leads`` and ``pipeline`` are None when the workspace has no such data."""
    rows = []
    seen = set(spend) | set(sessions) | set(credits) | set(leads or {}) | set(pipeline or {})
    for channel in sorted(seen):
        conversions, revenue = credits.get(channel, (Decimal(0), Decimal(0)))
        cost = spend.get(channel)
        lead = leads.get(channel, Decimal(0)) if leads is not None else None
        cac = (cost / conversions).quantize(CENT, ROUND_HALF_UP) if cost and conversions else None
        cpl = (cost / lead).quantize(CENT, ROUND_HALF_UP) if cost and lead else None
        roas = (revenue / cost).quantize(CENT, ROUND_HALF_UP) if cost else None
        rows.append(ChannelRow(channel, cost.quantize(CENT) if cost is not None else None, sessions.get(channel),
                               lead, pipeline.get(channel, Decimal(0)) if pipeline is not None else None,
                               conversions, revenue, cpl, cac, roas))
    cacs = [r.cac for r in rows if r.cac is not None]
    roases = [r.roas for r in rows if r.roas is not None]
    median_cac = statistics.median(cacs) if len(cacs) >= 2 else None
    median_roas = statistics.median(roases) if len(roases) >= 2 else None
    flagged = []
    for r in rows:
        reasons = []
        if median_cac and r.cac is not None and r.cac > median_cac * Decimal(FAR_WORSE):
            reasons.append(f"CAC {r.cac} is {r.cac / median_cac:.1f}x the median ({median_cac:.2f})")
        if median_roas and r.roas is not None and r.roas * Decimal(FAR_WORSE) < median_roas:
            below = f"{median_roas / r.roas:.1f}x below" if r.roas else "nothing, against"
            reasons.append(f"ROAS {r.roas} is {below} the median ({median_roas:.2f})")
        flagged.append(ChannelRow(**{**asdict(r), "flag": "; ".join(reasons) or None}))
    return sorted(flagged, key=lambda r: (r.flag is None, -r.revenue, r.channel))
