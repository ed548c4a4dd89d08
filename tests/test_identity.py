"""Identity resolution: which people records are one person, on hand-written cases and the sample."""

from __future__ import annotations

import json
import random
from itertools import combinations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from marketops.engine.duckdb import DuckDBEngine
from marketops.pipeline import run_pipeline
from marketops.quality.clusters import Links, cluster
from marketops.quality.decisions import Decisions
from marketops.quality.identity import resolve_people
from marketops.quality.identity_config import IdentityConfig
from marketops.quality.identity_tables import pair_id

COLUMNS = ["record_key", "_source_system", "record_id", "email", "phone", "first_name", "last_name", "company",
           "company_key", "city", "postcode", "address", "country", "anonymous_id"]
FIRST = ["Anna", "Marco", "Sophie", "Lukas", "Emily", "Carlos", "Giulia", "Noah", "Claire", "Omar", "Ingrid",
         "Pavel", "Yuki", "Amara", "Diego", "Hana", "Felix", "Nina", "Tariq", "Elena"]
LAST = ["Rossi", "Schmidt", "Dubois", "García", "Kowalski", "Nakamura", "Okafor", "Lindqvist", "Novak", "Haddad",
        "Petrov", "Moreau", "Bianchi", "Fischer", "Costa", "Jensen", "Horvat", "Silva", "Weber", "Kaur"]
CITIES = [("Milano", "IT"), ("Berlin", "DE"), ("Paris", "FR"), ("Madrid", "ES"), ("Austin", "US")]


