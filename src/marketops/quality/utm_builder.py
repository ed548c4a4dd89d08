"""The UTM link builder: a landing-page URL and UTM values in, one compliant tagged URL out.

* The values are checked against the taxonomy (:func:`~marketops.quality.utm_compliance.check_utm`);
  a link that breaks it is refused with every problem and its fix, or, with ``fix=True``, built
  with the fixes applied (refused still when a problem has no fix).
* The URL keeps its own query parameters (byte for byte, in their order) and its fragment; any
  ``utm_*`` parameter already on it is replaced. UTM values are percent-encoded (a space becomes
  ``%20``, never ``+``), so building again from the built URL gives the same URL.
* Without a taxonomy nothing is judged: the values are only trimmed and encoded.

Example:
    >>> from marketops.quality.utm_taxonomy import UtmTaxonomy
    >>> link = build_link("https://acme.com/pricing?plan=pro#faq",
    ...                   {"source": "google", "medium": "cpc", "campaign": "spring_launch"}, UtmTaxonomy())
    >>> link.final_url
    'https://acme.com/pricing?plan=pro&utm_source=google&utm_medium=cpc&utm_campaign=spring_launch#faq'
    >>> build_link(link.final_url, link.params, UtmTaxonomy()).final_url == link.final_url
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

from marketops.errors import ValidationFailed
from marketops.quality.utm_compliance import Problem, check_utm, fixed_params
from marketops.quality.utm_taxonomy import SHORT, UTM_PARAMS, UtmTaxonomy

__all__ = ["BuiltLink", "UtmRefused", "build_link", "parse_utm", "strip_utm"]


class UtmRefused(ValidationFailed):
    """The values break the taxonomy; ``problems`` says how and what to use instead."""

    def __init__(self, problems: list[Problem]) -> None:
        lines = "; ".join(p.message for p in problems)
        fixable = all(p.fix is not None for p in problems)
        super().__init__(f"the link breaks the UTM taxonomy: {lines}")
        self.hint = ("build it with --fix to apply the suggested values" if fixable else
                     "see the utm: section of marketops.yaml (docs/utm.md)")
        self.problems = problems


@dataclass
class BuiltLink:
    """A tagged link: the URL given, the final URL, the UTM values on it and what was fixed."""

    url: str
    final_url: str
    params: dict[str, str]
    #: problems found and fixed (with ``fix=True``); empty when the input complied
    fixed: list[Problem] = field(default_factory=list)

    @property
    def campaign(self) -> str | None:
        return self.params.get("utm_campaign")

    def to_json(self) -> dict:
        return {"url": self.url, "final_url": self.final_url, "params": self.params,
                "fixed": [p.to_json() for p in self.fixed]}


def _clean_url(url: str) -> str:
    text = (url or "").strip()
    if text and "://" not in text and not re.match(r"[a-z][a-z0-9+.-]*:(?!\d)", text, re.IGNORECASE):
        text = "https://" + text  # people paste "acme.com/pricing" ("acme.com:8080/x" has a port, no scheme)
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
        bad_port = False
    except ValueError:
        bad_port = True
    if (parts.scheme not in ("http", "https") or not parts.hostname or bad_port
            or any(c.isspace() for c in parts.netloc)):
        raise ValidationFailed(f"'{url}' is not a web address: give the landing page's full address, "
                               "e.g. https://acme.com/pricing")
    return text


def _is_utm(segment: str) -> bool:
    key = unquote_plus(segment.split("=", 1)[0]).strip().lower()
    return key in UTM_PARAMS


def strip_utm(url: str) -> str:
    """``url`` without its ``utm_*`` parameters (other parameters and the fragment untouched).

    >>> strip_utm("https://a.io/?utm_source=x&id=7&UTM_MEDIUM=y#top")
    'https://a.io/?id=7#top'
    """
    parts = urlsplit(url)
    kept = [s for s in parts.query.split("&") if s and not _is_utm(s)]
    return urlunsplit(parts._replace(query="&".join(kept)))


def parse_utm(url: str) -> dict[str, str]:
    """The UTM parameters on ``url``, decoded (the last one wins when a parameter repeats).

    >>> parse_utm("https://a.io/?utm_source=google&utm_campaign=spring%20sale")
    {'utm_source': 'google', 'utm_campaign': 'spring sale'}
    """
    out: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if key.strip().lower() in UTM_PARAMS:
            out[key.strip().lower()] = value
    return {p: out[p] for p in UTM_PARAMS if p in out}


def _params(values: Mapping[str, str | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values.items():
        name = SHORT.get(key, key)
        if name not in UTM_PARAMS:
            raise ValidationFailed(f"unknown UTM parameter '{key}'; valid: {', '.join(UTM_PARAMS)}")
        if value is not None and str(value).strip():
            out[name] = str(value).strip()
    return out


def build_link(url: str, values: Mapping[str, str | None], tax: UtmTaxonomy, *, fix: bool = False) -> BuiltLink:
    """Tag ``url`` with ``values`` (``source``/``utm_source``... -> value) following ``tax``.

    Raises :class:`UtmRefused` when the values break the taxonomy (with ``fix``: only when a
    problem has no fix) and :class:`~marketops.errors.ValidationFailed` for an address that is
    not a web page.
    """
    base = _clean_url(url)
    params = _params(values)
    fixed: list[Problem] = []
    if tax.configured:
        problems = check_utm(tax, params)
        if problems and (not fix or any(p.fix is None for p in problems)):
            raise UtmRefused(problems)
        if problems:
            params, fixed = fixed_params(params, problems), problems
    params = {p: params[p] for p in UTM_PARAMS if p in params}
    parts = urlsplit(strip_utm(base))
    tags = "&".join(f"{p}={quote(v, safe='')}" for p, v in params.items())
    query = "&".join(x for x in (parts.query, tags) if x)
    final = urlunsplit(parts._replace(query=query))
    return BuiltLink(url=base, final_url=final, params=params, fixed=fixed)
