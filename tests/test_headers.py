"""Header recognition: files from real tools map onto the right entity and columns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketops.errors import NotFound
from marketops.ingest.headers import detect_entity, match_headers, normalise_header
from marketops.schema import ENTITIES, entity


@pytest.mark.parametrize("header", ["First Name", "first_name", "FIRST-NAME", "firstName", " First  Name ",
                                    "first.name", "First/Name", "[First Name]", "FirstName"])
def test_spellings_of_one_header_normalise_alike(header):
    assert normalise_header(header) == "first name"


@pytest.mark.parametrize(("header", "expected"), [
    ("F-Name", "f name"), ("E-mail", "e mail"), ("Città", "citta"),
    ("Fecha de creación", "fecha de creacion"), ("Электронная почта", "электронная почта"),
    ("Район / Область", "район область"), ("Ёлка_Йод", "ёлка йод"),
    ("LastModifiedDate", "last modified date"), ("HTMLPage", "html page"), ("utm_source", "utm source"),
    ("Amount spent (EUR)", "amount spent eur"), ("Straße", "strasse"),
])
def test_normalise_header_examples(header, expected):
    assert normalise_header(header) == expected


@given(st.text(max_size=40))
def test_normalise_header_is_idempotent(header):
    once = normalise_header(header)
    assert normalise_header(once) == once


def test_every_synonym_maps_to_its_own_column_or_an_earlier_one():
    # A synonym listed twice in one entity would be silently shadowed: say which column keeps it.
    for e in ENTITIES.values():
        for column in e.columns:
            for spelling in (column.name, *column.synonyms):
                mapped = match_headers([spelling], e).columns[spelling]
                assert mapped is not None, (e.name, spelling)
                assert e.column_names.index(mapped) <= e.column_names.index(column.name), (e.name, spelling)


def test_hubspot_contacts_export_maps_to_people():
    headers = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Lifecycle Stage",
               "Contact owner", "Create Date", "Favourite colour"]
    m = match_headers(headers, entity("people"))
    assert m.columns == {"Record ID": "record_id", "First Name": "first_name", "Last Name": "last_name",
                         "Email": "email", "Phone Number": "phone", "Lifecycle Stage": "lifecycle_stage",
                         "Contact owner": "owner", "Create Date": "created_at", "Favourite colour": None}
    assert m.confidence["Email"] == 1.0 and m.confidence["Favourite colour"] == 0.0
    assert m.missing_required == [] and m.duplicates == []


@pytest.mark.parametrize("headers", [
    ["Nome", "Cognome", "Email", "Telefono", "Azienda", "Città"],
    ["Nombre", "Apellidos", "Correo electrónico", "Teléfono", "Empresa", "Ciudad"],
    ["Имя", "Фамилия", "Электронная почта", "Телефон", "Компания", "Город"],
    ["fname", "f-name", "lname", "E-mail", "Company"],
])
def test_people_headers_in_other_languages_and_abbreviations(headers):
    m = match_headers(headers, entity("people"))
    mapped = [c for c in m.columns.values() if c]
    assert mapped[:2] == ["first_name", "last_name"] or mapped[0] == "first_name"
    assert "email" in mapped
    assert detect_entity(headers)[0][0] == "people"


def test_fuzzy_matches_typos_with_lower_confidence():
    m = match_headers(["Emial Adress", "Frist Name"], entity("people"))
    assert m.columns == {"Emial Adress": "email", "Frist Name": "first_name"}
    assert 0 < m.confidence["Emial Adress"] < 1


def test_short_headers_do_not_match_fuzzily():
    assert match_headers(["ip"], entity("people")).columns == {"ip": None}


def test_each_column_is_used_once_and_the_surest_header_wins():
    m = match_headers(["Emial Adress", "Email", "E-mail", "Name"], entity("people"))
    assert m.columns == {"Emial Adress": None, "Email": "email", "E-mail": None, "Name": "full_name"}
    assert m.duplicates == [("Emial Adress", "email"), ("E-mail", "email")]


def test_compact_and_bracketed_headers():
    m = match_headers(["Lastname", "Amount spent (EUR)", "Reporting starts"], entity("ad_spend"))
    assert m.columns["Amount spent (EUR)"] == "cost" and m.columns["Reporting starts"] == "date"
    assert match_headers(["LASTNAME", "Zip/Postal Code"], entity("people")).columns == {
        "LASTNAME": "last_name", "Zip/Postal Code": "postcode"}


def test_overrides_win_over_synonyms_and_can_keep_a_header_custom():
    m = match_headers(["Email", "Personal mail", "Name"], entity("people"),
                      {"Personal mail": "email", "Name": ""})
    assert m.columns == {"Email": None, "Personal mail": "email", "Name": None}
    assert m.duplicates == [("Email", "email")]


def test_override_to_an_unknown_column_names_the_valid_ones():
    with pytest.raises(NotFound, match="did you mean 'email'"):
        match_headers(["Mail"], entity("people"), {"Mail": "emial"})


def test_missing_required_columns_are_listed_and_lower_the_score():
    with_date = match_headers(["Day", "Campaign", "Impressions", "Cost"], entity("ad_spend"))
    without = match_headers(["Campaign", "Impressions", "Cost"], entity("ad_spend"))
    assert with_date.missing_required == [] and without.missing_required == ["date"]
    assert without.score < with_date.score


FILES = {
    "people": ["Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Phone", "Lead Source",
               "Lead Status", "Lead Owner", "Created Date", "Street", "City", "State/Province", "Country"],
    "ad_spend": ["Day", "Campaign", "Campaign ID", "Ad group", "Impr.", "Clicks", "Cost", "Currency code",
                 "Conversions", "CTR", "Avg. CPC"],
    "opportunities": ["Deal Name", "Amount", "Deal Stage", "Close Date", "Deal owner", "Pipeline",
                      "Create Date"],
    "email_campaigns": ["Title", "Subject", "List", "Send Date", "Total Recipients", "Successful Deliveries",
                        "Total Bounces", "Unique Opens", "Open Rate", "Unique Clicks", "Unsubscribes"],
    "web_traffic": ["Date", "Session source", "Session medium", "Sessions", "Engaged sessions",
                    "Engagement rate", "Total users", "New users"],
    "touchpoints": ["Timestamp", "Email", "utm_source", "utm_medium", "utm_campaign", "Landing Page",
                    "gclid"],
    "accounts": ["Company ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
                 "Annual Revenue"],
    "conversions": ["Order ID", "Order Date", "Email", "Conversion Type", "Order Value", "Currency"],
    "lifecycle_stages": ["Contact ID", "Email", "Lifecycle Stage", "Date entered"],
}


@pytest.mark.parametrize("expected", list(FILES))
def test_detect_entity_clearly_separates_typical_exports(expected):
    ranked = detect_entity(FILES[expected])
    assert [name for name, _ in ranked][0] == expected
    assert sorted(name for name, _ in ranked) == sorted(ENTITIES)
    best, runner_up = ranked[0][1], ranked[1][1]
    assert best >= 0.7 and best - runner_up >= 0.3, ranked[:3]


def test_meta_ads_export_with_currency_in_brackets_is_ad_spend():
    headers = ["Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Amount spent (EUR)",
               "Impressions", "Link clicks", "Results"]
    assert detect_entity(headers)[0][0] == "ad_spend"


def test_unrelated_headers_score_low_everywhere():
    assert all(score < 0.2 for _, score in detect_entity(["Favourite colour", "Shoe size"]))
