"""Metric definitions: what a metric means, as data in YAML, checked before any query runs.

A metric is either an aggregate over one canonical table (``expression``, with an optional
``filter``), a ``ratio`` of two other metrics (times a ``multiplier``), or a ``difference`` of two.
Ratios are computed from the aggregated parts, never as averages of per-row ratios.
The expression language is deliberately tiny and parsed, never evaluated:

* ``expression``: ``sum(col)``, ``count(*)``, ``count(col)``, ``count_distinct(col)``, ``avg(col)``,
  ``min(col)``, ``max(col)``; the argument may also be ``days_between(start_col, end_col)``.
* ``filter``: conditions joined by ``and``: ``col = 'x'``, ``col != 'x'``, ``col in ('a', 'b')``,
  ``col = true``, ``col is null``, ``col is not null``, numbers compared with ``= != < <= > >=``.
  Text is compared case-insensitively.

Example:
    >>> cat = load_catalog()
    >>> cat["ctr"].ratio, cat["ctr"].multiplier
    (['clicks', 'impressions'], Decimal('100'))
    >>> cat.get("clics")
    Traceback (most recent call last):
    ...
    marketops.errors.NotFound: unknown metric 'clics' (did you mean 'clicks'?); valid: ...
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from marketops.errors import ConfigError, NotFound, did_you_mean
from marketops.schema import ENTITIES
from marketops.schema.base import Kind

AGGREGATES = ("sum", "count", "count_distinct", "avg", "min", "max")
FORMATS = ("number", "currency", "percent")

#: Dimensions of a person, for tables whose rows belong to one (``person_id``): the channel,
#: source, medium and campaign of the person's first touchpoint, the country of their golden
#: record, and the industry and size segment of their account.
PERSON_DIMENSIONS = {"channel": "@first_touch:channel_group", "source": "@first_touch:source",
                     "medium": "@first_touch:medium", "campaign": "@first_touch:campaign",
                     "country": "@person:country", "segment": "@segment", "industry": "@account:industry"}

#: Dimension name -> the column (or built expression, see ``query``) it reads, per table.
#: Only these pairs can be queried; a metric lists the subset it allows.
DIMENSIONS: dict[str, dict[str, str]] = {
    "ad_spend": {"channel": "@platform_channel", "platform": "platform", "campaign": "campaign"},
    "web_traffic": {"channel": "channel_group", "source": "source", "medium": "medium", "campaign": "campaign"},
    "touchpoints": {"channel": "channel_group", "source": "source", "medium": "medium", "campaign": "campaign",
                    "country": "country", "type": "type", "segment": "@segment",
                    "industry": "@account:industry"},
    "email_campaigns": {"channel": "@email", "platform": "platform", "campaign": "name"},
    "opportunities": {**PERSON_DIMENSIONS, "lead_source": "lead_source", "pipeline": "pipeline", "owner": "owner"},
    "people": {**PERSON_DIMENSIONS, "lead_source": "lead_source"},
    "conversions": {**PERSON_DIMENSIONS, "type": "type"},
    "lifecycle_stages": dict(PERSON_DIMENSIONS),
}

#: Account size segments: name -> the fewest employees an account of the segment has. A workspace
#: sets its own under ``segments:`` in marketops.yaml.
DEFAULT_SEGMENTS = {"SMB": 0, "Mid-market": 100, "Enterprise": 1000}

#: The time column a metric uses when it names none.
DEFAULT_TIME = {"ad_spend": "date", "web_traffic": "date", "touchpoints": "occurred_at",
                "email_campaigns": "sent_at", "opportunities": "created_at", "people": "created_at",
                "conversions": "occurred_at", "lifecycle_stages": "entered_at", "accounts": None}


def table_columns(table: str) -> dict[str, Kind]:
    """Columns of a published canonical table with their kinds (``record_key`` included)."""
    cols = {c.name: c.kind for c in ENTITIES[table].published_columns}
    return {"record_key": Kind.STRING, **cols}


# -- the expression language -------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_EXPR = re.compile(rf"^\s*({_IDENT})\s*\(\s*(\*|{_IDENT}|days_between\s*\(\s*{_IDENT}\s*,\s*{_IDENT}\s*\))\s*\)\s*$")
_DAYS = re.compile(rf"^days_between\s*\(\s*({_IDENT})\s*,\s*({_IDENT})\s*\)$")
_LIT = r"'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false"
_COND = re.compile(
    rf"^\s*({_IDENT})\s*(?:(is\s+not\s+null|is\s+null)|(=|!=|<>|<=|>=|<|>)\s*({_LIT})|"
    rf"(not\s+in|in)\s*\(\s*((?:{_LIT})(?:\s*,\s*(?:{_LIT}))*)\s*\))\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Aggregate:
    """A parsed ``expression``: the function, and the column(s) it reads (none for ``count(*)``)."""

    func: str
    column: str | None = None
    #: For ``days_between(start, end)``: the two timestamp columns.
    days: tuple[str, str] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.days) if self.days else ([self.column] if self.column else [])


@dataclass(frozen=True)
class Condition:
    """One parsed filter condition: ``column op value`` (value a tuple for ``in``)."""

    column: str
    op: str
    value: Any = None


def _literal(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return Decimal(text)


def parse_expression(text: str) -> Aggregate:
    """Parse an aggregate expression; ValueError (plain words) when it is not one.

    >>> parse_expression("count_distinct(person_id)")
    Aggregate(func='count_distinct', column='person_id', days=None)
    >>> parse_expression("avg(days_between(created_at, closed_at))").columns
    ['created_at', 'closed_at']
    """
    m = _EXPR.match(text or "")
    if not m:
        raise ValueError(f"'{text}' is not an aggregate such as sum(clicks), count(*) or "
                         f"count_distinct(person_id)")
    func, arg = m.group(1).lower(), m.group(2)
    if func not in AGGREGATES:
        raise ValueError(f"unknown function '{func}'{did_you_mean(func, AGGREGATES)}; valid: {', '.join(AGGREGATES)}")
    if arg == "*":
        if func != "count":
            raise ValueError(f"{func}(*) is not allowed; only count(*)")
        return Aggregate(func)
    days = _DAYS.match(arg)
    if days:
        if func not in ("avg", "sum", "min", "max"):
            raise ValueError(f"{func}(days_between(...)) is not allowed; use avg, sum, min or max")
        return Aggregate(func, days=(days.group(1), days.group(2)))
    return Aggregate(func, column=arg)


def parse_filter(text: str | None) -> list[Condition]:
    """Parse a filter into conditions (all must hold).

    >>> parse_filter("stage = 'MQL' and person_id is not null")
    [Condition(column='stage', op='=', value='MQL'), Condition(column='person_id', op='is not null', value=None)]
    """
    if not text or not text.strip():
        return []
    out = []
    # 'and' inside a quoted literal must not split: split only outside quotes
    for part in _split_and(text):
        m = _COND.match(part)
        if not m:
            raise ValueError(f"'{part.strip()}' is not a condition such as stage = 'mql', is_won = true, "
                             f"platform in ('google_ads', 'meta_ads') or closed_at is not null")
        col, null_op, op, lit, in_op, lits = m.groups()
        if null_op:
            out.append(Condition(col, " ".join(null_op.lower().split())))
        elif op:
            out.append(Condition(col, "!=" if op == "<>" else op, _literal(lit)))
        else:
            values = tuple(_literal(v.strip()) for v in re.findall(_LIT, lits, re.IGNORECASE))
            out.append(Condition(col, " ".join(in_op.lower().split()), values))
    return out


def _split_and(text: str) -> Iterator[str]:
    parts, start, quoted = [], 0, False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and re.match(r"\sand\s", text[i:i + 5], re.IGNORECASE):
            parts.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(text[start:])
    return iter(parts)


# -- the model ---------------------------------------------------------------------------------

class Metric(BaseModel):
    """One metric definition, as written in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Id used in queries and column names.")
    label: str = Field(description="Name shown to people, e.g. 'Cost per click'.")
    description: str = Field(default="", description="What it means and how it is computed, in plain words.")
    owner: str | None = Field(default=None, description="Who answers for the definition.")
    table: str | None = Field(default=None, description="Canonical table the expression aggregates.")
    expression: str | None = Field(default=None, description="Aggregate, e.g. sum(clicks).")
    filter: str | None = Field(default=None, description="Rows counted, e.g. stage = 'mql'.")
    ratio: list[str] | None = Field(default=None, min_length=2, max_length=2,
                                    description="[numerator, denominator] metric names.")
    difference: list[str] | None = Field(default=None, min_length=2, max_length=2,
                                         description="[a, b] metric names: a - b.")
    multiplier: Decimal = Field(default=Decimal(1), description="Ratio times this (100 for a percentage).")
    time_column: str | None = Field(default=None, description="Column that places a row in a period.")
    dimensions: list[str] | None = Field(default=None, description="Dimensions it may be broken down by "
                                         "(default: all its table offers; for ratios, what both parts allow).")
    format: Literal["number", "currency", "percent"] = Field(default="number")
    higher_is_better: bool = Field(default=True)

    @model_validator(mode="after")
    def _one_kind(self) -> Metric:
        kinds = [k for k in ("expression", "ratio", "difference") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"metric '{self.name}' needs exactly one of expression, ratio, difference"
                             + (f" (has {', '.join(kinds)})" if kinds else ""))
        if self.expression is not None:
            if self.table is None:
                raise ValueError(f"metric '{self.name}' has an expression but no table")
            if self.table not in DIMENSIONS:
                raise ValueError(f"unknown table '{self.table}'{did_you_mean(self.table, DIMENSIONS)}; "
                                 f"valid: {', '.join(DIMENSIONS)}")
            cols = table_columns(self.table)
            agg = parse_expression(self.expression)
            conds = parse_filter(self.filter)
            for col in [*agg.columns, *(c.column for c in conds), *([self.time_column] if self.time_column else [])]:
                if col not in cols:
                    raise ValueError(f"unknown column '{col}' of {self.table}{did_you_mean(col, cols)}")
            for name in agg.columns if agg.days else []:
                if cols[name] not in (Kind.TIMESTAMP, Kind.DATE):
                    raise ValueError(f"days_between needs date or timestamp columns; '{name}' is {cols[name].value}")
            if self.money and agg.func != "sum":
                raise ValueError(f"money column '{agg.column}' can only be summed (converting currencies needs "
                                 f"sums); define an average as a ratio of two sums")
            if self.dimensions is not None:
                for d in self.dimensions:
                    if d not in DIMENSIONS[self.table]:
                        raise ValueError(f"dimension '{d}' is not available on {self.table}"
                                         f"{did_you_mean(d, DIMENSIONS[self.table])}; valid: "
                                         f"{', '.join(DIMENSIONS[self.table]) or 'none'}")
        elif self.table is not None or self.filter is not None:
            raise ValueError(f"metric '{self.name}' combines other metrics: table and filter belong to them")
        return self

    @property
    def aggregate(self) -> Aggregate | None:
        return parse_expression(self.expression) if self.expression else None

    @property
    def conditions(self) -> list[Condition]:
        return parse_filter(self.filter)

    @property
    def money(self) -> bool:
        """Whether the expression sums a money column (converted to the reporting currency)."""
        agg = self.aggregate
        return bool(agg and agg.column and table_columns(self.table).get(agg.column) == Kind.MONEY)

    @property
    def time(self) -> str | None:
        return self.time_column or (DEFAULT_TIME.get(self.table) if self.table else None)

    @property
    def parts(self) -> list[str]:
        return list(self.ratio or self.difference or [])


