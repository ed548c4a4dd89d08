"""Where an untagged visit came from: its referrer, read as GA4 reads it.

A visit without UTM tags is not necessarily direct: GA4 gives it the referring site as its source.
A search engine (Google's list of search sites, :data:`~marketops.quality.source_categories.SEARCH_SITES`)
becomes ``<engine> / organic``; any other site becomes ``<domain> / referral``, and the channel rules
then tell Organic Social (``linkedin / referral``) from plain Referral (``g2.com / referral``). A
visit whose referrer is the site itself (a page of the same host as the landing page) is a
self-referral and stays direct, as in GA4.

Source names go through the same alias table as ``utm_source`` (workspace ``source_aliases``
first), so a referrer ``l.facebook.com`` and a tag ``utm_source=FB Ads`` both say ``facebook``.

Two faces: :func:`host_expression` (Ibis, runs on every engine) takes the host out of each
referrer and landing page, and :func:`referrer_origin` (Python) classifies one distinct host.

Example:
    >>> referrer_origin("google.co.uk"), referrer_origin("l.facebook.com"), referrer_origin("g2.com")
    (('google', 'organic'), ('facebook', 'referral'), ('g2.com', 'referral'))
    >>> referrer_origin("(direct)")
    (None, None)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from marketops.quality.normalise_utm import utm_source
from marketops.quality.source_categories import SEARCH_SITES, site_regex

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["HOST_PATTERN", "host_expression", "referrer_origin", "search_engine"]

HOST_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^/?#@]*@)?([^/?#:@]+)"
"""The host of a URL, with or without scheme; the same in Python, RE2 (DuckDB) and Java (Spark)."""

# Referrers of apps rather than sites (Android sends android-app://<package>/) that are a search
# engine; other app packages are referrals like any site.
APP_SEARCH_ENGINES = {"com.google.android.googlequicksearchbox": "google"}

_HOST_RE = re.compile(r"^[\w-]+(\.[\w-]+)+$")


def host_expression(url: ir.StringValue) -> ir.StringValue:
    """The host of each URL, lowercased and without a leading ``www.``; '' when there is none.

    Example:
        >>> import ibis
        >>> t = ibis.memtable({"url": ["https://www.Google.com/search?q=x", "g2.com/reviews", None]})
        >>> ibis.duckdb.connect().to_pyarrow(t.select(h=host_expression(t.url)))["h"].to_pylist()
        ['google.com', 'g2.com', None]
    """
    return url.re_extract(HOST_PATTERN, 1).lower().re_replace(r"^www\.", "")


@functools.cache
def _site_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((site, re.compile(site_regex([site]))) for site in SEARCH_SITES)


def search_engine(host: str) -> str | None:
    """The search site (as listed in SEARCH_SITES) a host belongs to, or None.

    >>> search_engine("www.google.co.uk"), search_engine("duckduckgo.com"), search_engine("g2.com")
    ('google', 'duckduckgo', None)
    """
    return next((site for site, pattern in _site_patterns() if pattern.search(host)), None)


def referrer_origin(host: str | None, aliases: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """(source, medium) GA4 would give a visit referred by ``host``; (None, None) when it is no host.

    ``host`` is what :func:`host_expression` gives. ``aliases`` are the workspace's source aliases.

    >>> referrer_origin("t.co"), referrer_origin("com.google.android.googlequicksearchbox")
    (('twitter', 'referral'), ('google', 'organic'))
    >>> referrer_origin("google.com", {"google": "google_search"})
    ('google_search', 'organic')
    """
    if not host:
        return None, None
    host = host.lower().strip(".")
    if not _HOST_RE.match(host):
        return None, None
    engine = APP_SEARCH_ENGINES.get(host) or search_engine(host)
    if engine:
        return utm_source(engine, aliases).value, "organic"
    source = utm_source(host, aliases).value
    return (source, "referral") if source else (None, None)
