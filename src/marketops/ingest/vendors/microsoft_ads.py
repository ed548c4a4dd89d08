"""Microsoft Advertising: the campaign performance report downloaded from Reports (CSV or XLSX).

A download starts with report metadata lines ("Report Name: ...", "Report Time: ...",
"Time Zone: ...", "Rows: ...") and ends with a "Total" row and a copyright line
("©2024 Microsoft Corporation. All rights reserved."). Column labels follow the
CampaignPerformanceReportColumn names (TimePeriod, AccountName, CampaignName, CampaignId,
CurrencyCode, Impressions, Clicks, Spend, Conversions). Sources consulted:
- "CampaignPerformanceReportColumn Value Set - Reporting",
  https://learn.microsoft.com/en-us/advertising/reporting-service/campaignperformancereportcolumn?view=bingads-13
- "Microsoft Ads metrics", https://www.catchr.io/metrics/bing-ads-microsoft-ads-metrics (Account Id, Ad Group Name...).

Example:
    >>> MICROSOFT_ADS_CAMPAIGNS.constants
    {'platform': 'microsoft_ads'}
"""

from marketops.ingest.vendors import VendorFormat

MICROSOFT_ADS_CAMPAIGNS = VendorFormat(
    system="microsoft_ads",
    name="microsoft_ads_campaigns",
    entity="ad_spend",
    label="Microsoft Advertising campaign report",
    headers={
        "Time period": "date",
        "Account number": "account_id",
        "Campaign name": "campaign",
        "Campaign ID": "campaign_id",
        "Currency code": "currency",
        "Impressions": "impressions",
        "Clicks": "clicks",
        "Spend": "cost",
        "Conversions": "conversions",
    },
    signature=frozenset({"Time period", "Campaign name", "Spend"}),
    constants={"platform": "microsoft_ads"},
    footer_prefixes=("Total", "©"),
)

FORMATS = (MICROSOFT_ADS_CAMPAIGNS,)
