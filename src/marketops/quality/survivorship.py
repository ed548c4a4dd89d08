"""Golden records: one row per person (or account) built from all of its source records.

Identity resolution says which source records are the same person; survivorship decides which
value of each column the person keeps. Each column follows one rule:

``most_recent``
    the value of the record changed last (``updated_at``, else ``created_at``, else the latest
    load);
``most_complete``
    the value of the record that fills the most columns (ties: the most recent);
``source_priority``
    the value of the first system in ``source_priority`` that has one (systems not listed come
    last; ties: the most recent);
``most_frequent``
    the value most of the records agree on (ties: the most recent).

A rule only ever picks among real values: an empty cell, or a value the normaliser rejected, never
wins over one that is filled. Derived columns travel with their source: ``seniority`` and
``job_function`` come from the record whose ``job_title`` won, ``company_key`` with ``company``
(accounts: with ``name``), an account's ``currency`` with its ``annual_revenue``.

Some columns are not a matter of choice: ``created_at`` is the earliest, ``updated_at`` the latest
and ``unsubscribed`` is true as soon as one source says so (an opt-out must never be lost in a
merge). ``contributors`` records, per column, the ``record_key`` of the source record the value
came from.

Everything is an Ibis expression: one window (``row_number`` over the person) per rule in use, one
each for the earliest and latest dates, and one aggregation, so the same code runs on DuckDB and
PySpark.

Example:
    >>> import ibis, json
    >>> people = ibis.memtable({
    ...     "record_key": ["hubspot:1", "salesforce:9"], "_source_system": ["hubspot", "salesforce"],
    ...     "email": ["ann@acme.com", None], "phone": [None, "+390212345678"],
    ...     "unsubscribed": [True, False]})
    >>> identity_map = ibis.memtable({"record_key": ["hubspot:1", "salesforce:9"], "person_id": ["P1", "P1"]})
    >>> row = golden_people(people, identity_map).to_pyarrow().to_pylist()[0]
    >>> row["email"], row["phone"], row["unsubscribed"], row["sources"]
    ('ann@acme.com', '+390212345678', True, 'hubspot,salesforce')
    >>> json.loads(row["contributors"])["phone"]
    'salesforce:9'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import ibis
from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketops.errors import did_you_mean

Rule = Literal["most_recent", "most_complete", "source_priority", "most_frequent"]
RULES: tuple[str, ...] = get_args(Rule)

#: Person columns that survive by a rule, in the order of the golden table.
PEOPLE_COLUMNS = (
    "email", "first_name", "last_name", "phone", "company", "company_key", "job_title", "seniority",
    "job_function", "country", "region", "city", "postcode", "address", "lifecycle_stage", "lead_status",
    "lead_source", "owner", "account_id",
)
#: Account columns that survive by a rule (``currency`` travels with ``annual_revenue``).
ACCOUNT_COLUMNS = (
    "name", "domain", "company_key", "industry", "employees", "annual_revenue", "currency", "country",
    "city", "owner",
)
#: Columns that come from the record whose value of another column won, so that a golden record
#: never pairs one record's job title with another's seniority, or an amount with another currency.
PEOPLE_FOLLOWS = {"company_key": "company", "seniority": "job_title", "job_function": "job_title"}
ACCOUNT_FOLLOWS = {"company_key": "name", "currency": "annual_revenue"}
#: Columns whose value is not chosen by a rule, and why (for the error a misplaced rule gets).
FIXED_COLUMNS = {
    "created_at": "the earliest of the records",
    "updated_at": "the latest of the records",
    "unsubscribed": "true when any record says so (an opt-out is never lost)",
}


class SurvivorshipConfig(BaseModel):
    """How the golden record picks each column's value among a person's source records.

    Example:
        >>> cfg = SurvivorshipConfig(columns={"owner": "source_priority"},
        ...                          source_priority=["Salesforce", "hubspot"])
        >>> cfg.rule("owner"), cfg.rule("email"), cfg.source_priority
        ('source_priority', 'most_recent', ['salesforce', 'hubspot'])
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Rule = Field(
        default="most_recent",
        description="Rule for every column without a rule of its own: most_recent (the record changed last), "
                    "most_complete (the record filling the most columns), source_priority (the first system "
                    "of `source_priority` with a value) or most_frequent (the value most records agree on).")
    columns: dict[str, Rule] = Field(
        default_factory=dict,
        description="Column -> rule, overriding `default` for that column, e.g. {owner: source_priority, "
                    "phone: most_complete}. Applies to people and accounts alike.")
    source_priority: list[str] = Field(
        default_factory=list,
        description="Source systems in order of trust for the source_priority rule, e.g. "
                    "[salesforce, hubspot]; systems not listed come after them, most recent first.")

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        valid = sorted(set(PEOPLE_COLUMNS) | set(ACCOUNT_COLUMNS))
        for name in v:
            if name in FIXED_COLUMNS:
                raise ValueError(f"'{name}' takes no rule: it is always {FIXED_COLUMNS[name]}")
            leads = sorted({f[name] for f in (PEOPLE_FOLLOWS, ACCOUNT_FOLLOWS) if name in f})
            if leads:
                raise ValueError(f"'{name}' takes no rule: it comes from the record whose "
                                 f"{' or '.join(leads)} won; give that column the rule")
            if name not in valid:
                raise ValueError(
                    f"unknown column '{name}'{did_you_mean(name, valid)}; valid: {', '.join(valid)}")
        return v

    @field_validator("source_priority")
    @classmethod
    def _systems(cls, v: list[str]) -> list[str]:
        # Source systems are recorded in lower case (hubspot, salesforce); keep the first mention.
        return list(dict.fromkeys(s.strip().lower() for s in v if s.strip()))

    def rule(self, column: str) -> Rule:
        """The rule that column ``column`` follows."""
        return self.columns.get(column, self.default)


