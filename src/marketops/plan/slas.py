"""Internal SLAs: compliance of each rule of ``slas:`` per period, with its history.

For each SLA and period: the measured value, the threshold, ``met`` or ``breached`` and the margin
(how far the value is on the right side of the threshold: positive means room, negative a shortfall;
in percentage points for response rules). The period holding the end of the data is ``in_progress``:
for it the page shows the value so far and, for volume rules whose metric adds up, a projection to the
period's end; ``near_breach`` is set when the projection (or, for response rules, the share so far)
falls on the wrong side of the threshold.

* volume rules read their metric through the metrics layer (:func:`~marketops.plan.goal_series.metric_series`,
  scope filters as for goals); periods with no rows count zero for counts and sums;
* response rules are measured by :mod:`marketops.plan.sla_response` (business hours of the calendar).

The compliance rate is the share of complete periods shown that met the SLA.

Example:
    >>> import datetime as dt
    >>> judge_period(380, 400, "at_least", complete=True).status
    'breached'
    >>> p = judge_period(300, 400, "at_least", complete=False, elapsed=0.5, additive=True)
    >>> p.status, p.projected, p.near_breach
    ('in_progress', 600.0, False)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from marketops.errors import MarketopsError
from marketops.metrics import Catalog
from marketops.metrics.query import period_start, shift_period
from marketops.plan.goal_series import NoData, additive, catalog_of, metric_series, scope_label
from marketops.plan.sla_config import SALES_ACTIVITY, SlaRule
from marketops.plan.sla_response import measure
from marketops.workspace import Workspace

#: Periods shown by default.
DEFAULT_PERIODS = 12
PER_WORDS = {"week": "a week", "month": "a month", "quarter": "a quarter"}
STATUS_WORDS = {"met": "met", "breached": "breached", "in_progress": "in progress", "no_data": "no data"}


@dataclass
class SlaPeriod:
    """One period of one SLA."""

    period: dt.date
    value: float | None
    threshold: float
    status: str  # met | breached | in_progress | no_data
    margin: float | None = None
    #: in-progress periods: share of the period elapsed, the projected value at its end, and whether
    #: the SLA is heading for a breach
    elapsed: float | None = None
    projected: float | None = None
    near_breach: bool = False
    #: response rules: people judged in time, late, still pending, and the median business hours
    in_time: int | None = None
    late: int | None = None
    pending: int | None = None
    median_hours: float | None = None

    @property
    def complete(self) -> bool:
        return self.status != "in_progress"

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items()}
        out["period"] = self.period.isoformat()
        out["complete"] = self.complete
        return out


@dataclass
class SlaReport:
    """Compliance of one SLA: its rule in words and the periods, oldest first."""

    rule: SlaRule
    words: str
    periods: list[SlaPeriod] = field(default_factory=list)
    as_of: dt.date | None = None
    message: str | None = None  # why there is no data

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def current(self) -> SlaPeriod | None:
        return self.periods[-1] if self.periods and self.periods[-1].status == "in_progress" else None

    @property
    def last_complete(self) -> SlaPeriod | None:
        done = [p for p in self.periods if p.status in ("met", "breached")]
        return done[-1] if done else None

    @property
    def compliance_rate(self) -> float | None:
        done = [p for p in self.periods if p.status in ("met", "breached")]
        return sum(p.status == "met" for p in done) / len(done) if done else None

    @property
    def status(self) -> str:
        """``breached`` (the last complete period), ``at_risk`` (the current one is heading for a breach),
        ``met``, or ``no_data``."""
        last, current = self.last_complete, self.current
        if last is not None and last.status == "breached":
            return "breached"
        if current is not None and current.near_breach:
            return "at_risk"
        if last is not None:
            return "met"
        return "in_progress" if current is not None else "no_data"

    def to_json(self, *, history: bool = True) -> dict[str, Any]:
        r = self.rule
        out: dict[str, Any] = {
            "name": r.name, "from_team": r.from_team, "to_team": r.to_team, "description": r.description,
            "owner": r.owner, "kind": r.kind, "per": r.per, "rule": self.words, "metric": r.metric,
            "filters": r.filters, "direction": r.direction, "threshold": r.threshold,
            "response": r.response.model_dump() if r.response else None,
            "status": self.status, "compliance_rate": self.compliance_rate,
            "as_of": self.as_of.isoformat() if self.as_of else None, "message": self.message,
            "current": self.current.to_json() if self.current else None,
            "last_complete": self.last_complete.to_json() if self.last_complete else None,
        }
        if history:
            out["periods"] = [p.to_json() for p in self.periods]
        return out


def rows(reports: list[SlaReport]) -> list[dict[str, Any]]:
    """One flat row per SLA and period (for CSV/XLSX downloads)."""
    out = []
    for rep in reports:
        for p in rep.periods:
            out.append({"sla": rep.name, "from_team": rep.rule.from_team, "to_team": rep.rule.to_team,
                        "period": p.period.isoformat(), "value": p.value, "threshold": p.threshold,
                        "status": p.status, "margin": p.margin, "projected": p.projected,
                        "near_breach": p.near_breach, "in_time": p.in_time, "late": p.late, "pending": p.pending,
                        "median_hours": p.median_hours})
    return out


def in_words(rule: SlaRule, catalog: Catalog | None = None, calendar: str | None = None,
             timezone: str | None = None) -> str:
    """The rule in plain words.

    >>> in_words(SlaRule(name="v", from_team="marketing", to_team="sales", metric="mqls", at_least=400))
    'marketing delivers at least 400 MQLs a month to sales.'
    """
    if rule.response is not None:
        r = rule.response
        stop = "a first sales activity" if r.until == SALES_ACTIVITY else f"reach {r.until.upper() if len(r.until) == 3 else r.until}"
        stage = r.from_stage.upper() if len(r.from_stage) == 3 else r.from_stage
        when = f" ({calendar}{', ' + timezone if timezone else ''})" if calendar else ""
        return (f"{rule.from_team} answers at least {r.share:.0%} of people who become {stage} with {stop} "
                f"within {_num(r.within_hours)} business hours{when}, each {rule.per}, for {rule.to_team}.")
    label = rule.metric or ""
    if catalog is None:
        from marketops.metrics import load_catalog

        catalog = load_catalog()
    if rule.metric in catalog:
        label = catalog[rule.metric].label or rule.metric
    scope = f" ({scope_label(rule.filters)})" if rule.filters else ""
    bound = "at least" if rule.direction == "at_least" else "at most"
    return f"{rule.from_team} delivers {bound} {_num(rule.threshold)} {label}{scope} {PER_WORDS[rule.per]} to {rule.to_team}."


def period_label(period: dt.date, per: str) -> str:
    """A period as people write it.

    >>> period_label(dt.date(2026, 4, 1), "month"), period_label(dt.date(2026, 4, 1), "quarter")
    ('2026-04', '2026-Q2')
    """
    if per == "month":
        return f"{period:%Y-%m}"
    if per == "quarter":
        return f"{period.year}-Q{(period.month - 1) // 3 + 1}"
    return f"{period:%Y-%m-%d}"


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def judge_period(value: float | None, threshold: float, direction: str, *, complete: bool, elapsed: float = 1.0,
                 additive: bool = False, points: bool = False) -> SlaPeriod:
    """A period's judgement (the date is filled in by the caller); ``points`` gives the margin in
    percentage points (shares)."""
    p = SlaPeriod(dt.date.min, value, threshold, "no_data")
    if value is None:
        if not complete:
            p.status = "in_progress"
        return p
    sign = 1 if direction == "at_least" else -1
    p.margin = round((value - threshold) * sign * (100 if points else 1), 6)
    ok = value >= threshold if direction == "at_least" else value <= threshold
    if complete:
        p.status = "met" if ok else "breached"
        return p
    p.status, p.elapsed = "in_progress", round(elapsed, 4)
    projected = value / elapsed if additive and elapsed > 0 else value
    p.projected = round(projected, 6)
    p.near_breach = not (projected >= threshold if direction == "at_least" else projected <= threshold)
    return p


def _elapsed(period: dt.date, per: str, as_of: dt.date) -> float:
    end = shift_period(period, per, 1)
    return min(1.0, ((as_of - period).days + 1) / (end - period).days)


def _is_complete(period: dt.date, per: str, as_of: dt.date) -> bool:
    return shift_period(period, per, 1) <= as_of + dt.timedelta(days=1)


def _window(last: dt.date, per: str, periods: int) -> list[dt.date]:
    return [shift_period(last, per, -i) for i in range(periods - 1, -1, -1)]


def volume_report(ws: Workspace, rule: SlaRule, *, periods: int = DEFAULT_PERIODS, today: dt.date | None = None,
                  catalog: Catalog | None = None) -> SlaReport:
    """Compliance of a volume rule (a metric per period)."""
    catalog = catalog or catalog_of(ws)
    report = SlaReport(rule, in_words(rule, catalog))
    try:
        series = metric_series(ws, rule.metric, rule.filters, rule.per, catalog=catalog)
    except MarketopsError as e:  # NoData (why nothing can be measured), or data the metric cannot use
        report.message = e.message
        return report
    as_of = min(series.as_of, today or dt.date.today())
    report.as_of = as_of
    adds = additive(catalog, rule.metric)
    first = series.periods[0]
    for p in _window(period_start(as_of, rule.per), rule.per, periods):
        if p < first:
            continue
        value = series.value_at(p)
        complete = _is_complete(p, rule.per, as_of)
        j = judge_period(value, rule.threshold, rule.direction, complete=complete,
                         elapsed=_elapsed(p, rule.per, as_of), additive=adds)
        j.period = p
        report.periods.append(j)
    return report


def response_report(ws: Workspace, rule: SlaRule, *, periods: int = DEFAULT_PERIODS, today: dt.date | None = None,
                    catalog: Catalog | None = None) -> SlaReport:
    """Compliance of a response rule (see :mod:`marketops.plan.sla_response` for what is measured)."""
    cfg = ws.config
    calendar = cfg.slas.calendar.business(cfg.timezone)
    report = SlaReport(rule, in_words(rule, catalog, cfg.slas.calendar.words(), cfg.timezone))
    until = None
    if today is not None:
        until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time()).replace(tzinfo=calendar.zone) \
            .astimezone(dt.UTC).replace(tzinfo=None)
    try:
        clocks, data_end = measure(ws, rule.response, calendar, until=until)
    except NoData as e:
        report.message = f"response rule '{rule.name}' cannot be measured: {e.message}"
        return report
    as_of = calendar.local(data_end).date()
    report.as_of = as_of
    by_period: dict[dt.date, list] = {}
    for c in clocks:
        by_period.setdefault(period_start(c.started_at.date(), rule.per), []).append(c)
    if not by_period:
        report.message = (f"response rule '{rule.name}' has no data: nobody entered the stage "
                          f"'{rule.response.from_stage}' yet")
        return report
    first = min(by_period)
    for p in _window(period_start(as_of, rule.per), rule.per, periods):
        if p < first:
            continue
        cs = by_period.get(p, [])
        in_time = sum(c.outcome == "in_time" for c in cs)
        late = sum(c.outcome == "late" for c in cs)
        judged = in_time + late
        value = in_time / judged if judged else None
        complete = _is_complete(p, rule.per, as_of)
        j = judge_period(value, rule.threshold, "at_least", complete=complete, points=True)
        j.period, j.in_time, j.late = p, in_time, late
        j.pending = sum(c.outcome == "pending" for c in cs)
        hours = [c.hours for c in cs if c.hours is not None]
        j.median_hours = round(median(hours), 2) if hours else None
        report.periods.append(j)
    return report


def sla_report(ws: Workspace, rule: SlaRule, *, periods: int = DEFAULT_PERIODS, today: dt.date | None = None,
               catalog: Catalog | None = None) -> SlaReport:
    """Compliance of one SLA over the last ``periods`` periods (the current one included)."""
    if periods < 1:
        raise MarketopsError(f"periods must be 1 or more, not {periods}")
    fn = response_report if rule.kind == "response" else volume_report
    return fn(ws, rule, periods=periods, today=today, catalog=catalog)


def sla_reports(ws: Workspace, *, periods: int = DEFAULT_PERIODS, today: dt.date | None = None) -> list[SlaReport]:
    """Compliance of every SLA of marketops.yaml, in the order they are written."""
    rules = ws.config.slas.rules
    if not rules:
        return []
    catalog = catalog_of(ws)
    return [sla_report(ws, r, periods=periods, today=today, catalog=catalog) for r in rules]


def sla_report_named(ws: Workspace, name: str, *, periods: int = DEFAULT_PERIODS,
                     today: dt.date | None = None) -> SlaReport:
    """Compliance of the SLA called ``name`` (NotFound with "did you mean" otherwise)."""
    return sla_report(ws, ws.config.slas.rule(name), periods=periods, today=today)
