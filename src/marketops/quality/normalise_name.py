"""People's names in any script: whitespace and case, and splitting a full name in two.

Casing rules, applied word by word (works for Latin, Cyrillic, Greek and any cased script; scripts
without case, such as CJK or Arabic, pass through untouched):

* a word typed all in upper or all in lower case is re-cased: ``JOHN`` -> ``John``;
* a word that already mixes cases and starts upper (``DeShawn``, ``McKenzie``) is kept as typed;
* hyphenated parts are cased separately (``Jean-Luc``), one-letter apostrophe prefixes too
  (``o'neil`` -> ``O'Neil``, ``d'angelo`` -> ``D'Angelo``), and ``Mc`` prefixes (``McDonald``);
* particles (``van``, ``der``, ``de``, ``di``, ``von``, ``da``, ``del``, ``della``...) are lower
  case inside a name; a leading particle keeps the case it was typed in (``Van Morrison``).

Example:
    >>> person_name("  JOHN   smith ").value
    'John Smith'
    >>> person_name("ИВАН петров").value
    'Иван Петров'
    >>> split_full_name("Smith, John")
    FullName(first='John', last='Smith')
"""

from __future__ import annotations

import re
from typing import NamedTuple

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    normaliser,
    placeholder_key,
    reject,
)

PARTICLES = frozenset({
    "van", "der", "den", "de", "del", "della", "delle", "dei", "degli", "di", "da", "dos", "das",
    "du", "des", "la", "le", "lo", "von", "zu", "ten", "ter", "af", "av", "bin", "ibn",
})
# Short real names ("Na", "No", "Ng") stay legal, so only these are placeholders for names.
NAME_PLACEHOLDERS = (PLACEHOLDERS - {"no", "abc", "x"}) | {
    "first name", "last name", "firstname", "lastname", "name", "nome", "cognome", "nombre",
    "apellido", "имя", "фамилия", "customer", "cliente", "user", "anonymous", "anon", "unnamed",
}
HONORIFICS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "sig", "sigra", "dott", "dottssa",
    "ing", "avv", "sra", "srta", "herr", "frau", "mme", "mlle",
})
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq"})

_APOSTROPHES = "'’"
_WORD_SPLIT_RE = re.compile(r"([-'’])")


@normaliser
def person_name(value: object) -> Normalised:
    """Normalise a first, last or full name (see the module docstring for the rules).

    >>> person_name("o'neil").value, person_name("MCDONALD").value
    ("O'Neil", 'McDonald')
    >>> person_name("JAN VAN DER BERG").value, person_name("van der Berg").value
    ('Jan van der Berg', 'van der Berg')
    >>> person_name("n/a").reason
    'a placeholder, not a name'
    """
    text = clean_text(value).strip(" ,;")
    if placeholder_key(text) in NAME_PLACEHOLDERS:
        return reject("a placeholder, not a name", "placeholder")
    if "@" in text:
        return reject("looks like an email address, not a name", "invalid_name")
    if not any(ch.isalpha() for ch in text):
        return reject("contains no letters", "invalid_name")
    flags = ("contains_digits",) if any(ch.isdigit() for ch in text) else ()
    words = text.split(" ")
    cased = [_case_word(word, first=i == 0, last=i == len(words) - 1) for i, word in enumerate(words)]
    return Normalised(" ".join(cased), flags)


def _case_word(word: str, *, first: bool, last: bool) -> str:
    lower = word.lower()
    if lower in PARTICLES and not last:
        # Inside a name a particle is lower case; at the start keep what the person typed
        # ("van der Berg" as a surname, "Van Morrison" as a stage name), but fix SHOUTING.
        if not first or word == lower or word == word.upper():
            return lower if not first or word == lower else lower.capitalize()
        return word
    if _is_deliberate_mixed_case(word):
        return word
    parts = _WORD_SPLIT_RE.split(lower)
    out: list[str] = []
    for i, part in enumerate(parts):
        previous = parts[i - 1] if i else ""
        if previous and previous in _APOSTROPHES and len(parts[i - 2]) > 1:
            out.append(part)  # "Ma'ayan", "Rock'n": the letter after an apostrophe stays lower
        else:
            out.append(_capitalise(part))
    return "".join(out)


def _is_deliberate_mixed_case(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    has_upper = any(ch.isupper() for ch in letters)
    has_lower = any(ch.islower() for ch in letters)
    return bool(letters) and has_upper and has_lower and letters[0].isupper()


def _capitalise(part: str) -> str:
    if len(part) > 2 and part.startswith("mc"):
        return "Mc" + part[2:].capitalize()
    return part.capitalize()


class FullName(NamedTuple):
    """A full name split in two; either half may be None."""

    first: str | None
    last: str | None


def split_full_name(value: object) -> FullName:
    """Split ``"Smith, John"`` or ``"John Smith"`` into (first, last), both normalised.

    The last name is the final word plus any particles before it (``Jan van der Berg`` ->
    ``van der Berg``); honorifics (``Mr``, ``Dott.``) are dropped and generational suffixes
    (``Jr``) stay with the last name. Without a comma, the order is assumed to be given name
    first: for surname-first cultures pass the parts separately when the source has them.

    >>> split_full_name("John Smith")
    FullName(first='John', last='Smith')
    >>> split_full_name("dr. JAN VAN DER BERG jr")
    FullName(first='Jan', last='van der Berg Jr')
    >>> split_full_name("Madonna"), split_full_name("")
    (FullName(first='Madonna', last=None), FullName(first=None, last=None))
    """
    whole = person_name(value)
    if whole.value is None:
        return FullName(None, None)
    text = whole.value
    if "," in text:
        last_part, _, first_part = text.partition(",")
        first, last = person_name(first_part).value, person_name(last_part).value
        return FullName(first, last) if first or last else FullName(None, None)
    words = text.split(" ")
    while len(words) > 1 and words[0].lower().rstrip(".") in HONORIFICS:
        words = words[1:]
    suffix: list[str] = []
    while len(words) > 2 and words[-1].lower().rstrip(".") in SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) == 1:
        return FullName(person_name(words[0]).value, person_name(" ".join(suffix)).value if suffix else None)
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in PARTICLES:
        start -= 1
    first = " ".join(words[:start])
    last = " ".join(words[start:] + suffix)
    return FullName(person_name(first).value, person_name(last).value)
