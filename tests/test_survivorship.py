"""Golden records: the value each rule keeps, where it came from, and opt-outs that are never lost."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from marketops.engine.duckdb import DuckDBEngine
from marketops.quality.survivorship import SurvivorshipConfig, golden_people
from tests.engines import on_each_engine

STRINGS = ("record_key", "_source_system", "_load_id", "record_id", "email", "first_name", "last_name",
           "phone", "phone_issue", "company", "company_key", "job_title", "job_title_issue", "seniority",
           "job_function", "country", "region", "city", "owner", "account_id")
PEOPLE_SCHEMA = pa.schema([*[(c, pa.string()) for c in STRINGS], ("_source_row", pa.int64()),
                           ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us")),
                           ("unsubscribed", pa.bool_())])
IMAP_SCHEMA = pa.schema([("record_key", pa.string()), ("source_system", pa.string()),
                         ("record_id", pa.string()), ("email", pa.string()), ("person_id", pa.string()),
                         ("match_probability", pa.float64()), ("match_rule", pa.string())])


def d(day: str) -> datetime:
    return datetime.fromisoformat(day)


def rec(key: str, **values) -> dict:
    """A people source record: ``key`` is its record_key, "<system>:<id>"."""
    return {"record_key": key, "_source_system": key.split(":")[0], **values}


# Ann has three source records. Salesforce's was changed last, HubSpot's first record fills the most
# columns, and her oldest record (hubspot:2) is the one that says she unsubscribed.
ANN = [
    rec("hubspot:1", email="ann@acme.com", first_name="Ann", phone="+390211", company="Acme",
        company_key="acme", job_title="CMO", country="IT", region="MI", city="Milano", owner="Hugo",
        created_at=d("2024-01-01"), updated_at=d("2024-03-01"), unsubscribed=False),
    rec("salesforce:9", email="ann.smith@acme.com", first_name="Anne", last_name="Smith", company="Acme",
        company_key="acme", job_title="Chief Marketing Officer", country="IT", city="Milan", owner="Sally",
        created_at=d("2023-06-01"), updated_at=d("2024-05-01"), unsubscribed=False),
    rec("hubspot:2", email="", first_name="Ann", last_name="", phone=None, city="Milano",
        created_at=d("2024-02-01"), unsubscribed=True),
]
BOB = [rec("marketo:5", email="bob@beta.io", created_at=d("2024-04-01"))]


def people_table(rows: list[dict]) -> pa.Table:
    rows = [{"_load_id": "L1", "_source_row": i + 2, **r} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(rows, schema=PEOPLE_SCHEMA)


def identity_table(assign: dict[str, str]) -> pa.Table:
    rows = [{"record_key": k, "source_system": k.split(":")[0], "record_id": k.split(":")[1], "email": None,
             "person_id": p, "match_probability": 1.0, "match_rule": "email"} for k, p in assign.items()]
    return pa.Table.from_pylist(rows, schema=IMAP_SCHEMA)


ASSIGN = {"hubspot:1": "P-ann", "salesforce:9": "P-ann", "hubspot:2": "P-ann", "marketo:5": "P-bob"}


def golden(engine, config: SurvivorshipConfig | None = None, rows=None, assign=None) -> dict[str, dict]:
    engine.write("people_in", people_table(rows or ANN + BOB))
    engine.write("imap_in", identity_table(assign or ASSIGN))
    out = golden_people(engine.table("people_in"), engine.table("imap_in"), config).to_pyarrow().to_pylist()
    return {r["person_id"]: {**r, "contributors": json.loads(r["contributors"])} for r in out}


def picked(row: dict, *columns: str) -> dict:
    return {c: (row[c], row["contributors"][c]) for c in columns}


def test_most_recent_keeps_the_values_of_the_record_changed_last(ws):
    ann = golden(ws.engine)["P-ann"]
    assert picked(ann, "email", "first_name", "last_name", "city", "owner", "phone", "region") == {
        "email": ("ann.smith@acme.com", "salesforce:9"),
        "first_name": ("Anne", "salesforce:9"),
        "last_name": ("Smith", "salesforce:9"),
        "city": ("Milan", "salesforce:9"),
        "owner": ("Sally", "salesforce:9"),
        # Salesforce has no phone or region: the next most recent record that has one gives it
        "phone": ("+390211", "hubspot:1"),
        "region": ("MI", "hubspot:1"),
    }


def test_most_complete_keeps_the_values_of_the_fullest_record(ws):
    ann = golden(ws.engine, SurvivorshipConfig(default="most_complete"))["P-ann"]
    assert picked(ann, "email", "first_name", "city", "last_name") == {
        "email": ("ann@acme.com", "hubspot:1"),
        "first_name": ("Ann", "hubspot:1"),
        "city": ("Milano", "hubspot:1"),
        "last_name": ("Smith", "salesforce:9"),  # the fullest record has none; the next fullest does
    }


def test_source_priority_trusts_systems_in_the_order_given(ws):
    cfg = SurvivorshipConfig(columns={"owner": "source_priority", "email": "source_priority"},
                             source_priority=["HubSpot", "salesforce"])
    ann = golden(ws.engine, cfg)["P-ann"]
    assert picked(ann, "owner", "email", "first_name") == {
        "owner": ("Hugo", "hubspot:1"),
        "email": ("ann@acme.com", "hubspot:1"),  # hubspot:2's email is empty, so hubspot:1's wins
        "first_name": ("Anne", "salesforce:9"),  # no rule of its own: the default, most recent
    }
    # a system not listed comes after the listed ones
    cfg = SurvivorshipConfig(default="source_priority", source_priority=["salesforce"])
    ann = golden(ws.engine, cfg)["P-ann"]
    assert picked(ann, "first_name", "phone") == {"first_name": ("Anne", "salesforce:9"),
                                                  "phone": ("+390211", "hubspot:1")}


def test_most_frequent_keeps_the_value_most_records_agree_on(ws):
    cfg = SurvivorshipConfig(columns={"city": "most_frequent", "first_name": "most_frequent"})
    ann = golden(ws.engine, cfg)
    assert picked(ann["P-ann"], "city", "first_name") == {
        "city": ("Milano", "hubspot:1"),  # two records say Milano; the more recent of them is credited
        "first_name": ("Ann", "hubspot:1"),
    }


def test_empty_and_rejected_values_never_win(ws):
    # the most recent record holds a phone the normaliser rejected (an older record's is real)
    newest = rec("zoho:3", email="", phone="000", updated_at=d("2025-01-01"),
                 phone_issue="not a real phone number: all digits are the same")
    ann = golden(ws.engine, rows=ANN + [newest], assign={**ASSIGN, "zoho:3": "P-ann"})["P-ann"]
    assert picked(ann, "phone", "email") == {"phone": ("+390211", "hubspot:1"),
                                             "email": ("ann.smith@acme.com", "salesforce:9")}
    for rule in ("most_complete", "source_priority", "most_frequent"):
        cfg = SurvivorshipConfig(default=rule, source_priority=["zoho"])
        assert golden(ws.engine, cfg, rows=ANN + [newest], assign={**ASSIGN, "zoho:3": "P-ann"})["P-ann"][
            "phone"] == "+390211", rule


def test_seniority_and_function_come_with_the_surviving_job_title(ws):
    rows = [
        rec("crm:1", job_title="Marketing Manager", seniority="manager", job_function="marketing",
            updated_at=d("2024-01-01")),
        # the newest record's title was rejected: its "unknown" seniority must not win either
        rec("crm:2", job_title_issue="a placeholder, not a job title", seniority="unknown",
            job_function="other", updated_at=d("2024-06-01")),
        rec("erp:3", job_title="Head of Sales", seniority="director", job_function="sales",
            updated_at=d("2023-01-01")),
    ]
    assign = dict.fromkeys(("crm:1", "crm:2", "erp:3"), "P")
    p = golden(ws.engine, rows=rows, assign=assign)["P"]
    assert picked(p, "job_title", "seniority", "job_function") == {
        "job_title": ("Marketing Manager", "crm:1"), "seniority": ("manager", "crm:1"),
        "job_function": ("marketing", "crm:1")}
    cfg = SurvivorshipConfig(columns={"job_title": "source_priority"}, source_priority=["erp"])
    p = golden(ws.engine, cfg, rows=rows, assign=assign)["P"]
    assert (p["job_title"], p["seniority"], p["job_function"]) == ("Head of Sales", "director", "sales")


def test_unsubscribed_is_never_lost_in_a_merge(ws):
    for rule in ("most_recent", "most_complete", "source_priority"):
        people = golden(ws.engine, SurvivorshipConfig(default=rule, source_priority=["salesforce"]))
        assert people["P-ann"]["unsubscribed"] is True, rule
        assert people["P-ann"]["contributors"]["unsubscribed"] == "hubspot:2"
    assert people["P-bob"]["unsubscribed"] is None  # no source says either way


def test_dates_source_counts_and_lineage(ws):
    people = golden(ws.engine)
    ann, bob = people["P-ann"], people["P-bob"]
    assert (ann["created_at"], ann["contributors"]["created_at"]) == (d("2023-06-01"), "salesforce:9")
    assert (ann["updated_at"], ann["contributors"]["updated_at"]) == (d("2024-05-01"), "salesforce:9")
    assert (ann["source_records"], ann["sources"]) == (3, "hubspot,salesforce")
    assert (bob["source_records"], bob["sources"], bob["email"]) == (1, "marketo", "bob@beta.io")
    # a column no record fills has no value and no contributor
    assert bob["phone"] is None and bob["contributors"]["phone"] is None
    assert bob["contributors"]["email"] == "marketo:5"
    assert list(ann["contributors"])[:3] == ["email", "first_name", "last_name"]


def test_record_keys_with_quotes_still_give_valid_json(ws):
    odd = [{"record_key": 'csv:"x"\\y\nz', "_source_system": "csv", "email": "odd@x.io"}]
    row = golden(ws.engine, rows=odd, assign={'csv:"x"\\y\nz': "P-odd"})["P-odd"]
    assert row["contributors"]["email"] == 'csv:"x"\\y\nz'


def test_an_identity_map_computed_from_the_people_table_itself(ws):
    ws.engine.write("people_in", people_table(ANN + BOB))
    people = ws.engine.table("people_in")
    by_system = people.select("record_key", person_id="_source_system")  # not yet written anywhere
    got = {r["person_id"]: r for r in golden_people(people, by_system).to_pyarrow().to_pylist()}
    assert {p: (r["source_records"], r["email"]) for p, r in got.items()} == {
        "hubspot": (2, "ann@acme.com"), "salesforce": (1, "ann.smith@acme.com"),
        "marketo": (1, "bob@beta.io")}


def test_records_missing_from_the_identity_map_are_left_out(ws):
    people = golden(ws.engine, assign={"hubspot:1": "P-ann", "marketo:5": "P-bob"})
    assert people["P-ann"]["source_records"] == 1


@pytest.mark.parametrize("columns, words", [
    ({"emial": "most_recent"}, "did you mean 'email'"),
    ({"unsubscribed": "most_recent"}, "never lost"),
    ({"seniority": "most_complete"}, "whose job_title won"),
    ({"email": "newest"}, "most_recent"),
])
def test_config_errors_say_what_is_valid(columns, words):
    with pytest.raises(ValidationError) as e:
        SurvivorshipConfig(columns=columns)
    assert words in str(e.value)


def test_config_rejects_unknown_settings():
    with pytest.raises(ValidationError):
        SurvivorshipConfig(priority=["hubspot"])


# -- invariants -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    engine = DuckDBEngine(tmp_path_factory.mktemp("survivorship"))
    yield engine
    engine.close()


maybe = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "c", "Ann", "Zoë"]))
record = st.fixed_dictionaries({
    "_source_system": st.sampled_from(["hubspot", "salesforce", "csv"]),
    "email": maybe, "first_name": maybe, "city": maybe, "owner": maybe,
    "updated_at": st.one_of(st.none(), st.sampled_from([d("2024-01-01"), d("2024-02-01")])),
    "unsubscribed": st.one_of(st.none(), st.booleans()),
    "person": st.integers(0, 4),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(record, min_size=1, max_size=12),
       rule=st.sampled_from(["most_recent", "most_complete", "source_priority", "most_frequent"]))
def test_every_person_gets_one_row_of_values_from_their_own_records(duck, records, rule):
    rows, assign = [], {}
    for i, r in enumerate(records):
        r = dict(r)
        key = f"{r['_source_system']}:{i}"
        assign[key] = f"P{r.pop('person')}"
        rows.append({"record_key": key, **r})
    out = golden(duck, SurvivorshipConfig(default=rule, source_priority=["csv", "hubspot"]), rows, assign)
    assert sorted(out) == sorted(set(assign.values()))
    by_key = {r["record_key"]: r for r in rows}
    for pid, row in out.items():
        own = [r for k, r in by_key.items() if assign[k] == pid]
        assert row["source_records"] == len(own)
        assert row["unsubscribed"] == (True if any(r["unsubscribed"] for r in own) else
                                       False if any(r["unsubscribed"] is False for r in own) else None)
        for c in ("email", "first_name", "city", "owner"):
            real = [r[c] for r in own if r[c]]
            source = row["contributors"][c]
            if real:  # a real value always survives, and it is the value of the record credited
                assert source in by_key and assign[source] == pid
                assert row[c] == by_key[source][c] and row[c] in real
            else:
                assert row[c] is None and source is None


# -- engines ----------------------------------------------------------------------------------------
@pytest.mark.spark
def test_duckdb_and_spark_build_the_same_golden_records(tmp_path):
    pytest.importorskip("pyspark")
    cfg = SurvivorshipConfig(source_priority=["hubspot"], columns={
        "city": "most_frequent", "owner": "source_priority", "phone": "most_complete"})
    odd = rec('zoho:"3"\\\n', email="", phone="000", phone_issue="not a phone", job_title="VP",
              updated_at=d("2025-01-01"))
    rows, assign = ANN + BOB + [odd], {**ASSIGN, odd["record_key"]: "P-ann"}
    results = on_each_engine(tmp_path, lambda engine: golden(engine, cfg, rows, assign))
    assert results["spark"] == results["duckdb"]
    ann = results["spark"]["P-ann"]
    assert (ann["unsubscribed"], ann["phone"], ann["city"]) == (True, "+390211", "Milano")
    assert ann["contributors"]["job_title"] == odd["record_key"]