def golden_people(people: ibis.Table, identity_map: ibis.Table,
                  config: SurvivorshipConfig | None = None) -> ibis.Table:
    """One row per ``person_id`` with the surviving value of each person column.

    ``people`` is the canonical people table (normalised or not: columns it lacks are left out);
    ``identity_map`` maps each ``record_key`` to its ``person_id``. Output columns: ``person_id``,
    the columns of :data:`PEOPLE_COLUMNS` present in ``people``, ``created_at``, ``updated_at``,
    ``unsubscribed``, ``source_records`` (how many source records), ``sources`` (their systems,
    comma-separated) and ``contributors`` (JSON: column -> record_key the value came from).
    Records missing from ``identity_map`` are left out.
    """
    config = config or SurvivorshipConfig()
    if "person_id" in people.columns:
        people = people.drop("person_id")
    records = people.inner_join(identity_map.select("record_key", "person_id").view(), "record_key")
    columns = _present(people, *PEOPLE_COLUMNS)
    return survive(records, group="person_id", columns=columns, config=config,
                   earliest=_present(people, "created_at"), latest=_present(people, "updated_at"),
                   any_true=_present(people, "unsubscribed"), follow=follows(PEOPLE_FOLLOWS, columns))


def survive(records: ibis.Table, *, group: str, columns: Sequence[str], config: SurvivorshipConfig,
            earliest: Sequence[str] = (), latest: Sequence[str] = (), any_true: Sequence[str] = (),
            follow: Mapping[str, str] | None = None) -> ibis.Table:
    """Collapse ``records`` to one row per ``group`` value; the shared engine of golden records.

    ``records`` needs ``record_key`` and ``_source_system``; ``updated_at``, ``created_at``,
    ``_load_id`` and ``_source_row`` refine recency when present. ``columns`` survive by their
    rule in ``config``; ``earliest`` / ``latest`` take the minimum / maximum; ``any_true`` is true
    when any record is. ``follow`` maps a column to the column whose winning record it must come
    from (a currency travels with its amount). See :func:`golden_people` for the output.

    >>> import ibis
    >>> t = ibis.memtable({"record_key": ["a:1", "b:2", "b:3"], "_source_system": ["a", "b", "b"],
    ...                    "g": [1, 1, 1], "city": ["Roma", "Milano", "Milano"]})
    >>> golden = survive(t, group="g", columns=["city"], config=SurvivorshipConfig(default="most_frequent"))
    >>> golden.city.to_pyarrow().to_pylist()
    ['Milano']
    """
    follow = dict(follow or {})
    chosen = [c for c in columns if c not in follow]
    rules = {c: config.rule(c) for c in chosen}
    t = records

    # most_frequent needs each value's count among the group's records before it can rank them
    freq = {c: f"_sv_freq_{i}" for i, c in enumerate(c for c in chosen if rules[c] == "most_frequent")}
    if freq:
        t = t.mutate(**{name: t.count().over(group_by=[t[group], t[c]]) for c, name in freq.items()})

    recency = _recency(t)

    def ranked(order: list) -> ibis.Value:
        return ibis.row_number().over(group_by=t[group], order_by=order)

    ranks: dict[str, ibis.Value] = {"_sv_recent": ranked(recency)}
    if "most_complete" in rules.values():
        filled = sum((_nonempty(t, c).cast("int64") for c in columns), ibis.literal(0, "int64"))
        ranks["_sv_complete"] = ranked([ibis.desc(filled), *recency])
    if "source_priority" in rules.values():
        ranks["_sv_priority"] = ranked([ibis.asc(_priority(t, config.source_priority)), *recency])
    for c, name in freq.items():
        # non-empty values first so that a frequent NULL never outranks a real value
        ranks[name + "_rank"] = ranked([ibis.desc(_nonempty(t, c)), ibis.desc(t[name]), *recency])
    for c in earliest:
        ranks[f"_sv_first_{c}"] = ranked([ibis.asc(t[c], nulls_first=False), ibis.asc(t.record_key)])
    for c in latest:
        ranks[f"_sv_last_{c}"] = ranked([ibis.desc(t[c], nulls_first=False), ibis.asc(t.record_key)])
    t = t.mutate(**ranks)
    ne = {c: _nonempty(t, c) for c in chosen}

    rank_of = {"most_recent": "_sv_recent", "most_complete": "_sv_complete",
               "source_priority": "_sv_priority"}
    winner = {c: freq[c] + "_rank" if rules[c] == "most_frequent" else rank_of[rules[c]] for c in chosen}
    aggs: dict[str, ibis.Value] = {}
    source: dict[str, ibis.Value] = {}
    for c in columns:
        lead = follow.get(c, c)
        aggs[c] = t[c].argmin(t[winner[lead]], where=ne[lead])
        source[c] = t.record_key.argmin(t[winner[lead]], where=ne[lead])
    for c in earliest:
        aggs[c] = t[c].min()
        source[c] = t.record_key.argmin(t[f"_sv_first_{c}"], where=t[c].notnull())
    for c in latest:
        aggs[c] = t[c].max()
        source[c] = t.record_key.argmin(t[f"_sv_last_{c}"], where=t[c].notnull())
    for c in any_true:
        aggs[c] = t[c].any()
        # the most recent record that says so
        source[c] = t.record_key.argmin(t._sv_recent, where=ibis.coalesce(t[c], False))
    lineage = {f"_sv_from_{i}": v for i, v in enumerate(source.values())}
    g = t.group_by(t[group]).aggregate(
        **aggs, source_records=t.count(), sources=t._source_system.collect(distinct=True).sort().join(","),
        **lineage)
    contributors = _json_object({c: g[f"_sv_from_{i}"] for i, c in enumerate(source)})
    return g.mutate(contributors=contributors).drop(*lineage)


