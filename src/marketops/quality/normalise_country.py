"""Countries to ISO 3166-1 alpha-2 codes, from codes or names in many languages.

Lookup order (first hit wins, so a code never loses to a translated name):

1. alpha-2 / alpha-3 / numeric codes (``it``, ``ITA``, ``380``);
2. the English names pycountry knows (``Italy``, ``Italian Republic``);
3. :data:`COUNTRY_ALIASES`: everyday names pycountry lacks (``USA``, ``UK``, ``Россия``, ``Stati Uniti``);
4. pycountry's own translations (the iso-codes project) in :data:`TRANSLATION_LANGUAGES`
   (``Deutschland``, ``Alemania``, ``Италия``...).

Names are compared loosely: case, accents, punctuation and spacing are ignored (``U.S.A.``,
``españa``). No network, no fuzzy guessing: an unknown name is rejected with a reason, so a typo
shows up in the quality report instead of being silently mapped to the wrong country.

Example:
    >>> [country(x).value for x in ["Italia", "Italie", "Deutschland", "Alemania", "Россия"]]
    ['IT', 'IT', 'DE', 'DE', 'RU']
    >>> [country(x).value for x in ["España", "Stati Uniti", "USA", "UK", "United Kingdom", "gbr"]]
    ['ES', 'US', 'US', 'GB', 'GB', 'GB']
"""

from __future__ import annotations

import functools
import gettext

import pycountry

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    match_key,
    normaliser,
    placeholder_key,
    reject,
)

TRANSLATION_LANGUAGES = (
    "it", "es", "fr", "de", "pt", "pt_BR", "nl", "ru", "uk", "pl", "sv", "da", "nb_NO", "fi", "cs",
    "ro", "hu", "el", "tr", "ca", "bg", "sr", "hr", "ja", "zh_CN", "ko", "ar", "he",
)

# Everyday names, abbreviations and historic names that neither pycountry's English names nor
# its translations cover. Keys are compared with match_key().
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u s a": "US", "us": "US", "u s": "US", "america": "US", "united states": "US",
    "united states of america": "US", "stati uniti": "US", "stati uniti d america": "US",
    "estados unidos": "US", "ee uu": "US", "eeuu": "US", "etats unis": "US", "vereinigte staaten": "US",
    "сша": "US", "соединенные штаты": "US", "соединенные штаты америки": "US",
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "regno unito": "GB", "gran bretagna": "GB",
    "inghilterra": "GB", "reino unido": "GB", "royaume uni": "GB", "grossbritannien": "GB",
    "великобритания": "GB", "англия": "GB",
    "russia": "RU", "россия": "RU", "рф": "RU", "российская федерация": "RU", "russland": "RU",
    "rusia": "RU", "russie": "RU",
    "italia": "IT", "italie": "IT", "италия": "IT", "deutschland": "DE", "alemania": "DE",
    "germania": "DE", "allemagne": "DE", "германия": "DE", "espana": "ES", "spagna": "ES",
    "espagne": "ES", "spanien": "ES", "испания": "ES", "francia": "FR", "frankreich": "FR",
    "франция": "FR", "svizzera": "CH", "suiza": "CH", "schweiz": "CH", "suisse": "CH",
    "holland": "NL", "the netherlands": "NL", "paesi bassi": "NL", "olanda": "NL", "paises bajos": "NL",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "czech republic": "CZ", "czechia": "CZ", "turkey": "TR", "turkiye": "TR", "vietnam": "VN",
    "iran": "IR", "syria": "SY", "laos": "LA", "moldova": "MD", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "taiwan": "TW", "ivory coast": "CI", "cote d ivoire": "CI", "uae": "AE",
    "u a e": "AE", "emirates": "AE", "ksa": "SA", "saudi": "SA", "vatican": "VA", "macedonia": "MK",
    "palestine": "PS", "burma": "MM", "cape verde": "CV", "swaziland": "SZ", "brasil": "BR",
    "messico": "MX", "méxico": "MX", "mexique": "MX", "cina": "CN", "китай": "CN", "украина": "UA",
    "беларусь": "BY", "белоруссия": "BY", "казахстан": "KZ", "kosovo": "XK",
}
# Kosovo uses the user-assigned XK, which ISO has not listed but every ad platform and CRM does.
_EXTRA_CODES = {"XK": "Kosovo"}
COUNTRY_PLACEHOLDERS = PLACEHOLDERS | {"other", "altro", "otro", "international", "worldwide", "global", "eu"}


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    index: dict[str, str] = {}

    def add(name: str | None, code: str) -> None:
        if name:
            index.setdefault(match_key(name), code)

    countries = list(pycountry.countries)
    for c in countries:
        add(c.alpha_2, c.alpha_2)
    for c in countries:
        add(c.alpha_3, c.alpha_2)
        add(getattr(c, "numeric", None), c.alpha_2)
    for code in _EXTRA_CODES:
        add(code, code)
    for c in countries:
        for attr in ("name", "official_name", "common_name"):
            add(getattr(c, attr, None), c.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        add(alias, code)
    for language in TRANSLATION_LANGUAGES:
        try:
            translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            continue  # a pycountry build without this language: the others still work
        for c in countries:
            for attr in ("name", "official_name", "common_name"):
                english = getattr(c, attr, None)
                if english:
                    add(translation.gettext(english), c.alpha_2)
    return index


@normaliser
def country(value: object) -> Normalised:
    """Normalise a country code or name (many languages) to its ISO 3166-1 alpha-2 code.

    >>> country("ita").value, country(" u.s.a. ").value, country("Italien").value
    ('IT', 'US', 'IT')
    >>> country("Atlantis").reason
    "unknown country: 'Atlantis'"
    """
    text = clean_text(value)
    if placeholder_key(text) in COUNTRY_PLACEHOLDERS:
        return reject("a placeholder, not a country", "placeholder")
    key = match_key(text)
    if key.isdigit():
        key = key.zfill(3)  # numeric codes lose their leading zeros in spreadsheets ("40" = Austria)
    code = _index().get(key)
    if code is None:
        return reject(f"unknown country: {text[:60]!r}", "unknown_country")
    return Normalised(code)
