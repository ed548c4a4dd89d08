"""LinkedIn Campaign Manager: the campaign performance export (Analyze > Export > Campaign performance).

The file starts with preamble lines before the header ("Campaign Performance Report (in UTC)",
"Report Start: ...", "Report End: ...", "Date Generated: ...", "Account Name: ...", "Account ID: ...").
Campaign Manager writes it as UTF-16 with tabs, like Excel's "Unicode text". Sources consulted:
- "LinkedIn Ads metrics and dimensions", https://twominutereports.com/linkedin-ads-metrics-and-dimensions
  (Impressions, Clicks, Total Spent "cost in the account's local currency", Conversions, Leads).
- a LinkedIn Campaign Manager export reader in the code corpus using 'Start Date (in UTC)',
  'Account Name', 'Campaign Name', 'Campaign Type', 'Total Spent', 'Impressions'.

Example:
    >>> LINKEDIN_ADS.headers["Total Spent"]
    'cost'
"""

from marketops.ingest.vendors import VendorFormat

LINKEDIN_ADS = VendorFormat(
    system="linkedin_ads",
    name="linkedin_ads",
    entity="ad_spend",
    label="LinkedIn Campaign Manager campaign performance export",
    headers={
        "Start Date (in UTC)": "date",
        "Account ID": "account_id",
        "Campaign Name": "campaign",
        "Campaign ID": "campaign_id",
        "Campaign Group Name": "ad_group",
        "Campaign Group ID": "ad_group_id",
        "Currency": "currency",
        "Total Spent": "cost",
        "Impressions": "impressions",
        "Clicks": "clicks",
        "Conversions": "conversions",
    },
    signature=frozenset({"Start Date (in UTC)", "Campaign Name", "Total Spent"}),
    constants={"platform": "linkedin_ads"},
)

FORMATS = (LINKEDIN_ADS,)
