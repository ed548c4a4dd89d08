"""The lifecycle funnel: how many people reach each stage, how many move on, how long it takes, and
where the funnel leaks most.

Stage names differ per CRM ("Marketing Qualified Lead", "MQL", "marketingqualifiedlead"); they are
matched to the funnel's stages through :data:`~marketops.lifecycle.STAGE_ALIASES` after lower-casing and squeezing
spaces. A person *reaches* a stage when they entered it or any later one (CRMs skip stages: a lead
closed straight into a deal still passed the MQL bar), and enters it at the earliest such moment.

For each pair of consecutive stages the report gives the people who reached the first, the share
that reached the next (conversion) and the median days between the two. Grouped by cohort (the
month a person entered the funnel) and, when asked, by a dimension such as the channel of their
first touch.

Cohorts are compared fairly: in a cohort, a conversion counts only when it happened within
``window_days`` of reaching the stage, and only people who reached the stage at least that long
before the newest data count at all (a month-old cohort has not had the time an old one had); a
cohort's median days are over those windowed conversions.

A transition gets worse in two ways: fewer people move on (conversion) or they take longer
(speed). Both are put on one scale, the share of the transition's throughput lost: a conversion
falling from 50 % to 20 % loses 60 % (``1 - 20/50``); a median growing from 5 to 12 days loses 58 %
(``1 - 5/12``: people move on at 5/12 of the old pace). Medians under a day count as one day, so a
same-day step turning into a half-day one is no alarm. A worsening counts only when it loses at
least :data:`MIN_LOSS`, is unlikely to be chance (:data:`CONFIDENCE` across all the comparisons
made at once), and the sides compared have at least :data:`MIN_COHORT` people (and
:data:`MIN_TIMED` conversions for speed). On a tie, conversion wins.

The **bottleneck** is the transition that lost most from the previous cohort to the latest one
(the two latest cohorts big enough to compare; chance ruled out by a two-proportion z-test or a
Mann-Whitney test on the days), else the one that converts worst. The **laggards** name, per
transition, the group (channel...) that lags the median of the other groups most (a one-sample
z-test or a sign test against that median; people in no group, and groups too small to judge, are
left out).

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> d = lambda day: dt.datetime(2024, 1, day)
    >>> rows = pa.table({"person_id": ["a", "a", "b", "b", "c"], "stage": ["Lead", "MQL", "lead", "Customer", "Lead"],
    ...                  "entered_at": [d(1), d(3), d(2), d(9), d(5)]})
    >>> report = funnel(rows, stages=("lead", "mql", "customer"))
    >>> [(s.stage, s.reached, s.converted, s.median_days) for s in report.steps]
    [('lead', 3, 2, 4.5), ('mql', 2, 1, 0.0)]
    >>> report.bottleneck.stage, report.bottleneck.kind
    ('mql', 'conversion')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist, median

import ibis
import polars as pl
import pyarrow as pa

from marketops.errors import ValidationFailed
from marketops.leads.lifecycle_config import DEFAULT_STAGES as LIFECYCLE_DEFAULT_STAGES
from marketops.leads.lifecycle_config import LifecycleConfig
from marketops.lifecycle import STAGE_ALIASES, canonical_stages, spelling_map, stage_key
from marketops.metrics.people import first_touches

#: The default funnel stages: those of the ``leads.lifecycle`` section's defaults (one place).
DEFAULT_STAGES = tuple(n for n, _ in LIFECYCLE_DEFAULT_STAGES)

#: A cohort (or group) needs this many people at a stage before its conversion is compared with another's.
MIN_COHORT = 20
#: ...and this many conversions before its median time in stage is compared.
MIN_TIMED = 20
#: A worsening smaller than this share of the transition's throughput is not worth naming.
MIN_LOSS = 0.1
#: How sure a worsening must be not to be chance, across all the comparisons made at once (Bonferroni:
#: among 50 campaigns one lags at 95 % by luck alone).
CONFIDENCE = 0.95


def stage_options(lifecycle: LifecycleConfig) -> dict:
    """The ``stages`` and ``aliases`` arguments of :func:`funnel` for a workspace: its configured
    lifecycle stages (``leads.lifecycle.stages``) and their spellings.

    >>> opts = stage_options(LifecycleConfig(stages=["lead", "mql", "sql", {"name": "won", "spellings": ["Closed Won"]}]))
    >>> opts["stages"], opts["aliases"]["closed won"]
    (('lead', 'mql', 'sql', 'won'), 'won')
    """
    names = lifecycle.stage_names()
    return {"stages": tuple(names), "aliases": {k: v for k, v in spelling_map(lifecycle).items() if v in names}}


@dataclass(frozen=True)
class FunnelStep:
    """One transition: people who reached ``stage``, how many reached ``next_stage``, and how fast."""

    stage: str
    next_stage: str
    reached: int
    converted: int
    median_days: float | None
    group: str | None = None
    #: the days each converted person took (kept to test whether two medians really differ)
    days: pl.Series | None = field(default=None, repr=False, compare=False)

    @property
    def conversion(self) -> float | None:
        return self.converted / self.reached if self.reached else None

    def to_json(self) -> dict:
        return {"stage": self.stage, "next_stage": self.next_stage, "reached": self.reached,
                "converted": self.converted, "median_days": self.median_days, "group": self.group,
                "conversion": self.conversion}


@dataclass(frozen=True)
class Bottleneck:
    """A transition that got worse (or a group that lags), and why in plain words.

    ``kind`` is ``"conversion"`` (fewer people moved on) or ``"speed"`` (they took longer);
    ``loss`` is the share of the transition's throughput lost (0-1, see the module docs; None for
    the "converts least" fallback); ``group`` names the lagging group of a laggard. ``facts`` holds
    the numbers behind ``reason`` and which sentence it is (``case``: group_conversion, group_speed,
    cohort_drop, cohort_slowdown, least), so a page can say it in its reader's language.
    """

    stage: str
    next_stage: str
    reason: str
    kind: str = "conversion"
    loss: float | None = None
    group: str | None = None
    facts: dict = field(default_factory=dict, compare=False)


@dataclass
class FunnelReport:
    """The funnel overall (``steps``), per cohort month (``cohorts``), per group, and its bottleneck."""

    stages: tuple[str, ...]
    steps: list[FunnelStep]
    cohorts: dict[str, list[FunnelStep]] = field(default_factory=dict)
    groups: dict[str, list[FunnelStep]] = field(default_factory=dict)
    bottleneck: Bottleneck | None = None
    #: per transition, the group (channel...) lagging the other groups most, if one lags markedly
    laggards: list[Bottleneck] = field(default_factory=list)
    unmatched_stages: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"stages": list(self.stages), "steps": [s.to_json() for s in self.steps],
                "cohorts": {k: [s.to_json() for s in v] for k, v in self.cohorts.items()},
                "groups": {k: [s.to_json() for s in v] for k, v in self.groups.items()},
                "bottleneck": asdict(self.bottleneck) if self.bottleneck else None,
                "laggards": [asdict(b) for b in self.laggards],
                "unmatched_stages": self.unmatched_stages}


def funnel(history: pa.Table, *, stages: Sequence[str] = DEFAULT_STAGES, groups: pa.Table | None = None,
           aliases: dict[str, str] | None = None, window_days: int = 30, group_label: str = "group") -> FunnelReport:
    """The funnel of ``history`` (``person_id``, ``stage``, ``entered_at``: the lifecycle_stages table).

    ``groups`` (``person_id``, ``group``) splits the funnel, e.g. by the channel of each person's first
    touch, and ``group_label`` ("channel") names such a group in the laggards' reasons; ``aliases``
    adds stage spellings (spelling -> one of ``stages``).
    """
    stages = tuple(stage_key(s) for s in stages)
    if len(stages) < 2:
        raise ValidationFailed("a funnel needs at least two stages")
    known = {**{stage_key(k): v for k, v in STAGE_ALIASES.items()}, **{s: s for s in stages},
             **{stage_key(k): stage_key(v) for k, v in (aliases or {}).items()}}
    rank = {s: i for i, s in enumerate(stages)}
    frame = pl.from_arrow(history.select(["person_id", "stage", "entered_at"])).filter(
        pl.col("person_id").is_not_null() & pl.col("entered_at").is_not_null())
    frame = frame.with_columns(canonical_stages(frame["stage"], known).alias("canonical"))
    unmatched = frame.filter(pl.col("canonical").is_null() | ~pl.col("canonical").is_in(list(stages)))
    unmatched_counts = dict(unmatched.group_by("stage").len().iter_rows()) if unmatched.height else {}
    frame = frame.filter(pl.col("canonical").is_in(list(stages))).with_columns(
        pl.col("canonical").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))

    # reached[k] = earliest moment a person entered stage k or any later one
    deepest = frame.group_by("person_id").agg(pl.col("rank").max().alias("deepest"),
                                              pl.col("entered_at").min().alias("first_seen"))
    per_stage = frame.group_by("person_id", "rank").agg(pl.col("entered_at").min().alias("at"))
    people = deepest.with_columns(pl.col("first_seen").dt.strftime("%Y-%m").alias("cohort"))
    for k in range(len(stages)):
        later = per_stage.filter(pl.col("rank") >= k).group_by("person_id").agg(pl.col("at").min().alias(f"s{k}"))
        people = people.join(later, on="person_id", how="left")
    if groups is not None:
        people = people.join(pl.from_arrow(groups.select(["person_id", "group"])), on="person_id", how="left")

    report = FunnelReport(stages, _steps(people, stages), unmatched_stages=unmatched_counts)
    window = _Window(frame["entered_at"].max(), window_days)
    for cohort in sorted(people["cohort"].unique().to_list()):
        report.cohorts[cohort] = _steps(people.filter(pl.col("cohort") == cohort), stages, window=window)
    if groups is not None:
        for group in sorted(g for g in people["group"].unique().to_list() if g is not None):
            report.groups[group] = _steps(people.filter(pl.col("group") == group), stages, group)
    report.bottleneck = _bottleneck(report)
    report.laggards = _laggards(report, f"{group_label}s")
    return report


@dataclass(frozen=True)
class _Window:
    as_of: object  # the newest entered_at in the data
    days: int


def _steps(people: pl.DataFrame, stages: tuple[str, ...], group: str | None = None,
           window: _Window | None = None) -> list[FunnelStep]:
    out = []
    for k in range(len(stages) - 1):
        a, b = f"s{k}", f"s{k + 1}"
        reached = people.filter(pl.col(a).is_not_null())
        moved = reached.filter(pl.col(b).is_not_null())
        if window is not None:
            span = pl.duration(days=window.days)
            reached = reached.filter(pl.col(a) + span <= pl.lit(window.as_of))
            moved = reached.filter(pl.col(b).is_not_null() & (pl.col(b) - pl.col(a) <= span))
        days = moved.select(((pl.col(b) - pl.col(a)).dt.total_seconds() / 86_400).alias("days"))["days"]
        mid = days.median() if days.len() else None
        out.append(FunnelStep(stages[k], stages[k + 1], reached.height, moved.height,
                              round(mid, 2) if mid is not None else None, group, days))
    return out


def _conversion_loss(before: float, after: float) -> float:
    """The share of a transition's throughput lost when its conversion goes from ``before`` to ``after``."""
    return round((before - after) / before, 4)


