"""Stitching: give every touchpoint, conversion, opportunity and lifecycle change its ``person_id``.

An event finds its person by the first route that works:

``record_id``
    its ``person_record_id`` is a people record of the same source system in the identity map,
    else a record id that only one person has in any system (generic event files carry CRM ids);
``email``
    its email (case-folded) belongs to exactly one person;
``user_id``
    its logged-in ``user_id`` was seen on events that the routes above tied to one person;
``anonymous_id``
    its visitor id (cookie, device) was seen on events tied to one person, or on a people record:
    this is how a visitor's sessions *before* they filled a form get their person.

A visitor id (or user id) seen with two different people is ambiguous: events that only it could
stitch stay without a person, marked ``ambiguous_visitor``, and are counted, never guessed.

Two steps so that a pipeline can keep the links as a table: :func:`visitor_links` reads all event
tables at once (a login in one table stitches sessions in another), :func:`stitch` adds
``person_id`` and ``person_match`` to one table. :func:`stitch_events` does both.

Example:
    >>> import ibis
    >>> imap = ibis.memtable({"record_key": ["hubspot:1"], "source_system": ["hubspot"], "record_id": ["1"],
    ...                       "email": ["ann@acme.com"], "person_id": ["P1"]})
    >>> visits = ibis.memtable({"record_key": ["g:1", "g:2"], "_source_system": ["generic", "generic"],
    ...     "anonymous_id": ["v9", "v9"], "email": [None, "Ann@Acme.com"]})
    >>> out = stitch_events({"touchpoints": visits}, imap)["touchpoints"]
    >>> out.order_by("record_key").select("person_id", "person_match").to_pyarrow().to_pylist()
    [{'person_id': 'P1', 'person_match': 'anonymous_id'}, {'person_id': 'P1', 'person_match': 'email'}]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis

#: Canonical tables that get a person_id.
STITCHED_TABLES = ("touchpoints", "conversions", "opportunities", "lifecycle_stages", "sales_activities")
#: How an event found its person, in the order the routes are tried.
ROUTES = ("record_id", "email", "user_id", "anonymous_id")
AMBIGUOUS = "ambiguous_visitor"


@dataclass(frozen=True)
class StitchCounts:
    """How many rows of one table each route stitched, and how many stayed without a person."""

    rows: int = 0
    record_id: int = 0
    email: int = 0
    user_id: int = 0
    anonymous_id: int = 0
    #: left without a person because their only link was a visitor id seen with two people
    ambiguous_visitor: int = 0
    unmatched: int = 0

    @property
    def stitched(self) -> int:
        return self.record_id + self.email + self.user_id + self.anonymous_id


def _text(t: ibis.Table, column: str) -> ibis.StringValue:
    return t[column].cast("string").nullif("") if column in t.columns else ibis.null("string")


class _Lookups:
    """Person look-ups from the identity map, each unique on its key (ambiguous keys left out)."""

    def __init__(self, identity_map: ibis.Table) -> None:
        m = identity_map.filter(identity_map.person_id.notnull())
        rid, email = m.record_id.cast("string").nullif(""), m.email.cast("string").lower().nullif("")

        def unique(t: ibis.Table, keys: dict[str, ibis.Value], out: str) -> ibis.Table:
            t = t.filter(*[k.notnull() for k in keys.values()])
            g = t.group_by(**keys).aggregate(_n=t.person_id.nunique(), **{out: t.person_id.min()})
            return g.filter(g._n == 1).drop("_n")

        self.same_system = unique(m, {"_l_sys": m.source_system, "_l_rid": rid}, "_pid_same")
        self.any_system = unique(m, {"_l_rid2": rid}, "_pid_any")
        self.email = unique(m, {"_l_email": email}, "_pid_email")
        self.identity_map = m


def _direct(t: ibis.Table, lk: _Lookups) -> ibis.Table:
    """``t`` with ``_pid_record`` and ``_pid_email``: the person by record id and by email."""
    t = t.mutate(_st_rid=_text(t, "person_record_id"), _st_email=_text(t, "email").lower())
    s, a, e = lk.same_system, lk.any_system, lk.email
    system = t._source_system if "_source_system" in t.columns else ibis.null("string")
    j = (t.left_join(s, (system == s._l_sys) & (t._st_rid == s._l_rid))
         .left_join(a, t._st_rid == a._l_rid2)
         .left_join(e, t._st_email == e._l_email)
         .select(t, s._pid_same, a._pid_any, e._pid_email))
    return j.mutate(_pid_record=ibis.coalesce(j._pid_same, j._pid_any)).drop(
        "_pid_same", "_pid_any", "_st_rid", "_st_email")


def _links(evidence: ibis.Table, key: str, id_type: str) -> ibis.Table:
    e = evidence.filter(evidence[key].notnull() & evidence._pid.notnull())
    g = e.group_by(visitor_id=e[key]).aggregate(persons=e._pid.nunique(), _pid=e._pid.min())
    return g.select(id_type=ibis.literal(id_type), visitor_id=g.visitor_id,
                    person_id=ibis.cases((g.persons == 1, g._pid), else_=ibis.null("string")),
                    persons=g.persons.cast("int64"), ambiguous=g.persons > 1)


def visitor_links(events: Mapping[str, ibis.Table], identity_map: ibis.Table,
                  people: ibis.Table | None = None) -> ibis.Table:
    """Which person each user id and visitor id belongs to, from every event table at once.

    Columns: ``id_type`` (``user_id`` or ``anonymous_id``), ``visitor_id``, ``person_id`` (NULL when
    ambiguous), ``persons`` (how many people it was seen with) and ``ambiguous``. Evidence: events
    whose person is known by record id or email (then also by user id), and people records carrying
    an ``anonymous_id``. Only ids seen with at least one person are listed.
    """
    lk = _Lookups(identity_map)
    rows = []
    for t in events.values():
        if not {"anonymous_id", "user_id"} & set(t.columns):
            continue
        d = _direct(t, lk)
        rows.append(d.select(_anon=_text(d, "anonymous_id"), _user=_text(d, "user_id"),
                             _pid=ibis.coalesce(d._pid_record, d._pid_email).cast("string")))
    if people is not None and "anonymous_id" in people.columns:
        m = lk.identity_map
        p = people.inner_join(m, people.record_key == m.record_key)
        rows.append(p.select(_anon=_text(p, "anonymous_id"), _user=ibis.null("string"),
                             _pid=p.person_id.cast("string")))
    if not rows:  # nothing to learn from: an empty table of the right shape, on the right engine
        none = ibis.null("string")
        empty = lk.identity_map.select(id_type=none, visitor_id=none, person_id=none,
                                       persons=ibis.null("int64"), ambiguous=ibis.null("boolean"))
        return empty.filter(ibis.literal(False))
    # a view: a lone evidence table may be a join, which a later join would otherwise extend
    evidence = (ibis.union(*rows) if len(rows) > 1 else rows[0]).view()
    users = _links(evidence, "_user", "user_id")
    # a login (user id) tied to one person makes every visitor id it was seen with evidence too
    known = users.filter(users.person_id.notnull()).view()  # derived from ``evidence``: keep apart
    ev = evidence.left_join(known, [("_user", "visitor_id")])
    ev = ev.select(_anon=ev._anon, _pid=ibis.coalesce(ev._pid, ev.person_id))
    return ibis.union(users, _links(ev, "_anon", "anonymous_id"))


def stitch(table: ibis.Table, identity_map: ibis.Table, visitors: ibis.Table) -> ibis.Table:
    """``table`` with ``person_id`` and ``person_match`` (the route that found it, see :data:`ROUTES`;
    ``ambiguous_visitor`` or NULL when none did). ``visitors`` is :func:`visitor_links`'s table.
    Routes whose columns the table lacks are skipped (lifecycle history has no visitor ids)."""
    table = table.drop(*[c for c in ("person_id", "person_match") if c in table.columns])
    visitors = visitors.view()  # it may be derived from ``table`` itself: keep their columns apart
    d = _direct(table, _Lookups(identity_map))
    visitor_routes = [r for r in ("user_id", "anonymous_id") if r in table.columns]
    for route in visitor_routes:
        v = visitors.filter(visitors.id_type == route)
        pid, amb = f"_pid_{route}", f"_amb_{route}"
        v = v.select(_v_id=v.visitor_id, **{pid: v.person_id, amb: v.ambiguous})
        d = d.left_join(v, _text(d, route) == v._v_id).select(d, v[pid], v[amb])
    found = {"record_id": d._pid_record, "email": d._pid_email,
             **{r: d[f"_pid_{r}"] for r in visitor_routes}}
    person = ibis.coalesce(*found.values())
    is_ambiguous = ibis.literal(False)
    for route in visitor_routes:
        is_ambiguous = is_ambiguous | ibis.coalesce(d[f"_amb_{route}"], False)
    match = ibis.cases(*[(v.notnull(), r) for r, v in found.items()], (is_ambiguous, AMBIGUOUS),
                       else_=ibis.null("string"))
    helpers = [c for c in d.columns if c.startswith(("_pid_", "_amb_"))]
    return d.mutate(person_id=person.cast("string"), person_match=match).drop(*helpers)


def stitch_events(events: Mapping[str, ibis.Table], identity_map: ibis.Table,
                  people: ibis.Table | None = None) -> dict[str, ibis.Table]:
    """Every table of ``events`` stitched (see :func:`stitch`), with links learnt from all of them."""
    visitors = visitor_links(events, identity_map, people)
    return {name: stitch(t, identity_map, visitors) for name, t in events.items()}


def stitch_counts(stitched: ibis.Table) -> StitchCounts:
    """Count a stitched table's rows by route (runs one small query).

    >>> import ibis
    >>> t = ibis.memtable({"person_match": ["email", "email", None, "anonymous_id"]})
    >>> c = stitch_counts(t)
    >>> c.email, c.unmatched, c.stitched
    (2, 1, 3)
    """
    g = stitched.group_by("person_match").aggregate(n=stitched.count())
    counts = {r["person_match"] or "unmatched": int(r["n"]) for r in g.to_pyarrow().to_pylist()}
    return StitchCounts(rows=sum(counts.values()), **counts)


def ambiguous_visitors(visitors: ibis.Table) -> int:
    """How many user ids and visitor ids were seen with more than one person."""
    return int(visitors.filter(visitors.ambiguous).count().to_pyarrow().as_py())
