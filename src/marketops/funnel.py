"""The lifecycle funnel: how many people reach each stage, how many move on, how long it takes, and
where the funnel leaks most.

Stage names differ per CRM ("Marketing Qualified Lead", "MQL", "marketingqualifiedlead"); they are
matched to the funnel's stages through :data:`STAGE_ALIASES` after lower-casing and squeezing
spaces. A person *reaches* a stage when they entered it or any later one (CRMs skip stages: a lead
closed straight into a deal still passed the MQL bar), and enters it at the earliest such moment.

For each pair of consecutive stages the report gives the people who reached the first, the share
that reached the next (conversion) and the median days between the two. Grouped by cohort (the
month a person entered the funnel) and, when asked, by a dimension such as the channel of their
first touch.

Cohorts are compared fairly: in a cohort, a conversion counts only when it happened within
``window_days`` of reaching the stage, and only people who reached the stage at least that long
before the newest data count at all (a month-old cohort has not had the time an old one had). The
**bottleneck** is the transition whose windowed conversion fell most from the previous cohort to
the latest one (each with at least :data:`MIN_COHORT` people), else the one that converts worst.

Example:
    >>> import datetime as dt, pyarrow as pa
    >>> d = lambda day: dt.datetime(2024, 1, day)
    >>> rows = pa.table({"person_id": ["a", "a", "b", "b", "c"], "stage": ["Lead", "MQL", "lead", "Customer", "Lead"],
    ...                  "entered_at": [d(1), d(3), d(2), d(9), d(5)]})
    >>> report = funnel(rows, stages=("lead", "mql", "customer"))
    >>> [(s.stage, s.reached, s.converted, s.median_days) for s in report.steps]
    [('lead', 3, 2, 4.5), ('mql', 2, 1, 0.0)]
    >>> report.bottleneck.stage
    'mql'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import ibis
import polars as pl
import pyarrow as pa

from marketops.errors import ValidationFailed

DEFAULT_STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")

#: Spellings of lifecycle stages in CRM exports -> the funnel's stage names.
STAGE_ALIASES = {
    "subscriber": "subscriber", "iscritto": "subscriber", "suscriptor": "subscriber", "подписчик": "subscriber",
    "lead": "lead", "new lead": "lead", "contatto": "lead", "лид": "lead",
    "mql": "mql", "marketing qualified lead": "mql", "marketingqualifiedlead": "mql", "marketing qualified": "mql",
    "sql": "sql", "sales qualified lead": "sql", "salesqualifiedlead": "sql", "sales qualified": "sql",
    "opportunity": "opportunity", "opportunita": "opportunity", "oportunidad": "opportunity", "сделка": "opportunity",
    "customer": "customer", "closed won": "customer", "closed - won": "customer", "cliente": "customer",
    "клиент": "customer", "evangelist": "customer",
}

#: A cohort needs this many people at a stage before its conversion is compared with another's.
MIN_COHORT = 20


@dataclass(frozen=True)
class FunnelStep:
    """One transition: people who reached ``stage``, how many reached ``next_stage``, and how fast."""

    stage: str
    next_stage: str
    reached: int
    converted: int
    median_days: float | None
    group: str | None = None

    @property
    def conversion(self) -> float | None:
        return self.converted / self.reached if self.reached else None

    def to_json(self) -> dict:
        return {**asdict(self), "conversion": self.conversion}


@dataclass(frozen=True)
class Bottleneck:
    stage: str
    next_stage: str
    reason: str


@dataclass
class FunnelReport:
    """The funnel overall (``steps``), per cohort month (``cohorts``), per group, and its bottleneck."""

    stages: tuple[str, ...]
    steps: list[FunnelStep]
    cohorts: dict[str, list[FunnelStep]] = field(default_factory=dict)
    groups: dict[str, list[FunnelStep]] = field(default_factory=dict)
    bottleneck: Bottleneck | None = None
    #: per transition, the group (channel...) converting furthest below the other groups together
    laggards: list[Bottleneck] = field(default_factory=list)
    unmatched_stages: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"stages": list(self.stages), "steps": [s.to_json() for s in self.steps],
                "cohorts": {k: [s.to_json() for s in v] for k, v in self.cohorts.items()},
                "groups": {k: [s.to_json() for s in v] for k, v in self.groups.items()},
                "bottleneck": asdict(self.bottleneck) if self.bottleneck else None,
                "laggards": [asdict(b) for b in self.laggards],
                "unmatched_stages": self.unmatched_stages}


def stage_key(name: str | None) -> str:
    """The comparable spelling of a stage name.

    >>> stage_key("  Marketing  Qualified Lead ")
    'marketing qualified lead'
    """
    return " ".join((name or "").casefold().replace("_", " ").split())


def canonical_stages(stages: pl.Series, known: dict[str, str] | None = None) -> pl.Series:
    """The funnel stage of each CRM stage name (None when unknown), worked out once per distinct name.

    ``known`` maps comparable spellings (:func:`stage_key`) to stages; default: :data:`STAGE_ALIASES`.

    >>> canonical_stages(pl.Series(["Marketing Qualified Lead", "MQL", "webinar"])).to_list()
    ['mql', 'mql', None]
    """
    known = known if known is not None else {stage_key(k): v for k, v in STAGE_ALIASES.items()}
    names = stages.unique().drop_nulls().to_list()
    mapping = {n: known.get(stage_key(n)) for n in names}
    return stages.replace_strict(mapping, default=None, return_dtype=pl.String)


def funnel(history: pa.Table, *, stages: Sequence[str] = DEFAULT_STAGES, groups: pa.Table | None = None,
           aliases: dict[str, str] | None = None, window_days: int = 30) -> FunnelReport:
    """The funnel of ``history`` (``person_id``, ``stage``, ``entered_at``: the lifecycle_stages table).

    ``groups`` (``person_id``, ``group``) splits the funnel, e.g. by the channel of each person's first
    touch; ``aliases`` adds stage spellings (spelling -> one of ``stages``).
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
    report.laggards = _laggards(report)
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
        days = moved.select(((pl.col(b) - pl.col(a)).dt.total_seconds() / 86_400).median()).item() if moved.height else None
        out.append(FunnelStep(stages[k], stages[k + 1], reached.height, moved.height,
                              round(days, 2) if days is not None else None, group))
    return out


