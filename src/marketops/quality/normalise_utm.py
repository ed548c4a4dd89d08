"""UTM values: one spelling per campaign, source, medium, and one name per traffic source.

``utm_value`` decisions (every UTM field goes through it):

* URL escapes are decoded once (``spring%20sale``, ``spring+sale``: values are often copied
  straight from a landing-page URL);
* NFKC, trimmed, **lowercased** (GA4 treats ``Facebook`` and ``facebook`` as two sources; no team
  means that);
* runs of whitespace become **one underscore** (``Spring Sale`` -> ``spring_sale``), the usual UTM
  convention; hyphens and existing underscores are left alone, because teams use both on purpose;
* ``(not set)``, ``none``, ``null``, ``undefined`` and unfilled ad-platform macros
  (``{{campaign.name}}``, ``{campaignid}``) are rejected with a reason.

``utm_source`` then maps aliases to one canonical name with :data:`SOURCE_ALIASES`, after
dropping a URL scheme, path and ``www.``/``m.``/``l.`` prefixes; a host whose brand label is a known
source also maps (``google.co.uk`` -> ``google``). Workspace aliases extend and override the
built-in table; their targets are canonical, so a workspace can rename ``google`` to
``google_ads`` and every built-in alias of Google follows.

Example:
    >>> utm_value("  Spring   Sale 2024 ").value
    'spring_sale_2024'
    >>> [utm_source(x).value for x in ["fb", "FB Ads", "m.facebook.com", "ig", "adwords", "lnkd"]]
    ['facebook', 'facebook', 'facebook', 'instagram', 'google', 'linkedin']
    >>> utm_source("google", aliases={"google": "google_ads"}).value
    'google_ads'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import unquote_plus

from marketops.errors import ConfigError
from marketops.quality.normalise_base import Normalised, clean_text, normaliser, reject

SOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "facebook": ("fb", "facebook", "facebook.com", "fb.com", "fb_ads", "facebook_ads", "facebookads",
                 "meta", "meta_ads", "fb.me", "facebook_ad"),
    "instagram": ("ig", "insta", "instagram", "instagram.com", "instagram_ads", "ig_ads"),
    "google": ("google", "google.com", "google_ads", "googleads", "adwords", "google_adwords", "gads",
               "g_ads", "google_cpc", "googleadservices.com", "googlesyndication.com"),
    "linkedin": ("li", "lnkd", "lnkd.in", "linkedin", "linkedin.com", "linkedin_ads", "linked_in"),
    "bing": ("bing", "bing.com", "bing_ads", "microsoft_ads", "microsoft_advertising", "msads",
             "ms_ads"),
    "twitter": ("tw", "twitter", "twitter.com", "t.co", "x", "x.com", "twitter_ads", "x_ads"),
    "youtube": ("yt", "youtube", "youtube.com", "youtu.be"),
    "tiktok": ("tt", "tiktok", "tiktok.com", "tiktok_ads"),
    "pinterest": ("pin", "pinterest", "pinterest.com", "pinterest_ads"),
    "reddit": ("reddit", "reddit.com", "reddit_ads"),
    "duckduckgo": ("ddg", "duckduckgo", "duckduckgo.com"),
    "yahoo": ("yahoo", "yahoo.com"),
    "yandex": ("yandex", "yandex.ru", "ya.ru", "яндекс"),
    "chatgpt": ("chatgpt", "chatgpt.com", "chat.openai.com", "openai"),
}
EMPTY_UTM = frozenset({"", "(not set)", "(not_set)", "not_set", "(none)", "none", "null", "nil", "undefined",
                       "n/a", "na", "-", "nan", "{}", "[]"})

_SEPARATOR_RE = re.compile(r"[-_|/:·–—]+")
_MACRO_RE = re.compile(r"\{\{?[^{}]*\}\}?|%%[^%]*%%|\$\{[^}]*\}|__[a-z_]+__")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST_RE = re.compile(r"^[\w-]+(\.[\w-]+)+$")
_MOBILE_PREFIXES = ("www.", "m.", "l.", "lm.", "mobile.", "web.", "amp.")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"})


def _utm_text(value: object) -> str:
    text = clean_text(value)
    if "%" in text or "+" in text:
        text = unquote_plus(text)
    text = unicodedata.normalize("NFKC", text).lower()
    words = clean_text(text).split(" ")
    # "Brand - Search" is the ad platform's spelling of utm_campaign=brand_search: a separator
    # standing alone between words is not part of the name
    kept = [w for w in words if not _SEPARATOR_RE.fullmatch(w)]
    return "_".join(kept if kept else words)


@normaliser
def utm_value(value: object) -> Normalised:
    """Normalise any UTM parameter value (campaign, medium, content, term, source).

    >>> utm_value("Black%20Friday+Promo").value
    'black_friday_promo'
    >>> utm_value("Brand - Search | EMEA").value
    'brand_search_emea'
    >>> utm_value("{{campaign.name}}").reason
    'an ad-platform macro that was never filled in'
    >>> utm_value("(not set)").reason
    'empty: no value was tracked'
    """
    text = _utm_text(value)
    if text in EMPTY_UTM:
        return reject("empty: no value was tracked", "placeholder")
    if _MACRO_RE.search(text):
        return reject("an ad-platform macro that was never filled in", "unresolved_macro")
    return Normalised(text)


@functools.lru_cache(maxsize=64)
def _alias_table(workspace: frozenset[tuple[str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, aliases in SOURCE_ALIASES.items():
        for alias in (*aliases, canonical):
            table[_utm_text(alias)] = canonical
    own = {_utm_text(k): _utm_text(v) for k, v in workspace}
    table.update(own)
    for target in own.values():
        if target not in own:
            # A workspace target is canonical even if the built-in table aliases it elsewhere.
            table[target] = target
    resolved: dict[str, str] = {}
    for alias, target in table.items():
        seen, current = [alias], target
        while table.get(current, current) != current:
            if current in seen:
                raise ConfigError(f"source aliases form a loop: {' -> '.join(seen + [current])}",
                                  hint="make every alias point to a name that is not itself an alias")
            seen.append(current)
            current = table[current]
        resolved[alias] = current
    return resolved


def utm_source(value: object, aliases: Mapping[str, str] | None = None) -> Normalised:
    """Normalise a ``utm_source`` (or referrer host) and map it to its canonical source name.

    ``aliases`` (``{"alias": "canonical"}``, from the workspace) extend and override the built-in
    table; a loop among them raises :class:`~marketops.errors.ConfigError` (a configuration
    error, not a data error).

    >>> utm_source("https://www.google.co.uk/search?q=x").value
    'google'
    >>> r = utm_source("Newsletter", aliases={"newsletter": "email"})
    >>> r.value, r.flags
    ('email', ('alias_applied',))
    >>> utm_source("partner_site").value
    'partner_site'
    """
    table = _alias_table(frozenset((str(k), str(v)) for k, v in (aliases or {}).items()))
    return _source(value, table)


@normaliser
def _source(value: object, table: dict[str, str]) -> Normalised:
    base = utm_value(value)
    if base.value is None:
        return base
    text = base.value
    for candidate in _candidates(text):
        canonical = table.get(candidate)
        if canonical is not None:
            return Normalised(canonical, ("alias_applied",) if canonical != text else ())
    return Normalised(text)


def _candidates(text: str) -> list[str]:
    candidates = [text]
    host = _SCHEME_RE.sub("", text)
    host = re.split(r"[/?#]", host, maxsplit=1)[0] if host != text or "/" in host else host
    while host.startswith(_MOBILE_PREFIXES) and host.count(".") > 1:
        host = host.split(".", 1)[1]
    candidates.append(host)
    if _HOST_RE.match(host):
        labels = host.split(".")[:-1]  # drop the top-level domain
        if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
            labels = labels[:-1]  # google.co.uk -> google
        if labels:
            candidates.append(labels[-1])
    return candidates