def _speed_loss(before: float, after: float) -> float:
    """The share of throughput lost when the median days go from ``before`` to ``after`` (pace = 1 / days).

    >>> _speed_loss(5.5, 12.0), _speed_loss(0.0, 0.5)
    (0.5417, 0.0)
    """
    return round(1 - max(before, 1.0) / max(after, 1.0), 4)


def _z(comparisons: int) -> float:
    """The z a difference must reach to pass at :data:`CONFIDENCE` among ``comparisons`` made at once.

    >>> round(_z(1), 2), round(_z(10), 2)
    (1.96, 2.81)
    """
    return NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2 / max(comparisons, 1))


def _beyond_chance(k1: int, n1: int, k2: int, n2: int, z: float) -> bool:
    """Whether shares ``k1/n1`` and ``k2/n2`` differ beyond chance (two-proportion z-test, pooled).

    >>> _beyond_chance(50, 100, 20, 100, 1.96), _beyond_chance(1, 20, 0, 20, 1.96)
    (True, False)
    """
    p = (k1 + k2) / (n1 + n2)
    if p in (0, 1):
        return False
    return abs(k1 / n1 - k2 / n2) >= z * (p * (1 - p) * (1 / n1 + 1 / n2)) ** 0.5


def _slower(before: pl.Series, after: pl.Series, z: float) -> bool:
    """Whether the days of ``after`` run longer than those of ``before`` beyond chance (Mann-Whitney U
    test, normal approximation with the tie correction: CRM stages are often stamped by the day).

    >>> _slower(pl.Series([5.0] * 25), pl.Series([9.0] * 54), 1.96)
    True
    >>> _slower(pl.Series([5.0, 9.0] * 20), pl.Series([9.0, 5.0] * 20), 1.96)
    False
    """
    n1, n2 = before.len(), after.len()
    n = n1 + n2
    both = pl.concat([before, after]).cast(pl.Float64)
    u = both.rank("average")[n1:].sum() - n2 * (n2 + 1) / 2
    ties = both.value_counts()["count"].cast(pl.Float64)
    variance = n1 * n2 / 12 * ((n + 1) - (ties ** 3 - ties).sum() / (n * (n - 1)))
    return variance > 0 and (u - n1 * n2 / 2) / variance ** 0.5 >= z