def _laggards(report: FunnelReport) -> list[Bottleneck]:
    """Per transition, the group whose conversion lags the other groups' pooled conversion most."""
    out = []
    for t in range(len(report.stages) - 1):
        total = report.steps[t]
        gaps = []
        for name, steps in report.groups.items():
            step = steps[t]
            rest_reached, rest_converted = total.reached - step.reached, total.converted - step.converted
            if step.reached >= MIN_COHORT and rest_reached >= MIN_COHORT:
                gaps.append((rest_converted / rest_reached - step.conversion, name, step, rest_converted / rest_reached))
        gap = max(gaps, key=lambda g: g[0], default=None)
        if gap and gap[0] > 0:
            lag, name, step, rest = gap
            out.append(Bottleneck(step.stage, step.next_stage,
                                  f"{step.stage} -> {step.next_stage}: {name} converts {step.conversion:.1%}, "
                                  f"{lag:.1%} points below the other groups ({rest:.1%})"))
    return out


def _bottleneck(report: FunnelReport) -> Bottleneck | None:
    """The transition whose conversion fell most between its two latest cohorts with enough people,
    else the transition that converts worst overall."""
    drops = []
    for t in range(len(report.stages) - 1):
        mature = [(c, steps[t]) for c, steps in report.cohorts.items() if steps[t].reached >= MIN_COHORT]
        if len(mature) >= 2:
            (before, old), (latest, new) = mature[-2], mature[-1]
            drops.append((old.conversion - new.conversion, new, latest, before))
    worst = max(drops, key=lambda d: d[0], default=None)
    if worst and worst[0] > 0:
        drop, step, latest, before = worst
        return Bottleneck(step.stage, step.next_stage,
                          f"{step.stage} -> {step.next_stage} converted {step.conversion:.1%} in cohort {latest}, "
                          f"down {drop:.1%} points from {before}")
    measured = [s for s in report.steps if s.conversion is not None]
    if not measured:
        return None
    step = min(measured, key=lambda s: s.conversion)
    return Bottleneck(step.stage, step.next_stage,
                      f"{step.stage} -> {step.next_stage} converts least: {step.conversion:.1%} "
                      f"({step.converted:,} of {step.reached:,})")


def first_touch_groups(touchpoints: ibis.Table, column: str = "channel_group") -> ibis.Table:
    """``person_id``, ``group``: the ``column`` (channel group, source...) of each person's first touch.

    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"person_id": ["a", "a"], "channel_group": ["Email", "Paid Search"],
    ...                    "occurred_at": [dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1)]})
    >>> first_touch_groups(t).to_pyarrow().to_pylist()
    [{'person_id': 'a', 'group': 'Paid Search'}]
    """
    t = touchpoints.filter(touchpoints.person_id.notnull())
    w = ibis.window(group_by=t.person_id, order_by=[t.occurred_at, t.record_key] if "record_key" in t.columns
                    else [t.occurred_at])
    first = t.mutate(_n=ibis.row_number().over(w)).filter(lambda x: x._n == 0)
    return first.select(person_id=first.person_id, group=first[column].cast("string"))
