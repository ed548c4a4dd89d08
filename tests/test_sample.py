"""The sample company: deterministic, recognisable exports, truth that lines up, bounded memory."""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.exports_reading import read_export
from marketops.ingest.vendors import recognise
from marketops.sample import INBOX_FILES, generate

VENDOR_FILES = {
    "hubspot_contacts.csv": "hubspot_contacts", "hubspot_companies.csv": "hubspot_companies",
    "hubspot_deals.csv": "hubspot_deals", "salesforce_leads.csv": "salesforce_leads",
    "salesforce_opportunities.csv": "salesforce_opportunities", "google_ads_ad_groups.csv": "google_ads_ad_groups",
    "meta_ads.csv": "meta_ads", "linkedin_ads.csv": "linkedin_ads", "microsoft_ads.xlsx": "microsoft_ads_campaigns",
    "mailchimp_campaigns.csv": "mailchimp_campaigns", "ga4_traffic_acquisition.csv": "ga4_traffic_acquisition",
    "hubspot_activities.csv": "hubspot_activities", "salesforce_activities.csv": "salesforce_activities",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return generate(out, contacts=3_000, months=3, seed=11)


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a = generate(tmp_path / "a", contacts=1_500, months=2, seed=5)
    b = generate(tmp_path / "b", contacts=1_500, months=2, seed=5)
    assert a.files == b.files
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    generate(tmp_path / "c", contacts=1_500, months=2, seed=6)
    assert digest(tmp_path / "a")["inbox/hubspot_contacts.csv"] != digest(tmp_path / "c")["inbox/hubspot_contacts.csv"]


def test_inbox_files_and_counts(sample):
    inbox = sample.truth_dir.parent / "inbox"
    assert sorted(p.name for p in inbox.iterdir()) == sorted(INBOX_FILES)
    assert not any(p.name in ("identity.csv", "people.csv", "channel_effects.csv") for p in inbox.iterdir())
    assert all(n > 0 for n in sample.files.values()), sample.files
    assert 0.55 < sample.files["hubspot_contacts.csv"] / 3_000 < 0.66
    assert 0.45 < sample.files["salesforce_leads.csv"] / 3_000 < 0.56
    assert 5 <= sample.files["web_events.jsonl"] / 3_000 <= 10
    deals = sample.files["hubspot_deals.csv"] + sample.files["salesforce_opportunities.csv"]
    assert 0.05 < deals / 3_000 < 0.11


@pytest.mark.parametrize("file_name", sorted(VENDOR_FILES))
def test_vendor_files_are_recognised(sample, file_name):
    header, rows = read_export(sample.truth_dir.parent / "inbox" / file_name)
    fmt = recognise(header)
    assert fmt.name == VENDOR_FILES[file_name]
    mapping, _ = fmt.map_headers(header)
    assert sum(c is not None for c in mapping.values()) >= 5
    data = [r for r in rows if not (fmt.footer_prefixes and r[0].startswith(fmt.footer_prefixes))]
    assert len(data) == sample.files[file_name]


def test_formats_vary_like_real_exports(sample):
    inbox = sample.truth_dir.parent / "inbox"
    assert (inbox / "salesforce_leads.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (inbox / "linkedin_ads.csv").read_bytes().startswith(b"\xff\xfe")
    opp = (inbox / "salesforce_opportunities.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        opp.decode("utf-8")  # Windows-1252, with accented account names
    header, rows = read_export(inbox / "salesforce_opportunities.csv")
    assert all("," in r[header.index("Amount")] for r in rows)  # decimal commas
    assert all(r[header.index("Close Date")].count("/") == 2 for r in rows)  # DD/MM/YYYY
    assert (inbox / "microsoft_ads.xlsx").read_bytes()[:2] == b"PK"
    currencies = {json.loads(json.dumps(c)) for c in ("USD", "EUR", "GBP")}
    text = (inbox / "hubspot_deals.csv").read_text() + opp.decode("cp1252")
    assert all(c in text for c in currencies)


def test_dirt_is_present(sample):
    inbox = sample.truth_dir.parent / "inbox"
    sources = {json.loads(line)["utm_source"] for line in (inbox / "web_events.jsonl").read_text().splitlines()}
    assert {"facebook", "Facebook", "fb", "FB Ads"} <= sources
    header, rows = read_export(inbox / "hubspot_contacts.csv")
    ids = [r[0] for r in rows]
    assert len(ids) > len(set(ids)), "duplicate rows within a source"
    emails = [r[header.index("Email")] for r in rows]
    assert None in emails and "n/a" in emails  # empty cells read as missing
    lead_header, leads = read_export(inbox / "salesforce_leads.csv")
    firsts = [r[lead_header.index("First Name")] for r in leads]
    assert any(f.isupper() and len(f) > 2 for f in firsts)
    assert any(f.startswith("00") for f in (r[lead_header.index("Phone")] for r in leads))


def test_truth_lines_up_with_inbox(sample):
    inbox, truth = sample.truth_dir.parent / "inbox", sample.truth_dir
    identity = list(csv.DictReader((truth / "identity.csv").open(encoding="utf-8")))
    people = {r["person_id"]: r for r in csv.DictReader((truth / "people.csv").open(encoding="utf-8"))}
    assert len(people) == 3_000
    by_file: dict[str, set[str]] = {}
    for r in identity:
        assert r["person_id"] in people
        by_file.setdefault(r["source_file"], set()).add(r["source_record_id"])
    _, hs = read_export(inbox / "hubspot_contacts.csv")
    _, sf = read_export(inbox / "salesforce_leads.csv")
    assert {r[0] for r in hs} == by_file["hubspot_contacts.csv"]
    assert {r[0] for r in sf} == by_file["salesforce_leads.csv"]
    # people in both CRMs exist, and some of them share no email between the two
    both = [p for p in people.values() if p["in_hubspot"] == "true" and p["in_salesforce"] == "true"]
    assert 0.2 < len(both) / len(people) < 0.3
    effects = list(csv.DictReader((truth / "channel_effects.csv").open()))
    assert {e["channel"] for e in effects} >= {"paid_search_google", "paid_social_meta", "email", "(baseline)"}


def test_channel_effects_drive_conversions(tmp_path):
    generate(tmp_path, contacts=20_000, months=6, seed=2)
    people = list(csv.DictReader((tmp_path / "truth" / "people.csv").open(encoding="utf-8")))
    converted = sum(p["converted"] == "true" for p in people) / len(people)
    assert 0.08 < converted < 0.3
    mean_p = sum(float(p["conversion_probability"]) for p in people) / len(people)
    assert abs(mean_p - converted) < 0.02


def test_small_sample_is_fast(tmp_path):
    start = time.perf_counter()
    generate(tmp_path, contacts=10_000, months=12, seed=1)
    assert time.perf_counter() - start < 10


def test_memory_is_bounded(tmp_path):
    """Peak and retained (traced) memory must not grow with the number of contacts.

    One 80k-contact run (four chunks): the peak over the whole run stays close to the peak of its first
    20k contacts (per-contact state would make it ~4x), and what is still allocated after the last chunk is
    what was allocated after the first: keeping even 8 bytes per contact across chunks would add ~480 KiB.
    """
    from marketops.sample.generator import CHUNK

    assert 80_000 // CHUNK >= 4
    after: dict[int, tuple[int, int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "people":
            gc.collect()
            after[done] = tracemalloc.get_traced_memory()

    tracemalloc.start()
    try:
        generate(tmp_path, contacts=80_000, months=3, seed=1, progress=progress)
        _, peak_80k = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    current_first, peak_first = after[CHUNK]
    current_last, _ = after[80_000]
    assert peak_80k < 1.5 * peak_first, (peak_first, peak_80k)
    assert current_last - current_first < 256 * 1024, (current_first, current_last)


def test_progress_is_reported(tmp_path):
    seen = []
    generate(tmp_path, contacts=500, months=1, seed=1, progress=lambda s, d, t: seen.append((s, d, t)))
    assert ("people", 500, 500) in seen and seen[-1][0] == "truth"
