"""The measurements behind the scorecard, as Ibis expressions that run on every engine.

Each function sends a handful of aggregate queries per table (one for the per-column counts of
every source, one for identifier duplicates, one each for rejection reasons and placeholder
examples) and returns small plain-Python results; :mod:`marketops.quality.scorecard` turns them
into rows and findings. Nothing here reads whole tables into Python.

Example:
    >>> import ibis, pyarrow as pa
    >>> from marketops.schema import ENTITIES
    >>> t = ibis.memtable(pa.table({"_source_system": ["crm", "crm"], "email": ["a@x.com", None]}))
    >>> plans, missing = plan_columns(t, ENTITIES["people"])
    >>> profile = source_profile(t, ENTITIES["people"], plans)
    >>> profile["crm"]["rows"], profile["crm"]["nonempty"]["email"]
    (2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import ibis

from marketops.engine import Engine
from marketops.ingest.loader import LOADS_TABLE, QUARANTINE_TABLE
from marketops.schema import Entity

SOURCE = "_source_system"
#: Shown for rows whose source system is not recorded.
UNKNOWN_SOURCE = "(unknown)"
#: Columns whose newest value tells how fresh a source is, in order of preference.
TIME_COLUMNS = ("updated_at", "created_at", "occurred_at", "date", "sent_at", "entered_at")
#: Identifier-like columns: a value shared by two records of one source is a likely duplicate.
IDENTIFIERS = {"people": ("record_id", "email", "phone"), "accounts": ("record_id", "domain")}
DEFAULT_IDENTIFIERS = ("record_id",)
#: What a person can be matched on besides their name.
PERSON_IDENTIFIERS = ("email", "phone", "record_id")
#: Words in a normaliser's reason that mark a placeholder ("n/a", "test"), not a malformed value.
PLACEHOLDER_WORDS = ("placeholder", "not a company name")
TOP = 3


@dataclass(frozen=True)
class ColumnPlan:
    """How one model column is measured: ``loaded`` is the value as loaded; ``clean`` and ``issue``
    exist when the normalise step rewrote the column."""

    name: str
    loaded: str
    clean: str | None = None
    issue: str | None = None

    @property
    def normalised(self) -> bool:
        return self.clean is not None


def plan_columns(t: ibis.Table, entity: Entity) -> tuple[list[ColumnPlan], list[str]]:
    """The model columns present in ``t`` (normalised ones use ``c_original``), and those missing."""
    present = set(t.columns)
    plans, missing = [], []
    for c in entity.column_names:
        if c not in present:
            missing.append(c)
        elif f"{c}_original" in present:
            plans.append(ColumnPlan(c, f"{c}_original", c, f"{c}_issue" if f"{c}_issue" in present else None))
        else:
            plans.append(ColumnPlan(c, c))
    return plans, missing


def source_of(t: ibis.Table) -> ibis.Value:
    src = t[SOURCE].cast("string") if SOURCE in t.columns else ibis.literal(None, "string")
    return ibis.coalesce(src, ibis.literal(UNKNOWN_SOURCE)).name("source")


def nonempty(v: ibis.Value) -> ibis.BooleanValue:
    """Not null, and for text not the empty string (cells are trimmed when loaded)."""
    return v.notnull() & (v != "") if v.type().is_string() else v.notnull()


def _count(cond: ibis.BooleanValue) -> ibis.Scalar:
    # CASE WHEN: a NULL condition counts as false on every engine
    return cond.ifelse(1, 0).sum()


def is_placeholder(issue: ibis.StringValue) -> ibis.BooleanValue:
    low = issue.lower()
    cond = low.contains(PLACEHOLDER_WORDS[0])
    for w in PLACEHOLDER_WORDS[1:]:
        cond = cond | low.contains(w)
    return cond


def usable(t: ibis.Table, plan: ColumnPlan) -> ibis.BooleanValue:
    """A value one can match on: the clean value when normalised, else any non-empty value."""
    return t[plan.clean].notnull() if plan.normalised else nonempty(t[plan.name])


def source_profile(t: ibis.Table, entity: Entity, plans: list[ColumnPlan]) -> dict[str, dict]:
    """Per source: rows, and per column the non-empty, accepted, already-clean and placeholder counts,
    email flags, identifier coverage, newest time value and distinct persons, in one query."""
    aggs: dict[str, ibis.Scalar] = {"rows": t.count()}
    keys: dict[str, tuple[str, str]] = {}  # aggregate name -> (measure, column)

    def add(measure: str, column: str, expr: ibis.Scalar) -> None:
        name = f"a{len(keys)}"
        aggs[name] = expr
        keys[name] = (measure, column)

    for p in plans:
        loaded = t[p.loaded]
        ne = nonempty(loaded)
        add("nonempty", p.name, _count(ne))
        if p.normalised:
            clean = t[p.clean]
            add("accepted", p.name, _count(ne & clean.notnull()))
            add("already_clean", p.name, _count(ne & (clean.cast("string") == loaded.cast("string"))))
            if p.issue:
                placeholder = is_placeholder(t[p.issue].cast("string"))
                add("placeholders", p.name, _count(ne & clean.isnull() & placeholder))
    by_name = {p.name: p for p in plans}
    email = by_name.get("email")
    if email is not None and email.normalised:
        accepted = t[email.clean].notnull()
        for flag in ("email_role", "email_disposable"):
            if flag in t.columns:
                add("flag", flag, _count(accepted & t[flag].cast("boolean")))
    if entity.name == "people":
        ids = [usable(t, by_name[c]) for c in PERSON_IDENTIFIERS if c in by_name]
        if ids:
            any_id = ids[0]
            for cond in ids[1:]:
                any_id = any_id | cond
            add("identified", "", _count(any_id))
    for c in TIME_COLUMNS:
        if c in t.columns and t[c].type().is_temporal():
            add("newest", c, t[c].max())
    if entity.name == "people" and "person_id" in t.columns:
        add("persons", "", t.person_id.nunique() + _count(t.person_id.isnull()))

    out: dict[str, dict] = {}
    for r in t.group_by(source_of(t)).aggregate(**aggs).to_pyarrow().to_pylist():
        prof: dict = {"rows": int(r["rows"])}
        for name, (measure, column) in keys.items():
            v = r[name]
            if measure == "newest":
                if v is not None:
                    prof.setdefault("newest", {})[column] = v
            elif column:
                prof.setdefault(measure, {})[column] = int(v or 0)
            else:
                prof[measure] = int(v or 0)
        out[r["source"]] = prof
    return out


Counts = dict[tuple[str, str], list[tuple[str, int]]]


def identifier_duplicates(t: ibis.Table, entity: Entity,
                          plans: list[ColumnPlan]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(source, column) -> (records with a value, records whose value another record shares,
    values shared)."""
    by_name = {p.name: p for p in plans}
    wanted = [by_name[c] for c in IDENTIFIERS.get(entity.name, DEFAULT_IDENTIFIERS) if c in by_name]
    if not wanted:
        return {}
    src = source_of(t)
    parts = []
    for p in wanted:
        v = t[p.clean] if p.normalised else t[p.name]
        parts.append(t.filter(nonempty(v)).select(src, ibis.literal(p.name).name("column"),
                                                  v.cast("string").name("value")))
    values = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    per_value = values.group_by(["source", "column", "value"]).aggregate(n=values.count())
    shared = per_value.n > 1
    result = per_value.group_by(["source", "column"]).aggregate(
        records=per_value.n.sum(), duplicated=shared.ifelse(per_value.n, 0).sum(),
        shared_values=_count(shared))
    return {(r["source"], r["column"]): (int(r["records"]), int(r["duplicated"]), int(r["shared_values"]))
            for r in result.to_pyarrow().to_pylist()}


