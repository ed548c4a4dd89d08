"""Vendor export formats: how HubSpot, Salesforce, GA4, the ad platforms and Mailchimp write their files.

A :class:`VendorFormat` says which headers a vendor writes, which canonical column each one
feeds, and the few structural quirks a generic header mapper cannot guess: a value the vendor
splits or joins (GA4's "Session source / medium"), counts that must be added up (Mailchimp's
hard and soft bounces), a currency written in the header ("Amount spent (EUR)"), and report
total rows at the bottom ("Total: Campaigns"). The loader finds the header row (skipping title
lines and ``#`` comments), asks :func:`recognise` which format it is, and maps the columns.

Example:
    >>> from marketops.ingest.vendors import recognise
    >>> fmt = recognise(["Campaign", "Ad group", "Day", "Currency code", "Impr.", "Clicks", "Cost"])
    >>> fmt.name, fmt.entity
    ('google_ads_ad_groups', 'ad_spend')
    >>> recognise(["foo", "bar"]) is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def header_key(header: str) -> str:
    """A header as compared for recognition: no BOM, case-folded, inner whitespace collapsed.

    Exports differ in case and stray spaces between vendor versions and after a round trip
    through Excel, but never in punctuation, so punctuation is kept ("Impr." is not "Impr").

    >>> header_key("\\ufeff  Record  ID ")
    'record id'
    """
    return " ".join(header.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class VendorFormat:
    """One export of one vendor, e.g. the HubSpot contacts export.

    >>> from marketops.ingest.vendors.meta_ads import META_ADS
    >>> mapping, constants = META_ADS.map_headers(["Campaign name", "Amount spent (EUR)", "Notes"])
    >>> mapping
    {'Campaign name': 'campaign', 'Amount spent (EUR)': 'cost', 'Notes': None}
    >>> constants
    {'platform': 'meta_ads', 'currency': 'EUR'}
    """

    system: str
    name: str
    entity: str
    label: str
    #: vendor header, exactly as the vendor writes it -> canonical column
    headers: dict[str, str]
    #: headers that must all be present to recognise this export (the distinctive ones)
    signature: frozenset[str]
    #: canonical column -> fixed value for every row
    constants: dict[str, str] = field(default_factory=dict)
    #: vendor header -> (separator, left canonical column, right canonical column)
    splits: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: canonical column -> vendor headers whose values are added up
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: regex on a header -> canonical money column; group 1 is the ISO currency code
    header_currency: dict[str, str] = field(default_factory=dict)
    #: a data row whose first cell starts with one of these is a report total, not data
    footer_prefixes: tuple[str, ...] = ()

    def map_headers(self, headers: list[str]) -> tuple[dict[str, str | None], dict[str, str]]:
        """Original header -> canonical column (None: keep as a custom property), plus constant columns.

        Headers consumed by ``splits`` and ``sums`` map to None: the loader derives their
        canonical columns from those declarations and keeps the raw values as properties.
        A currency carried by a header ("Amount spent (USD)") becomes the constant ``currency``.

        >>> from marketops.ingest.vendors.ga4 import GA4_TRAFFIC
        >>> GA4_TRAFFIC.map_headers(["date", "Session source / medium", "SESSIONS"])[0]
        {'date': 'date', 'Session source / medium': None, 'SESSIONS': 'sessions'}
        """
        by_norm = {header_key(h): c for h, c in self.headers.items()}
        mapping: dict[str, str | None] = {}
        constants = dict(self.constants)
        used: set[str] = set()
        for original in headers:
            canonical = by_norm.get(header_key(original))
            if canonical is None:
                for pattern, money_column in self.header_currency.items():
                    match = re.match(pattern, original.replace("\ufeff", "").strip(), re.IGNORECASE)
                    if match:
                        canonical = money_column
                        constants.setdefault("currency", match.group(1).upper())
                        break
            # Two headers feeding one canonical column would make the value ambiguous: the first wins.
            if canonical is not None and canonical in used:
                canonical = None
            if canonical is not None:
                used.add(canonical)
            mapping[original] = canonical
        return mapping, constants

    def matches(self, headers: list[str]) -> bool:
        """Whether every signature header is present (case- and whitespace-insensitively)."""
        present = {header_key(h) for h in headers}
        return all(header_key(h) in present for h in self.signature)


from marketops.ingest.vendors import (  # noqa: E402  (modules need VendorFormat defined above)
    ga4,
    google_ads,
    hubspot,
    linkedin_ads,
    mailchimp,
    meta_ads,
    microsoft_ads,
    salesforce,
)

FORMATS: tuple[VendorFormat, ...] = (
    *hubspot.FORMATS,
    *salesforce.FORMATS,
    *ga4.FORMATS,
    *google_ads.FORMATS,
    *meta_ads.FORMATS,
    *linkedin_ads.FORMATS,
    *microsoft_ads.FORMATS,
    *mailchimp.FORMATS,
)


def recognise(headers: list[str]) -> VendorFormat | None:
    """The format whose signature is fully present in ``headers``; the most specific one wins.

    "Most specific" is the largest signature, so the Google Ads ad group report (which has every
    column of the campaign report plus "Ad group") beats the campaign report.

    >>> recognise(["Record ID", "first name", "Last Name", "Email", "Lifecycle Stage"]).name
    'hubspot_contacts'
    """
    candidates = [f for f in FORMATS if f.matches(headers)]
    if not candidates:
        return None
    return max(candidates, key=lambda f: len(f.signature))


def by_name(name: str) -> VendorFormat:
    """The format called ``name`` (e.g. "hubspot_contacts"), or an error naming the valid ones.

    >>> by_name("mailchimp_campaigns").entity
    'email_campaigns'
    """
    for f in FORMATS:
        if f.name == name:
            return f
    from marketops.errors import unknown_name

    raise unknown_name("vendor format", name, [f.name for f in FORMATS])


__all__ = ["FORMATS", "VendorFormat", "by_name", "header_key", "recognise"]