class Catalog(Mapping[str, Metric]):
    """Every known metric by name: built-ins, then workspace additions and overrides."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = {m.name: m for m in metrics}

    def __getitem__(self, name: str) -> Metric:
        return self._metrics[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._metrics)

    def __len__(self) -> int:
        return len(self._metrics)

    def get(self, name: str, default: Any = None) -> Metric:  # type: ignore[override]
        """The metric ``name``, or NotFound with a "did you mean"."""
        if name in self._metrics:
            return self._metrics[name]
        close = did_you_mean(name, self._metrics)
        raise NotFound(f"unknown metric '{name}'{close}; valid: {', '.join(sorted(self._metrics))}")

    def base_metrics(self, name: str) -> list[Metric]:
        """The table aggregates ``name`` is computed from (itself when it is one)."""
        m = self.get(name)
        if m.expression:
            return [m]
        out: list[Metric] = []
        for part in m.parts:
            out += [b for b in self.base_metrics(part) if b not in out]
        return out

    def dimensions(self, name: str) -> list[str]:
        """Dimensions ``name`` may be broken down by."""
        m = self.get(name)
        if m.dimensions is not None and m.expression:
            return list(m.dimensions)
        if m.expression:
            return list(DIMENSIONS[m.table])
        allowed = [set(self.dimensions(p)) for p in m.parts]
        common = set.intersection(*allowed)
        if m.dimensions is not None:
            return [d for d in m.dimensions if d in common]
        return sorted(common)


# -- loading -----------------------------------------------------------------------------------

BUILTIN_FILE = "builtin.yaml"


def parse_metrics(text: str, file: str, *, key: str | None = None) -> list[Metric]:
    """Metric definitions from YAML text: a list of mappings (or the list under ``key``).

    Errors name the file and line of the bad definition.

    >>> [m.name for m in parse_metrics("- name: wins\\n  label: Wins\\n  table: opportunities\\n"
    ...                                 "  expression: count(*)\\n  filter: is_won = true\\n", "x.yaml")]
    ['wins']
    """
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', e)}", file=file,
                          line=mark.line + 1 if mark else None) from None
    base_line = None
    if key is not None:
        if not isinstance(data, Mapping) or key not in data or data[key] is None:
            return []
        base_line = data.lc.key(key)[0] + 1 if hasattr(data, "lc") else None
        data = data[key]
    data = data if data is not None else []
    if not isinstance(data, list):
        raise ConfigError("metrics must be a list of definitions (each starting with '- name:')", file=file,
                          line=base_line)
    out = []
    for i, item in enumerate(data):
        line = data.lc.item(i)[0] + 1 if hasattr(data, "lc") else None
        if not isinstance(item, Mapping):
            raise ConfigError("a metric definition must be a mapping with name, label...", file=file, line=line)
        try:
            out.append(Metric.model_validate({str(k): _plain(v) for k, v in item.items()}))
        except ValidationError as e:
            err = e.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else None
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                valid = sorted(Metric.model_fields)
                msg = f"unknown field '{field}'{did_you_mean(field, valid)}; valid: {', '.join(valid)}"
            elif field:
                msg = f"{field}: {msg}"
            field = field or _field_named_in(msg, item)
            if field and hasattr(item, "lc") and field in item:
                line = item.lc.key(field)[0] + 1
            name = item.get("name", f"#{i + 1}")
            raise ConfigError(f"metric '{name}': {msg}", file=file, line=line) from None
    return out


def _field_named_in(message: str, item: Mapping) -> str | None:
    """The field whose value holds a name the message quotes (a whole-model check's culprit)."""
    for word in re.findall(r"'([^']+)'", message):
        if word == item.get("name"):
            continue
        for key, value in item.items():
            if key != "name" and re.search(rf"\b{re.escape(word)}\b", str(value)):
                return str(key)
    return None


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, float):
        # YAML floats (0.1) would reach Decimal as binary fractions
        return Decimal(repr(node))
    return node


