"""Google Analytics 4: the Traffic acquisition report, downloaded as CSV (Share this report > Download File).

The download starts with "#" comment lines (report name, account, property, start and end date as
YYYYMMDD) before the header; "Date" cells are YYYYMMDD too. Newer properties label the channel
dimension "Session primary channel group (Default Channel Group)", older ones "Session default
channel group". Sources consulted:
- "Build a Session-Based GA4 Traffic Acquisition Report in BigQuery",
  https://datalad.co.uk/build-a-session-based-ga4-traffic-acquisition-report-in-bigquery/
  (session default channel group, session source / medium, sessions, engaged sessions, key events...).
- GA4 CSV parsers in the code corpus reading "# ..." comment lines then
  "Date,...,Session source / medium,Sessions,Engaged sessions,...,Key events,Total revenue".

Example:
    >>> GA4_TRAFFIC.splits["Session source / medium"]
    (' / ', 'source', 'medium')
"""

from marketops.ingest.vendors import VendorFormat

GA4_TRAFFIC = VendorFormat(
    system="ga4",
    name="ga4_traffic_acquisition",
    entity="web_traffic",
    label="GA4 Traffic acquisition report",
    headers={
        "Date": "date",
        "Session primary channel group (Default Channel Group)": "channel",
        "Session primary channel group": "channel",
        "Session default channel group": "channel",
        "Session source": "source",
        "Session medium": "medium",
        "Session campaign": "campaign",
        "Sessions": "sessions",
        "Engaged sessions": "engaged_sessions",
        "Total users": "users",
        "Active users": "users",
        "New users": "new_users",
        "Key events": "conversions",
        "Conversions": "conversions",
        "Total revenue": "revenue",
    },
    signature=frozenset({"Session source / medium", "Sessions", "Engaged sessions"}),
    # GA4 joins source and medium in one dimension; the canonical table keeps them apart.
    splits={"Session source / medium": (" / ", "source", "medium")},
    footer_prefixes=("Grand total",),
)

FORMATS = (GA4_TRAFFIC,)
