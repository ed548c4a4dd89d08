"""The ``utm:`` section of marketops.yaml: the UTM taxonomy links must follow.

The taxonomy says which ``utm_source`` and ``utm_medium`` values are allowed (each with the
spellings people type instead, its ``aliases``), how campaigns are named, which parameters every
link needs, and the character rules (lowercase, the word separator, the allowed characters).
The link builder (:mod:`marketops.quality.utm_builder`) refuses links that break it and ingestion
(:mod:`marketops.quality.utm_compliance`) flags touchpoints that arrived breaking it.

``campaign_pattern`` is either a **regular expression** (it starts with ``^``; the whole campaign
must match) or a **template** of ``{placeholders}`` and literal text, e.g.
``{year}_{quarter}_{region}_{name}``: ``{year}`` is four digits, ``{quarter}`` ``q1``-``q4``,
``{month}`` ``01``-``12``, a placeholder listed in ``campaign_values`` one of its values, any other
placeholder one or more allowed characters.

A workspace without a ``utm:`` section has no taxonomy: nothing is judged (the scorecard says
"no taxonomy set") and the link builder only encodes.

Example:
    >>> tax = UtmTaxonomy.model_validate({"sources": ["google", {"name": "facebook", "aliases": ["fb"]}],
    ...                                   "mediums": ["cpc"], "campaign_pattern": "{year}_{quarter}_{name}"})
    >>> tax.configured, tax.source_names, tax.alias_of("source", "fb")
    (True, ['google', 'facebook'], 'facebook')
    >>> bool(tax.campaign_regex.fullmatch("2025_q1_spring_launch")), bool(tax.campaign_regex.fullmatch("spring"))
    (True, False)
    >>> UtmTaxonomy().configured
    False
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import did_you_mean

#: Every UTM parameter, in the order a link builder writes them.
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
#: ``source`` -> ``utm_source``: the short names the CLI and the config use.
SHORT = {p.removeprefix("utm_"): p for p in UTM_PARAMS}

_PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_BUILT_IN_PLACEHOLDERS = {"year": r"\d{4}", "quarter": r"q[1-4]", "month": r"(?:0[1-9]|1[0-2])"}
_EXAMPLE = {"year": "2025", "quarter": "q1", "month": "03"}


class AllowedValue(BaseModel):
    """One allowed value of ``utm_source`` or ``utm_medium`` and the spellings to correct into it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The value links must carry, e.g. `facebook`.")
    aliases: list[str] = Field(default_factory=list,
                               description="Spellings people use instead (`fb`, `FB Ads`); flagged with this "
                                           "value as the fix.")


def _values(v: object) -> object:
    # a plain string in the list is a value without aliases
    if isinstance(v, list):
        return [{"name": x} if isinstance(x, str) else x for x in v]
    return v


def _param(name: str) -> str:
    full = SHORT.get(name, name)
    if full not in UTM_PARAMS:
        raise ValueError(f"unknown UTM parameter '{name}'{did_you_mean(name, list(UTM_PARAMS) + list(SHORT))}; "
                         f"valid: {', '.join(UTM_PARAMS)}")
    return full


