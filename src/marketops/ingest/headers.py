"""Header recognition: which canonical column each header of a file is, and which entity a file is.

Headers are compared after :func:`normalise_header`, so a synonym written once matches
"First Name", "first_name", "FIRST-NAME" and "firstName". Matching goes from the surest to the
least sure evidence: the user's overrides, exact synonyms, the same words run together
("lastname"), the header without a bracketed note ("Amount spent (EUR)"), then fuzzy matches
for typos ("Emial Adress"). Each canonical column takes one header: the first, surest one.

Example:
    >>> from marketops.schema import entity
    >>> m = match_headers(["E-mail", "First Name", "Favourite colour"], entity("people"))
    >>> m.columns
    {'E-mail': 'email', 'First Name': 'first_name', 'Favourite colour': None}
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from marketops.errors import unknown_name
from marketops.schema import ENTITIES
from marketops.schema.base import Entity

#: A fuzzy match needs at least this similarity (difflib ratio): "emial adress" ~ "email address".
FUZZY_CUTOFF = 0.88
#: Confidence of each kind of match.
CONFIDENCE = {"override": 1.0, "exact": 1.0, "compact": 0.97, "bracket": 0.95}
_BRACKETS = re.compile(r"[(\[{].*?[)\]}]")
_NOT_WORD = re.compile(r"[\W_]+")


def _split_camel(text: str) -> str:
    # "firstName" -> "first Name", "HTMLPage" -> "HTML Page": case changes are word breaks.
    out: list[str] = []
    for i, ch in enumerate(text):
        if i and ch.isupper():
            prev, nxt = text[i - 1], text[i + 1] if i + 1 < len(text) else ""
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                out.append(" ")
        out.append(ch)
    return "".join(out)


def _strip_latin_accents(text: str) -> str:
    # Accents go on Latin letters only ("Città" -> "citta"); Cyrillic keeps й and ё, which
    # are letters of their own there.
    out: list[str] = []
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        if len(decomposed) > 1 and unicodedata.name(decomposed[0], "").startswith("LATIN"):
            out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


def _normalise_once(header: str) -> str:
    text = unicodedata.normalize("NFKC", header)
    text = _split_camel(text).casefold()
    text = unicodedata.normalize("NFC", _strip_latin_accents(text))
    return " ".join(_NOT_WORD.sub(" ", text).split())


@lru_cache(maxsize=4096)
def normalise_header(header: str) -> str:
    """A header reduced to lower-case words separated by single spaces.

    Case, accents on Latin letters, camelCase, underscores, dashes, dots, slashes and brackets
    do not matter; Cyrillic letters are kept. "E-mail" becomes "e mail" (synonyms are
    normalised the same way, so either spelling may be listed).

    Example:
        >>> [normalise_header(h) for h in ["First Name", "first_name", "FIRST-NAME", "firstName"]]
        ['first name', 'first name', 'first name', 'first name']
        >>> normalise_header("Città / État"), normalise_header("Имя  контакта")
        ('citta etat', 'имя контакта')
    """
    # Repeat to a fixed point: a few Unicode characters change again once case-folded.
    text = _normalise_once(header)
    for _ in range(3):
        again = _normalise_once(text)
        if again == text:
            break
        text = again
    return text


def _compact(normalised: str) -> str:
    return normalised.replace(" ", "")


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's headers map onto one entity.

    ``columns`` maps each header to its canonical column, or None when it is kept as a custom
    property; ``confidence`` is 1 for an exact synonym and lower for fuzzy matches;
    ``duplicates`` lists (header, canonical) pairs that lost to an earlier header mapped to the
    same column; ``score`` (0..1) is how well the file fits the entity.
    """

    entity: str
    columns: dict[str, str | None]
    confidence: dict[str, float]
    duplicates: list[tuple[str, str]]
    score: float
    missing_required: list[str]


@lru_cache(maxsize=64)
def _synonym_index(entity: Entity) -> dict[str, str]:
    """Normalised spelling -> canonical column; the first column listing a spelling keeps it."""
    index: dict[str, str] = {}
    for column in entity.columns:
        for spelling in (column.name, *column.synonyms):
            index.setdefault(normalise_header(spelling), column.name)
    return index


@lru_cache(maxsize=1)
def _spread() -> dict[str, int]:
    """Normalised spelling -> how many registered entities know it: rare spellings say more."""
    counts: dict[str, int] = {}
    for e in ENTITIES.values():
        for key in _synonym_index(e):
            counts[key] = counts.get(key, 0) + 1
    return counts


def _find(norm: str, index: dict[str, str], compact: dict[str, str]) -> tuple[str, str, float] | None:
    """(column, matched spelling, confidence) for one normalised header, best evidence first."""
    if norm in index:
        return index[norm], norm, CONFIDENCE["exact"]
    if _compact(norm) in compact:
        key = compact[_compact(norm)]
        return index[key], key, CONFIDENCE["compact"]
    return None


