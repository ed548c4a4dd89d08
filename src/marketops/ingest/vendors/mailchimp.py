"""Mailchimp campaign report export (Analytics > Reports > Export as CSV).

One row per sent campaign. Mailchimp reports hard and soft bounces separately; the canonical
``bounces`` is their sum. "Send Date" reads like "Jan 15, 2024 09:00 AM" in the account's time zone.
Sources consulted:
- "About Email Campaign Reports", https://mailchimp.com/help/about-email-campaign-reports/
  (Recipients, Successful deliveries, Opened, Clicked, Bounced = hard or soft, Unsubscribed).
- "List Campaign Reports" (Mailchimp Marketing API reference copy),
  https://withone.ai/knowledge/mailchimp-marketing/conn_mod_def%3A%3AGJ400ZXUmAc%3A%3AqhfeujhuRDuroGbHm29sYA
  (campaign_title, list_name, subject_line, emails_sent, bounces.hard_bounces/soft_bounces, unique_opens,
  abuse_reports, unsubscribed).

Example:
    >>> MAILCHIMP_CAMPAIGNS.sums
    {'bounces': ('Hard Bounces', 'Soft Bounces')}
"""

from marketops.ingest.vendors import VendorFormat

MAILCHIMP_CAMPAIGNS = VendorFormat(
    system="mailchimp",
    name="mailchimp_campaigns",
    entity="email_campaigns",
    label="Mailchimp campaign report export",
    headers={
        "Unique Id": "campaign_id",
        "Title": "name",
        "Subject": "subject",
        "List": "list_name",
        "Send Date": "sent_at",
        "Total Recipients": "sent",
        "Successful Deliveries": "delivered",
        "Unique Opens": "unique_opens",
        "Unique Clicks": "unique_clicks",
        "Unsubscribes": "unsubscribes",
        "Abuse Complaints": "complaints",
    },
    signature=frozenset({"Title", "Send Date", "Total Recipients", "Successful Deliveries"}),
    constants={"platform": "mailchimp"},
    # Mailchimp splits bounces by kind; the canonical count is both kinds together.
    sums={"bounces": ("Hard Bounces", "Soft Bounces")},
)

FORMATS = (MAILCHIMP_CAMPAIGNS,)