class UtmTaxonomy(BaseModel):
    """Allowed sources and mediums, the campaign naming pattern, required parameters, case."""

    model_config = ConfigDict(extra="forbid")

    sources: list[AllowedValue] = Field(
        default_factory=list,
        description="Allowed utm_source values: names, or {name, aliases} to correct other spellings into the "
                    "name. Empty: any source that follows the character rules.")
    mediums: list[AllowedValue] = Field(
        default_factory=list,
        description="Allowed utm_medium values, written like `sources`. Empty: any medium that follows the "
                    "character rules.")
    pairs: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Optional: the mediums each source may be used with, e.g. {google: [cpc], mailchimp: [email]}; "
                    "a source not listed may use any allowed medium.")
    campaign_pattern: str | None = Field(
        default=None,
        description="How campaigns are named: a regular expression starting with `^` (the whole campaign must "
                    "match), or a template such as `{year}_{quarter}_{region}_{name}` ({year} = 4 digits, "
                    "{quarter} = q1-q4, {month} = 01-12, others = one of campaign_values or any allowed "
                    "characters).")
    campaign_values: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Values a template placeholder may take, e.g. {region: [emea, na, apac]}.")
    required: list[str] = Field(
        default_factory=lambda: ["utm_source", "utm_medium", "utm_campaign"],
        description="Parameters every tagged link must carry (utm_ prefix optional).")
    lowercase: bool = Field(default=True, description="Values must be lowercase (GA4 counts `Email` and "
                                                      "`email` as two mediums).")
    separator: str = Field(default="_", min_length=1, max_length=1,
                           description="Character that replaces spaces between words.")
    allowed_characters: str = Field(
        default="a-z0-9._-",
        description="Characters values may contain, written as the inside of a regex character class.")
    free_text: list[str] = Field(
        default_factory=lambda: ["utm_term"],
        description="Parameters holding free text (search keywords): only case, encoding and placeholders "
                    "are checked, spaces are fine.")
    unicode: Literal["transliterate", "refuse"] = Field(
        default="transliterate",
        description="Non-ASCII letters in values: transliterate (é -> e, ж -> zh) as the suggested fix, or "
                    "refuse them with no fix.")

    @field_validator("sources", "mediums", mode="before")
    @classmethod
    def _plain_names(cls, v: object) -> object:
        return _values(v)

    @field_validator("required", "free_text")
    @classmethod
    def _known_params(cls, v: list[str]) -> list[str]:
        return [_param(p) for p in v]

    @field_validator("allowed_characters")
    @classmethod
    def _character_class(cls, v: str) -> str:
        try:
            re.compile(f"[{v}]")
        except re.error as e:
            raise ValueError(f"'{v}' is not a valid set of characters ({e}); write it like a-z0-9._-") from None
        return v

    @field_validator("campaign_pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None and v.startswith("^"):
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"the regular expression '{v}' is not valid: {e}") from None
        return v

    @model_validator(mode="after")
    def _coherent(self) -> UtmTaxonomy:
        for kind, values in (("source", self.sources), ("medium", self.mediums)):
            seen: dict[str, str] = {}
            for v in values:
                for spelling in (v.name, *v.aliases):
                    if spelling in seen and seen[spelling] != v.name:
                        raise ValueError(f"{kind} '{spelling}' is listed under both '{seen[spelling]}' and "
                                         f"'{v.name}'")
                    seen[spelling] = v.name
        for source, mediums in self.pairs.items():
            if self.sources and source not in self.source_names:
                raise ValueError(f"pairs: unknown source '{source}'{did_you_mean(source, self.source_names)}; "
                                 f"valid: {', '.join(self.source_names)}")
            for m in mediums:
                if self.mediums and m not in self.medium_names:
                    raise ValueError(f"pairs: unknown medium '{m}' for '{source}'"
                                     f"{did_you_mean(m, self.medium_names)}; valid: {', '.join(self.medium_names)}")
        if self.campaign_pattern and not self.campaign_pattern.startswith("^"):
            used = set(_PLACEHOLDER_RE.findall(self.campaign_pattern))
            for name in self.campaign_values:
                if name not in used:
                    raise ValueError(f"campaign_values: '{name}' is not a placeholder of the campaign pattern "
                                     f"'{self.campaign_pattern}'{did_you_mean(name, sorted(used))}")
        return self

    # -- reading the taxonomy -------------------------------------------------------------------------
    @property
    def configured(self) -> bool:
        """True when marketops.yaml has a ``utm:`` section with anything in it."""
        return bool(self.model_fields_set)

    @property
    def source_names(self) -> list[str]:
        return [v.name for v in self.sources]

    @property
    def medium_names(self) -> list[str]:
        return [v.name for v in self.mediums]

    def allowed(self, kind: str) -> list[str]:
        """Allowed values of ``source`` or ``medium`` (empty: any value)."""
        return self.source_names if kind == "source" else self.medium_names if kind == "medium" else []

    def alias_of(self, kind: str, value: str) -> str | None:
        """The allowed value ``value`` is an alias of (compared case-insensitively), or None."""
        return _alias_table(self, kind).get(value.casefold())

    @property
    def campaign_regex(self) -> re.Pattern[str] | None:
        """The campaign pattern as a compiled regex (templates translated), or None without one."""
        return _campaign_regex(self.campaign_pattern, tuple((k, tuple(v)) for k, v in self.campaign_values.items()),
                               self.allowed_characters)

    @property
    def campaign_example(self) -> str | None:
        """A campaign name that follows a template (None for a regex or no pattern).

        >>> UtmTaxonomy(campaign_pattern="{year}_{quarter}_{region}_{name}",
        ...             campaign_values={"region": ["emea", "na"]}).campaign_example
        '2025_q1_emea_name'
        """
        p = self.campaign_pattern
        if not p or p.startswith("^"):
            return None
        return _PLACEHOLDER_RE.sub(lambda m: _EXAMPLE.get(m[1]) or (self.campaign_values.get(m[1]) or [m[1]])[0], p)

    def __hash__(self) -> int:  # cached look-ups key on the taxonomy
        return hash(self.model_dump_json())


@functools.lru_cache(maxsize=32)
def _alias_table(tax: UtmTaxonomy, kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for v in tax.sources if kind == "source" else tax.mediums:
        for spelling in (*v.aliases, v.name):
            table[spelling.casefold()] = v.name
    return table


@functools.lru_cache(maxsize=32)
def _campaign_regex(pattern: str | None, values: tuple[tuple[str, tuple[str, ...]], ...],
                    allowed: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    if pattern.startswith("^"):
        return re.compile(pattern)
    choices = dict(values)
    out, pos = [], 0
    for m in _PLACEHOLDER_RE.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        name = m[1]
        if name in choices:
            out.append("(?:" + "|".join(re.escape(c) for c in choices[name]) + ")")
        else:
            out.append(_BUILT_IN_PLACEHOLDERS.get(name, f"[{allowed}]+"))
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out))


__all__ = ["SHORT", "UTM_PARAMS", "AllowedValue", "UtmTaxonomy"]