def _conversion_drop(before: FunnelStep, after: FunnelStep, z: float) -> float | None:
    """The throughput ``after`` lost against ``before`` by converting less, when marked and beyond chance."""
    if min(before.reached, after.reached) < MIN_COHORT or not before.converted:
        return None
    if after.conversion >= before.conversion:
        return None
    loss = _conversion_loss(before.conversion, after.conversion)
    marked = loss >= MIN_LOSS and _beyond_chance(before.converted, before.reached, after.converted, after.reached, z)
    return loss if marked else None


def _slowdown(before: FunnelStep, after: FunnelStep, z: float) -> float | None:
    """The throughput ``after`` lost against ``before`` by taking longer, when marked and beyond chance."""
    if min(before.converted, after.converted) < MIN_TIMED or after.median_days <= before.median_days:
        return None
    loss = _speed_loss(before.median_days, after.median_days)
    return loss if loss >= MIN_LOSS and _slower(before.days, after.days, z) else None


def _worst(candidates: list[Bottleneck]) -> Bottleneck | None:
    # on a tie, people lost weigh more than people late
    return max(candidates, key=lambda c: (c.loss, c.kind == "conversion"), default=None)


def _below(k: int, n: int, typical: float, z: float) -> bool:
    """Whether ``k`` of ``n`` converting is below a ``typical`` rate beyond chance (one-sample z-test)."""
    se = (typical * (1 - typical) / n) ** 0.5
    return typical - k / n >= z * se if se else k / n < typical


