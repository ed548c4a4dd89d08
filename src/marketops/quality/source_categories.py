"""GA4's source categories and medium patterns, as data.

GA4's default channel group classifies a source by looking it up in Google's published lists of
search, social, shopping and video sites (the downloadable "source categories" table linked from
https://support.google.com/analytics/answer/9756891). The lists below are a documented subset of that
table: the sites marketing teams meet in practice. A site is written as a bare name (``facebook``)
or a host (``lnkd.in``); :func:`site_regex` turns a list into one pattern that also accepts
subdomains and country domains (``m.facebook.com``, ``google.co.uk``), so the list stays short.
Add what you miss with workspace rules (``channels:`` in ``marketops.yaml``) rather than here.

The medium patterns are GA4's own, copied from the channel definitions on the same page.

Example:
    >>> import re
    >>> bool(re.search(SOCIAL_SOURCE, "m.facebook.com")), bool(re.search(SEARCH_SOURCE, "google.co.uk"))
    (True, True)
    >>> bool(re.search(PAID_MEDIUM, "cpc")), bool(re.search(PAID_MEDIUM, "organic"))
    (True, False)
"""

from __future__ import annotations

import re

SEARCH_SITES: tuple[str, ...] = (
    "google", "bing", "yahoo", "baidu", "duckduckgo", "yandex", "ecosia", "naver", "daum", "seznam",
    "sogou", "so.com", "qwant", "startpage", "search.brave.com", "msn", "aol", "ask.com", "avg",
    "onet", "najdi", "rambler", "coccoc", "lycos", "dogpile",
)
"""Search engines (GA4 category SOURCE_CATEGORY_SEARCH, subset)."""

SOCIAL_SITES: tuple[str, ...] = (
    "facebook", "fb", "instagram", "ig", "linkedin", "lnkd.in", "twitter", "t.co", "x.com", "reddit",
    "pinterest", "tiktok", "snapchat", "threads.net", "quora", "tumblr", "vk", "ok.ru", "weibo",
    "whatsapp", "messenger", "telegram", "discord", "wechat", "mastodon", "bsky.app", "meetup",
    "medium.com", "producthunt", "news.ycombinator.com", "stackoverflow", "yammer", "xing",
    "qzone", "douban", "flickr", "foursquare",
)
"""Social networks (GA4 category SOURCE_CATEGORY_SOCIAL, subset). YouTube is a video site, as in GA4."""

SHOPPING_SITES: tuple[str, ...] = (
    "amazon", "ebay", "shopping", "google shopping", "igshopping", "shopify", "etsy", "walmart",
    "alibaba", "aliexpress", "mercadolibre", "mercadolivre", "rakuten", "shopzilla", "stripe",
    "checkout.shopify.com", "shop.app",
)
"""Shopping sites (GA4 category SOURCE_CATEGORY_SHOPPING, subset)."""

VIDEO_SITES: tuple[str, ...] = (
    "youtube", "youtu.be", "vimeo", "twitch", "dailymotion", "wistia", "ted.com", "veoh", "bilibili",
    "iqiyi", "youku",
)
"""Video sites (GA4 category SOURCE_CATEGORY_VIDEO, subset)."""

PAID_MEDIUM = r"^(.*cp.*|ppc|retargeting|paid.*)$"
"""GA4: a medium that marks paid traffic (cpc, cpm, cpv, ppc, paid_social, retargeting...)."""

DISPLAY_MEDIUM = r"^(display|banner|expandable|interstitial|cpm)$"
"""GA4's Display mediums."""

SOCIAL_MEDIUM = r"^(social|social-network|social-media|sm|social network|social media)$"
"""GA4's Organic Social mediums."""

VIDEO_MEDIUM = r"^(.*video.*)$"
"""GA4's Organic Video medium pattern."""

SHOPPING_CAMPAIGN = r"^(.*(([^a-df-z]|^)shop|shopping).*)$"
"""GA4: a campaign name about shopping ('shop', 'shopping', 'black-friday-shop'; not 'workshop')."""

EMAIL_VALUE = r"^(email|e-mail|e_mail|e mail)$"
"""GA4's Email source or medium."""

REFERRAL_MEDIUM = r"^(referral|app|link)$"
"""GA4's Referral mediums."""

# Characters a site entry may hold: they need no escaping in any regex dialect except the dot.
_SITE = re.compile(r"^[a-z0-9][a-z0-9. -]*$")


def site_regex(sites: tuple[str, ...] | list[str]) -> str:
    """One anchored regex matching a source that is one of ``sites``, a subdomain or a country domain of one.

    The pattern uses only syntax that Python, RE2 (DuckDB) and Java (Spark) read the same way.

    Example:
        >>> import re
        >>> p = site_regex(["facebook", "t.co"])
        >>> [bool(re.search(p, s)) for s in ("facebook", "l.facebook.com", "t.co", "tacos", "notfacebook")]
        [True, True, True, False, False]
    """
    for s in sites:
        if not _SITE.match(s):
            raise ValueError(f"site '{s}' may hold only lowercase letters, digits, dots, dashes and spaces")
    names = "|".join(s.replace(".", r"\.") for s in sites)
    # optional subdomains (m., l., www., search.), the name, then up to two domain labels (.com, .co.uk)
    return rf"^([a-z0-9-]+\.)*({names})(\.[a-z]{{2,3}}){{0,2}}$"


SEARCH_SOURCE = site_regex(SEARCH_SITES)
SOCIAL_SOURCE = site_regex(SOCIAL_SITES)
SHOPPING_SOURCE = site_regex(SHOPPING_SITES)
VIDEO_SOURCE = site_regex(VIDEO_SITES)
