"""The fixed facts of the sample company "Acme Analytics": channels, campaigns, names, countries.

Everything here is data, not randomness, so that a seed only decides *which* facts each
synthetic person gets. The channel weights are the ground truth attribution is scored against.

Example:
    >>> [c.name for c in CHANNELS][:3]
    ['paid_search_google', 'paid_search_microsoft', 'paid_social_meta']
    >>> round(sum(c.touch_share for c in CHANNELS), 6)
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

#: The simulated period starts here; a fixed date keeps the output independent of "today".
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def period_days(months: int) -> int:
    """Number of days in ``months`` calendar months from :data:`START`.

    >>> period_days(12), period_days(1)
    (366, 31)
    """
    y, m = START.year + (START.month - 1 + months) // 12, (START.month - 1 + months) % 12 + 1
    return (datetime(y, m, 1, tzinfo=timezone.utc) - START).days


@dataclass(frozen=True)
class Channel:
    """A marketing channel as the simulation knows it (the truth, before any export dirt)."""

    name: str
    platform: str                 # the system that runs it (google_ads, mailchimp, web...)
    touch_type: str               # touchpoint type written to web_events.jsonl
    weight: float                 # true incremental conversion probability of one touch
    touch_share: float            # share of all touches that come from this channel
    sources: tuple[str, ...]      # utm_source spellings people actually type (first = canonical)
    mediums: tuple[str, ...]      # utm_medium spellings
    click_id: str | None          # click id parameter the platform appends
    referrer: str
    landing_pages: tuple[str, ...]


CHANNELS: tuple[Channel, ...] = (
    Channel("paid_search_google", "google_ads", "ad_click", 0.040, 0.16,
            ("google", "google", "google", "Google", "adwords"), ("cpc", "cpc", "cpc", "CPC", "ppc"),
            "gclid", "https://www.google.com/", ("/", "/pricing", "/product/attribution", "/demo")),
    Channel("paid_search_microsoft", "microsoft_ads", "ad_click", 0.030, 0.04,
            ("bing", "bing", "Bing", "microsoft"), ("cpc", "cpc", "CPC"),
            "msclkid", "https://www.bing.com/", ("/", "/pricing", "/demo")),
    Channel("paid_social_meta", "meta_ads", "ad_click", 0.012, 0.14,
            ("facebook", "facebook", "Facebook", "fb", "FB Ads", "instagram"),
            ("paid_social", "paid_social", "Paid Social", "cpc", "paidsocial"),
            "fbclid", "https://l.facebook.com/", ("/guides/attribution-ebook", "/", "/webinar")),
    Channel("paid_social_linkedin", "linkedin_ads", "ad_click", 0.035, 0.06,
            ("linkedin", "linkedin", "LinkedIn", "lnkd"), ("paid_social", "cpc", "Paid Social", "sponsored"),
            None, "https://www.linkedin.com/", ("/guides/attribution-ebook", "/enterprise", "/demo")),
    Channel("organic_search", "web", "web_session", 0.020, 0.22,
            ("google", "bing", "duckduckgo"), ("organic",), None, "https://www.google.com/",
            ("/blog/what-is-multi-touch-attribution", "/blog/utm-naming", "/", "/pricing")),
    Channel("email", "mailchimp", "email_click", 0.025, 0.12,
            ("mailchimp", "mailchimp", "newsletter", "Mailchimp"), ("email", "email", "Email", "e-mail"),
            None, "", ("/blog/utm-naming", "/webinar", "/product/funnels")),
    Channel("direct", "web", "web_session", 0.008, 0.14, ("(direct)",), ("(none)",), None, "",
            ("/", "/login", "/pricing")),
    Channel("referral", "web", "web_session", 0.015, 0.06,
            ("g2.com", "capterra.com", "partner.example.com"), ("referral",), None, "https://www.g2.com/",
            ("/", "/product/attribution")),
    Channel("organic_social", "web", "web_session", 0.006, 0.06,
            ("linkedin.com", "t.co", "lnkd.in"), ("referral", "social"), None, "https://www.linkedin.com/",
            ("/blog/what-is-multi-touch-attribution", "/")),
)

#: Chance that a person converts with no marketing touch at all (word of mouth, sales outreach).
BASELINE_RATE = 0.02


@dataclass(frozen=True)
class AdUnit:
    """One campaign x ad group of one ad platform: the grain ad spend is reported at."""

    platform: str
    campaign: str
    campaign_id: str
    ad_group: str
    ad_group_id: str
    slug: str            # utm_campaign the ads carry
    content: str         # utm_content
    cpc: float           # cost per click in the platform currency
    ctr: float


def _units() -> tuple[AdUnit, ...]:
    spec = {
        "google_ads": [("Brand - Search", ["Brand - Exact", "Brand - Phrase"], 1.1, 0.15),
                       ("Generic - Search", ["Marketing Analytics", "Attribution Software"], 3.4, 0.027),
                       ("Competitor - Search", ["Competitor Names"], 4.2, 0.02)],
        "microsoft_ads": [("Brand - Bing", ["Brand"], 0.85, 0.11), ("Generic - Bing", ["Generic"], 2.2, 0.023)],
        "meta_ads": [("Prospecting - Lookalike 1%", ["LAL 1% - Marketing Managers"], 1.2, 0.009),
                     ("Retargeting - Website Visitors", ["Visitors 30d"], 0.8, 0.013)],
        "linkedin_ads": [("ABM - Enterprise EMEA", ["ABM"], 4.6, 0.004), ("Lead Gen - Ebook", ["Lead Gen"], 4.3, 0.0037)],
    }
    out = []
    for p_i, (platform, campaigns) in enumerate(spec.items()):
        for c_i, (campaign, groups, cpc, ctr) in enumerate(campaigns):
            slug = campaign.lower().replace(" - ", "_").replace(" ", "_").replace("%", "")
            for g_i, group in enumerate(groups):
                out.append(AdUnit(platform, campaign, f"{20123456780 + 100 * p_i + c_i}", group,
                                  f"{150123456700 + 1000 * p_i + 10 * c_i + g_i}", slug,
                                  group.lower().replace(" - ", "_").replace(" ", "_").replace("%", ""), cpc, ctr))
    return tuple(out)


AD_UNITS: tuple[AdUnit, ...] = _units()

#: Ad platform -> reporting currency (several currencies on purpose).
PLATFORM_CURRENCY = {"google_ads": "USD", "microsoft_ads": "USD", "meta_ads": "EUR", "linkedin_ads": "GBP"}

#: Platforms see clicks from people who never reach the CRM: observed clicks = simulated x this.
CLICK_SCALE = 3.0
#: GA4 counts every visitor, not just future contacts.
SESSION_SCALE = 3.0

# Countries: code, name, phone prefix, deal currency, UTC offset written on web events, cities.
COUNTRIES = (
    ("US", "United States", "1", "USD", "-05:00", ("New York", "San Francisco", "Austin", "Chicago")),
    ("GB", "United Kingdom", "44", "GBP", "+00:00", ("London", "Manchester", "Bristol")),
    ("IT", "Italy", "39", "EUR", "+01:00", ("Milano", "Roma", "Torino", "Bologna")),
    ("DE", "Germany", "49", "EUR", "+01:00", ("Berlin", "München", "Hamburg")),
    ("FR", "France", "33", "EUR", "+01:00", ("Paris", "Lyon", "Nantes")),
    ("ES", "Spain", "34", "EUR", "+01:00", ("Madrid", "Barcelona", "Valencia")),
)
COUNTRY_SHARE = (0.35, 0.2, 0.15, 0.12, 0.1, 0.08)

FIRST_NAMES = (
    "John", "Maria", "Emily", "David", "Lukas", "Sophie", "Carlos", "Giulia", "Marco", "Sarah", "James",
    "Laura", "Thomas", "Anna", "Michael", "Chiara", "Daniel", "Elena", "Robert", "Claire", "William",
    "Francesca", "Alexander", "Katherine", "Giuseppe", "Léa", "Jürgen", "José", "Olivia", "Matteo",
    "Hannah", "Pablo", "Elizabeth", "Noah", "Amélie", "Stefan", "Lucía", "Oliver", "Isabella", "Ethan",
)
LAST_NAMES = (
    "Smith", "Rossi", "Clarke", "Müller", "Martin", "García", "Bianchi", "Johnson", "Schmidt", "Dubois",
    "Brown", "Ferrari", "Williams", "Fernández", "Taylor", "Romano", "Schneider", "Bernard", "Wilson",
    "Colombo", "López", "Davies", "Ricci", "Fischer", "Moreau", "Evans", "Greco", "Weber", "Laurent",
    "O'Neil", "Martínez", "Thomas", "Bruno", "Wagner", "Lefèvre", "Walker", "Gallo", "Becker", "Roux", "Hughes",
)
#: What people call themselves on one system and not the other.
NICKNAMES = {"John": "Jon", "Robert": "Bob", "William": "Bill", "Michael": "Mike", "Katherine": "Kate",
             "Elizabeth": "Liz", "Giuseppe": "Beppe", "Alexander": "Alex", "Thomas": "Tom", "Daniel": "Dan",
             "Francesca": "Fra", "Matteo": "Teo"}
JOB_TITLES = ("Marketing Manager", "Head of Marketing", "CMO", "Demand Generation Manager", "Marketing Ops Lead",
              "Growth Marketer", "VP Sales", "Data Analyst", "CEO", "Content Marketer", "Sales Manager",
              "Marketing Analyst")
#: Seniority multiplies a person's baseline propensity (a CMO buys more often than an analyst).
TITLE_PROPENSITY = (1.0, 1.4, 1.8, 1.1, 1.2, 0.9, 1.3, 0.6, 1.6, 0.7, 0.9, 0.7)

COMPANY_WORDS = ("Acme", "Northwind", "Globex", "Brightlane", "Datenwerk", "Lumière", "Initech", "Umbrella",
                 "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne", "Tyrell", "Massive", "Blue Sky",
                 "Red Rock", "Silverline", "Greenfield", "Nimbus", "Quantum", "Helix", "Orbit", "Pioneer",
                 "Summit", "Atlas", "Vertex", "Nova", "Zenith", "Polaris", "Aurora", "Beacon", "Cobalt",
                 "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris")
COMPANY_KINDS = ("Analytics", "Software", "Systems", "Logistics", "Retail", "Health", "Media", "Labs",
                 "Consulting", "Energy", "Foods", "Finance", "Robotics", "Travel", "Studios", "Partners",
                 "Networks", "Digital", "Industries", "Solutions")
INDUSTRIES = ("COMPUTER_SOFTWARE", "MARKETING_AND_ADVERTISING", "RETAIL", "FINANCIAL_SERVICES",
              "HOSPITAL_HEALTH_CARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "LOGISTICS_AND_SUPPLY_CHAIN")
COUNTRY_TLD = ("com", "co.uk", "it", "de", "fr", "es")
LEGAL_SUFFIX = (" Inc.", " Ltd", " S.r.l.", " GmbH", " SAS", " S.L.")
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com")



@dataclass(frozen=True)
class SalesTeam:
    """A sales team: its territory (the countries it covers), working calendar and SLA target."""

    name: str
    timezone: str
    holiday_country: str
    hours: str                    # working windows of every weekday, Monday to Friday
    countries: tuple[str, ...]    # ISO codes of the countries it covers (routing uses them)
    escalate_to: str              # the sales manager who hears of breaches
    target_hours: float           # first touch within this many business hours of the MQL


@dataclass(frozen=True)
class SalesRep:
    """A sales rep: owns the CRM records of people in their team's territory."""

    name: str
    email: str
    team: str


