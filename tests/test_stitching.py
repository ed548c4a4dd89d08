"""Stitching: events get their person by record id, email, login or visitor id, and never by a guess."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketops.engine.duckdb import DuckDBEngine
from marketops.quality.stitching import (
    StitchCounts,
    ambiguous_visitors,
    stitch,
    stitch_counts,
    stitch_events,
    visitor_links,
)
from tests.engines import on_each_engine

IMAP_SCHEMA = pa.schema([("record_key", pa.string()), ("source_system", pa.string()),
                         ("record_id", pa.string()), ("email", pa.string()), ("person_id", pa.string()),
                         ("match_probability", pa.float64()), ("match_rule", pa.string())])
EVENT_COLUMNS = {
    "touchpoints": ("anonymous_id", "user_id", "email", "person_record_id"),
    "conversions": ("anonymous_id", "email", "person_record_id"),
    "opportunities": ("email", "person_record_id"),
    "lifecycle_stages": ("email", "person_record_id"),
}


def event_schema(table: str) -> pa.Schema:
    return pa.schema([("record_key", pa.string()), ("_source_system", pa.string()),
                      ("occurred_at", pa.timestamp("us")), *[(c, pa.string()) for c in EVENT_COLUMNS[table]]])


def imap_row(key: str, person: str, email: str | None) -> dict:
    system, rid = key.split(":")
    return {"record_key": key, "source_system": system, "record_id": rid, "email": email, "person_id": person,
            "match_probability": 1.0, "match_rule": "email"}


IDENTITY = [
    imap_row("hubspot:1", "P-ann", "ann@acme.com"),
    imap_row("salesforce:00Q9", "P-ann", "ann@acme.com"),
    imap_row("hubspot:2", "P-bob", "bob@beta.io"),
    imap_row("salesforce:2", "P-cy", "cy@gamma.org"),  # record id "2" is Bob in HubSpot, Cy in Salesforce
    imap_row("hubspot:4", "P-dee", "shared@x.com"),  # two people kept apart share a mailbox
    imap_row("hubspot:5", "P-eve", "shared@x.com"),
]
PEOPLE = pa.table({"record_key": ["hubspot:1", "hubspot:2"], "anonymous_id": [None, "v-bob-crm"]})
T0 = datetime(2024, 1, 1)


def events(table: str, rows: list[dict], system: str = "generic") -> pa.Table:
    return pa.Table.from_pylist([{"record_key": f"{system}:{table[0]}{i}", "_source_system": system,
                                  "occurred_at": T0 + timedelta(hours=i), **r} for i, r in enumerate(rows)],
                                schema=event_schema(table))


def ev(**values) -> dict:
    return values


TOUCHPOINTS = [
    ev(anonymous_id="v1"),                                         # t0: Ann before she identified
    ev(anonymous_id="v1", email="Ann@Acme.com"),                   # t1: she fills a form
    ev(anonymous_id="v2", user_id="u-ann"),                        # t2: logged in on her phone
    ev(anonymous_id="v1", user_id="u-ann", email="ann@acme.com"),  # t3: her login, seen with her email
    ev(anonymous_id="v2"),                                         # t4: her phone, not logged in
    ev(anonymous_id="v-shared", email="ann@acme.com"),             # t5: a shared computer...
    ev(anonymous_id="v-shared", email="bob@beta.io"),              # t6: ...used by Bob too
    ev(anonymous_id="v-shared"),                                   # t7: so this visit is nobody's for sure
    ev(anonymous_id="v-bob-crm"),                                  # t8: a cookie the CRM holds for Bob
    ev(anonymous_id="v-stranger"),                                 # t9: never identified
    ev(email="shared@x.com"),                                      # t10: a mailbox of two people
    ev(user_id="u-x", email="ann@acme.com"),                       # t11: one login...
    ev(user_id="u-x", email="bob@beta.io"),                        # t12: ...used by two people
    ev(user_id="u-x"),                                             # t13: ambiguous
]
CONVERSIONS = [
    ev(person_record_id="00Q9"),                     # c0: a Salesforce id in a generic file
    ev(person_record_id="2", email="cy@gamma.org"),  # c1: id "2" is two people; the email decides
    ev(anonymous_id="v1"),                           # c2: Ann's visitor id, learnt from touchpoints
]
OPPORTUNITIES = [{"person_record_id": "2"}, {"person_record_id": "999"}]
LIFECYCLE = [{"person_record_id": "1"}, {"email": ""}]


def scenario(engine) -> tuple[dict[str, dict[str, tuple]], dict[str, StitchCounts], int]:
    engine.write("imap_in", pa.Table.from_pylist(IDENTITY, schema=IMAP_SCHEMA))
    engine.write("people_in", PEOPLE)
    for name, rows, system in (("touchpoints", TOUCHPOINTS, "generic"),
                               ("conversions", CONVERSIONS, "generic"),
                               ("opportunities", OPPORTUNITIES, "hubspot"),
                               ("lifecycle_stages", LIFECYCLE, "generic")):
        engine.write(f"{name}_in", events(name, rows, system))
    tables = {n: engine.table(f"{n}_in") for n in EVENT_COLUMNS}
    imap = engine.table("imap_in")
    engine.write("visitors_out", visitor_links(tables, imap, engine.table("people_in")))
    visitors = engine.table("visitors_out")
    out, counts = {}, {}
    for name, t in tables.items():
        engine.write(f"{name}_out", stitch(t, imap, visitors))
        stitched = engine.table(f"{name}_out")
        assert stitched.columns == (*t.columns, "person_id", "person_match")
        out[name] = {r["record_key"].split(":")[1]: (r["person_id"], r["person_match"])
                     for r in stitched.to_pyarrow().to_pylist()}
        counts[name] = stitch_counts(stitched)
    return out, counts, ambiguous_visitors(visitors)


def test_events_find_their_person_by_each_route(ws):
    out, _, _ = scenario(ws.engine)
    assert out["touchpoints"] == {
        "t0": ("P-ann", "anonymous_id"),  # the session before the form fill gets Ann
        "t1": ("P-ann", "email"),
        "t2": ("P-ann", "user_id"),
        "t3": ("P-ann", "email"),
        "t4": ("P-ann", "anonymous_id"),  # her phone's visitor id, known through her login
        "t5": ("P-ann", "email"),
        "t6": ("P-bob", "email"),
        "t7": (None, "ambiguous_visitor"),
        "t8": ("P-bob", "anonymous_id"),
        "t9": (None, None),
        "t10": (None, None),
        "t11": ("P-ann", "email"),
        "t12": ("P-bob", "email"),
        "t13": (None, "ambiguous_visitor"),
    }
    assert out["conversions"] == {"c0": ("P-ann", "record_id"), "c1": ("P-cy", "email"),
                                  "c2": ("P-ann", "anonymous_id")}
    # HubSpot deals trust HubSpot's record "2" even though Salesforce has a "2" too
    assert out["opportunities"] == {"o0": ("P-bob", "record_id"), "o1": (None, None)}
    assert out["lifecycle_stages"] == {"l0": ("P-ann", "record_id"), "l1": (None, None)}


def test_counts_per_route_and_ambiguous_visitors(ws):
    _, counts, ambiguous = scenario(ws.engine)
    assert counts["touchpoints"] == StitchCounts(rows=14, email=6, user_id=1, anonymous_id=3,
                                                 ambiguous_visitor=2, unmatched=2)
    assert counts["touchpoints"].stitched == 10
    assert counts["conversions"] == StitchCounts(rows=3, record_id=1, email=1, anonymous_id=1)
    assert ambiguous == 2  # the shared computer and the shared login


def test_stitch_events_needs_no_visitor_ids(ws):
    ws.engine.write("imap_in", pa.Table.from_pylist(IDENTITY, schema=IMAP_SCHEMA))
    ws.engine.write("life_in", events("lifecycle_stages", LIFECYCLE))
    out = stitch_events({"lifecycle_stages": ws.engine.table("life_in")}, ws.engine.table("imap_in"))
    assert stitch_counts(out["lifecycle_stages"]) == StitchCounts(rows=2, record_id=1, unmatched=1)


# -- invariants -------------------------------------------------------------------------------------
def test_visitor_ids_on_people_alone_link_without_any_event_table(ws):
    """A workspace with contacts but no events yet still learns which visitor each person is."""
    ws.engine.write("imap_in", pa.Table.from_pylist(IDENTITY, schema=IMAP_SCHEMA))
    ws.engine.write("people_in", PEOPLE)
    links = visitor_links({}, ws.engine.table("imap_in"), ws.engine.table("people_in")).to_pyarrow().to_pylist()
    assert [(r["id_type"], r["visitor_id"], r["person_id"]) for r in links] == [("anonymous_id", "v-bob-crm", "P-bob")]


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    engine = DuckDBEngine(tmp_path_factory.mktemp("stitching"))
    yield engine
    engine.close()


visit = st.fixed_dictionaries({
    "anonymous_id": st.sampled_from([None, "v1", "v2", "v3"]),
    "email": st.sampled_from([None, "ann@acme.com", "bob@beta.io", "nobody@z.io"])})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(visit, min_size=1, max_size=10))
def test_a_visitor_id_gives_a_person_only_when_it_was_seen_with_exactly_one(duck, rows):
    duck.write("imap_in", pa.Table.from_pylist(IDENTITY, schema=IMAP_SCHEMA))
    duck.write("visits_in", events("touchpoints", rows))
    out = stitch_events({"touchpoints": duck.table("visits_in")}, duck.table("imap_in"))["touchpoints"]
    got = {r["record_key"]: r for r in out.to_pyarrow().to_pylist()}
    assert len(got) == len(rows)
    person_of = {"ann@acme.com": "P-ann", "bob@beta.io": "P-bob"}
    seen: dict[str, set[str]] = {}
    for r in rows:
        if r["anonymous_id"] and r["email"] in person_of:
            seen.setdefault(r["anonymous_id"], set()).add(person_of[r["email"]])
    for i, r in enumerate(rows):
        row = got[f"generic:t{i}"]
        if r["email"] in person_of:
            assert (row["person_id"], row["person_match"]) == (person_of[r["email"]], "email")
        elif len(seen.get(r["anonymous_id"], ())) == 1:
            (only,) = seen[r["anonymous_id"]]
            assert (row["person_id"], row["person_match"]) == (only, "anonymous_id")
        else:
            assert row["person_id"] is None
            assert row["person_match"] == ("ambiguous_visitor" if seen.get(r["anonymous_id"]) else None)


# -- engines ----------------------------------------------------------------------------------------
@pytest.mark.spark
def test_duckdb_and_spark_stitch_the_same_way(tmp_path):
    results = on_each_engine(tmp_path, scenario)
    assert results["spark"] == results["duckdb"]