def _above(days: pl.Series, typical: float, z: float) -> bool:
    """Whether ``days`` run longer than a ``typical`` median beyond chance (sign test: more above it than below).

    >>> _above(pl.Series([9.0] * 30), 4.0, 1.96), _above(pl.Series([3.0, 5.0] * 15), 4.0, 1.96)
    (True, False)
    """
    above, below = int((days > typical).sum()), int((days < typical).sum())
    return above + below > 0 and (above - below) / (above + below) ** 0.5 >= z


def _laggards(report: FunnelReport, others: str = "groups") -> list[Bottleneck]:
    """Per transition, the group that lags the other groups most: converting less or moving on slower
    than the median of the other groups (big enough to count), whichever loses more throughput.

    The median of the groups, not their pooled people: one outlier channel (newsletter sign-ups that
    all become leads) must not make every other channel look like a laggard.
    """
    out = []
    z = _z(2 * len(report.groups))  # per transition, each group is tested for conversion and for speed
    for t in range(len(report.stages) - 1):
        steps = {name: s[t] for name, s in report.groups.items()}
        candidates = []
        for name, step in steps.items():
            rest = [s for g, s in steps.items() if g != name]
            rates = [s.conversion for s in rest if s.reached >= MIN_COHORT]
            if step.reached >= MIN_COHORT and rates and step.conversion < (typical := median(rates)):
                loss = _conversion_loss(typical, step.conversion)
                if loss >= MIN_LOSS and _below(step.converted, step.reached, typical, z):
                    candidates.append(Bottleneck(
                        step.stage, step.next_stage,
                        f"{step.stage} -> {step.next_stage}: {name} converts {step.conversion:.1%}, "
                        f"{(typical - step.conversion) * 100:.1f} points below the other {others} "
                        f"(median {typical:.1%})", "conversion", loss, name,
                        {"case": "group_conversion", "value": step.conversion, "typical": typical}))
            times = [s.median_days for s in rest if s.converted >= MIN_TIMED]
            if step.converted >= MIN_TIMED and times and step.median_days > (typical := median(times)):
                loss = _speed_loss(typical, step.median_days)
                if loss >= MIN_LOSS and _above(step.days, typical, z):
                    pace = (f"{step.median_days / typical:.1f}x the other {others} (median {typical:.1f})"
                            if typical >= 0.1 else
                            f"while the other {others} move on within hours (median {typical:.1f})")
                    candidates.append(Bottleneck(
                        step.stage, step.next_stage,
                        f"{step.stage} -> {step.next_stage}: {name} takes a median {step.median_days:.1f} days, {pace}",
                        "speed", loss, name, {"case": "group_speed", "days": step.median_days, "typical": typical}))
        if (worst := _worst(candidates)) is not None:
            out.append(worst)
    return out


