"""The sample company's UTM taxonomy and a few links in its register.

Acme's marketing team tags links by the first spelling of each channel in
:data:`marketops.sample.world.CHANNELS` (``google / cpc``, ``facebook / paid_social``,
``mailchimp / email``...); the other spellings the sample's touchpoints carry (``Google``,
``FB Ads``, ``adwords``, ``e-mail``, ``Paid Social``) are what the taxonomy flags, each with its fix.

Example:
    >>> from marketops.quality.utm_taxonomy import UtmTaxonomy
    >>> from ruamel.yaml import YAML
    >>> tax = UtmTaxonomy.model_validate(YAML(typ="safe").load(utm_yaml())["utm"])
    >>> tax.alias_of("source", "FB Ads"), tax.alias_of("medium", "e-mail")
    ('facebook', 'email')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketops.workspace import Workspace

#: Links Acme's team built with the link builder: (landing page, source, medium, campaign, content, note).
SAMPLE_LINKS = (
    ("https://www.acme-analytics.com/guides/attribution-ebook", "linkedin", "paid_social", "lead_gen_ebook",
     "lead_gen", "LinkedIn lead-gen form, ebook offer"),
    ("https://www.acme-analytics.com/demo", "google", "cpc", "brand_search", "brand_exact", "Brand exact-match ads"),
    ("https://www.acme-analytics.com/pricing", "google", "cpc", "competitor_search", "competitor_names",
     "Competitor keywords"),
    ("https://www.acme-analytics.com/", "facebook", "paid_social", "prospecting_lookalike_1",
     "lal_1_marketing_managers", "Lookalike audience, marketing managers"),
    ("https://www.acme-analytics.com/webinar", "mailchimp", "email", "newsletter_2024_06_a", None,
     "June newsletter, webinar invite"),
    ("https://www.acme-analytics.com/enterprise", "linkedin", "paid_social", "abm_enterprise_emea", "abm",
     "ABM, enterprise accounts in EMEA"),
)


def utm_yaml() -> str:
    """The ``utm:`` section for the sample workspace's marketops.yaml."""
    return """
# UTM taxonomy (docs/utm.md): links built with `marketops utm build` or the /utm page must follow
# it; ingested touchpoints that break it are flagged with a suggested fix (`marketops utm check`).
utm:
  sources:
    - name: google
      aliases: [adwords, google_ads]
    - name: bing
      aliases: [microsoft, microsoft_ads]
    - name: facebook
      aliases: [fb, FB Ads, meta]
    - name: instagram
      aliases: [ig]
    - name: linkedin
      aliases: [lnkd, li]
    - name: mailchimp
      aliases: [newsletter]
  mediums:
    - name: cpc
      aliases: [ppc]
    - name: paid_social
      aliases: [paidsocial, sponsored]
    - name: email
      aliases: [e-mail]
  # lowercase words joined by "_": brand_search, newsletter_2024_05_a
  campaign_pattern: "^[a-z0-9]+(_[a-z0-9]+)*$"
  required: [utm_source, utm_medium, utm_campaign]
  lowercase: true
  separator: "_"
"""


def add_sample_utm_config(config_file: Path) -> bool:
    """Append :func:`utm_yaml` to a workspace's marketops.yaml unless it has a ``utm:`` section."""
    text = config_file.read_text(encoding="utf-8")
    if re.search(r"^utm\s*:", text, re.MULTILINE):
        return False  # the user's own taxonomy wins
    config_file.write_text(text.rstrip("\n") + "\n" + utm_yaml(), encoding="utf-8")
    return True


def seed_sample_utm(ws: Workspace) -> int:
    """The sample's taxonomy in marketops.yaml and its links in the register; returns links added."""
    from marketops.quality.utm_builder import build_link
    from marketops.quality.utm_taxonomy import UtmTaxonomy
    from marketops.settings import load_config
    from marketops.state.db import init_db, session_scope
    from marketops.state.utm_links import register_link

    add_sample_utm_config(ws.root / "marketops.yaml")
    tax: UtmTaxonomy = load_config(ws.root / "marketops.yaml").utm
    init_db(ws.app_database_url)
    added = 0
    with session_scope(ws.app_database_url) as session:
        for url, source, medium, campaign, content, note in SAMPLE_LINKS:
            link = build_link(url, {"source": source, "medium": medium, "campaign": campaign, "content": content},
                              tax)
            _, created = register_link(session, link, actor="sample", notes=note)
            added += created
    return added
