"""The rules score as Ibis expressions: set-based, so a million people score in seconds on DuckDB
and the same expressions run on PySpark.

Inputs are two tables: ``persons`` (one row per ``person_id`` with the fit fields of
:data:`~marketops.leads.scoring_config.FIELDS`, ``_as_of_epoch``: the scoring moment in epoch seconds,
and ``scored_at``) and ``activities`` (touchpoints with ``person_id``, ``occurred_at``, ``type``,
``landing_page``, ``event_name``, ``campaign``, ``channel_group``). Each person may have its own
scoring moment, which is how the predictive report scores historical leads as they stood then.

The explanation (:func:`explanation_rows`) has one row per person, group and rule that fired, with the
events counted and the points after decay and the rule's cap; when a category's total passes the
group's cap, one more row (``Fit cap`` / ``Engagement cap``) takes the excess away. A score
(:func:`score_rows`) is the sum of its explanation, by construction.

Example:
    >>> import datetime as dt, ibis
    >>> from marketops.leads.scoring_config import ScoreGroup
    >>> persons = ibis.memtable({"person_id": ["p1", "p2"], "seniority": ["vp", "manager"],
    ...     "_as_of_epoch": [1.7e9, 1.7e9], "scored_at": [dt.datetime(2023, 11, 14)] * 2})
    >>> g = ScoreGroup(name="core", mql_threshold=10, fit=[{"name": "VP", "field": "seniority",
    ...     "op": "equals", "value": "VP", "points": 12}])
    >>> rows = score_rows(persons, None, [g], 30).order_by("person_id").to_pyarrow().to_pylist()
    >>> [(r["person_id"], r["score"], r["mql"]) for r in rows]
    [('p1', 12.0, True), ('p2', 0.0, False)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ibis

from marketops.leads.scoring_config import FIELDS, EngagementRule, FitRule, ScoreGroup

LN2 = math.log(2)
DAY = 86_400.0
#: Points are kept to this many decimals (explanation rows and sums alike).
POINT_DIGITS = 6
FIT, ENGAGEMENT = "fit", "engagement"
#: Touchpoint types read as each activity (web analytics exports call a page view a session).
ACTIVITY_TYPES = {"page_view": ("web_session", "page_view"), "form_fill": ("form_fill",),
                  "email_open": ("email_open",), "email_click": ("email_click",), "ad_click": ("ad_click",),
                  "event": ("event",)}
#: Columns of the explanation and of the scores.
DETAIL_COLUMNS = ("person_id", "group", "category", "rule", "events", "points")
SCORE_COLUMNS = ("person_id", "group", "score", "fit", "engagement", "mql", "scored_at")


def _ci(pattern: str) -> str:
    # RE2 (DuckDB) and Java (Spark) both read an inline (?i)
    return "(?i)" + pattern


def _false_if_null(cond: ibis.BooleanValue) -> ibis.BooleanValue:
    return ibis.coalesce(cond, ibis.literal(False))


def fit_condition(rule: FitRule, t: ibis.Table) -> ibis.BooleanValue:
    """Whether ``rule`` holds on each row of ``t``; an empty field never holds (except ``is_not_set``)."""
    kind, op, v = FIELDS[rule.field], rule.op, rule.value
    col = t[rule.field]
    if op in ("is_set", "is_not_set"):
        present = col.notnull()
        if kind == "string":
            present = present & (col.cast("string") != "")
        return _false_if_null(present) if op == "is_set" else ~_false_if_null(present)
    values: list[Any] = v if isinstance(v, list) else [v]
    if kind == "boolean":
        x, values = col.cast("boolean"), [_truth(val) for val in values]
    elif kind == "number":
        x = col.cast("float64")
        if op == "between":
            return _false_if_null(x.between(float(v[0]), float(v[1])))
        if op in ("gt", "gte", "lt", "lte"):
            lit = float(v)
            return _false_if_null({"gt": x > lit, "gte": x >= lit, "lt": x < lit, "lte": x <= lit}[op])
        values = [float(val) for val in values]
    else:
        x, values = col.cast("string").lower(), [str(val).lower() for val in values]
    if op == "equals":
        cond = x == values[0]
    elif op == "not_equals":
        cond = x != values[0]
    elif op == "in":
        cond = x.isin(values)
    elif op == "not_in":
        cond = x.notin(values)
    elif op == "contains":
        cond = ibis.or_(*[x.contains(val) for val in values])
    elif op == "matches":
        raw = col.cast("string")
        cond = ibis.or_(*[raw.re_search(_ci(str(val))) for val in (v if isinstance(v, list) else [v])])
    else:  # the config validators allow no other operator here
        raise ValueError(f"operator '{op}' does not apply to field '{rule.field}'")
    return _false_if_null(cond)


def _truth(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() in ("true", "yes", "1", "y")


def activity_condition(rule: EngagementRule, t: ibis.Table) -> ibis.BooleanValue:
    """Whether each activity row counts for ``rule``.

    ``webinar`` is an event whose name says webinar, or any activity on a ``/webinar`` page (the
    sample company's webinar registrations and attendance are visits and form fills there).
    """
    typ = t.type.cast("string").lower()
    if rule.activity == "any":
        cond = ibis.literal(True)
    elif rule.activity == "webinar":
        cond = (((typ == "event") & t.event_name.re_search(_ci("webinar")))
                | t.landing_page.re_search(_ci(r"/webinar")))
    else:
        cond = typ.isin(list(ACTIVITY_TYPES[rule.activity]))
    if rule.url:
        cond = cond & t.landing_page.re_search(_ci(rule.url))
    if rule.event_name:
        cond = cond & t.event_name.re_search(_ci(rule.event_name))
    if rule.campaign:
        cond = cond & t.campaign.re_search(_ci(rule.campaign))
    if rule.channel_group:
        cond = cond & (t.channel_group.lower() == rule.channel_group.lower())
    return _false_if_null(cond)


def _capped(points: ibis.NumericValue, cap: float | None) -> ibis.NumericValue:
    if cap is None:
        return points
    return ibis.greatest(ibis.least(points, ibis.literal(float(cap))), ibis.literal(-float(cap)))


def _half_life(rule: EngagementRule, group: ScoreGroup, default: float) -> float:
    return rule.half_life_days or group.half_life_days or default


def engagement_totals(persons: ibis.Table, activities: ibis.Table, groups: Sequence[ScoreGroup],
                      half_life_days: float) -> ibis.Table:
    """Per person: ``n_<g>_<r>`` (activities counted) and ``p_<g>_<r>`` (decayed points before the cap)
    for every engagement rule ``r`` of every group ``g``, in one pass over the activities."""
    acts = activities.filter(activities.person_id.notnull())
    moment = persons.select("person_id", "_as_of_epoch")
    acts = acts.join(moment, "person_id")
    when = acts.occurred_at.epoch_seconds().cast("float64")
    acts = acts.filter(when <= acts._as_of_epoch).mutate(_age=(acts._as_of_epoch - when) / DAY)
    aggs: dict[str, ibis.Value] = {}
    for gi, group in enumerate(groups):
        for ri, rule in enumerate(group.engagement):
            cond = activity_condition(rule, acts)
            if rule.within_days:
                cond = cond & (acts._age <= rule.within_days)
            weight = ((acts._age * (-LN2 / _half_life(rule, group, half_life_days))).exp() * rule.points)
            aggs[f"n_{gi}_{ri}"] = ibis.cases((cond, 1), else_=0).cast("int64").sum().cast("int64")
            aggs[f"p_{gi}_{ri}"] = ibis.cases((cond, weight), else_=0.0).sum()
    if not aggs:
        return acts.select("person_id").limit(0)
    return acts.group_by("person_id").aggregate(**aggs)


def _detail(t: ibis.Table, group: str, category: str, rule: str, events: ibis.Value,
            points: ibis.Value) -> ibis.Table:
    return t.select(t.person_id, group=ibis.literal(group), category=ibis.literal(category),
                    rule=ibis.literal(rule), events=events.cast("int64"),
                    points=points.cast("float64").round(POINT_DIGITS))


def explanation_rows(persons: ibis.Table, activities: ibis.Table | None, groups: Sequence[ScoreGroup],
                     half_life_days: float) -> ibis.Table:
    """One row per person, group and rule that fired (``events``, ``points`` after decay and caps), plus
    the category-cap rows that take away points over a group's ``fit_cap`` / ``engagement_cap``."""
    parts: list[ibis.Table] = []
    eng = engagement_totals(persons, activities, groups, half_life_days) if activities is not None else None
    for gi, group in enumerate(groups):
        for rule in group.fit:
            fired = persons.filter(fit_condition(rule, persons))
            parts.append(_detail(fired, group.name, FIT, rule.name, ibis.literal(1), ibis.literal(rule.points)))
        if eng is None:
            continue
        for ri, rule in enumerate(group.engagement):
            n, p = eng[f"n_{gi}_{ri}"], eng[f"p_{gi}_{ri}"]
            parts.append(_detail(eng.filter(n > 0), group.name, ENGAGEMENT, rule.name, n, _capped(p, rule.cap)))
    if not parts:
        return _empty_details(persons)
    rules = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    totals = rules.group_by("person_id", "group", "category").aggregate(total=rules.points.sum())
    caps = []
    for group in groups:
        for category, cap in ((FIT, group.fit_cap), (ENGAGEMENT, group.engagement_cap)):
            if cap is None:
                continue
            over = totals.filter((totals.group == group.name) & (totals.category == category) & (totals.total > cap))
            caps.append(_detail(over, group.name, category, f"{category.capitalize()} cap ({cap:g})",
                                ibis.literal(0), ibis.literal(float(cap)) - over.total))
    return ibis.union(rules, *caps, distinct=False) if caps else rules


def _empty_details(persons: ibis.Table) -> ibis.Table:
    return _detail(persons.limit(0), "", FIT, "", ibis.literal(0), ibis.literal(0.0))


def score_rows(persons: ibis.Table, activities: ibis.Table | None, groups: Sequence[ScoreGroup],
               half_life_days: float, details: ibis.Table | None = None) -> ibis.Table:
    """One row per person and group: ``score`` = ``fit`` + ``engagement`` (each the sum of the explanation's
    points in that category), ``mql`` (score >= the group's threshold) and ``scored_at``."""
    if details is None:
        details = explanation_rows(persons, activities, groups, half_life_days)
    sums = details.group_by("person_id", "group").aggregate(
        fit=ibis.cases((details.category == FIT, details.points), else_=0.0).sum(),
        engagement=ibis.cases((details.category == ENGAGEMENT, details.points), else_=0.0).sum())
    base = ibis.union(*[persons.select("person_id", "scored_at", group=ibis.literal(g.name),
                                       _threshold=ibis.literal(float(g.mql_threshold))) for g in groups],
                      distinct=False) if len(groups) > 1 else persons.select(
        "person_id", "scored_at", group=ibis.literal(groups[0].name),
        _threshold=ibis.literal(float(groups[0].mql_threshold)))
    joined = base.left_join(sums, ["person_id", "group"])
    # sums of float points drift in the last bits: a capped 60 must not read 60.00000000000001
    fit = ibis.coalesce(joined.fit, 0.0).round(POINT_DIGITS)
    engagement = ibis.coalesce(joined.engagement, 0.0).round(POINT_DIGITS)
    score = (fit + engagement).round(POINT_DIGITS)
    return joined.select(person_id=joined.person_id, group=joined.group, score=score, fit=fit,
                         engagement=engagement, mql=score >= joined._threshold,
                         scored_at=joined.scored_at.cast("timestamp"))
