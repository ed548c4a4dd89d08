"""The sample company's martech stack: Acme Analytics, a B2B SaaS company, runs fifteen tools.
Believable on purpose, and imperfect on purpose so that the audit has something to say: two product
analytics tools overlap, Zapier has no owner, Drift renews within a month, Tableau has more seats than
users, Hotjar has no cost recorded, costs are in EUR, USD and GBP, and HubSpot, Salesforce and Segment
sync in a loop. Renewal dates are relative to the day the sample is seeded.

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'app.sqlite'}"  # a database of its own
    >>> _ = init_db(url)
    >>> with session_scope(url) as s:
    ...     tools, flows = seed_stack(s)
    >>> (tools, flows)
    (15, 15)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.stack.registry import ToolDraft, create_tool, link
from marketops.state.stack import StackTool

ACTOR = "sample"

# name, catalogue entry, owner, cost, period, currency, renewal in days, seats, active users, goals, notes
TOOLS: list[dict[str, Any]] = [
    dict(name="HubSpot", catalogue="HubSpot", owner="Marta Rossi", cost="3200", cost_period="month", currency="EUR",
         renew=142, seats=12, active_users=11, goals=["Pipeline from marketing", "MQL to SQL conversion"],
         notes="Marketing Hub Professional, 25,000 contacts; price steps up at 30,000."),
    dict(name="Salesforce", catalogue="Salesforce", owner="Daniel Okafor", cost="54000", cost_period="year",
         currency="USD", renew=210, seats=40, active_users=34, goals=["Pipeline from marketing", "Win rate"],
         notes="Sales Cloud Enterprise; three-year term, 7% uplift cap."),
    dict(name="Google Analytics 4", catalogue="Google Analytics 4", owner="Lena Fischer", cost="0",
         cost_period="month", currency="EUR", seats=15, active_users=9, goals=["Website conversion rate"]),
    dict(name="Google Ads", catalogue="Google Ads", owner="Tom Becker", cost="0", cost_period="month",
         currency="EUR", seats=3, active_users=3, goals=["Pipeline from marketing"],
         notes="Media spend is in the budget plan, not here."),
    dict(name="LinkedIn Ads", catalogue="LinkedIn Ads", owner="Tom Becker", cost="0", cost_period="month",
         currency="EUR", seats=3, active_users=2, goals=["Pipeline from marketing", "Brand awareness"]),
    dict(name="Meta Ads", catalogue="Meta Ads", owner="Tom Becker", cost="0", cost_period="month",
         currency="EUR", seats=2, active_users=1, goals=["Brand awareness"]),
    dict(name="Mailchimp", catalogue="Mailchimp", owner="Marta Rossi", cost="350", cost_period="month",
         currency="USD", renew=75, seats=4, active_users=2, goals=["Customer retention"],
         notes="Kept for the customer newsletter since before HubSpot."),
    dict(name="Segment", catalogue="Segment", owner="Lena Fischer", cost="14400", cost_period="year",
         currency="USD", renew=300, seats=5, active_users=4, goals=["Website conversion rate"]),
    dict(name="Tableau", catalogue="Tableau", owner="Priya Nair", cost="8400", cost_period="year", currency="USD",
         renew=55, seats=10, active_users=3, goals=["Board reporting"],
         notes="Creator + viewer licences; most reports moved to marketops."),
    dict(name="Drift", catalogue="Drift", owner="Marta Rossi", cost="1500", cost_period="month", currency="EUR",
         renew=21, seats=6, active_users=5, goals=["MQL to SQL conversion"],
         notes="60 days' notice to cancel."),
    dict(name="Amplitude", catalogue="Amplitude", owner="Priya Nair", cost="995", cost_period="month",
         currency="USD", renew=180, seats=8, active_users=6, goals=["Product-qualified leads"]),
    dict(name="Mixpanel", catalogue="Mixpanel", owner="Lena Fischer", cost="3000", cost_period="year",
         currency="GBP", renew=260, seats=5, active_users=1, goals=["Product-qualified leads"],
         notes="Trial turned into a contract; overlaps with Amplitude."),
    dict(name="Zapier", catalogue="Zapier", owner="", cost="69", cost_period="month", currency="USD",
         seats=1, active_users=1, notes="Paid on a personal card; nobody owns the zaps."),
    dict(name="Asana", catalogue="Asana", owner="Daniel Okafor", cost="2640", cost_period="year", currency="EUR",
         renew=120, seats=10, active_users=10, goals=["Campaign delivery on time"]),
    dict(name="Hotjar", catalogue="Hotjar", owner="Lena Fischer", cost=None, cost_period="month", currency="EUR",
         seats=3, active_users=2, goals=["Website conversion rate"], notes="Free plan; upgrade under discussion."),
]

# from, to, object, method, frequency
FLOWS = [
    ("HubSpot", "Salesforce", "contacts and MQLs", "native", "realtime"),
    ("Salesforce", "HubSpot", "opportunities", "native", "realtime"),
    ("Salesforce", "Segment", "accounts", "api", "daily"),
    ("Segment", "HubSpot", "product events", "api", "hourly"),
    ("Segment", "Amplitude", "product events", "native", "realtime"),
    ("Segment", "Mixpanel", "product events", "native", "realtime"),
    ("Google Analytics 4", "Google Ads", "conversions", "native", "daily"),
    ("Google Ads", "Google Analytics 4", "cost and clicks", "native", "daily"),
    ("LinkedIn Ads", "HubSpot", "lead gen form leads", "native", "hourly"),
    ("Meta Ads", "HubSpot", "lead ads leads", "zapier", "hourly"),
    ("Drift", "HubSpot", "chat leads", "native", "realtime"),
    ("Mailchimp", "Salesforce", "unsubscribes", "file", "weekly"),
    ("Salesforce", "Tableau", "opportunities", "api", "daily"),
    ("HubSpot", "Zapier", "form submissions", "native", "realtime"),
    ("Zapier", "Asana", "content requests", "zapier", "realtime"),
]


def seed_stack(session: Session, today: dt.date | None = None) -> tuple[int, int]:
    """Add the sample stack to an empty registry; returns (tools, integrations) added (0, 0 when the
    registry already has tools: a person's registry is never overwritten)."""
    if session.scalar(select(func.count()).select_from(StackTool)):
        return 0, 0
    today = today or dt.date.today()
    for t in TOOLS:
        spec = dict(t)
        renew = spec.pop("renew", None)
        notes = spec.pop("notes", "")
        create_tool(session, ToolDraft(**spec, contract_notes=notes,
                                       renewal_date=today + dt.timedelta(days=renew) if renew else None), actor=ACTOR)
    for src, dst, obj, method, freq in FLOWS:
        link(session, src, dst, object=obj, method=method, frequency=freq, actor=ACTOR)
    return len(TOOLS), len(FLOWS)


def seed_sample_stack(ws: Any, today: dt.date | None = None) -> tuple[int, int]:
    """:func:`seed_stack` in a workspace's app database (what ``marketops init --sample`` calls)."""
    from marketops.state.db import init_db, session_scope

    url = ws.app_database_url
    init_db(url)
    with session_scope(url) as session:
        return seed_stack(session, today)
