"""Normalisers: turn messy CRM and ad-platform values into one clean spelling, openly.

Every normaliser is a pure function ``raw -> Normalised(value, flags, reason)`` that never raises
and is idempotent (see :mod:`marketops.quality.normalise_base`). One module per kind of value:

==================  =============================================  ==================================
kind                function                                       module
==================  =============================================  ==================================
``email``           :func:`email`                                  ``normalise_email``
``phone``           :func:`phone` (``default_region="US"``)        ``normalise_phone``
``person_name``     :func:`person_name`, :func:`split_full_name`   ``normalise_name``
``company``         :func:`company`, :func:`company_key`           ``normalise_company``
``country``         :func:`country`                                ``normalise_country``
``job_title``       :func:`job_title`, :func:`classify_title`      ``normalise_job``
``utm_value``       :func:`utm_value`                              ``normalise_utm``
``utm_source``      :func:`utm_source` (``aliases=None``)          ``normalise_utm``
``domain``          :func:`domain`                                 ``normalise_domain``
==================  =============================================  ==================================

:func:`normalise_values` turns a list of *distinct* raw texts into an Arrow mapping table
``raw_text -> value, flags, reason[, extras]``: a million contacts rarely hold more than a few
hundred thousand distinct emails and a few hundred distinct countries, so the Python work stays
small. The pipeline's ``normalise`` step (:mod:`marketops.quality.clean`) writes such a mapping
into the warehouse and joins it back on any engine; :func:`normalise_column` does the same for
one column of a DuckDB table.

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE contacts AS SELECT * FROM (VALUES ('Italia'), ('ITA'), ('Italia'), (NULL)) t(country)")
    >>> mapping = normalise_column(con, "contacts", "country", "country")
    >>> con.execute(f"SELECT raw, value FROM {mapping} ORDER BY raw NULLS LAST").fetchall()
    [('ITA', 'IT'), ('Italia', 'IT'), (None, None)]
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from marketops.errors import ConfigError
from marketops.quality import normalise_cache
from marketops.quality.normalise_base import Normalised
from marketops.quality.normalise_company import CompanyName, company, company_key
from marketops.quality.normalise_country import country
from marketops.quality.normalise_domain import domain
from marketops.quality.normalise_email import email
from marketops.quality.normalise_job import JobTitle, classify_title, job_title
from marketops.quality.normalise_name import FullName, person_name, split_full_name
from marketops.quality.normalise_phone import phone
from marketops.quality.normalise_utm import utm_source, utm_value

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "NORMALISERS", "CompanyName", "FullName", "JobTitle", "Normalised", "classify_title", "company",
    "company_key", "country", "domain", "email", "extra_fields", "job_title", "normalise_column",
    "normalise_values", "person_name", "phone", "split_full_name", "utm_source", "utm_value",
]

# kind -> (normaliser, result class). The result class decides the mapping table's extra columns.
NORMALISERS: dict[str, tuple[Callable[..., Normalised], type[Normalised]]] = {
    "email": (email, Normalised),
    "phone": (phone, Normalised),
    "person_name": (person_name, Normalised),
    "company": (company, CompanyName),
    "country": (country, Normalised),
    "job_title": (job_title, JobTitle),
    "utm_value": (utm_value, Normalised),
    "utm_source": (utm_source, Normalised),
    "domain": (domain, Normalised),
}
_BASE_FIELDS = ("value", "flags", "reason")


def extra_fields(kind: str) -> list[str]:
    """Names of the extra columns a kind's mapping table carries (beyond value, flags, reason).

    >>> extra_fields("job_title"), extra_fields("email")
    (['seniority', 'function'], [])
    """
    _, result_cls = _lookup_kind(kind)
    return [f.name for f in dataclasses.fields(result_cls) if f.name not in _BASE_FIELDS]


def normalise_values(texts: Iterable[str | None], kind: str, **options: Any) -> pa.Table:
    """Normalise each distinct text once: an Arrow table ``raw_text, value, flags, reason[, extras]``.

    One row per distinct input (duplicates are dropped, so ``raw_text`` can be joined on), in
    first-seen order unless the pipeline's cache answered some of them
    (:mod:`~marketops.quality.normalise_cache`). ``flags`` is a list of strings, the other columns are strings; extras are those of
    :func:`extra_fields`. ``options`` go to the normaliser (``default_region="IT"`` for phones,
    ``aliases={...}`` for sources); one it does not take is a :class:`~marketops.errors.ConfigError`.

    >>> t = normalise_values(["Italia", "ITA", "Atlantis"], "country")
    >>> t.column("value").to_pylist(), t.column("reason").to_pylist()[2]
    (['IT', 'IT', None], "unknown country: 'Atlantis'")
    >>> normalise_values(["CMO"], "job_title").column_names
    ['raw_text', 'value', 'flags', 'reason', 'seniority', 'function']
    """
    func, _ = _lookup_kind(kind)
    _check_options(func, kind, options)
    distinct = list(dict.fromkeys(texts))
    cache = normalise_cache.active()
    if cache is None:
        return _normalise_each(distinct, kind, func, options)
    # Inside the pipeline's normalise step: known values come from the workspace's cache.
    key = cache.key(kind, options)
    known = cache.known(key, [t for t in distinct if t is not None])
    seen = set(known.column("raw_text").to_pylist()) if known is not None else set()
    fresh = _normalise_each([t for t in distinct if t not in seen], kind, func, options)
    cache.add(key, fresh.filter(pc.is_valid(fresh["raw_text"])))
    return fresh if known is None else pa.concat_tables([known, fresh.cast(known.schema)])


def _normalise_each(distinct: list[str | None], kind: str, func: Callable[..., Normalised],
                    options: dict[str, Any]) -> pa.Table:
    extras = extra_fields(kind)
    columns: dict[str, list[Any]] = {name: [] for name in ("raw_text", *_BASE_FIELDS, *extras)}
    for text in distinct:
        result = func(text, **options)
        columns["raw_text"].append(text)
        columns["value"].append(result.value)
        columns["flags"].append(list(result.flags))
        columns["reason"].append(result.reason)
        for name in extras:
            columns[name].append(getattr(result, name))
    return pa.table({
        name: pa.array(values, type=pa.list_(pa.string()) if name == "flags" else pa.string())
        for name, values in columns.items()
    })


def normalise_column(con: duckdb.DuckDBPyConnection, table: str, column: str, kind: str, *,
                     into: str | None = None, **options: Any) -> str:
    """Build a mapping table ``raw -> value, flags, reason[, extras]`` for one column; return its name.

    ``raw`` keeps the column's type (join with ``IS NOT DISTINCT FROM`` to carry NULLs, or ``=``);
    values are normalised as text. Extras: ``key`` for ``company``, ``seniority`` and ``function``
    for ``job_title``. ``options`` go to the normaliser (``default_region="IT"`` for phones,
    ``aliases={...}`` for sources). The mapping table is ``into`` or ``norm_<table>_<column>_<kind>``,
    replaced if it exists.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE leads(tel VARCHAR)")
    >>> _ = con.execute("INSERT INTO leads VALUES ('02 1234 5678'), ('02 1234 5678'), ('000')")
    >>> name = normalise_column(con, "leads", "tel", "phone", default_region="IT")
    >>> con.execute(f"SELECT raw, value, flags, reason FROM {name} ORDER BY raw").fetchall()
    [('000', None, ['absurd_phone'], 'not a real phone number: all digits are the same'), ('02 1234 5678', '+390212345678', [], None)]
    """
    _check_options(_lookup_kind(kind)[0], kind, options)
    source = _table_expr(table)
    raw_col = exp.column(column, quoted=True)
    distinct_text = sqlglot.select(exp.cast(raw_col, "VARCHAR").as_("raw_text")).distinct().from_(source)
    texts = [row[0] for row in con.execute(distinct_text.sql("duckdb")).fetchall()]
    arrow = normalise_values(texts, kind, **options)
    extras = extra_fields(kind)

    target = into or _default_name(table, column, kind)
    view = f"_marketops_normalise_{uuid.uuid4().hex}"
    distinct_raw = sqlglot.select(raw_col.as_("raw")).distinct().from_(source).subquery("d")
    mapping = (
        sqlglot.select(exp.column("raw", "d"), *(exp.column(name, "m") for name in (*_BASE_FIELDS, *extras)))
        .from_(distinct_raw)
        .join(exp.table_(view, quoted=True).as_("m"),
              on=exp.NullSafeEQ(this=exp.cast(exp.column("raw", "d"), "VARCHAR"),
                                expression=exp.column("raw_text", "m")),
              join_type="left")
    )
    create = exp.Create(this=_table_expr(target), kind="TABLE", expression=mapping, replace=True)
    con.register(view, arrow)
    try:
        con.execute(create.sql("duckdb"))
    finally:
        con.unregister(view)
    return target


def _check_options(func: Callable[..., Normalised], kind: str, options: dict[str, Any]) -> None:
    try:
        inspect.signature(func).bind(None, **options)
    except TypeError as exc:
        raise ConfigError(f"option not understood by the {kind!r} normaliser: {exc}") from None


def _lookup_kind(kind: str) -> tuple[Callable[..., Normalised], type[Normalised]]:
    try:
        return NORMALISERS[kind]
    except KeyError:
        close = difflib.get_close_matches(kind, NORMALISERS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        raise ConfigError(f"unknown kind of value {kind!r}; valid kinds: {', '.join(NORMALISERS)}",
                          hint=hint) from None


def _table_expr(name: str) -> exp.Table:
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ConfigError(f"not a table name: {name!r}")
    return exp.table_(parts[-1], db=parts[-2] if len(parts) > 1 else None,
                      catalog=parts[-3] if len(parts) > 2 else None, quoted=True)


def _default_name(table: str, column: str, kind: str) -> str:
    raw = f"norm_{table.split('.')[-1]}_{column}_{kind}"
    return re.sub(r"\W+", "_", raw, flags=re.ASCII).lower()
