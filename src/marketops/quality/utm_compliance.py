"""Checking UTM values against the workspace's taxonomy: each problem with the fix to apply.

Values are judged **as they arrived** (``Spring%20Sale``, ``E-mail``, ``FB Ads``), not as the
cleaning step rewrote them: the point is to find the links that need correcting at their source.
Each problem names the parameter, the value, what is wrong in plain words and, when one can be
worked out, the value to use instead: the value decoded, trimmed, lowercased, with spaces turned
into the separator and non-ASCII letters transliterated, then mapped through the taxonomy's
aliases (and the built-in source aliases: ``adwords`` -> ``google``), else the closest allowed value.

:func:`check_utm` checks one set of parameters (a link being built, one touchpoint);
:mod:`marketops.quality.utm_ingestion` runs it over the distinct UTM sets of the touchpoints table.

Example:
    >>> from marketops.quality.utm_taxonomy import UtmTaxonomy
    >>> tax = UtmTaxonomy.model_validate({"sources": ["google", "mailchimp"], "mediums": ["cpc", "email"]})
    >>> [p.message for p in check_utm(tax, {"utm_source": "google", "utm_medium": "emial",
    ...                                     "utm_campaign": "spring_launch"})]
    ["utm_medium 'emial' is not an allowed medium; did you mean 'email'?"]
    >>> p = check_utm(tax, {"utm_source": "Google", "utm_medium": "cpc", "utm_campaign": "Spring%20Launch"})
    >>> [(x.param, x.fix) for x in p]
    [('utm_source', 'google'), ('utm_campaign', 'spring_launch')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote_plus

from marketops.errors import did_you_mean
from marketops.quality.normalise_utm import utm_source, utm_value
from marketops.quality.utm_taxonomy import UTM_PARAMS, UtmTaxonomy

__all__ = ["Problem", "check_utm", "check_value", "fixed_params", "transliterate"]

_ENCODED_RE = re.compile(r"%[0-9A-Fa-f]{2}")
#: Russian (the app's fourth language) and the Latin letters NFKD does not take apart.
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                      "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))
_TRANSLIT.update({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})

REASONS = {
    "missing": "is missing",
    "placeholder": "is a placeholder, not a value",
    "encoded": "is URL-encoded",
    "spaces": "contains spaces",
    "uppercase": "has capital letters",
    "unicode": "has non-ASCII letters",
    "characters": "has characters that are not allowed",
    "not_allowed": "is not an allowed {kind}",
    "pattern": "does not follow the campaign naming pattern",
    "pair": "is not used with utm_source '{source}'",
}


@dataclass
class Problem:
    """What is wrong with one parameter: ``codes`` (see :data:`REASONS`), a sentence, and the fix
    (the value to use instead; None when it cannot be worked out)."""

    param: str
    value: str | None
    codes: list[str] = field(default_factory=list)
    message: str = ""
    fix: str | None = None
    #: True when the fix is a guess among the allowed values (worded "did you mean")
    guessed: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def transliterate(text: str) -> str | None:
    """``text`` in ASCII letters (accents dropped, Russian transliterated), None when a letter has no
    ASCII spelling.

    >>> transliterate("Été promo"), transliterate("Весна"), transliterate("春")
    ('Ete promo', 'Vesna', None)
    """
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if ord(ch) < 128:
            out.append(ch)
        elif unicodedata.combining(ch):
            continue
        elif ch.lower() in _TRANSLIT:
            t = _TRANSLIT[ch.lower()]
            out.append(t.capitalize() if ch.isupper() else t)
        else:
            return None
    return "".join(out)


def _placeholder(value: str) -> str | None:
    # "(not set)", "{{campaign.name}}": the normaliser's reasons, already worded for people
    result = utm_value(value)
    return result.reason if result.value is None and value.strip() else None


def check_value(tax: UtmTaxonomy, param: str, value: str) -> Problem | None:
    """The problem with one non-empty value (character rules, allowed values, campaign pattern),
    or None when it complies.

    >>> from marketops.quality.utm_taxonomy import UtmTaxonomy
    >>> check_value(UtmTaxonomy(), "utm_campaign", "Spring Sale").fix
    'spring_sale'
    >>> check_value(UtmTaxonomy(), "utm_term", "marketing attribution") is None  # free text
    True
    """
    p = Problem(param, value)
    reason = _placeholder(value)
    if reason:
        p.codes.append("placeholder")
        return _worded(tax, p, reason)
    text, fixable = value, True
    if _ENCODED_RE.search(text) or "+" in text:
        p.codes.append("encoded")
        text = unquote_plus(text)
    text = unicodedata.normalize("NFKC", text)
    free = param in tax.free_text
    if not free and re.search(r"\s", text):
        p.codes.append("spaces")
        text = tax.separator.join(text.split())
    elif text != text.strip():
        p.codes.append("spaces")
        text = " ".join(text.split())
    if tax.lowercase and text != text.lower():
        p.codes.append("uppercase")
        text = text.lower()
    if not free:
        allowed = re.compile(f"[{tax.allowed_characters}]")
        if any(ord(c) > 127 and not allowed.fullmatch(c) for c in text):
            p.codes.append("unicode")
            folded = transliterate(text) if tax.unicode == "transliterate" else None
            fixable = folded is not None
            text = folded.lower() if folded is not None and tax.lowercase else (folded or text)
        bad = sorted({c for c in text if not allowed.fullmatch(c)})
        if bad and fixable:
            p.codes.append("characters")
            sep = re.escape(tax.separator)
            text = re.sub(f"[^{tax.allowed_characters}]+", tax.separator, text)
            text = re.sub(f"{sep}{{2,}}", tax.separator, text).strip(tax.separator)
            fixable = bool(text)
    fix: str | None = text if fixable and text.strip() else None  # nothing left ("´") is no fix
    kind = param.removeprefix("utm_")
    if kind in ("source", "medium") and tax.allowed(kind):
        fix, guessed = _allowed_value(tax, kind, value, fix)
        p.guessed = guessed
    if param == "utm_campaign" and tax.campaign_regex is not None and fix is not None \
            and not tax.campaign_regex.fullmatch(fix):
        p.codes.append("pattern")
        fix = None
    if not p.codes and fix == value:
        return None
    if not p.codes and fix is not None and kind not in ("source", "medium"):
        # only Unicode normalisation changed it ("²" -> "2", a full-width letter): still not as typed
        p.codes.append("unicode" if any(ord(c) > 127 for c in value) else "characters")
    p.fix = fix
    return _worded(tax, p)


def _allowed_value(tax: UtmTaxonomy, kind: str, value: str, cleaned: str | None) -> tuple[str | None, bool]:
    allowed = tax.allowed(kind)
    if cleaned in allowed:
        return cleaned, False
    for spelling in (value, cleaned):
        target = tax.alias_of(kind, spelling) if spelling else None
        if target:
            return target, False
    if kind == "source" and cleaned:
        known = utm_source(cleaned).value  # adwords -> google, m.facebook.com -> facebook
        if known in allowed:
            return known, False
    guess = did_you_mean(cleaned or value, allowed)
    return (guess.split("'")[1], True) if guess else (None, False)


def _worded(tax: UtmTaxonomy, p: Problem, reason: str | None = None, source: str | None = None) -> Problem:
    kind = p.param.removeprefix("utm_")
    if kind in ("source", "medium") and tax.allowed(kind):
        if p.fix is not None and p.fix not in tax.allowed(kind):
            p.fix = None  # never suggest a value the taxonomy would refuse
        if not _only_format(p, tax) and "not_allowed" not in p.codes and "pair" not in p.codes:
            p.codes.append("not_allowed")
    codes = p.codes
    words = list(dict.fromkeys(f"is a placeholder ({reason})" if c == "placeholder" and reason
                               else REASONS[c].format(kind=kind, source=source or "") for c in codes))
    words = words or ["is not written as the taxonomy asks"]
    said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    shown = f"{p.param} '{p.value}'" if p.value is not None else p.param
    p.message = f"{shown} {said}; {_tail(tax, p)}"
    return p


def _only_format(p: Problem, tax: UtmTaxonomy) -> bool:
    """True when fixing the spelling alone (case, spaces, encoding) gives an allowed value."""
    kind = p.param.removeprefix("utm_")
    if p.value is None or "placeholder" in p.codes or "pair" in p.codes:
        return True
    text = unquote_plus(p.value) if ("encoded" in p.codes) else p.value
    text = tax.separator.join(unicodedata.normalize("NFKC", text).split())
    text = text.lower() if tax.lowercase else text
    return text in tax.allowed(kind)


def _tail(tax: UtmTaxonomy, p: Problem) -> str:
    kind = p.param.removeprefix("utm_")
    if p.fix is not None:
        return f"did you mean '{p.fix}'?" if p.guessed else f"use '{p.fix}'"
    if "missing" in p.codes:
        return "every tagged link needs " + ", ".join(tax.required)
    if "pattern" in p.codes:
        example = f" (e.g. {tax.campaign_example})" if tax.campaign_example else ""
        return f"name campaigns like '{tax.campaign_pattern}'{example}"
    if "unicode" in p.codes:
        return "write it in ASCII letters"
    if kind in ("source", "medium") and tax.allowed(kind):
        return "allowed: " + ", ".join(tax.allowed(kind))
    return "fix it at the source"


def check_utm(tax: UtmTaxonomy, params: Mapping[str, str | None]) -> list[Problem]:
    """Every problem of one set of UTM parameters (``utm_source``... or ``source``...), in parameter
    order: missing required ones, each value's problems, and a medium not used with its source."""
    values = _given(params)
    problems: dict[str, Problem] = {}
    for param in UTM_PARAMS:
        value = values[param]
        if value is None:
            if param in tax.required:
                problems[param] = _worded(tax, Problem(param, None, ["missing"]))
            continue
        found = check_value(tax, param, value)
        if found:
            problems[param] = found
    if tax.pairs and values["utm_source"] and values["utm_medium"]:
        src = problems["utm_source"].fix if "utm_source" in problems else values["utm_source"]
        med = problems["utm_medium"].fix if "utm_medium" in problems else values["utm_medium"]
        allowed = tax.pairs.get(src or "")
        if allowed and med is not None and med not in allowed:
            p = problems.get("utm_medium") or Problem("utm_medium", values["utm_medium"])
            p.codes = [c for c in p.codes if c != "not_allowed"] + ["pair"]
            p.fix, p.guessed = (allowed[0], False) if len(allowed) == 1 else (None, False)
            p.message = ""
            _worded(tax, p, source=src)
            if p.fix is None:
                p.message = p.message.rsplit("; ", 1)[0] + "; use one of " + ", ".join(allowed)
            problems["utm_medium"] = p
    return [problems[p] for p in UTM_PARAMS if p in problems]


def fixed_params(params: Mapping[str, str | None], problems: list[Problem]) -> dict[str, str]:
    """``params`` with every fixable problem's fix applied (the ``--fix`` of the link builder)."""
    out = {p: v for p, v in _given(params).items() if v is not None}
    for pr in problems:
        if pr.fix is not None:
            out[pr.param] = pr.fix
    return out


def _given(params: Mapping[str, str | None]) -> dict[str, str | None]:
    # every parameter by its full name (``source`` or ``utm_source``), None when absent or blank
    values = {}
    for p in UTM_PARAMS:
        v = params.get(p, params.get(p.removeprefix("utm_")))
        values[p] = str(v) if v is not None and str(v).strip() else None
    return values
