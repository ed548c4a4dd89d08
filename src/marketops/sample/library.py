"""The sample company's library: seven playbooks and process documents of "Acme Analytics (sample)"
written to the workspace's playbooks folder, and a dozen digital assets (one expired, some
expiring) in the app database. Dates count from ``today`` so the demo always shows warnings.

Example:
    >>> len(PLAYBOOKS), len(asset_rows(__import__("datetime").date(2026, 6, 1)))
    (7, 12)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

PLAYBOOKS: dict[str, str] = {
    "lead-handoff-process": """---
title: Lead handoff process
owner: fran.ops@acme-analytics.test
tags: [sales, leads, sla]
---
# Lead handoff process

How a marketing qualified lead (MQL) becomes a sales conversation at Acme Analytics.

## When is a lead an MQL?
A contact becomes an MQL when their **lead score reaches 60** (see the scoring model in `marketops.yaml`)
*and* they work at a company with 20+ employees. Students, competitors and personal email domains never qualify.

## Who gets it
Routing assigns the MQL by region: EMEA to the Berlin team, North America to Austin, the rest round-robin.

## The service level
- Sales **calls or emails within 1 business hour** of the MQL (speed to lead).
- The rep sets the lead status to *Working* in the CRM on first touch.
- After 5 touches in 10 business days without an answer, the rep recycles the lead to nurture with a reason.

## When sales rejects a lead
Pick a rejection reason (*not ICP*, *no budget*, *duplicate*, *bad data*). Marketing reviews the reasons
every Monday; more than 20 % *not ICP* in a week means the scoring needs a look.
""",
    "utm-conventions": """---
title: UTM conventions
owner: fran.ops@acme-analytics.test
tags: [utm, tracking, paid]
---
# UTM conventions

Every link we pay for or send carries UTMs, **all lower case**, words joined by hyphens.

| Parameter | Values | Example |
|---|---|---|
| utm_source | google, linkedin, meta, newsletter, partner name | `linkedin` |
| utm_medium | cpc, paid-social, email, referral, display | `paid-social` |
| utm_campaign | `yyyy-mm-topic-region` | `2026-03-pipeline-webinar-emea` |
| utm_content | the creative or link position | `carousel-v2` |

Build links with `marketops utm build` so they pass the taxonomy check. Never tag internal links
(site navigation) with UTMs: it breaks the session's original source.
""",
    "webinar-playbook": """---
title: Webinar playbook
owner: lena.events@acme-analytics.test
tags: [events, webinars, demand-gen]
---
# Webinar playbook

## Six weeks before
- Pick the topic with product marketing; one customer speaker if we can.
- Create the registration page and the campaign in the CRM.

## Four weeks before
- Promote: two newsletter mentions, LinkedIn paid social, partner co-promotion.
- UTMs per channel (see [UTM conventions](utm-conventions.md)).

## The day
Dry run one hour before. Polls at minutes 10 and 35. Record it.

## After
Recording to all registrants within 24 hours. Attendees who asked a question go to sales as MQLs
the same day (see the [lead handoff process](lead-handoff-process.md)).
""",
    "paid-social-launch-checklist": """---
title: Paid social launch checklist
owner: marco.paid@acme-analytics.test
tags: [paid, social, checklist]
---
# Paid social launch checklist

1. Budget line exists for the month and channel (Budgets page).
2. Audiences: exclusion of customers and open opportunities uploaded.
3. Creative: 1:1 and 4:5 sizes, captions, alt text; asset rights checked in the **asset register**
   (no expired stock photos!).
4. Every ad's URL has UTMs that pass `marketops utm check`.
5. Conversion tracking fires on the thank-you page (test with a real form fill).
6. Launch on a Tuesday or Wednesday morning; check delivery after two hours.
7. After 7 days: cost per lead against the plan; pause ads above 2x the target CPL.
""",
    "how-we-report-pipeline": """---
title: How we report pipeline
owner: fran.ops@acme-analytics.test
tags: [reporting, pipeline, attribution]
---
# How we report pipeline

**Sourced pipeline** is the amount of open and won opportunities whose first touch was marketing.
**Influenced pipeline** counts opportunities with any marketing touch before the opportunity was created.

## The monthly numbers
- New pipeline created (sourced and influenced), by channel, from the Channels page.
- MQL to SQL conversion and speed to lead, from the Leads pages.
- Attribution: we show *position-based* by default and compare with *data-driven* once a quarter.

## Rules
Numbers come from the last good run of marketops: never from a spreadsheet copy. When someone asks
"where does this number come from?", link the page, not a screenshot.
""",
    "brand-guidelines": """---
title: Brand guidelines
owner: bea.brand@acme-analytics.test
tags: [brand, design]
---
# Brand guidelines

## Logo
Use the files in the asset register (type *logo*). Keep clear space equal to the height of the "A".
Never recolour, stretch or put the logo on a busy photo.

## Colours
Primary: Acme teal `#007A69`. Accent: signal orange `#F26B3A`. Text: ink `#1F2A37`.

## Voice
Plain words, short sentences, numbers over adjectives. We say *marketing ops teams*, not *users*.

