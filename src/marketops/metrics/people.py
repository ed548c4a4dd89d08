"""Dimensions of a person, for metrics over tables whose rows belong to one: leads, MQLs, deals
and conversions broken down by the channel that first brought the person, their country, and
their account's industry and size segment.

The first touch is the person's earliest touchpoint (ties broken by record key, so the answer
never depends on the engine's row order); the country comes from the golden record, industry and
employees from the golden account. A person without touchpoints, golden record or account gets
no value (shown as empty), never a guessed one.

Example:
    >>> import datetime as dt, ibis
    >>> tp = ibis.memtable({"person_id": ["a", "a", "b"], "record_key": ["t1", "t2", "t3"],
    ...     "channel_group": ["Email", "Paid Search", "Organic Search"],
    ...     "occurred_at": [dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 5)]})
    >>> sorted(first_touches(tp, ["channel_group"]).to_pyarrow().to_pylist(), key=lambda r: r["person_id"])
    [{'person_id': 'a', 'channel_group': 'Paid Search'}, {'person_id': 'b', 'channel_group': 'Organic Search'}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ibis

from marketops.metrics.definitions import DEFAULT_SEGMENTS

#: Prefixes of person dimensions in :data:`~marketops.metrics.definitions.DIMENSIONS`.
FIRST_TOUCH, PERSON, ACCOUNT, SEGMENT = "@first_touch:", "@person:", "@account:", "@segment"
_KEY = "_dim_person_id"


def first_touches(touchpoints: ibis.Table, columns: Sequence[str]) -> ibis.Table:
    """``person_id`` and ``columns`` of each known person's earliest touchpoint."""
    t = touchpoints.filter(touchpoints.person_id.notnull())
    order = [t.occurred_at, t.record_key] if "record_key" in t.columns else [t.occurred_at]
    first = t.mutate(_n=ibis.row_number().over(ibis.window(group_by=t.person_id, order_by=order)))
    first = first.filter(first._n == 0)
    return first.select("person_id", *columns)


def segment_of(employees: ibis.Value, segments: Mapping[str, int] | None = None) -> ibis.StringValue:
    """The size segment of an account with ``employees`` (the largest minimum it reaches).

    >>> import ibis
    >>> t = ibis.memtable({"employees": [12, 250, 5000, None]})
    >>> t.select(s=segment_of(t.employees)).to_pyarrow().column("s").to_pylist()
    ['SMB', 'Mid-market', 'Enterprise', None]
    """
    bands = sorted((segments or DEFAULT_SEGMENTS).items(), key=lambda kv: kv[1], reverse=True)
    cases = [(employees >= minimum, name) for name, minimum in bands]
    return ibis.cases(*cases, else_=ibis.null("string")).cast("string")


def is_person_dimension(spec: str) -> bool:
    return spec.startswith((FIRST_TOUCH, PERSON, ACCOUNT, SEGMENT))


def with_person_dimensions(t: ibis.Table, specs: Sequence[str], table: Callable[[str], ibis.Table | None],
                           segments: Mapping[str, int] | None = None) -> ibis.Table:
    """``t`` (rows with a ``person_id``) with one column per person dimension ``spec``, named by
    :func:`column_of`. ``table(name)`` gives a published table, or None when the workspace has none.
    """
    specs = [s for s in dict.fromkeys(specs) if is_person_dimension(s)]
    if not specs:
        return t
    person = t.person_id.cast("string") if "person_id" in t.columns else ibis.null("string")
    t = t.mutate(**{_KEY: person})
    touch_cols = [s.removeprefix(FIRST_TOUCH) for s in specs if s.startswith(FIRST_TOUCH)]
    touchpoints = table("touchpoints")
    if touch_cols and touchpoints is not None:
        first = first_touches(touchpoints, touch_cols)
        first = first.select(**{_KEY: first.person_id.cast("string")},
                             **{column_of(FIRST_TOUCH + c): first[c].cast("string") for c in touch_cols})
        t = t.left_join(first, _KEY).drop(f"{_KEY}_right")
    golden = table("golden_people")
    wants_account = any(s.startswith(ACCOUNT) or s == SEGMENT for s in specs)
    if golden is not None and (wants_account or any(s.startswith(PERSON) for s in specs)):
        g = golden.select(**{_KEY: golden.person_id.cast("string")}, _p_country=golden.country.cast("string"),
                          _p_account=golden.account_id.cast("string"))
        accounts = table("golden_accounts")
        if wants_account and accounts is not None:
            a = accounts.select(_p_account=accounts.account_id.cast("string"),
                                _a_industry=accounts.industry.cast("string"),
                                _a_employees=accounts.employees.cast("int64"))
            g = g.left_join(a, "_p_account").drop("_p_account_right")
        t = t.left_join(g, _KEY).drop(f"{_KEY}_right")
    values = {}
    for s in specs:
        name = column_of(s)
        if s == SEGMENT:
            values[name] = segment_of(t._a_employees, segments) if "_a_employees" in t.columns else ibis.null("string")
        elif s.startswith(ACCOUNT):
            source = "_a_" + s.removeprefix(ACCOUNT)
            values[name] = t[source] if source in t.columns else ibis.null("string")
        elif name not in t.columns:  # no touchpoints or golden records in this workspace yet
            values[name] = ibis.null("string")
    return t.mutate(**values) if values else t


def column_of(spec: str) -> str:
    """The column :func:`with_person_dimensions` adds for ``spec``."""
    if spec.startswith(FIRST_TOUCH):
        return "_ft_" + spec.removeprefix(FIRST_TOUCH)
    if spec.startswith(PERSON):
        return "_p_" + spec.removeprefix(PERSON)
    if spec == SEGMENT:
        return "_p_segment"
    return "_pa_" + spec.removeprefix(ACCOUNT)
