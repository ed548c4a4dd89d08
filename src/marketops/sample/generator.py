"""Generate the sample company: streaming, chunked, deterministic for a seed.

People are generated CHUNK at a time with numpy; each chunk's rows are appended to every
record-level export and to the truth files, and only small accumulators (day x ad unit,
day x GA4 source/medium/campaign, clicks per send) outlive the chunk. Memory therefore stays
flat from 10k to 10M contacts.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> s = generate(Path(tempfile.mkdtemp()), contacts=300, months=2, seed=1)
    >>> s.files["hubspot_contacts.csv"] > 0, (s.truth_dir / "identity.csv").exists()
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from marketops.ingest.vendors import by_name
from marketops.sample import aggregates, events, exports, sales, truth
from marketops.sample.journeys import DAY, T0, mailchimp_sends, simulate
from marketops.sample.people import (
    company_attributes,
    company_country,
    company_domains,
    company_names,
    hubspot_company_id,
    make_people,
)
from marketops.sample.sinks import JsonLinesSink, TextSink
from marketops.sample.world import COUNTRIES, INDUSTRIES, period_days

CHUNK = 20_000
HS_ACTIVITIES_HEADER = ["Record ID", "Activity date", "Activity type", "Activity assigned to", "Call direction",
                        "Call outcome", "Associated Contact", "Associated Contact IDs", "Associated Company IDs",
                        "Last modified date"]
SF_ACTIVITIES_HEADER = ["Activity ID", "Assigned", "Subject", "Date", "Type", "Call Type", "Call Result", "Lead ID",
                        "Email", "Last Modified Date"]

#: inbox file -> (format, encoding, delimiter): what each export looks like on disk
INBOX_FILES = {
    "hubspot_contacts.csv": ("HubSpot contacts export", "utf-8", ","),
    "hubspot_companies.csv": ("HubSpot companies export", "utf-8", ","),
    "hubspot_deals.csv": ("HubSpot deals export", "utf-8", ","),
    "salesforce_leads.csv": ("Salesforce leads report", "utf-8-sig", ","),
    "salesforce_opportunities.csv": ("Salesforce opportunities report (it_IT locale)", "cp1252", ";"),
    "google_ads_ad_groups.csv": ("Google Ads ad group report", "utf-8", ","),
    "meta_ads.csv": ("Meta Ads Manager export", "utf-8-sig", ","),
    "linkedin_ads.csv": ("LinkedIn Campaign Manager export", "utf-16", "\t"),
    "microsoft_ads.xlsx": ("Microsoft Advertising campaign report", "xlsx", ""),
    "mailchimp_campaigns.csv": ("Mailchimp campaign report", "utf-8", ","),
    "ga4_traffic_acquisition.csv": ("GA4 Traffic acquisition report", "utf-8", ","),
    "web_events.jsonl": ("tracking-script events", "utf-8", "jsonl"),
    "conversions.csv": ("conversions", "utf-8", ","),
    "lifecycle_history.csv": ("HubSpot lifecycle stage history", "utf-8", ","),
    "hubspot_activities.csv": ("HubSpot activities export", "utf-8", ","),
    "salesforce_activities.csv": ("Salesforce activities report (Tasks and Events)", "utf-8-sig", ","),
    "exchange_rates.csv": ("daily exchange rates to EUR (the finance team's sheet)", "utf-8", ","),
}


@dataclass
class SampleSummary:
    """What :func:`generate` wrote."""

    files: dict[str, int]   # inbox file name -> data rows written
    truth_dir: Path
    contacts: int
    months: int
    seed: int
    inbox_dir: Path = field(default=Path())


def _headers(name: str) -> list[str]:
    return list(by_name(name).headers)


def generate(out_dir: Path, *, contacts: int = 20_000, months: int = 12, seed: int = 7,
             progress: Callable[[str, int, int], None] | None = None) -> SampleSummary:
    """Write ``out_dir/inbox/`` (vendor exports) and ``out_dir/truth/`` (ground truth) for a synthetic company.

    The same arguments always give the same bytes. ``progress(stage, done, total)`` is called
    after each chunk of each stage.
    """
    out_dir = Path(out_dir)
    inbox, truth_dir = out_dir / "inbox", out_dir / "truth"
    inbox.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, done, total: None)
    days = period_days(months)
    end = T0 + days * DAY - 60
    sends = mailchimp_sends(days)
    n_companies = max(20, contacts // 8)
    acc = aggregates.Accumulators(days, len(sends))

    hs_contacts_header = [h for h in _headers("hubspot_contacts")
                          if h not in ("State/Region", "Postal Code", "Street Address")]
    sf_leads_header = [h for h in _headers("salesforce_leads")
                       if h not in ("Website", "Street", "State/Province", "Zip/Postal Code")]
    hs_deals_header = [h for h in _headers("hubspot_deals") if h != "Original Source Type"]
    sf_opps_header = _headers("salesforce_opportunities")
    sinks = {
        "hubspot_contacts.csv": TextSink(inbox / "hubspot_contacts.csv", hs_contacts_header, line_end="\n"),
        "salesforce_leads.csv": TextSink(inbox / "salesforce_leads.csv", sf_leads_header, encoding="utf-8-sig",
                                         quote_all=True),
        "hubspot_deals.csv": TextSink(inbox / "hubspot_deals.csv", hs_deals_header, line_end="\n"),
        "salesforce_opportunities.csv": TextSink(inbox / "salesforce_opportunities.csv", sf_opps_header,
                                                 encoding="cp1252", delimiter=";"),
        "conversions.csv": TextSink(inbox / "conversions.csv", ["Conversion ID", "Timestamp", "Conversion Type",
                                    "Contact ID", "Email", "Anonymous ID", "Value", "Currency"], line_end="\n"),
        "lifecycle_history.csv": TextSink(inbox / "lifecycle_history.csv",
                                          ["Contact ID", "Email", "Lifecycle Stage", "Entered At", "Reason"],
                                          line_end="\n"),
        "hubspot_activities.csv": TextSink(inbox / "hubspot_activities.csv", HS_ACTIVITIES_HEADER, line_end="\n"),
        "salesforce_activities.csv": TextSink(inbox / "salesforce_activities.csv", SF_ACTIVITIES_HEADER,
                                              encoding="utf-8-sig", quote_all=True),
    }
    web = JsonLinesSink(inbox / "web_events.jsonl")
    identity, people_truth = truth.open_truth(truth_dir)
    sales_truth = TextSink(truth_dir / "sales.csv", sales.TRUTH_HEADER, line_end="\n")
    try:
        for c_i, start in enumerate(range(0, contacts, CHUNK)):
            n = min(CHUNK, contacts - start)
            rng = np.random.default_rng([seed, 1, c_i])  # one stream per chunk: chunks are independent
            people = make_people(rng, start=start, n=n, n_companies=n_companies)
            j = simulate(rng, people, days=days, sends=sends)
            stages = exports.lifecycle(people, j, end)
            # the sales side draws from its own stream: the marketing files do not change with it
            side = sales.simulate_sales(np.random.default_rng([seed, 4, c_i]), people, j, stages, end)
            stages = sales.with_outcomes(stages, side)

            frame, sel = exports.hubspot_contacts(rng, people, j, stages, hs_contacts_header, side)
            sinks["hubspot_contacts.csv"].write(frame)
            identity.write(truth.hubspot_identity(people, sel, "hubspot_contacts.csv"))

            frame, sel, lead_ids = exports.salesforce_leads(rng, people, j, sf_leads_header, "%-m/%-d/%Y", side)
            sinks["salesforce_leads.csv"].write(frame)
            identity.write(truth.identity_rows("salesforce", "salesforce_leads.csv", lead_ids, people.pid[sel]))
            first_lead = {}
            for pid, lead in zip(people.pid[sel].tolist(), lead_ids):
                first_lead.setdefault(pid, lead)

            sinks["hubspot_deals.csv"].write(exports.deals(people, j, salesforce=False, header=hs_deals_header,
                                                           lead_ids=first_lead, date_fmt="", rep=side.owner))
            sinks["salesforce_opportunities.csv"].write(exports.deals(
                people, j, salesforce=True, header=sf_opps_header, lead_ids=first_lead, date_fmt="%d/%m/%Y",
                rep=side.owner))
            sinks["hubspot_activities.csv"].write(sales.hubspot_activities(people, side))
            sinks["salesforce_activities.csv"].write(sales.salesforce_activities(people, side, first_lead))
            sales_truth.write(sales.truth_rows(people, side))

            frames, keys = events.web_events(rng, people, j, sends=sends)
            for frame in frames:
                web.write(frame)
            acc.add(j, keys)
            sinks["conversions.csv"].write(events.conversions(people, j, first_lead))
            sinks["lifecycle_history.csv"].write(events.lifecycle_rows(people, stages))
            people_truth.write(truth.people_rows(people, j))
            report("people", start + n, contacts)
    finally:
        for sink in (*sinks.values(), web, identity, people_truth, sales_truth):
            sink.close()

    files = {name: sink.rows for name, sink in sinks.items()}
    files["web_events.jsonl"] = web.rows
    files["hubspot_companies.csv"] = _write_companies(inbox / "hubspot_companies.csv", n_companies, seed, report)

    rng = np.random.default_rng([seed, 2])
    files["google_ads_ad_groups.csv"] = aggregates.write_google_ads(inbox / "google_ads_ad_groups.csv", rng, acc)
    files["meta_ads.csv"] = aggregates.write_meta(inbox / "meta_ads.csv", rng, acc)
    files["linkedin_ads.csv"] = aggregates.write_linkedin(inbox / "linkedin_ads.csv", rng, acc)
    files["microsoft_ads.xlsx"] = aggregates.write_microsoft(inbox / "microsoft_ads.xlsx", rng, acc)
    files["ga4_traffic_acquisition.csv"] = aggregates.write_ga4(inbox / "ga4_traffic_acquisition.csv", rng, acc, sends)
    files["mailchimp_campaigns.csv"] = aggregates.write_mailchimp(inbox / "mailchimp_campaigns.csv", rng, acc,
                                                                  sends, contacts)
    files["exchange_rates.csv"] = aggregates.write_rates(inbox / "exchange_rates.csv", rng, days)
    report("aggregates", 1, 1)
    truth.write_channel_effects(truth_dir / "channel_effects.csv")
    report("truth", 1, 1)
    return SampleSummary(files={k: files[k] for k in INBOX_FILES}, truth_dir=truth_dir, contacts=contacts,
                         months=months, seed=seed, inbox_dir=inbox)


def _write_companies(path: Path, n_companies: int, seed: int, report: Callable[[str, int, int], None]) -> int:
    """HubSpot companies, streamed in chunks: a company is a function of its index."""
    import polars as pl

    header = [h for h in _headers("hubspot_companies") if h != "Company owner"]
    with TextSink(path, header, line_end="\n") as sink:
        for c_i, start in enumerate(range(0, n_companies, CHUNK)):
            idx = np.arange(start, min(n_companies, start + CHUNK))
            rng = np.random.default_rng([seed, 3, c_i])
            attrs = company_attributes(idx)
            created = T0 + rng.integers(0, 300 * DAY, len(idx))
            revenue = attrs["annual_revenue"].astype(str).astype(object)
            revenue[rng.random(len(idx)) < 0.1] = ""  # revenue is often unknown
            employees = attrs["employees"].astype(str).astype(object)
            employees[rng.random(len(idx)) < 0.01] = "n/a"
            sink.write(pl.DataFrame({
                "Record ID": hubspot_company_id(idx),
                "Company name": company_names(idx),
                "Company Domain Name": company_domains(idx),
                "Industry": np.array(INDUSTRIES)[attrs["industry"]],
                "Number of Employees": employees,
                "Annual Revenue": revenue,
                "Country/Region": [COUNTRIES[c][1] for c in company_country(idx).tolist()],
                "City": [COUNTRIES[c][5][0] for c in company_country(idx).tolist()],
                "Create Date": exports._dates(created, "%Y-%m-%d %H:%M"),
                "Last Modified Date": exports._dates(created + 30 * DAY, "%Y-%m-%d %H:%M"),
            }).select(header))
            report("companies", int(idx[-1]) + 1, n_companies)
        return sink.rows
