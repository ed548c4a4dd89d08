"""Lifecycle stages as CRMs spell them, and the funnel's names for them.

Example:
    >>> spellings = stage_spellings(["MQL"])
    >>> "marketing qualified lead" in spellings and "mql" in spellings
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import ibis
import polars as pl

if TYPE_CHECKING:
    from marketops.leads.lifecycle_config import LifecycleConfig

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


def stage_key_column(column: ibis.Value) -> ibis.StringValue:
    """:func:`stage_key` as an Ibis expression, for matching a stage column on any engine.

    >>> import ibis
    >>> t = ibis.memtable({"stage": ["Marketing_Qualified  Lead", " MQL "]})
    >>> t.select(k=stage_key_column(t.stage)).to_pyarrow().column("k").to_pylist()
    ['marketing qualified lead', 'mql']
    """
    # regex trims, not .strip(): Ibis's strip misbehaves on PySpark
    return column.cast("string").lower().re_replace(r"[_\s]+", " ").re_replace(r"^ | $", "")


def stage_spellings(stages: Iterable[str]) -> list[str]:
    """Every known spelling (lower case) of the funnel stages ``stages`` name, for matching a
    CRM's stage column: "mql" also finds "Marketing Qualified Lead"."""
    canonical = {STAGE_ALIASES.get(stage_key(s), stage_key(s)) for s in stages}
    return sorted({k for k, v in STAGE_ALIASES.items() if v in canonical} | canonical)


def spelling_map(cfg: LifecycleConfig) -> dict[str, str]:
    """Comparable spellings (:func:`stage_key`) -> the configured stage or outcome they name: each name,
    its configured spellings, and the built-in :data:`STAGE_ALIASES` of the stages configured.

    >>> from marketops.leads.lifecycle_config import LifecycleConfig
    >>> m = spelling_map(LifecycleConfig())
    >>> m["marketing qualified lead"], m["nurture"], m["closed - won"]
    ('mql', 'recycled', 'customer')
    """
    out: dict[str, str] = {}
    names = {s.name for s in (*cfg.stages, *cfg.outcomes)}
    for alias, stage in STAGE_ALIASES.items():
        if stage in names:
            out[stage_key(alias)] = stage
    for s in (*cfg.stages, *cfg.outcomes):
        out[stage_key(s.name)] = s.name
        out[stage_key(s.name.replace("_", " "))] = s.name
        for spelling in s.spellings:
            out[stage_key(spelling)] = s.name
    return out


def stage_of_column(column: ibis.Value, spellings: dict[str, str]) -> ibis.StringValue:
    """The configured stage of each CRM stage name in ``column`` (null when unknown), as an Ibis
    expression: one CASE over the spellings, so it runs on any engine.

    >>> import ibis
    >>> t = ibis.memtable({"stage": ["Marketing_Qualified Lead", "Nurture", "webinar"]})
    >>> t.select(s=stage_of_column(t.stage, {"marketing qualified lead": "mql", "nurture": "recycled"})
    ...          ).to_pyarrow().column("s").to_pylist()
    ['mql', 'recycled', None]
    """
    key = stage_key_column(column)
    by_stage: dict[str, list[str]] = {}
    for spelling, stage in spellings.items():
        by_stage.setdefault(stage, []).append(spelling)
    cases = [(key.isin(sorted(v)), stage) for stage, v in by_stage.items()]
    return ibis.cases(*cases, else_=ibis.null("string")).cast("string") if cases else ibis.null("string")