## Photos
Only photos with valid usage rights in the asset register. Expired rights mean the photo comes down
everywhere (site, ads, decks) the same week.
""",
    "processo-di-approvazione-campagne": """---
title: Processo di approvazione delle campagne (Italia)
owner: giulia.it@acme-analytics.test
tags: [italia, campaigns, approval]
---
# Processo di approvazione delle campagne

Ogni campagna per il mercato italiano passa tre controlli prima del lancio:

1. **Brief** approvato dal responsabile marketing Italia.
2. **Privacy**: consenso e informativa verificati per ogni modulo (GDPR).
3. **Qualità**: UTM corretti e landing page tradotta, non solo la pubblicità.

Perché? Perché una campagna lanciata senza consenso valido non può generare lead utilizzabili.
""",
}

#: name, type, location, tags, owner, usage rights, days until the rights end (None: no end), notes
ASSETS: list[tuple[str, str, str, list[str], str, str, int | None, str]] = [
    ("Acme Analytics logo (full colour)", "logo", "brand/logo/acme-analytics-color.svg", ["brand"],
     "bea.brand@acme-analytics.test", "Owned by Acme Analytics; any use.", None, ""),
    ("Acme Analytics logo (white)", "logo", "brand/logo/acme-analytics-white.svg", ["brand"],
     "bea.brand@acme-analytics.test", "Owned by Acme Analytics; any use.", None, "For dark backgrounds."),
    ("Hero photo: team at dashboard", "image", "https://stock.example.test/photos/884213", ["web", "paid"],
     "marco.paid@acme-analytics.test", "Stock licence: web and social ads, no print, max 500k impressions.", -12,
     "Still used on the pricing page: replace."),
    ("Customer photo: Nordlicht GmbH", "image", "brand/customers/nordlicht.jpg", ["customers", "web"],
     "lena.events@acme-analytics.test", "Customer release for the case study and the website only.", 9, ""),
    ("Webinar recording: Pipeline in 30 minutes", "video", "https://video.example.test/acme/pipeline-30",
     ["webinars", "demand-gen"], "lena.events@acme-analytics.test",
     "Speaker consent for 12 months on our site and YouTube.", 21, ""),
    ("Product demo video 2026", "video", "brand/video/demo-2026.mp4", ["product", "sales"],
     "marco.paid@acme-analytics.test", "Produced in-house; music licensed for 2 years.", 240, ""),
    ("Icon set (Phosphor)", "image", "https://phosphoricons.example.test", ["design"],
     "bea.brand@acme-analytics.test", "MIT licence.", None, ""),
    ("Analyst report excerpt", "document", "sales/analyst-report-excerpt.pdf", ["sales", "reports"],
     "fran.ops@acme-analytics.test", "Reprint rights for gated download; no edits.", 27, ""),
    ("Sales deck template", "presentation", "sales/acme-sales-deck.pptx", ["sales", "brand"],
     "bea.brand@acme-analytics.test", "Internal and customer meetings.", None, ""),
    ("Brand font: Inter", "font", "brand/fonts/inter", ["brand", "design"], "bea.brand@acme-analytics.test",
     "SIL Open Font Licence.", None, ""),
    ("Podcast intro music", "audio", "brand/audio/intro.wav", ["podcast"], "lena.events@acme-analytics.test",
     "Royalty-free licence, renews yearly.", 75, ""),
    ("LinkedIn carousel: 5 funnel leaks", "image", "paid/linkedin/carousel-funnel-leaks.pdf", ["paid", "social"],
     "marco.paid@acme-analytics.test", "Own creative; stock image inside licensed for social only.", 45, ""),
]


def asset_rows(today: dt.date) -> list[dict[str, Any]]:
    """The sample assets as fields for :func:`marketops.library.assets.create_asset`."""
    return [{"name": n, "type": t, "location": loc, "tags": tags, "owner": owner, "usage_rights": rights,
             "expires_on": None if days is None else today + dt.timedelta(days=days), "notes": notes}
            for n, t, loc, tags, owner, rights, days, notes in ASSETS]


def seed_sample_library(ws: Any, *, today: dt.date | None = None) -> dict[str, int]:
    """Write the sample playbooks (files already there are kept) and add the sample assets (only
    when the register is empty); returns how many of each were added."""
    from sqlalchemy import func, select

    from marketops.library.assets import create_asset
    from marketops.state.db import init_db, session_scope
    from marketops.state.library import Asset

    today = today or dt.date.today()
    folder = Path(ws.root) / ws.config.library.playbooks_dir
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for slug, text in PLAYBOOKS.items():
        path = folder / f"{slug}.md"
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            written += 1
    url = ws.app_database_url
    init_db(url)
    added = 0
    with session_scope(url) as session:
        if not session.scalar(select(func.count()).select_from(Asset)):
            for row in asset_rows(today):
                create_asset(session, **row, actor="sample", types=ws.config.library.asset_types)
                added += 1
    return {"playbooks": written, "assets": added}


__all__ = ["ASSETS", "PLAYBOOKS", "asset_rows", "seed_sample_library"]
