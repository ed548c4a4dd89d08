"""The normalise step: clean values beside the loaded ones, derived columns, channel groups."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.pipeline import run_pipeline
from marketops.quality import clean_touchpoints
from marketops.quality.clean_people import NO_REGION_REASON, phone_mapping
from marketops.quality.normalise import NORMALISERS, phone
from marketops.schema import ENTITIES
from marketops.workspace import Workspace

CONTACTS = (
    "Record ID,Email,First Name,Last Name,Full Name,Phone,Company,Job Title,Country\n"
    "1, John.Smith@ACME.com ,JOHN,smith,,02 1234 5678,ACME Inc.,Head of Growth,Italia\n"
    "2,n/a,n/a,-,\"Petrov, Ivan\",000,test,n/a,Россия\n"
    "3,asdf@asdf.com,,,José ÁLVAREZ,020 7946 0958,Nestlé S.A.,CMO,UK\n"
    "4,info@acme.com,ИВАН,петров,,212 555 0100,,VP Sales,\n"
    "5,test,Zoë,O'NEIL,,+39 02 1234 5678 ext. 12,Müller GmbH,-,Deutschland\n"
    "6,bob@mailinator.com,Bob,Lee,,1234567890123456789,Acme,,United States\n"
)
EVENTS = (
    "Event ID,Timestamp,Anonymous ID,UTM Source,UTM Medium,UTM Campaign,Referrer,Landing Page,GCLID,Channel\n"
    "e1,2024-03-01T10:00:00Z,a1,fb,cpc,Spring Sale,,https://acme.com/,,\n"
    "e2,2024-03-01T11:00:00Z,a2,FB Ads,paid_social,spring%20sale,,https://acme.com/,,\n"
    "e3,2024-03-01T12:00:00Z,a3,facebook,Paid Social,(not set),,https://acme.com/,,\n"
    "e4,2024-03-01T13:00:00Z,a4,,,,https://www.google.com/,https://acme.com/,,\n"
    "e5,2024-03-01T14:00:00Z,a5,,,,https://www.g2.com/reviews,https://acme.com/,,\n"
    "e6,2024-03-01T15:00:00Z,a6,,,,https://www.linkedin.com/feed/,https://acme.com/,,\n"
    "e7,2024-03-01T16:00:00Z,a7,,,,https://acme.com/pricing,https://acme.com/,,\n"
    "e8,2024-03-01T17:00:00Z,a8,,,,https://www.google.com/,https://acme.com/,Cj0KCQ,\n"
    "e9,2024-03-01T18:00:00Z,a9,,,,,https://acme.com/,,\n"
    "e10,2024-03-01T19:00:00Z,a10,newsletter,email,,https://www.google.com/,https://acme.com/,,Lifecycle\n"
)


def _workspace(tmp_path, config: str = "", **files: str) -> Workspace:
    root = tmp_path / "acme"
    Workspace.init(root).close()
    if config:
        cfg = root / "marketops.yaml"
        cfg.write_text(cfg.read_text() + config)
    ws = Workspace.open(root)
    for name, text in files.items():
        (ws.inbox / name).write_text(text)
    return ws


def _rows(ws, table: str, key: str = "record_id") -> dict[str, dict]:
    return {r[key]: r for r in ws.table(table).to_pyarrow().to_pylist()}


def _normalise(run):
    return next(s for s in run.steps if s.name == "normalise")


@pytest.fixture
def crm(tmp_path):
    ws = _workspace(tmp_path, **{"contacts.csv": CONTACTS, "events.csv": EVENTS})
    run = run_pipeline(ws)
    assert run.status == "succeeded", run.error
    yield ws, run
    ws.close()


def test_cleaned_tables_follow_the_column_contract(crm):
    ws, run = crm
    for name in ("people", "touchpoints"):
        assert ws.table(name).columns == ("record_key", *(c.name for c in ENTITIES[name].published_columns))
    assert [s.name for s in run.steps if s.name != "privacy"][:4] == ["ingest", "stage", "canonical", "normalise"]
    assert not [t for t in ws.engine.tables() if t.startswith("_norm_")]  # scratch mappings dropped


def test_original_is_kept_beside_the_clean_value(crm):
    ws, _ = crm
    john = _rows(ws, "people")["1"]
    assert (john["email"], john["email_original"], john["email_issue"]) == (
        "john.smith@acme.com", "John.Smith@ACME.com", None)
    assert (john["first_name"], john["first_name_original"]) == ("John", "JOHN")
    assert (john["company"], john["company_original"], john["company_key"]) == ("ACME", "ACME Inc.", "acme")
    assert (john["country"], john["country_original"]) == ("IT", "Italia")
    assert (john["seniority"], john["job_function"]) == ("director", "marketing")
    assert (john["email_domain"], john["email_role"], john["email_disposable"]) == ("acme.com", False, False)


def test_placeholders_are_rejected_with_a_reason_and_the_record_is_kept(crm):
    ws, run = crm
    people = _rows(ws, "people")
    assert len(people) == 6 and _normalise(run).detail["people"]["rows_out"] == 6
    petrov = people["2"]
    for column, loaded in [("email", "n/a"), ("first_name", "n/a"), ("last_name", "-"), ("company", "test"),
                           ("job_title", "n/a")]:
        assert petrov[f"{column}_original"] == loaded
        assert petrov[f"{column}_issue"], column
    assert petrov["email"] is None and petrov["company"] is None and petrov["seniority"] is None
    assert people["3"]["email"] is None and people["3"]["email_issue"] == "a placeholder, not a real address"
    assert people["5"]["email"] is None and people["5"]["email_original"] == "test"
    columns = _normalise(run).detail["people"]["columns"]
    assert columns["email"]["rejected"] == 3 and columns["email"]["cleaned"] == 3


def test_names_in_any_script_and_first_last_from_full_name(crm):
    ws, _ = crm
    people = _rows(ws, "people")
    assert (people["4"]["first_name"], people["4"]["last_name"]) == ("Иван", "Петров")
    assert (people["5"]["first_name"], people["5"]["last_name"]) == ("Zoë", "O'Neil")
    # missing first and last name: taken from the full name, which is kept as well
    assert (people["3"]["first_name"], people["3"]["last_name"], people["3"]["full_name"]) == (
        "José", "Álvarez", "José Álvarez")
    assert people["3"]["first_name_original"] is None
    # rejected placeholders give way to the full name too, and keep their reason
    assert (people["2"]["first_name"], people["2"]["last_name"]) == ("Ivan", "Petrov")
    assert people["2"]["first_name_issue"] == "a placeholder, not a name"


def test_phones_read_in_the_records_country(crm):
    ws, _ = crm
    people = _rows(ws, "people")
    assert people["1"]["phone"] == "+390212345678"  # national Italian number, country Italia
    assert people["3"]["phone"] == "+442079460958"  # national British number, country UK
    assert people["5"]["phone"] == "+390212345678"  # written with its country code, extension dropped
    for absurd in ("2", "6"):  # 000, and 19 digits
        assert people[absurd]["phone"] is None and "phone number" in people[absurd]["phone_issue"]
    # no country on the record and no default_region: rejected, saying how to fix it
    assert people["4"]["phone"] is None and people["4"]["phone_issue"] == NO_REGION_REASON
    assert "default_region" in NO_REGION_REASON


def test_default_region_reads_numbers_of_records_without_a_country(tmp_path):
    ws = _workspace(tmp_path, "default_region: US\n", **{"contacts.csv": CONTACTS})
    assert run_pipeline(ws).status == "succeeded"
    people = _rows(ws, "people")
    assert people["4"]["phone"] == "+12125550100" and people["4"]["phone_issue"] is None
    assert people["1"]["phone"] == "+390212345678"  # the record's own country still wins
    ws.close()


def test_one_source_for_every_spelling_and_utm_rules(crm):
    ws, _ = crm
    tps = _rows(ws, "touchpoints")
    assert {tps[e]["source"] for e in ("e1", "e2", "e3")} == {"facebook"}
    assert [tps[e]["source_original"] for e in ("e1", "e2", "e3")] == ["fb", "FB Ads", "facebook"]
    assert {tps[e]["channel_group"] for e in ("e1", "e2", "e3")} == {"Paid Social"}
    assert (tps["e1"]["campaign"], tps["e2"]["campaign"]) == ("spring_sale", "spring_sale")
    assert tps["e3"]["medium"] == "paid_social"
    assert tps["e3"]["campaign"] is None and tps["e3"]["campaign_issue"] == "empty: no value was tracked"


def test_workspace_source_aliases_come_first(tmp_path):
    config = 'source_aliases:\n  "FB Ads": meta\n  facebook: meta\n'
    ws = _workspace(tmp_path, config, **{"events.csv": EVENTS})
    assert run_pipeline(ws).status == "succeeded"
    tps = _rows(ws, "touchpoints")
    assert {tps[e]["source"] for e in ("e1", "e2", "e3")} == {"meta"}  # fb -> facebook -> meta
    ws.close()


def test_referrer_gives_untagged_visits_their_source_as_ga4_does(crm):
    ws, run = crm
    tps = _rows(ws, "touchpoints")
    got = {e: (tps[e]["source"], tps[e]["medium"], tps[e]["channel_group"]) for e in tps}
    assert got["e4"] == ("google", "organic", "Organic Search")
    assert got["e5"] == ("g2.com", "referral", "Referral")
    assert got["e6"] == ("linkedin", "referral", "Organic Social")
    assert got["e7"] == (None, None, "Direct")  # a self-referral stays direct
    assert got["e8"] == (None, None, "Paid Search")  # a Google click id is a paid click, not organic
    assert got["e9"] == (None, None, "Direct")
    assert got["e10"] == ("newsletter", "email", "Lifecycle")  # tagged, and its own channel is kept
    assert tps["e4"]["source_original"] is None and tps["e4"]["source_issue"] is None
    assert _normalise(run).detail["touchpoints"]["columns"]["source"]["filled"] == 3


def test_a_rerun_with_the_same_data_changes_nothing(crm):
    ws, _ = crm

    def snapshot():
        return {name: sorted(({k: v for k, v in r.items() if k != "_load_id"}
                              for r in ws.table(name).to_pyarrow().to_pylist()), key=lambda r: r["record_key"])
                for name in ("people", "touchpoints")}

    before = snapshot()
    again = run_pipeline(ws)
    assert again.status == "succeeded" and again.steps[0].detail["loaded"] == 0
    assert snapshot() == before


def test_accounts_get_a_clean_domain_and_company_key(tmp_path):
    ws = _workspace(tmp_path, **{"companies.csv": (
        "Company ID,Company name,Company Domain Name,Industry,Number of Employees,Country/Region\n"
        "c1,ACME Inc.,https://www.Acme.com/en,Software,50,Italia\n"
        "c2,Acme  S.p.A.,acme.com,Software,50,ITA\n"
        "c3,n/a,localhost,Software,5,Atlantis\n")})
    assert run_pipeline(ws).status == "succeeded"
    acc = _rows(ws, "accounts")
    assert {(a["domain"], a["company_key"], a["country"]) for k, a in acc.items() if k != "c3"} == {
        ("acme.com", "acme", "IT")}
    assert acc["c1"]["domain_original"] == "https://www.Acme.com/en"
    assert acc["c3"]["name_issue"] and acc["c3"]["domain_issue"] and acc["c3"]["country_issue"] == "unknown country: 'Atlantis'"
    ws.close()


def test_a_failing_normalise_step_publishes_nothing_and_leaves_no_scratch(crm, monkeypatch):
    ws, good = crm

    def broken(hosts, aliases):
        raise RuntimeError("boom")

    monkeypatch.setattr(clean_touchpoints, "referrer_mapping", broken)
    (ws.inbox / "more.csv").write_text(EVENTS.replace("e1,", "e99,"))
    bad = run_pipeline(ws)
    assert bad.status == "failed" and "normalise" in bad.error
    assert ws.engine.published()["touchpoints"].endswith(good.run_id)
    assert not [t for t in ws.engine.tables() if bad.run_id in t or t.startswith("_norm_")]


def test_source_alias_loop_fails_the_run_with_the_loop_named(tmp_path):
    ws = _workspace(tmp_path, "source_aliases:\n  a: b\n  b: a\n", **{"events.csv": EVENTS})
    run = run_pipeline(ws)
    assert run.status == "failed" and "loop" in run.error
    ws.close()


def test_every_cleaned_column_names_a_known_normaliser():
    for e in ENTITIES.values():
        for cleaning in e.normalised:
            assert cleaning.kind in NORMALISERS, (e.name, cleaning.column)
            assert cleaning.column in e.column_names


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(["02 1234 5678", "+44 20 7946 0958", "000", "212 555 0100", "n/a"]),
                                st.sampled_from(["", "IT", "GB", "US", "AQ"])), max_size=12))
def test_phone_mapping_one_row_per_pair_read_in_its_region(pairs):
    rows = phone_mapping(pairs, "US").to_pylist()
    assert [(r["phone__raw"], r["phone__region"]) for r in rows] == list(dict.fromkeys(pairs))
    for r in rows:
        region = r["phone__region"] if r["phone__region"] in ("IT", "GB", "US") else "US"
        assert r["phone__value"] == phone(r["phone__raw"], default_region=region).value
        assert (r["phone__value"] is None) == (r["phone__reason"] is not None)


def test_sample_company_touchpoints_are_less_direct_once_referrers_are_read(sample_ws):
    run = run_pipeline(sample_ws)
    assert run.status == "succeeded", run.error
    tps = sample_ws.table("touchpoints")
    rows = tps.select("source_original", "medium_original", "gclid", "fbclid", "msclkid", "referrer",
                      "channel_group").to_pyarrow().to_pylist()
    untagged = [r for r in rows if not any(r[c] for c in ("source_original", "medium_original", "gclid",
                                                          "fbclid", "msclkid"))]
    direct = [r for r in rows if r["channel_group"] == "Direct"]
    # Before reading referrers every untagged visit was Direct; now only those without a referrer are.
    assert len(direct) < len(untagged)
    assert all(not r["referrer"] for r in direct)
    assert {r["channel_group"] for r in untagged if r["referrer"]} <= {"Organic Search", "Organic Social", "Referral"}
    detail = _normalise(run).detail
    assert set(detail) == {"people", "accounts", "touchpoints", "web_traffic", "ad_spend"}
    assert all(d["rows_in"] == d["rows_out"] for d in detail.values())
    traffic = sample_ws.table("web_traffic").to_pyarrow().to_pylist()
    assert all(r["source"] is None or r["source"] == r["source"].lower() for r in traffic)


def test_a_rerun_answers_known_values_from_the_cache_with_the_same_result(tmp_path, monkeypatch):
    from marketops.quality import normalise

    ws = _workspace(tmp_path, **{"contacts.csv": CONTACTS, "events.csv": EVENTS})
    assert run_pipeline(ws).status == "succeeded"
    first = _rows(ws, "people")
    assert {"_normalised_values_email", "_normalised_values_phone"} <= set(ws.engine.tables())

    normalised: list[str | None] = []
    each = normalise._normalise_each
    monkeypatch.setattr(normalise, "_normalise_each",
                        lambda texts, *a: normalised.extend(texts) or each(texts, *a))
    (ws.inbox / "more.csv").write_text("Record ID,Email,Phone,Country\n77,zed@newco.example.org,06 1234 5678,France\n")
    assert run_pipeline(ws).status == "succeeded"
    again = _rows(ws, "people")
    assert {k: v for k, v in again.items() if k != "77"} == first  # cached answers are the same answers
    # only what the new file brought was normalised: its email, phone, country... (and the empty value)
    assert {"zed@newco.example.org", "06 1234 5678", "France"} <= set(normalised)
    assert len([t for t in normalised if t is not None]) <= 6
    assert again["77"]["phone"] == "+33612345678"


def test_a_changed_option_is_not_answered_from_the_cache(tmp_path):
    ws = _workspace(tmp_path, **{"c.csv": "Record ID,Phone\n1,06 1234 5678\n"})
    run_pipeline(ws)
    assert _rows(ws, "people")["1"]["phone"] is None  # no country, no default_region
    ws.close()
    cfg = ws.root / "marketops.yaml"
    cfg.write_text(cfg.read_text() + "default_region: FR\n")
    ws = Workspace.open(ws.root)
    run_pipeline(ws)
    assert _rows(ws, "people")["1"]["phone"] == "+33612345678"
    ws.close()


def test_ad_platform_campaign_names_meet_their_utm_campaign():
    from marketops.quality.normalise import utm_value

    # the ad platform's name and the tag on the landing URL are one campaign
    assert utm_value("Brand - Search").value == utm_value("brand_search").value == "brand_search"
    assert utm_value("Spring Sale | EMEA").value == "spring_sale_emea"
    assert utm_value("black-friday").value == "black-friday"  # a hyphen inside a word is part of the name
    assert utm_value(" - ").reason == "empty: no value was tracked"  # a lone dash is a placeholder