@functools.cache
def builtin_metrics() -> tuple[Metric, ...]:
    """The metrics shipped with marketops (``metrics/builtin.yaml``), parsed once per process
    (parsing costs more than a month x channel query over millions of rows)."""
    path = resources.files("marketops.metrics") / BUILTIN_FILE
    return tuple(parse_metrics(path.read_text(encoding="utf-8"), str(path)))


def load_catalog(workspace_yaml: Path | None = None, *, extra: Iterable[Metric] = ()) -> Catalog:
    """Built-ins, then the ``metrics:`` list of ``workspace_yaml`` (marketops.yaml), then ``extra``;
    a later definition with the same name replaces an earlier one. References between metrics
    (ratios, differences) are checked here: an unknown name fails with file, line and "did you mean".

    >>> "spend" in load_catalog()
    True
    """
    defs: list[tuple[Metric, str | None, int | None]] = [(m, None, None) for m in builtin_metrics()]
    if workspace_yaml is not None:
        text = Path(workspace_yaml).read_text(encoding="utf-8")
        lines = _definition_lines(text)
        defs += [(m, str(workspace_yaml), lines.get(m.name))
                 for m in parse_metrics(text, str(workspace_yaml), key="metrics")]
    defs += [(m, None, None) for m in extra]
    by_name = {m.name: (m, f, ln) for m, f, ln in defs}
    catalog = Catalog(m for m, _, _ in by_name.values())
    for m, file, line in by_name.values():
        for part in m.parts:
            if part not in catalog:
                raise ConfigError(f"metric '{m.name}': unknown metric '{part}'{did_you_mean(part, catalog)}",
                                  file=file or "metrics", line=line)
        try:
            _check_cycle(catalog, m.name, ())
            catalog.dimensions(m.name)
        except ValueError as e:
            raise ConfigError(f"metric '{m.name}': {e}", file=file or "metrics", line=line) from None
    return catalog


def _check_cycle(catalog: Catalog, name: str, seen: tuple[str, ...]) -> None:
    if name in seen:
        raise ValueError("defined in terms of itself: " + " -> ".join((*seen, name)))
    for part in catalog[name].parts:
        _check_cycle(catalog, part, (*seen, name))


def _definition_lines(text: str) -> dict[str, int]:
    data = YAML(typ="rt").load(text) or {}
    items = data.get("metrics") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return {}
    return {str(item.get("name")): items.lc.item(i)[0] + 1
            for i, item in enumerate(items) if isinstance(item, Mapping)}