def _top_per_group(counts: ibis.Table, label: str, k: int = TOP) -> Counts:
    w = ibis.window(group_by=[counts.source, counts.column], order_by=[ibis.desc(counts.n), counts[label]])
    top = counts.mutate(_rank=ibis.row_number().over(w)).filter(lambda x: x._rank < k)
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r in top.order_by(["source", "column", "_rank"]).to_pyarrow().to_pylist():
        out.setdefault((r["source"], r["column"]), []).append((r[label], int(r["n"])))
    return out


def rejection_reasons(t: ibis.Table, plans: list[ColumnPlan], k: int = TOP) -> Counts:
    """(source, column) -> the ``k`` most frequent reasons the normaliser gave for rejecting a value."""
    src = source_of(t)
    parts = [t.filter(t[p.issue].notnull()).select(src, ibis.literal(p.name).name("column"),
                                                    t[p.issue].cast("string").name("reason"))
             for p in plans if p.issue]
    if not parts:
        return {}
    reasons = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    counts = reasons.group_by(["source", "column", "reason"]).aggregate(n=reasons.count())
    return _top_per_group(counts, "reason", k)


def placeholder_examples(t: ibis.Table, plans: list[ColumnPlan], k: int = TOP) -> Counts:
    """(source, column) -> the ``k`` most frequent placeholder values as loaded ("n/a", "test"...)."""
    src = source_of(t)
    parts = []
    for p in plans:
        if p.issue:
            cond = t[p.clean].isnull() & is_placeholder(t[p.issue].cast("string"))
            parts.append(t.filter(cond).select(src, ibis.literal(p.name).name("column"),
                                               t[p.loaded].cast("string").name("value")))
    if not parts:
        return {}
    values = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    counts = values.group_by(["source", "column", "value"]).aggregate(n=values.count())
    return _top_per_group(counts, "value", k)


