"""Accounts: companies found by domain and name, people given their company, never grouped by gmail.com."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from marketops.quality.accounts import (
    account_id,
    golden_accounts,
    resolve_accounts,
    with_account_ids,
)
from tests.engines import on_each_engine

_ACCOUNT_STRINGS = ("record_key", "_source_system", "_load_id", "record_id", "name", "domain", "company_key",
                    "industry", "currency", "country", "city", "owner")
ACCOUNTS_SCHEMA = pa.schema([*[(c, pa.string()) for c in _ACCOUNT_STRINGS], ("_source_row", pa.int64()),
                             ("employees", pa.int64()), ("annual_revenue", pa.decimal128(18, 4)),
                             ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us"))])
_PEOPLE_STRINGS = ("record_key", "_source_system", "_load_id", "record_id", "email", "company", "company_key",
                   "country", "city", "website", "account_record_id")
PEOPLE_SCHEMA = pa.schema([*[(c, pa.string()) for c in _PEOPLE_STRINGS], ("_source_row", pa.int64()),
                           ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us"))])


def d(day: str) -> datetime:
    return datetime.fromisoformat(day)


def acct(key: str, **values) -> dict:
    system, rid = key.split(":")
    return dict(record_key=key, _source_system=system, record_id=rid, _load_id="L1", **values)


ACCOUNTS = [
    acct("hubspot:10", name="Acme", company_key="acme", domain="https://www.Acme.com/", country="US",
         industry="Software", employees=100, annual_revenue=Decimal(5000000), currency="USD",
         updated_at=d("2024-03-01")),
    # no domain, same name and country as a domain account: it is that account
    acct("salesforce:A1", name="ACME Inc", company_key="acme", country="US", industry="Computer Software",
         employees=120, currency="EUR", updated_at=d("2024-05-01")),
    # two different companies called Globex: a Globex record without a domain cannot pick one
    acct("hubspot:11", name="Globex", company_key="globex", domain="globex.com", country="DE"),
    acct("hubspot:12", name="Globex GmbH", company_key="globex", domain="globex.de", country="DE"),
    acct("salesforce:A2", name="Globex", company_key="globex", country="DE"),
    # gmail.com is not a company's domain: these two meet by name and country
    acct("hubspot:13", name="Initech", company_key="initech", domain="gmail.com", country="US"),
    acct("salesforce:A3", name="Initech LLC", company_key="initech", country="US"),
    acct("hubspot:14"),  # nothing to go by: an account of its own
]


def person(key: str, **values) -> dict:
    system, rid = key.split(":")
    return dict(record_key=key, _source_system=system, record_id=rid, _load_id="L1", **values)


PEOPLE = [
    person("hubspot:1", email="al@acme.com", account_record_id="10"),
    person("salesforce:2", email="bo@gmail.com", account_record_id="A1"),
    person("hubspot:3", email="jo@acme.com"),
    person("hubspot:4", email="sam@gmail.com", company="Umbrella", company_key="umbrella", country="FR"),
    person("salesforce:5", email="lee@gmail.com"),
    person("hubspot:6", email="kim@gmail.com"),
    person("hubspot:7", email="max@hotmail.co.uk", company="Acme", company_key="acme", country="US"),
    person("hubspot:8", email="ria@newco.io", company="NewCo", company_key="newco", country="IT",
           updated_at=d("2024-01-01")),
    person("hubspot:9", email="pat@gmail.com", company="NewCo Srl", company_key="newco",
           updated_at=d("2024-06-01")),
    person("hubspot:15", email="x@yahoo.fr", website="https://www.umbrella.fr/contact"),
    # account id 10 exists in HubSpot, not in Salesforce: ids are only trusted within their system
    person("salesforce:16", email="zed@globex.de", account_record_id="10"),
    person("hubspot:17", email="amy@mailinator.com"),
    # no domain, no country: the one account called Initech
    person("hubspot:18", email="ivy@gmail.com", company="Initech", company_key="initech"),
]


def resolve(engine, accounts=ACCOUNTS, people=PEOPLE):
    if accounts is not None:
        engine.write("accounts_in", pa.Table.from_pylist(accounts, schema=ACCOUNTS_SCHEMA))
    engine.write("people_in", pa.Table.from_pylist(people, schema=PEOPLE_SCHEMA))
    a = engine.table("accounts_in") if accounts is not None else None
    p = engine.table("people_in")
    res = resolve_accounts(a, p)

    def rows(t):
        return {r["record_key"]: r for r in t.to_pyarrow().to_pylist()}

    golden = {r["account_id"]: {**r, "contributors": json.loads(r["contributors"])}
              for r in golden_accounts(a, p, res).to_pyarrow().to_pylist()}
    return rows(res.account_map) if a is not None else {}, rows(res.person_accounts), golden


ACME = account_id("domain:acme.com")
GLOBEX_COM, GLOBEX_DE = account_id("domain:globex.com"), account_id("domain:globex.de")


def test_account_records_group_by_domain_then_name_and_country(ws):
    accounts, _, _ = resolve(ws.engine)
    got = {k: (r["account_id"], r["account_match"]) for k, r in accounts.items()}
    assert got == {
        "hubspot:10": (ACME, "domain"),
        "salesforce:A1": (ACME, "company_name"),
        "hubspot:11": (GLOBEX_COM, "domain"),
        "hubspot:12": (GLOBEX_DE, "domain"),
        "salesforce:A2": (account_id("name:globex|DE"), "company_name"),
        "hubspot:13": (account_id("name:initech|US"), "company_name"),
        "salesforce:A3": (account_id("name:initech|US"), "company_name"),
        "hubspot:14": (account_id("record:hubspot:14"), "record"),
    }
    assert accounts["salesforce:A1"]["account_key"] == "domain:acme.com"


def test_people_get_their_company_by_record_id_domain_or_name(ws):
    _, people, _ = resolve(ws.engine)
    got = {k: (r["account_id"], r["account_match"]) for k, r in people.items()}
    assert got == {
        "hubspot:1": (ACME, "account_record_id"),
        "salesforce:2": (ACME, "account_record_id"),
        "hubspot:3": (ACME, "email_domain"),
        "hubspot:4": (account_id("name:umbrella|FR"), "company_name"),
        "salesforce:5": (None, None),
        "hubspot:6": (None, None),
        "hubspot:7": (ACME, "company_name"),
        "hubspot:8": (account_id("domain:newco.io"), "email_domain"),
        # a personal address, but the company name matches the colleagues at newco.io
        "hubspot:9": (account_id("domain:newco.io"), "company_name"),
        "hubspot:15": (account_id("domain:umbrella.fr"), "website"),
        "salesforce:16": (GLOBEX_DE, "email_domain"),
        "hubspot:17": (None, None),
        "hubspot:18": (account_id("name:initech|US"), "company_name"),
    }


def test_people_with_personal_addresses_are_never_one_company(ws):
    gmail = [person(f"csv:{i}", email=f"user{i}@{dom}") for i, dom in enumerate(
        ["gmail.com", "gmail.com", "GMAIL.COM", "googlemail.com", "yahoo.co.uk", "outlook.it", "icloud.com",
         "mail.ru", "libero.it", "mailinator.com"])]
    _, people, golden = resolve(ws.engine, accounts=None, people=gmail)
    assert {r["account_id"] for r in people.values()} == {None}
    assert golden == {}


def test_an_account_known_from_people_keeps_its_id_when_its_crm_record_arrives(ws):
    _, before, _ = resolve(ws.engine, accounts=None)
    _, after, _ = resolve(ws.engine)
    assert before["hubspot:3"]["account_id"] == after["hubspot:3"]["account_id"] == ACME
    assert before["hubspot:8"]["account_id"] == after["hubspot:8"]["account_id"]


def test_golden_accounts_survive_values_and_keep_currency_with_its_amount(ws):
    _, _, golden = resolve(ws.engine)
    acme = golden[ACME]
    assert (acme["name"], acme["industry"], acme["employees"]) == ("ACME Inc", "Computer Software", 120)
    assert acme["domain"] == "acme.com" and acme["contributors"]["domain"] == "hubspot:10"
    # the newest record has a currency but no revenue: the revenue's own currency goes with it
    assert (acme["annual_revenue"], acme["currency"]) == (Decimal(5000000), "USD")
    assert acme["contributors"]["currency"] == "hubspot:10"
    assert (acme["source_records"], acme["sources"]) == (2, "hubspot,salesforce")
    # accounts seen only on people take name and domain from them (the newest record's name)
    newco = golden[account_id("domain:newco.io")]
    assert (newco["name"], newco["domain"], newco["source_records"]) == ("NewCo Srl", "newco.io", 2)
    people_only = {account_id(k) for k in ("domain:newco.io", "domain:umbrella.fr", "name:umbrella|FR")}
    assert people_only < set(golden)
    assert len(golden) == 6 + len(people_only)  # the eight account records make six accounts


def test_with_account_ids_adds_the_columns_to_people(ws):
    ws.engine.write("accounts_in", pa.Table.from_pylist(ACCOUNTS, schema=ACCOUNTS_SCHEMA))
    ws.engine.write("people_in", pa.Table.from_pylist(PEOPLE, schema=PEOPLE_SCHEMA))
    people = ws.engine.table("people_in")
    out = with_account_ids(people, resolve_accounts(ws.engine.table("accounts_in"), people))
    assert out.columns == (*people.columns, "account_id", "account_match")
    rows = {r["record_key"]: r for r in out.to_pyarrow().to_pylist()}
    assert sorted(rows) == sorted(p["record_key"] for p in PEOPLE)  # every person once, keys intact
    assert (rows["hubspot:7"]["account_id"], rows["hubspot:7"]["email"]) == (ACME, "max@hotmail.co.uk")
    assert rows["hubspot:6"]["account_id"] is None


@pytest.mark.spark
def test_duckdb_and_spark_resolve_the_same_accounts(tmp_path):
    results = on_each_engine(tmp_path, resolve)
    assert results["spark"] == results["duckdb"]