def _background(n: int, seed: int = 3) -> list[dict]:
    """``n`` people at 60 companies, a third of them also in a second CRM (same email, same phone):
    enough records for the model to learn from, none of them related to the cases under test."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"Company {i % 60}"
        city, country = CITIES[i % 60 % len(CITIES)]
        person = {"email": f"{first}.{last}.{i}@company{i % 60}.example".lower(), "phone": f"+3902{1000000 + i * 7919}",
                  "first_name": first, "last_name": last, "company": company, "company_key": company.lower(),
                  "city": city, "country": country}
        rows.append({"record_key": f"crm:{i}", "_source_system": "crm", "record_id": str(i), **person})
        if i % 3 == 0:
            rows.append({"record_key": f"erp:{i}", "_source_system": "erp", "record_id": f"E{i}", **person})
    return rows


def _engine(tmp_path, rows: list[dict], name: str = "people") -> DuckDBEngine:
    eng = DuckDBEngine(tmp_path)
    eng.write(name, pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in COLUMNS}))
    return eng


def _resolve(eng, decisions: Decisions | None = None, config: IdentityConfig | None = None):
    result = resolve_people(eng, "people", config, map_table="identity_map", pairs_table="identity_pairs",
                            decisions=decisions)
    rows = eng.con.table("identity_map").to_pyarrow().to_pylist()
    return result, {r["record_key"]: r for r in rows}


def _person(rec: dict) -> dict:
    company = rec.get("company")
    return {"_source_system": "crm", "company_key": company.lower() if company else None, **rec}


# -- hand-written cases ------------------------------------------------------------------------
def test_records_sharing_an_email_are_one_person(tmp_path):
    rows = _background(300) + [
        _person({"record_key": "shop:1", "_source_system": "shop", "record_id": "1", "email": "zoe@acme.test",
                 "first_name": "Zoe", "last_name": "Quinn"}),
        _person({"record_key": "crm:z", "record_id": "z", "email": "zoe@acme.test", "first_name": "Zoe",
                 "company": "Acme", "city": "Oslo", "country": "NO"}),
    ]
    _, idmap = _resolve(_engine(tmp_path, rows))
    assert idmap["shop:1"]["person_id"] == idmap["crm:z"]["person_id"]
    assert idmap["shop:1"]["match_rule"] == "email" and idmap["shop:1"]["match_probability"] == 1.0


def test_typos_in_the_name_and_the_same_phone_merge_without_an_email(tmp_path):
    rows = _background(300) + [
        _person({"record_key": "crm:t1", "record_id": "t1", "email": "k.lindgren@northwind.test",
                 "phone": "+4687654321", "first_name": "Katarina", "last_name": "Lindgren",
                 "company": "Northwind", "city": "Stockholm", "country": "SE"}),
        _person({"record_key": "erp:t2", "_source_system": "erp", "record_id": "t2", "email": None,
                 "phone": "+4687654321", "first_name": "Katarnia", "last_name": "Lindgrne",
                 "company": "Northwind", "city": "Stockholm", "country": "SE"}),
    ]
    eng = _engine(tmp_path, rows)
    _, idmap = _resolve(eng)
    assert idmap["crm:t1"]["person_id"] == idmap["erp:t2"]["person_id"]
    assert idmap["erp:t2"]["match_rule"] == "probabilistic"
    assert idmap["erp:t2"]["match_probability"] >= IdentityConfig().match_threshold
    pair = [p for p in eng.con.table("identity_pairs").to_pyarrow().to_pylist() if {p["record_key_l"], p["record_key_r"]} == {"crm:t1", "erp:t2"}]
    assert pair and pair[0]["status"] == "merged"
    evidence = {e["column"]: e for e in json.loads(pair[0]["evidence"])}
    assert evidence["phone"]["level"] == "Exact match on phone" and evidence["phone"]["match_weight"] > 5
    assert evidence["phone"]["left"] == evidence["phone"]["right"] == "+4687654321"


def test_a_shared_address_that_everything_else_contradicts_goes_to_review(tmp_path):
    # one mailbox, two people: the same name, but another company, phone, city and country
    rows = _background(300) + [
        _person({"record_key": "crm:f1", "record_id": "f1", "email": "lee.family@mail.test", "phone": "+390212345678",
                 "first_name": "Sam", "last_name": "Lee", "company": "Company 1", "city": "Milano", "country": "IT"}),
        _person({"record_key": "erp:f2", "_source_system": "erp", "record_id": "f2", "email": "lee.family@mail.test",
                 "phone": "+4930555123", "first_name": "Sam", "last_name": "Lee", "company": "Company 2",
                 "city": "Berlin", "country": "DE"}),
    ]
    eng = _engine(tmp_path, rows)
    result, idmap = _resolve(eng)
    assert idmap["crm:f1"]["person_id"] != idmap["erp:f2"]["person_id"]
    assert result.vetoed_identifier_links == 1
    pairs = {(p["record_key_l"], p["record_key_r"]): p for p in eng.con.table("identity_pairs").to_pyarrow().to_pylist()}
    pair = pairs.get(("crm:f1", "erp:f2")) or pairs[("erp:f2", "crm:f1")]
    assert pair["status"] == "review" and not pair["same_person"]
    evidence = json.loads(pair["evidence"])
    assert evidence[0]["column"] == "email" and "other columns say two people" in evidence[0]["level"]
    assert {e["column"] for e in evidence if (e["match_weight"] or 0) < 0} >= {"company_key", "phone", "country"}


def test_two_people_with_a_common_name_stay_apart(tmp_path):
    rows = _background(300) + [
        _person({"record_key": "crm:s1", "record_id": "s1", "email": "john.smith@acme.test", "phone": "+12125550101",
                 "first_name": "John", "last_name": "Smith", "company": "Acme", "city": "Boston", "country": "US"}),
        _person({"record_key": "crm:s2", "record_id": "s2", "email": "jsmith@globex.test", "phone": "+13125550199",
                 "first_name": "John", "last_name": "Smith", "company": "Globex", "city": "Boston", "country": "US"}),
    ]
    _, idmap = _resolve(_engine(tmp_path, rows))
    assert idmap["crm:s1"]["person_id"] != idmap["crm:s2"]["person_id"]
    assert idmap["crm:s1"]["match_rule"] == idmap["crm:s2"]["match_rule"] == "single"
    assert idmap["crm:s1"]["match_probability"] is None


def test_a_never_decision_holds_even_through_a_third_record(tmp_path):
    # a and c share an email with b: without the decision all three are one person
    rows = _background(200) + [
        _person({"record_key": "crm:a", "record_id": "a", "email": "pat@x.test", "first_name": "Pat", "last_name": "Lee"}),
        _person({"record_key": "crm:b", "record_id": "b", "email": "pat@x.test", "phone": "+4930123456",
                 "first_name": "Pat", "last_name": "Lee"}),
        _person({"record_key": "erp:c", "_source_system": "erp", "record_id": "c", "phone": "+4930123456",
                 "email": "pat@x.test", "first_name": "Pat", "last_name": "Lee"}),
    ]
    eng = _engine(tmp_path, rows)
    _, idmap = _resolve(eng)
    assert idmap["crm:a"]["person_id"] == idmap["erp:c"]["person_id"]
    _, idmap = _resolve(eng, Decisions.of(never=[("erp:c", "crm:a")]))
    assert idmap["crm:a"]["person_id"] != idmap["erp:c"]["person_id"]
    assert idmap["crm:b"]["person_id"] in (idmap["crm:a"]["person_id"], idmap["erp:c"]["person_id"])


def test_an_always_decision_merges_records_with_nothing_in_common(tmp_path):
    rows = _background(200) + [
        _person({"record_key": "crm:m1", "record_id": "m1", "email": "old@one.test", "first_name": "Mia"}),
        _person({"record_key": "erp:m2", "_source_system": "erp", "record_id": "m2", "email": "new@two.test",
                 "first_name": "Maria", "last_name": "Ortiz"}),
    ]
    eng = _engine(tmp_path, rows)
    _, idmap = _resolve(eng)
    assert idmap["crm:m1"]["person_id"] != idmap["erp:m2"]["person_id"]
    result, idmap = _resolve(eng, Decisions.of(always=[("erp:m2", "crm:m1")]))
    assert idmap["crm:m1"]["person_id"] == idmap["erp:m2"]["person_id"]
    assert idmap["crm:m1"]["match_rule"] == "decision"
    assert result.links["decision"] == 1


def test_a_source_with_no_usable_identifiers_resolves(tmp_path):
    rows = [{"record_key": f"form:{i}", "_source_system": "form", "record_id": None, "email": None, "phone": None,
             "first_name": name, "last_name": None} for i, name in enumerate(["Ann", "Bo", "Ann", None, "Cy"])]
    result, idmap = _resolve(_engine(tmp_path, rows))
    assert result.records == 5 and len(idmap) == 5
    assert all(r["person_id"].startswith("P") for r in idmap.values())
    # nothing to block on: each record is its own person, and the report says why
    assert result.persons == 5 and result.compared_pairs == 0
    assert all(not b["used"] for b in result.blocking)


def test_an_empty_people_table_writes_empty_outputs(tmp_path):
    eng = _engine(tmp_path, [])
    result, idmap = _resolve(eng)
    assert result.records == result.persons == 0 and idmap == {}
    assert eng.count("identity_pairs") == 0


def test_person_ids_are_stable_across_runs_and_pairs_have_ids(tmp_path):
    eng = _engine(tmp_path, _background(200))
    _, first = _resolve(eng)
    _, second = _resolve(eng)
    assert {k: r["person_id"] for k, r in first.items()} == {k: r["person_id"] for k, r in second.items()}
    pairs = eng.con.table("identity_pairs").to_pyarrow().to_pylist()
    assert pairs and len({p["pair_id"] for p in pairs}) == len(pairs)
    assert all(p["pair_id"] == pair_id(p["record_key_r"], p["record_key_l"]) for p in pairs)


# -- configuration ------------------------------------------------------------------------------
def test_config_rejects_thresholds_in_the_wrong_order():
    with pytest.raises(ValidationError, match="review_threshold .* must not be above match_threshold"):
        IdentityConfig(match_threshold=0.7, review_threshold=0.9)


def test_config_rejects_blocking_on_a_low_cardinality_column_alone():
    with pytest.raises(ValidationError, match="grows with the square"):
        IdentityConfig(blocking=[["city"]])
    assert IdentityConfig(blocking=[["city", "last_name"]]).blocking == [["city", "last_name"]]


def test_config_documents_every_field():
    assert all(f.description for f in IdentityConfig.model_fields.values())
    with pytest.raises(ValidationError):
        IdentityConfig(threshold=0.9)


def test_a_blocking_rule_over_budget_is_skipped_and_reported(tmp_path):
    eng = _engine(tmp_path, _background(200))
    cfg = IdentityConfig(blocking=[["phone"], ["country", "company_key"]], max_pairs_per_record=0.5)
    result, _ = _resolve(eng, config=cfg)
    skipped = [b for b in result.blocking if not b["used"]]
    assert [b["columns"] for b in skipped] == [["country", "company_key"]]
    assert "over the limit" in skipped[0]["reason"]


# -- invariants -----------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(2, 30).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.5, 1.0)), max_size=60),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))))
def test_clustering_gives_every_record_one_person_and_never_joins_a_never_pair(case):
    n, edges, never = case
    links = Links(np.array([a for a, _, _ in edges], dtype=np.int64), np.array([b for _, b, _ in edges], dtype=np.int64),
                  np.array([p for _, _, p in edges]), np.zeros(len(edges), dtype=np.int64)).ordered()
    out = cluster(n, links, never)
    assert len(out.labels) == n
    for a, b in never:
        if a != b:
            assert out.labels[a] != out.labels[b]
    # every accepted link lies inside one person, and a person is held together by accepted links
    assert all(out.labels[links.left[out.accepted]] == out.labels[links.right[out.accepted]])
    assert not (out.accepted & out.refused).any()
    if not never:
        assert out.accepted.all()


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=4))
def test_resolution_gives_every_record_exactly_one_person_and_holds_never_pairs(tmp_path_factory, never):
    rows = _background(60, seed=5)
    keys = [r["record_key"] for r in rows]
    decisions = Decisions.of(never=[(keys[a], keys[b]) for a, b in never])
    eng = _engine(tmp_path_factory.mktemp("prop"), rows)
    result, idmap = _resolve(eng, decisions)
    assert sorted(idmap) == sorted(keys)
    assert eng.count("identity_map") == len(keys)
    for a, b in decisions.never:
        assert idmap[a]["person_id"] != idmap[b]["person_id"]
    assert result.persons == len({r["person_id"] for r in idmap.values()})


# -- the sample company --------------------------------------------------------------------------
def _truth_pairs(sample_dir) -> tuple[dict[str, str], set[tuple[str, str]]]:
    import csv

    truth = {}
    with open(sample_dir / "truth" / "identity.csv", newline="") as f:
        for row in csv.DictReader(f):
            truth[f"{row['source_system']}:{row['source_record_id']}"] = row["person_id"]
    return truth, _pairs_of(truth)


def _pairs_of(person_of: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for key, person in person_of.items():
        groups.setdefault(person, []).append(key)
    return {tuple(sorted(p)) for keys in groups.values() for p in combinations(keys, 2)}


def _f1(found: set, true: set) -> float:
    tp = len(found & true)
    return 2 * tp / (len(found) + len(true)) if found or true else 1.0


@pytest.fixture(scope="module")
def sample_people(tmp_path_factory, sample_dir):
    """The sample's people after the pipeline's normalise step, as an Arrow table."""
    import shutil

    from marketops.workspace import Workspace

    root = tmp_path_factory.mktemp("identity_sample")
    with Workspace.init(root / "ws") as ws:
        for name in ("hubspot_contacts.csv", "salesforce_leads.csv"):
            shutil.copy(sample_dir / "inbox" / name, ws.inbox / name)
        run = run_pipeline(ws, steps=["ingest", "stage", "canonical", "normalise"])
        assert run.status == "succeeded", run.error
        return ws.engine.table("people").to_pyarrow()


def test_the_sample_resolves_with_high_pairwise_f1(tmp_path, sample_dir, sample_people):
    eng = DuckDBEngine(tmp_path)
    eng.write("people", sample_people)
    result, idmap = _resolve(eng)
    truth, _ = _truth_pairs(sample_dir)
    assert set(idmap) <= set(truth) and len(idmap) >= 0.99 * len(truth)  # a few rows sit in quarantine
    true_pairs = _pairs_of({k: p for k, p in truth.items() if k in idmap})
    found = _pairs_of({k: r["person_id"] for k, r in idmap.items()})
    assert _f1(found, true_pairs) >= 0.98
    email = {k: r["email"] for k, r in idmap.items()}
    hard = {p for p in true_pairs if email[p[0]] is None or email[p[0]] != email[p[1]]}
    found_hard = {p for p in found if email[p[0]] is None or email[p[0]] != email[p[1]]}
    assert len(hard) > 20  # the sample has people whose CRMs share no email
    assert _f1(found_hard, hard) >= 0.97
    assert result.links["email"] > 0 and result.links["probabilistic"] > 0
    # The review queue holds only pairs that are still two people: records an identifier (or other
    # records) joined are merged, however unsure the model was of the pair itself.
    pairs = eng.con.table("identity_pairs").to_pyarrow().to_pylist()
    assert [p for p in pairs if p["same_person"] and p["status"] != "merged"] == []
    assert result.review_pairs == sum(p["status"] == "review" for p in pairs)


@pytest.mark.spark
def test_duckdb_and_spark_resolve_the_sample_alike(tmp_path, sample_people):
    from marketops.engine.spark import SparkEngine

    maps = {}
    for name, make in (("duckdb", DuckDBEngine), ("spark", SparkEngine)):
        (tmp_path / name).mkdir()
        eng = make(tmp_path / name)
        eng.write("people", sample_people)
        result, idmap = _resolve(eng)
        maps[name] = (result, _pairs_of({k: r["person_id"] for k, r in idmap.items()}), idmap)
        eng.close()
    (duck, duck_pairs, duck_map), (spark, spark_pairs, spark_map) = maps["duckdb"], maps["spark"]
    assert spark.records == duck.records and spark.compared_pairs == duck.compared_pairs
    assert spark_pairs == duck_pairs
    assert {k: r["person_id"] for k, r in spark_map.items()} == {k: r["person_id"] for k, r in duck_map.items()}