SALES_TEAMS: tuple[SalesTeam, ...] = (
    SalesTeam("sales-emea", "Europe/Rome", "IT", "09:00-13:00, 14:00-18:00", ("IT", "DE", "FR", "ES"),
              "elena.ricci@acme-analytics.com", 8.0),
    SalesTeam("sales-uk", "Europe/London", "GB", "09:00-17:30", ("GB",), "elena.ricci@acme-analytics.com", 8.0),
    SalesTeam("sales-na", "America/New_York", "US", "09:00-17:00", ("US",), "james.walker@acme-analytics.com", 8.0),
)
SALES_REPS: tuple[SalesRep, ...] = (
    SalesRep("Giulia Bianchi", "giulia.bianchi@acme-analytics.com", "sales-emea"),
    SalesRep("Marco Verdi", "marco.verdi@acme-analytics.com", "sales-emea"),
    SalesRep("Jonas Berg", "jonas.berg@acme-analytics.com", "sales-emea"),
    SalesRep("Oliver Hughes", "oliver.hughes@acme-analytics.com", "sales-uk"),
    SalesRep("Charlotte Evans", "charlotte.evans@acme-analytics.com", "sales-uk"),
    SalesRep("Tom Baker", "tom.baker@acme-analytics.com", "sales-na"),
    SalesRep("Priya Patel", "priya.patel@acme-analytics.com", "sales-na"),
    SalesRep("Sarah Lee", "sarah.lee@acme-analytics.com", "sales-na"),
)
#: Every CRM owner ("Contact owner", "Lead Owner", "Deal owner"...) is one of the reps.
HUBSPOT_OWNERS = tuple(r.name for r in SALES_REPS)
SALESFORCE_OWNERS = HUBSPOT_OWNERS
#: Why sales sent an MQL back to nurturing (recycled) or turned it down (rejected).
RECYCLE_REASONS = ("No budget", "Bad timing", "No response")
REJECT_REASONS = ("Wrong contact", "Competitor", "Student / job seeker", "Existing customer")
HUBSPOT_STAGES = ("Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer")
#: Stage labels of the lifecycle history: HubSpot's, then an MQL sales recycled or rejected (with a reason).
HISTORY_STAGES = (*HUBSPOT_STAGES, "Recycled", "Rejected")
#: The contact's "Lifecycle Stage" after each history stage: a recycled lead is a lead again, a rejected one "Other".
CURRENT_STAGES = (*HUBSPOT_STAGES, "Lead", "Other")
#: HubSpot "Original Source" per channel (index-aligned with CHANNELS).
HUBSPOT_SOURCE = ("Paid Search", "Paid Search", "Paid Social", "Paid Social", "Organic Search",
                  "Email Marketing", "Direct Traffic", "Referrals", "Social Media")
SALESFORCE_SOURCE = ("Advertisement", "Advertisement", "Advertisement", "Advertisement", "Web", "Email",
                     "Web", "Partner Referral", "Other")
DEAL_STAGES_OPEN_HS = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Contract Sent")
DEAL_STAGES_OPEN_SF = ("Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")
PRODUCTS = ("Platform", "Annual", "Pilot", "Expansion", "Team plan")
