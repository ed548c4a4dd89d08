"""Lifecycle stages as CRMs spell them, and the funnel's names for them.

Example:
    >>> spellings = stage_spellings(["MQL"])
    >>> "marketing qualified lead" in spellings and "mql" in spellings
    True
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import polars as pl

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