def _lookup(header: str, index: dict[str, str], compact: dict[str, str]) -> tuple[str, str, float] | None:
    norm = normalise_header(header)
    found = _find(norm, index, compact)
    if found:
        return found
    # "Amount spent (EUR)", "Start Date (in UTC)": the note in brackets is not the name.
    bare = normalise_header(_BRACKETS.sub(" ", header))
    if bare and bare != norm:
        found = _find(bare, index, compact)
        if found:
            return found[0], found[1], min(found[2], CONFIDENCE["bracket"])
    if len(_compact(norm)) < 4:  # "ip" is not "id": short headers only match exactly
        return None
    best: tuple[str, str, float] | None = None
    for key, column in index.items():
        ratio = difflib.SequenceMatcher(None, norm, key).ratio()
        if ratio >= FUZZY_CUTOFF - 1e-9 and (best is None or ratio > best[2]):
            best = (column, key, round(ratio * 0.9, 3))  # fuzzy is never as sure as exact
    return best


def match_headers(headers: list[str], entity: Entity, overrides: dict[str, str] | None = None) -> HeaderMatch:
    """Map each header of a file onto a canonical column of ``entity``.

    ``overrides`` (header as written -> canonical column, from marketops.yaml) win over
    synonyms; an override to None or "" keeps the header as a custom property. Each canonical
    column is used once: overrides first, then exact matches in file order, then fuzzy ones.

    Example:
        >>> from marketops.schema import entity
        >>> m = match_headers(["Emial Adress", "Email", "Nome"], entity("people"), {"Nome": "full_name"})
        >>> m.columns, m.duplicates
        ({'Emial Adress': None, 'Email': 'email', 'Nome': 'full_name'}, [('Emial Adress', 'email')])
    """
    index = _synonym_index(entity)
    compact = {_compact(k): k for k in index}
    columns: dict[str, str | None] = {h: None for h in headers}
    confidence: dict[str, float] = {h: 0.0 for h in headers}
    taken: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    spread: dict[str, float] = {}
    overrides = overrides or {}
    by_norm = {normalise_header(k): v for k, v in overrides.items()}
    candidates: list[tuple[float, int, str, str, str]] = []
    for position, header in enumerate(headers):
        forced = overrides.get(header, by_norm.get(normalise_header(header), ...))
        if forced is not ...:
            if forced:
                if forced not in entity.column_names:
                    raise unknown_name(f"column of {entity.name} (header mapping for '{header}')",
                                       forced, entity.column_names)
                candidates.append((2.0, position, header, forced, normalise_header(forced)))
            else:
                confidence[header] = 1.0  # deliberately kept as a custom property
            continue
        found = _lookup(header, index, compact)
        if found:
            column, key, conf = found
            candidates.append((conf, position, header, column, key))
    # Surest first, then file order: an exact "Email" beats an earlier typo "Emial".
    for conf, _, header, column, key in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if column in taken:
            duplicates.append((header, column))
            continue
        taken[column] = header
        columns[header] = column
        confidence[header] = min(conf, 1.0)
        spread[header] = 1.0 / _spread().get(key, 1)
    duplicates.sort(key=lambda d: headers.index(d[0]))
    missing = [c.name for c in entity.columns if c.required and c.name not in taken]
    return HeaderMatch(entity=entity.name, columns=columns, confidence=confidence, duplicates=duplicates,
                       score=_score(headers, entity, columns, confidence, spread, missing),
                       missing_required=missing)


def _score(headers: list[str], entity: Entity, columns: dict[str, str | None], confidence: dict[str, float],
           spread: dict[str, float], missing: list[str]) -> float:
    """How well a file fits ``entity``, 0..1.

    Three kinds of evidence: the share of the file's headers the entity explains, the same
    weighted by how specific each match is (a header known to one entity, like "Impressions",
    says more than "Date" or "Email"), and the share of the entity's hint words present.
    A file missing a required column can still be that entity, but is much less likely to be.
    """
    if not headers:
        return 0.0
    mapped = [h for h in headers if columns[h]]
    coverage = sum(confidence[h] for h in mapped) / len(headers)
    specific = sum(confidence[h] * spread[h] for h in mapped)
    known_elsewhere = 0.0
    for h in headers:
        if not columns[h]:
            k = _spread().get(normalise_header(h), 0)
            known_elsewhere += 1.0 / k if k else 0.0
    specificity = specific / (specific + known_elsewhere) if specific else 0.0
    words = {w for h in headers for w in normalise_header(h).split()} | set(filter(None, columns.values()))
    # A hint is present as a mapped column ("close_date") or as words of a header ("deal").
    hints = [h for h in entity.hints if h in words or all(w in words for w in normalise_header(h).split())]
    hint_share = len(hints) / len(entity.hints) if entity.hints else 0.0
    score = 0.3 * coverage + 0.4 * specificity + 0.3 * hint_share
    return round(score * (0.5 if missing else 1.0), 4)


def detect_entity(headers: list[str]) -> list[tuple[str, float]]:
    """Every registered entity with its score for a file with ``headers``, best first.

    Example:
        >>> detect_entity(["Day", "Campaign", "Impressions", "Clicks", "Cost"])[0][0]
        'ad_spend'
    """
    ranked = [(name, match_headers(headers, e).score) for name, e in ENTITIES.items()]
    return sorted(ranked, key=lambda item: -item[1])
