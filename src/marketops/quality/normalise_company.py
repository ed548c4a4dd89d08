"""Company names: a display name and a key that matches the same company however it was typed.

``company(x).value`` is the display name: whitespace tidied and the legal form removed, case kept
as typed (``IBM``, ``eBay``). ``company_key(x)`` is for matching and joining: the display name
casefolded, accents and punctuation removed, ``&`` read as ``and``, a leading ``The`` dropped.
Legal forms are recognised at the end (``Inc``, ``GmbH & Co. KG``, ``S.p.A.``) and, for the
forms written first in Russian and other post-Soviet countries, at the start (``ООО «Ромашка»``).
A name made only of a legal form (``AG``) is kept as it is.

Example:
    >>> company_key("ACME Inc.") == company_key("Acme, Inc") == "acme"
    True
    >>> company("ООО «Ромашка»").value, company("Fiat S.p.A.").value
    ('Ромашка', 'Fiat')
"""

from __future__ import annotations

from dataclasses import dataclass

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    match_key,
    normaliser,
    placeholder_key,
    reject,
)

# Compared after match_key() of each word, so "S.p.A." is "s p a" -> joined "spa".
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "plc", "corp", "corporation", "co",
    "company", "gmbh", "ag", "kg", "kgaa", "ug", "ev", "mbh", "spa", "srl", "srls", "sas", "snc", "sapa",
    "sa", "sl", "slu", "sarl", "sasu", "eurl", "bv", "nv", "vof", "oy", "oyj", "ab", "as", "asa", "aps",
    "kk", "pty", "pte", "bhd", "sdn", "sro", "spzoo", "zoo", "kft", "doo", "ad", "ooo", "oao", "zao",
    "pao", "ao", "ип", "ооо", "оао", "зао", "пао", "ао", "тов", "пп", "ltda", "cia", "sae", "scarl",
    "onlus", "sagl", "gbr", "ohg", "se",
})
# Russian/Ukrainian/Kazakh legal forms come before the name.
LEGAL_PREFIXES = frozenset({"ooo", "oao", "zao", "pao", "ao", "ип", "ооо", "оао", "зао", "пао", "ао", "тов"})
_OPEN_QUOTES = "«\"“„'‘"
_CLOSE_QUOTES = "»\"”“'’"
COMPANY_PLACEHOLDERS = PLACEHOLDERS | {
    "company", "azienda", "empresa", "компания", "self", "self-employed", "self employed",
    "freelance", "freelancer", "private", "individual", "personal", "home", "student", "retired",
}


_PLACEHOLDER_KEYS = frozenset(match_key(p) for p in COMPANY_PLACEHOLDERS)


@dataclass(frozen=True)
class CompanyName(Normalised):
    """A normalised company: ``value`` is the display name, ``key`` the matching key."""

    key: str | None = None


@normaliser(cls=CompanyName)
def company(value: object) -> CompanyName:
    """Normalise a company name into a display name and a matching key.

    >>> r = company("  Acme   Widgets GmbH & Co. KG ")
    >>> r.value, r.key, r.flags
    ('Acme Widgets', 'acme widgets', ('legal_form_removed',))
    >>> company("self-employed").reason
    'not a company name'
    """
    text = clean_text(value).strip(" ,;")
    if placeholder_key(text) in COMPANY_PLACEHOLDERS:
        return reject("not a company name", "placeholder", cls=CompanyName)
    if not any(ch.isalnum() for ch in text):
        return reject("contains no letters or digits", "invalid_company", cls=CompanyName)
    words = text.split(" ")
    stripped = _strip_legal_forms(words)
    display = " ".join(stripped).strip(" ,;-")
    if len(display) > 2 and display[0] in _OPEN_QUOTES and display[-1] in _CLOSE_QUOTES:
        display = display[1:-1].strip()  # ООО «Ромашка», OOO "Romashka"
    if not any(ch.isalnum() for ch in display):
        return reject("contains no letters or digits", "invalid_company", cls=CompanyName)
    key = _key(display)
    if key is None or key in _PLACEHOLDER_KEYS:
        # "Test GmbH", "N/A:": what is left once the legal form and punctuation are gone is a
        # placeholder, and company_key(key) must agree with company_key(raw).
        return reject("not a company name", "placeholder", cls=CompanyName)
    flags = ("legal_form_removed",) if len(stripped) < len(words) else ()
    return CompanyName(display, flags, None, key=key)


def company_key(value: object) -> str | None:
    """The matching key of a company name, or None when it is not a company name.

    >>> company_key("The Procter & Gamble Company"), company_key("Nestlé S.A.")
    ('procter and gamble', 'nestle')
    """
    return company(value).key


def _word_key(word: str) -> str:
    return match_key(word).replace(" ", "")


def _strip_legal_forms(words: list[str]) -> list[str]:
    words = list(words)
    # Strip from the end: legal forms, and connectors/punctuation left dangling ("GmbH & Co. KG").
    while len(words) > 1:
        key = _word_key(words[-1])
        if key == "spa" and words[-1] in {"Spa", "spa"}:
            break  # "Serenity Spa" is a day spa; the Italian form is written SpA / S.p.A.
        if key in LEGAL_SUFFIXES or key == "" or (key in {"and", "und"} and len(words) > 1):
            words.pop()
            words[-1] = words[-1].rstrip(",")
        else:
            break
    while len(words) > 1 and _word_key(words[0]) in LEGAL_PREFIXES:
        words.pop(0)
    return words


def _key(display: str) -> str | None:
    key = match_key(display.replace("&", " and ").replace("+", " and "))
    words = key.split(" ")
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    joined = " ".join(_strip_legal_forms(words))
    return joined or None