def follows(pairs: Mapping[str, str], columns: Sequence[str]) -> dict[str, str]:
    """The pairs (column -> the column it comes with) whose two columns are both in ``columns``.

    >>> follows(PEOPLE_FOLLOWS, ["company", "company_key", "seniority"])
    {'company_key': 'company'}
    """
    return {c: lead for c, lead in pairs.items() if c in columns and lead in columns}


# -- helpers ---------------------------------------------------------------------------------------
def _present(t: ibis.Table, *names: str) -> list[str]:
    return [n for n in names if n in t.columns]


def _nonempty(t: ibis.Table, column: str) -> ibis.BooleanValue:
    """True when the record really holds a value: not NULL, not blank, not rejected by a normaliser."""
    v = t[column]
    ok = v.notnull()
    if v.type().is_string():
        ok = ok & (v != "")
    if f"{column}_issue" in t.columns:
        ok = ok & t[f"{column}_issue"].isnull()
    return ok


def _recency(t: ibis.Table) -> list:
    """Sort keys putting a group's most recent record first; ``record_key`` makes the order total,
    so both engines pick the same record."""
    stamps = [t[c] for c in ("updated_at", "created_at") if c in t.columns]
    keys = []
    if stamps:
        keys.append(ibis.desc(ibis.coalesce(*stamps) if len(stamps) > 1 else stamps[0], nulls_first=False))
    keys += [ibis.desc(t[c], nulls_first=False) for c in ("_load_id", "_source_row") if c in t.columns]
    return [*keys, ibis.asc(t.record_key)]


def _priority(t: ibis.Table, systems: Sequence[str]) -> ibis.Value:
    if not systems:
        return ibis.literal(0)
    system = t._source_system.lower()
    return ibis.cases(*[(system == s, i) for i, s in enumerate(systems)], else_=len(systems))


def _json_string(v: ibis.StringValue) -> ibis.StringValue:
    """``v`` as a JSON string literal (NULL stays NULL). Plain replaces and simple regexes keep the
    escaping identical on DuckDB (RE2) and Spark (Java regex)."""
    escaped = v.replace("\\", "\\\\").replace('"', '\\"')
    for char, code in (("\\n", "\\\\n"), ("\\r", "\\\\r"), ("\\t", "\\\\t")):
        escaped = escaped.re_replace(char, code)
    escaped = escaped.re_replace("\\p{Cc}", " ")  # other control characters: never in real keys
    return ibis.literal('"').concat(escaped, ibis.literal('"'))


def _json_object(fields: Mapping[str, ibis.StringValue]) -> ibis.StringValue:
    parts: list[ibis.Value] = []
    for i, (name, value) in enumerate(fields.items()):
        parts.append(ibis.literal(("{" if i == 0 else ", ") + json.dumps(name) + ": "))
        parts.append(ibis.coalesce(_json_string(value), ibis.literal("null")))
    if not parts:
        return ibis.literal("{}")
    parts.append(ibis.literal("}"))
    return parts[0].concat(*parts[1:])
