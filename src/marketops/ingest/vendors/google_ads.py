"""Google Ads UI report downloads: the campaign report and the ad group report (CSV).

A UI download has two title lines before the header (the report name, e.g. "Campaign report",
and the date range, e.g. "January 1, 2024 - December 31, 2024"), numbers with thousands
separators ("1,234.56"), and "Total: ..." rows at the bottom ("Total: Campaigns", "Total: Account",
"Total: Search"...). Sources consulted:
- "Account Performance Report", https://developers.google.com/adwords/api/docs/appendix/reports/v201705/account-performance-report
  (display names: Currency, Impr., Clicks, Cost, Conversions, Day).
- Google Ads UI downloads in the code corpus: "Campaign report" / date-range title lines, the header
  "Campaign,Day,Campaign status,Campaign type,Currency code,Impr.,Clicks,CTR,Avg. CPC,Cost,Conversions",
  and "Total: Campaigns,,,,,123,8,1,12.34".

Example:
    >>> GOOGLE_ADS_CAMPAIGNS.footer_prefixes
    ('Total: ',)
"""

from marketops.ingest.vendors import VendorFormat

_COMMON = {
    "Day": "date",
    "Customer ID": "account_id",
    "Campaign": "campaign",
    "Campaign ID": "campaign_id",
    "Currency code": "currency",
    "Impr.": "impressions",
    "Clicks": "clicks",
    "Cost": "cost",
    "Conversions": "conversions",
}

GOOGLE_ADS_CAMPAIGNS = VendorFormat(
    system="google_ads",
    name="google_ads_campaigns",
    entity="ad_spend",
    label="Google Ads campaign report",
    headers=dict(_COMMON),
    signature=frozenset({"Campaign", "Day", "Impr.", "Currency code"}),
    constants={"platform": "google_ads"},
    footer_prefixes=("Total: ",),
)

GOOGLE_ADS_AD_GROUPS = VendorFormat(
    system="google_ads",
    name="google_ads_ad_groups",
    entity="ad_spend",
    label="Google Ads ad group report",
    headers={**_COMMON, "Ad group": "ad_group", "Ad group ID": "ad_group_id"},
    signature=frozenset({"Campaign", "Ad group", "Day", "Impr.", "Currency code"}),
    constants={"platform": "google_ads"},
    footer_prefixes=("Total: ",),
)

FORMATS = (GOOGLE_ADS_CAMPAIGNS, GOOGLE_ADS_AD_GROUPS)
