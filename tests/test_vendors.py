"""Vendor formats: every real-shaped example export is recognised as its format and mapped."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.exports_reading import read_export
from marketops.ingest.vendors import FORMATS, by_name, header_key, recognise
from marketops.schema import ENTITIES

CASES = Path(__file__).parent / "cases" / "vendors"

#: example file -> the format it must be recognised as
EXPECTED = {
    "hubspot_contacts.csv": "hubspot_contacts",
    "hubspot_deals.csv": "hubspot_deals",
    "hubspot_companies.csv": "hubspot_companies",
    "hubspot_activities.csv": "hubspot_activities",
    "salesforce_activities.csv": "salesforce_activities",
    "salesforce_leads.csv": "salesforce_leads",
    "salesforce_contacts.csv": "salesforce_contacts",
    "salesforce_opportunities.csv": "salesforce_opportunities",
    "ga4_traffic_acquisition.csv": "ga4_traffic_acquisition",
    "google_ads_campaigns.csv": "google_ads_campaigns",
    "google_ads_ad_groups.csv": "google_ads_ad_groups",
    "meta_ads.csv": "meta_ads",
    "linkedin_ads.csv": "linkedin_ads",
    "microsoft_ads_campaigns.csv": "microsoft_ads_campaigns",
    "mailchimp_campaigns.csv": "mailchimp_campaigns",
}


def test_every_example_file_has_an_expectation():
    assert sorted(p.name for p in CASES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_example_is_recognised_and_mapped(file_name):
    headers, rows = read_export(CASES / file_name)
    fmt = recognise(headers)
    assert fmt is not None and fmt.name == EXPECTED[file_name]
    assert rows, "an example without data rows proves nothing"
    assert all(len(r) == len(headers) for r in rows if not r[0].startswith(fmt.footer_prefixes or ("\0",)))

    mapping, constants = fmt.map_headers(headers)
    entity = ENTITIES[fmt.entity]
    known = {header_key(h) for h in fmt.headers}
    for header in headers:
        if header_key(header) in known:
            # every header the format declares lands on a real canonical column
            assert mapping[header] in entity.column_names, header
    for column in (*constants, *fmt.constants):
        assert column in entity.column_names
    for _sep, left, right in fmt.splits.values():
        assert {left, right} <= set(entity.column_names)
    for column, parts in fmt.sums.items():
        assert column in entity.column_names
        assert set(parts) <= set(headers), "the example must carry the parts it sums"
    mapped = [c for c in mapping.values() if c]
    assert len(mapped) == len(set(mapped)), "two headers feed one canonical column"
    # the columns that identify a row must be reachable
    required = [c.name for c in entity.columns if c.required]
    assert all(c in mapped for c in required)


def test_footer_rows_are_flagged():
    for name in ("google_ads_campaigns.csv", "google_ads_ad_groups.csv", "microsoft_ads_campaigns.csv"):
        headers, rows = read_export(CASES / name)
        fmt = recognise(headers)
        totals = [r for r in rows if r[0].startswith(fmt.footer_prefixes)]
        assert totals, name


def test_meta_currency_comes_from_the_header():
    headers, _ = read_export(CASES / "meta_ads.csv")
    mapping, constants = by_name("meta_ads").map_headers(headers)
    assert mapping["Amount spent (EUR)"] == "cost"
    assert constants == {"platform": "meta_ads", "currency": "EUR"}


def test_recognition_ignores_case_and_whitespace():
    fmt = recognise(["  record id", "FIRST NAME", "email ", "lifecycle  stage"])
    assert fmt is not None and fmt.name == "hubspot_contacts"


def test_signatures_do_not_collide():
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    for a, b in itertools.combinations(FORMATS, 2):
        sa = {header_key(h) for h in a.signature}
        sb = {header_key(h) for h in b.signature}
        assert sa != sb, (a.name, b.name)
        # when one signature contains the other, the larger must win on its own headers
        if sa < sb:
            assert recognise(sorted(b.signature)) is b
        if sb < sa:
            assert recognise(sorted(a.signature)) is a


def test_each_signature_alone_is_recognised_as_itself():
    for fmt in FORMATS:
        assert recognise(sorted(fmt.signature)) is fmt, fmt.name


def test_at_least_four_ad_platforms():
    platforms = {f.constants.get("platform") for f in FORMATS if f.entity == "ad_spend"}
    assert len(platforms) >= 4
