"""UTM compliance of ingested touchpoints: the ``utm`` pipeline step and the compliance report.

Each distinct set of UTM values, as loaded (``source_original``, ``medium_original``,
``campaign_original``, ``content``, ``term``), is checked once in Python
(:func:`~marketops.quality.utm_compliance.check_utm`); the problems go back to the engine as a
small Arrow table and are joined onto the touchpoints with Ibis (null-safe on every column), so
the work grows with the number of distinct links, not of touchpoints, and runs on every engine.

Only tagged touchpoints are judged: one carrying no UTM value at all (a direct visit, a search
click the cleaning step gave a source from its referrer) has nothing to comply with.

The step publishes two tables with the run:

* ``utm_violations``: one row per touchpoint and parameter in breach (``record_key``,
  ``source_system``, ``source_file``, ``source_row``, ``occurred_at``, ``param``, ``value``,
  ``problem``, ``suggested_fix``);
* ``utm_compliance``: per source system, touchpoints, tagged ones, compliant ones and the most
  frequent problems: what the scorecard's ``utm_compliance`` rate reads
  (:func:`utm_score_rows`).

Example:
    >>> import ibis, pyarrow as pa
    >>> from marketops.quality.utm_taxonomy import UtmTaxonomy
    >>> t = ibis.memtable(pa.table({"record_key": ["a", "b", "c"], "_source_system": ["web"] * 3,
    ...     "source_original": ["google", "Google", None], "medium_original": ["cpc", "cpc", None],
    ...     "campaign_original": ["spring", "spring", None]}))
    >>> report = compliance_report(t, UtmTaxonomy(sources=["google"], mediums=["cpc"]))
    >>> report.tagged, report.compliant, report.top[0]["problem"]
    (2, 1, "utm_source 'Google' has capital letters; use 'google'")
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from marketops.quality.utm_compliance import check_utm
from marketops.quality.utm_taxonomy import UTM_PARAMS, UtmTaxonomy

if TYPE_CHECKING:
    from marketops.engine import Engine
    from marketops.pipeline import RunContext, StepRecord
    from marketops.quality.scorecard import ScoreRow

__all__ = ["COMPLIANCE_SCHEMA", "VIOLATION_COLUMNS", "UtmReport", "compliance_report", "step_utm", "utm_score_rows",
           "workspace_report"]

#: Where each parameter's value as loaded lives in the cleaned touchpoints table.
LOADED = {"utm_source": "source_original", "utm_medium": "medium_original", "utm_campaign": "campaign_original",
          "utm_term": "term", "utm_content": "content"}
VIOLATION_COLUMNS = ("record_key", "source_system", "source_file", "source_row", "occurred_at", "param", "value",
                     "problem", "suggested_fix")
COMPLIANCE_SCHEMA = pa.schema([("source_system", pa.string()), ("touchpoints", pa.int64()),
                               ("tagged", pa.int64()), ("compliant", pa.int64()), ("configured", pa.bool_()),
                               ("top_problems", pa.string())])
_PROBLEM_SCHEMA = pa.schema([*[(p, pa.string()) for p in UTM_PARAMS], ("param", pa.string()),
                             ("value", pa.string()), ("problem", pa.string()), ("suggested_fix", pa.string())])
#: Most frequent problems kept in a report (the violations table has them all).
TOP = 20


@dataclass
class UtmReport:
    """The compliance of the touchpoints with the taxonomy: totals, per source system, per parameter,
    the most frequent problems and (an Ibis table) every violation."""

    configured: bool
    touchpoints: int = 0
    tagged: int = 0
    compliant: int = 0
    by_system: list[dict[str, Any]] = field(default_factory=list)
    by_param: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    violations: ibis.Table | None = None

    @property
    def rate(self) -> float | None:
        """Compliant share of the tagged touchpoints (None with no taxonomy or nothing tagged)."""
        return self.compliant / self.tagged if self.configured and self.tagged else None

    def to_json(self) -> dict[str, Any]:
        return {"configured": self.configured, "touchpoints": self.touchpoints, "tagged": self.tagged,
                "compliant": self.compliant, "rate": self.rate, "by_system": self.by_system,
                "by_param": self.by_param, "top": self.top}


def _loaded(t: ibis.Table) -> dict[str, ibis.Value]:
    cols = {}
    for param, column in LOADED.items():
        name = column if column in t.columns else column.removesuffix("_original")
        cols[param] = t[name].cast("string") if name in t.columns else ibis.literal(None, "string")
    return cols


def _tagged(cols: dict[str, ibis.Value]) -> ibis.BooleanValue:
    tagged = ibis.literal(False)
    for v in cols.values():
        tagged = tagged | (v.fill_null("") != "")
    return tagged


def _problems(t: ibis.Table, tax: UtmTaxonomy) -> pa.Table:
    """One row per distinct UTM set and parameter in breach."""
    distinct = t.filter(_tagged({p: t[p] for p in UTM_PARAMS})).select(*UTM_PARAMS).distinct().to_pyarrow()
    rows = []
    for combo in distinct.to_pylist():
        for p in check_utm(tax, combo):
            rows.append({**combo, "param": p.param, "value": p.value, "problem": p.message,
                         "suggested_fix": p.fix})
    return pa.Table.from_pylist(rows, schema=_PROBLEM_SCHEMA)


def compliance_report(touchpoints: ibis.Table, tax: UtmTaxonomy) -> UtmReport:
    """Check every tagged touchpoint of the cleaned ``touchpoints`` table against ``tax``."""
    cols = _loaded(touchpoints)
    system = touchpoints["_source_system"] if "_source_system" in touchpoints.columns else ibis.literal("unknown")
    t = touchpoints.mutate(**cols, _utm_system=system.cast("string"), _utm_tagged=_tagged(cols))
    report = UtmReport(configured=tax.configured)
    if not tax.configured:
        counts = (t.group_by(source_system=t._utm_system)
                  .aggregate(touchpoints=t.count(), tagged=t._utm_tagged.ifelse(1, 0).sum())
                  .order_by("source_system").to_pyarrow().to_pylist())
        report.by_system = [{**r, "tagged": int(r["tagged"] or 0), "compliant": None, "rate": None} for r in counts]
        report.touchpoints = sum(r["touchpoints"] for r in counts)
        report.tagged = sum(r["tagged"] for r in report.by_system)
        return report
    problems = ibis.memtable(_problems(t, tax))
    same = [t[p].identical_to(problems[p]) for p in UTM_PARAMS]
    violations = t.inner_join(problems, same).select(
        record_key=t.record_key if "record_key" in t.columns else ibis.literal(None, "string"),
        source_system=t._utm_system,
        source_file=t._source_file if "_source_file" in t.columns else ibis.literal(None, "string"),
        source_row=t._source_row if "_source_row" in t.columns else ibis.literal(None, "int64"),
        occurred_at=t.occurred_at if "occurred_at" in t.columns else ibis.literal(None, "timestamp"),
        param=problems.param, value=problems.value, problem=problems.problem,
        suggested_fix=problems.suggested_fix)
    report.violations = violations
    flagged = problems.select(*UTM_PARAMS).distinct().mutate(_utm_bad=ibis.literal(1))
    joined = t.left_join(flagged, [t[p].identical_to(flagged[p]) for p in UTM_PARAMS])
    bad = joined._utm_bad.notnull() & joined._utm_tagged
    counts = (joined.group_by(source_system=joined._utm_system)
              .aggregate(touchpoints=joined.count(), tagged=joined._utm_tagged.ifelse(1, 0).sum(),
                         violating=bad.ifelse(1, 0).sum())
              .order_by("source_system").to_pyarrow().to_pylist())
    for r in counts:
        tagged, violating = int(r["tagged"] or 0), int(r["violating"] or 0)
        report.by_system.append({"source_system": r["source_system"], "touchpoints": r["touchpoints"],
                                 "tagged": tagged, "compliant": tagged - violating,
                                 "rate": (tagged - violating) / tagged if tagged else None})
    report.touchpoints = sum(r["touchpoints"] for r in report.by_system)
    report.tagged = sum(r["tagged"] for r in report.by_system)
    report.compliant = sum(r["compliant"] for r in report.by_system)
    top = (violations.group_by("source_system", "param", "value", "problem", "suggested_fix")
           .aggregate(touchpoints=violations.count())
           .order_by([ibis.desc("touchpoints"), "param", "value"]).limit(TOP).to_pyarrow().to_pylist())
    report.top = top
    per_param = violations.group_by("param").aggregate(touchpoints=violations.count()).to_pyarrow().to_pylist()
    found = {r["param"]: r["touchpoints"] for r in per_param}
    report.by_param = [{"param": p, "touchpoints": found.get(p, 0),
                        "share": found.get(p, 0) / report.tagged if report.tagged else None} for p in UTM_PARAMS]
    return report


def compliance_table(report: UtmReport) -> pa.Table:
    """The ``utm_compliance`` table of a run: one row per source system."""
    rows = []
    for r in report.by_system:
        top = Counter()
        for v in report.top:
            if v["source_system"] == r["source_system"]:
                top[f"{v['param']} '{v['value']}'" + (f" -> '{v['suggested_fix']}'" if v["suggested_fix"] else "")] \
                    += v["touchpoints"]
        shown = ", ".join(f"{k} ({n:,})" for k, n in top.most_common(3))
        rows.append({"source_system": r["source_system"], "touchpoints": r["touchpoints"], "tagged": r["tagged"],
                     "compliant": r["compliant"], "configured": report.configured, "top_problems": shown or None})
    return pa.Table.from_pylist(rows, schema=COMPLIANCE_SCHEMA)


def empty_violations() -> pa.Table:
    return pa.table({"record_key": pa.array([], pa.string()), "source_system": pa.array([], pa.string()),
                     "source_file": pa.array([], pa.string()), "source_row": pa.array([], pa.int64()),
                     "occurred_at": pa.array([], pa.timestamp("us")), "param": pa.array([], pa.string()),
                     "value": pa.array([], pa.string()), "problem": pa.array([], pa.string()),
                     "suggested_fix": pa.array([], pa.string())})


def step_utm(ctx: RunContext, rec: StepRecord) -> None:
    """Flag the run's touchpoints whose UTMs break the taxonomy (``utm_violations``) and count the
    compliant ones per source system (``utm_compliance``, read by the scorecard). Without
    touchpoints it does nothing; without a taxonomy it counts the tagged touchpoints only."""
    if "touchpoints" not in ctx.outputs:
        return
    engine, tax = ctx.ws.engine, ctx.ws.config.utm
    ctx.observer.step_started(rec.name, 1)
    report = compliance_report(engine.con.table(ctx.outputs["touchpoints"]), tax)
    for name in ("utm_violations", "utm_compliance"):
        ctx.outputs[name] = f"{name}__{ctx.run_id}"
    engine.write(ctx.outputs["utm_violations"],
                 report.violations if report.violations is not None else empty_violations())
    engine.write(ctx.outputs["utm_compliance"], compliance_table(report))
    ctx.observer.advance(rec.name, "utm_violations")
    rec.rows_in, rec.rows_out = report.touchpoints, report.tagged - report.compliant if tax.configured else 0
    rec.detail = {"configured": tax.configured, "tagged": report.tagged, "compliant": report.compliant,
                  "rate": report.rate}


def utm_score_rows(engine: Engine, tables: dict[str, str]) -> list[ScoreRow]:
    """The scorecard's ``utm_compliance`` rows (touchpoints, per source system) from the run's
    ``utm_compliance`` table; none when the run has no such table."""
    from marketops.quality.scorecard import ScoreRow

    physical = tables.get("utm_compliance")
    if not physical or physical not in set(engine.tables()):
        return []
    rows = []
    for r in engine.con.table(physical).to_pyarrow().to_pylist():
        tagged, compliant = r["tagged"], r["compliant"]
        if not r["configured"]:
            rows.append(ScoreRow("touchpoints", r["source_system"], None, "utm_compliance", None, None, tagged,
                                 "no taxonomy set (utm: in marketops.yaml)"))
            continue
        detail = (f"{tagged - compliant:,} of {tagged:,} tagged touchpoints break the taxonomy; most often "
                  f"{r['top_problems']}" if tagged - compliant and r["top_problems"] else
                  "no tagged touchpoints" if not tagged else None)
        rows.append(ScoreRow("touchpoints", r["source_system"], None, "utm_compliance",
                             compliant / tagged if tagged else None, compliant, tagged, detail))
    return rows


def workspace_report(ws: Any) -> UtmReport:
    """The compliance of the workspace's published touchpoints with its current taxonomy (an edited
    ``utm:`` section shows without a new run); an empty report before the first run."""
    tax = ws.config.utm
    if not ws.engine.has_table("touchpoints"):
        return UtmReport(configured=tax.configured)
    return compliance_report(ws.engine.con.table("touchpoints"), tax)
