"""The machinery of cleaning one table: value mappings written to the engine and joined back.

:class:`TableCleaning` is what :func:`marketops.quality.clean.clean_table` and the per-entity
cleaners (:mod:`~marketops.quality.clean_people`, :mod:`~marketops.quality.clean_touchpoints`)
work with: it takes the distinct values of a column out of the warehouse, normalises each once
(:func:`~marketops.quality.normalise.normalise_values`), writes the mapping as an Arrow table
(``Engine.write``), joins it back with Ibis, and assembles the cleaned table in the model's
column order. Every step is an Ibis expression or an Arrow table, so it runs on every engine.

Example:
    >>> import pyarrow as pa
    >>> from marketops.quality.normalise import normalise_values
    >>> mapping_columns(normalise_values(["CMO", "n/a"], "job_title")).to_pylist()[1]
    {'raw': 'n/a', 'value': None, 'reason': 'a placeholder, not a job title', 'seniority': None, 'function': None}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from marketops.quality.normalise import normalise_values
from marketops.schema import Entity
from marketops.settings import ChannelRule, WorkspaceConfig

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from marketops.engine.base import Engine

__all__ = ["CleanOptions", "ColumnCounts", "TableCleaning", "column_counts", "mapping_columns"]


@dataclass(frozen=True)
class CleanOptions:
    """What the workspace says about cleaning (``marketops.yaml``)."""

    #: ISO alpha-2 region for phone numbers without country code on records without a country.
    default_region: str | None = None
    #: Workspace source aliases (spelling -> source), tried before the built-in ones.
    source_aliases: Mapping[str, str] = field(default_factory=dict)
    #: Workspace channel rules, tried before GA4's default channel group.
    channel_rules: tuple[ChannelRule, ...] = ()

    @classmethod
    def from_config(cls, config: WorkspaceConfig) -> CleanOptions:
        """The options ``marketops.yaml`` sets.

        >>> CleanOptions.from_config(WorkspaceConfig(default_region="it")).default_region
        'IT'
        """
        return cls(config.default_region, dict(config.source_aliases), tuple(config.channels))


@dataclass
class ColumnCounts:
    """Rows of one cleaned column, counted after cleaning."""

    #: a loaded value came out clean
    cleaned: int = 0
    #: a non-empty loaded value was rejected (``c_issue`` says why)
    rejected: int = 0
    #: cleaned, and the clean value differs from the loaded one
    changed: int = 0
    #: no usable loaded value, filled from another column (a name from full_name, a source from the referrer)
    filled: int = 0
    #: distinct loaded values the normaliser saw (its calls)
    distinct: int = 0


class TableCleaning:
    """One table being cleaned: writes the value mappings, joins them, and drops them at the end.

    Mapping columns joined onto the table are named ``<column>__<field>`` (``email__value``,
    ``email__reason``, ``job_title__seniority``), so they never collide with model columns.
    """

    def __init__(self, engine: Engine, entity: Entity, source: ibis.Table, options: CleanOptions, tag: str) -> None:
        self.engine, self.entity, self.source, self.options, self.tag = engine, entity, source, options, tag
        self.distinct: dict[str, int] = {}
        self._scratch: list[str] = []

    # -- values out of and into the engine ------------------------------------------------------
    @staticmethod
    def texts(t: ibis.Table, column: str) -> list[str]:
        """The distinct non-empty values of ``column``."""
        values = t.select(v=t[column].cast("string")).filter(lambda x: x.v.notnull()).distinct()
        return values.to_pyarrow().column("v").to_pylist()

    def mapping(self, label: str, table: pa.Table) -> ibis.Table:
        """Write ``table`` to a scratch table of the engine and return it as an Ibis table."""
        name = f"_norm_{self.entity.name}_{label}__{self.tag}"
        self._scratch.append(name)
        self.engine.write(name, table)
        return self.engine.con.table(name)

    def drop_scratch(self) -> None:
        for name in self._scratch:
            self.engine.drop(name)
        self._scratch.clear()

    # -- the common case --------------------------------------------------------------------------
    def normalise(self, t: ibis.Table, column: str, kind: str, *,
                  extras: Callable[[pa.Table], dict[str, pa.Array]] | None = None, **options: Any) -> ibis.Table:
        """Join ``<column>__value``, ``__reason`` and the kind's extras (NULL for rejected values).

        ``extras`` adds more columns computed from the normaliser's mapping (which has ``flags``).
        """
        texts = self.texts(self.source, column)  # not from t: its joins would be computed for nothing
        self.distinct[column] = len(texts)
        table = mapping_columns(normalise_values(texts, kind, **options), extras)
        m = self.mapping(column, table.rename_columns([f"{column}__{n}" for n in table.column_names]))
        return t.left_join(m, t[column] == m[f"{column}__raw"])

    # -- the cleaned table --------------------------------------------------------------------------
    def finish(self, t: ibis.Table, *, clean: Mapping[str, ir.Value] | None = None,
               derived: Mapping[str, ir.Value] | None = None,
               derived_after: Mapping[str, Callable[[ibis.Table], ir.Value]] | None = None) -> ibis.Table:
        """The cleaned table in the model's column order (:attr:`Entity.table_columns`).

        ``clean`` overrides a clean value (default: ``<column>__value``); ``derived`` gives derived
        columns from ``t``; ``derived_after`` gives those computed from the cleaned columns
        themselves (``channel_group`` reads the clean source and medium).
        """
        clean, derived, derived_after = dict(clean or {}), dict(derived or {}), dict(derived_after or {})
        missing = {c.name for c in self.entity.derived} - set(derived) - set(derived_after)
        if missing:
            raise ValueError(f"no expression for the derived columns {sorted(missing)} of {self.entity.name}")
        columns: dict[str, ir.Value] = {"record_key": t.record_key}
        for c in self.entity.table_columns:
            if c.name in derived_after:
                continue
            cleaning = self.entity.cleaning(c.name)
            if cleaning:
                columns[c.name] = _typed(clean.get(c.name, t[f"{c.name}__value"]), self.entity, c.name)
                columns[cleaning.original.name] = t[c.name]
                columns[cleaning.issue.name] = t[f"{c.name}__reason"]
            elif c.name in derived:
                columns[c.name] = _typed(derived[c.name], self.entity, c.name)
            elif c.name not in columns:  # _original and _issue were placed beside their column
                columns[c.name] = t[c.name]
        out = t.select(**columns)
        if derived_after:
            out = out.mutate(**{name: _typed(fn(out), self.entity, name) for name, fn in derived_after.items()})
        return out.select("record_key", *[c.name for c in self.entity.table_columns])


def mapping_columns(normalised: pa.Table, extras: Callable[[pa.Table], dict[str, pa.Array]] | None = None) -> pa.Table:
    """A normaliser mapping trimmed for joining: ``raw, value, reason`` and the extras.

    An empty raw value is not an issue (only rejected non-empty values get a reason), and the
    extras of a rejected value are NULL (a rejected job title has no seniority).
    """
    value = normalised.column("value").to_pylist()
    flags = normalised.column("flags").to_pylist()
    reason = [None if "empty" in f else r for f, r in zip(flags, normalised.column("reason").to_pylist())]
    columns: dict[str, pa.Array] = {"raw": normalised.column("raw_text"), "value": normalised.column("value"),
                                    "reason": pa.array(reason, pa.string())}
    for name in normalised.column_names[4:]:
        values = normalised.column(name).to_pylist()
        columns[name] = pa.array([x if v is not None else None for x, v in zip(values, value)], pa.string())
    if extras:
        columns.update(extras(normalised))
    return pa.table(columns)


def _typed(expr: ir.Value, entity: Entity, name: str) -> ir.Value:
    storage = next(c.storage_type for c in entity.table_columns if c.name == name)
    return expr.cast(storage) if str(expr.type()) != storage else expr


def column_counts(t: ibis.Table, entity: Entity, distinct: Mapping[str, int]) -> dict[str, ColumnCounts]:
    """Per cleaned column: rows cleaned, rejected, changed, filled (one aggregate query)."""
    def count(cond: ir.BooleanValue) -> ir.IntegerValue:
        return cond.fill_null(False).ifelse(1, 0).sum()

    kinds = ("cleaned", "rejected", "changed", "filled")
    metrics: dict[str, ir.Value] = {}
    for cleaning in entity.normalised:
        c, original, issue = t[cleaning.column], t[cleaning.original.name], t[cleaning.issue.name]
        kept = original.notnull() & issue.isnull() & c.notnull()
        conditions = (kept, issue.notnull(), kept & (c != original),
                      c.notnull() & (original.isnull() | issue.notnull()))
        metrics.update({f"{cleaning.column}__{k}": count(cond) for k, cond in zip(kinds, conditions)})
    if not metrics:
        return {}
    row = t.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    return {cleaning.column: ColumnCounts(*(int(row[f"{cleaning.column}__{k}"] or 0) for k in kinds),
                                          distinct=distinct.get(cleaning.column, 0))
            for cleaning in entity.normalised}