@dataclass(frozen=True)
class FileLoad:
    """The latest load of one file (or workbook sheet)."""

    file: str
    sheet: str | None
    entity: str | None
    system: str | None
    status: str
    loaded_at: datetime
    rows_in: int
    rows_quarantined: int
    message: str | None
    #: quarantined rows per column named in the quarantine, most first
    columns: tuple[tuple[str, int], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.file}[{self.sheet}]" if self.sheet else self.file


def latest_loads(engine: Engine, loads_table: str = LOADS_TABLE,
                 quarantine_table: str = QUARANTINE_TABLE) -> list[FileLoad]:
    """The latest load of every file, with the columns its quarantined rows were rejected for."""
    if not engine.has_table(loads_table):
        return []
    loads = engine.table(loads_table)
    w = ibis.window(group_by=[loads.file, loads.sheet],
                    order_by=[ibis.desc(loads.loaded_at), ibis.desc(loads.load_id)])
    latest = (loads.mutate(_rank=ibis.row_number().over(w)).filter(lambda x: x._rank == 0)
              .select("load_id", "file", "sheet", "entity", "system", "status", "loaded_at", "rows_in",
                      "rows_quarantined", "message").to_pyarrow().to_pylist())
    columns: dict[str, list[tuple[str, int]]] = {}
    with_quarantine = [r["load_id"] for r in latest if r["rows_quarantined"]]
    if with_quarantine and engine.has_table(quarantine_table):
        q = engine.table(quarantine_table)
        q = q.filter(q.load_id.isin(with_quarantine))
        column = ibis.coalesce(q.column.cast("string"), ibis.literal("(whole row)")).name("column")
        counts = q.group_by([q.load_id, column]).aggregate(n=q.count()).to_pyarrow().to_pylist()
        for r in sorted(counts, key=lambda r: (-r["n"], r["column"])):
            columns.setdefault(r["load_id"], []).append((r["column"], int(r["n"])))
    return [FileLoad(r["file"], r["sheet"], r["entity"], r["system"], r["status"], as_utc(r["loaded_at"]),
                     int(r["rows_in"] or 0), int(r["rows_quarantined"] or 0), r["message"],
                     tuple(columns.get(r["load_id"], ())))
            for r in latest]


def as_utc(v: datetime) -> datetime:
    """Warehouse timestamps are UTC, naive on DuckDB and zoned on some engines: make them zoned."""
    if not isinstance(v, datetime):  # a date: its start, UTC
        return datetime(v.year, v.month, v.day, tzinfo=UTC)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
