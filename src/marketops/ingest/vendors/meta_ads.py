"""Meta Ads Manager export (Reports > Export table data, CSV or XLSX).

The spend column carries the ad account currency in its header: "Amount spent (EUR)". With a
daily breakdown "Reporting starts" and "Reporting ends" are the same day. Sources consulted:
- "Ads Manager Columns", https://sebotraining.com/meta-ads-topics/ads-manager-columns
  (Amount spent, Impressions, Link clicks, Results, Reach, Frequency).
- Meta exports in the code corpus: "Reporting starts,Reporting ends,Campaign name,Amount spent (USD),
  Impressions" and "Campaign name,Ad set name,...,Impressions,Link clicks,Amount spent (USD),Results".

Example:
    >>> META_ADS.map_headers(["Amount spent (GBP)"])[1]["currency"]
    'GBP'
"""

from marketops.ingest.vendors import VendorFormat

META_ADS = VendorFormat(
    system="meta_ads",
    name="meta_ads",
    entity="ad_spend",
    label="Meta Ads Manager export",
    headers={
        "Reporting starts": "date",
        "Account ID": "account_id",
        "Campaign ID": "campaign_id",
        "Campaign name": "campaign",
        "Ad set ID": "ad_group_id",
        "Ad set name": "ad_group",
        "Impressions": "impressions",
        "Link clicks": "clicks",
        "Currency": "currency",
        "Results": "conversions",
    },
    signature=frozenset({"Campaign name", "Reporting starts", "Reporting ends", "Impressions"}),
    constants={"platform": "meta_ads"},
    # The money column's name carries the account currency: one regex instead of one entry per currency.
    header_currency={r"^Amount spent \(([A-Z]{3})\)$": "cost"},
)

FORMATS = (META_ADS,)