def _bottleneck(report: FunnelReport) -> Bottleneck | None:
    """The transition that lost most throughput (conversion or speed) between its two latest cohorts
    big enough to compare, else the transition that converts worst overall."""
    candidates = []
    z = _z(2 * (len(report.stages) - 1))  # each transition is tested for conversion and for speed
    for t in range(len(report.stages) - 1):
        mature = [(c, steps[t]) for c, steps in report.cohorts.items() if steps[t].reached >= MIN_COHORT]
        if len(mature) >= 2:
            (before, old), (latest, new) = mature[-2], mature[-1]
            if (loss := _conversion_drop(old, new, z)) is not None:
                candidates.append(Bottleneck(
                    new.stage, new.next_stage,
                    f"{new.stage} -> {new.next_stage} converted {new.conversion:.1%} in cohort {latest}, "
                    f"down from {old.conversion:.1%} in {before} "
                    f"({(new.conversion - old.conversion) * 100:.1f} points)",
                    "conversion", loss, facts={"case": "cohort_drop", "value": new.conversion,
                                               "previous": old.conversion, "cohort": latest,
                                               "previous_cohort": before}))
        timed = [(c, s) for c, s in mature if s.converted >= MIN_TIMED]
        if len(timed) >= 2:
            (before, old), (latest, new) = timed[-2], timed[-1]
            if (loss := _slowdown(old, new, z)) is not None:
                candidates.append(Bottleneck(
                    new.stage, new.next_stage,
                    f"{new.stage} -> {new.next_stage} took a median {new.median_days:.1f} days in cohort {latest}, "
                    f"up from {old.median_days:.1f} days in {before}", "speed", loss,
                    facts={"case": "cohort_slowdown", "days": new.median_days, "previous": old.median_days,
                           "cohort": latest, "previous_cohort": before}))
    if (worst := _worst(candidates)) is not None:
        return worst
    measured = [s for s in report.steps if s.conversion is not None]
    if not measured:
        return None
    step = min(measured, key=lambda s: s.conversion)
    return Bottleneck(step.stage, step.next_stage,
                      f"{step.stage} -> {step.next_stage} converts least: {step.conversion:.1%} "
                      f"({step.converted:,} of {step.reached:,})",
                      facts={"case": "least", "value": step.conversion, "converted": step.converted,
                             "reached": step.reached})


def first_touch_groups(touchpoints: ibis.Table, column: str = "channel_group") -> ibis.Table:
    """``person_id``, ``group``: the ``column`` (channel group, source...) of each person's first touch.

    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"person_id": ["a", "a"], "channel_group": ["Email", "Paid Search"],
    ...                    "occurred_at": [dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1)]})
    >>> first_touch_groups(t).to_pyarrow().to_pylist()
    [{'person_id': 'a', 'group': 'Paid Search'}]
    """
    first = first_touches(touchpoints, [column])
    return first.select(person_id=first.person_id, group=first[column].cast("string"))
