"""Channel grouping: GA4's default channel group, plus workspace rules tried first.

The rules follow Google's definition of the default channel group for GA4 properties
("[GA4] Default channel group", https://support.google.com/analytics/answer/9756891), in GA4's order:
Direct, Cross-network, Paid Shopping, Paid Search, Paid Social, Paid Video, Display, Paid Other,
Organic Shopping, Organic Social, Organic Video, Organic Search, Email, Affiliates, Referral, Audio, SMS,
Mobile Push Notifications, and Unassigned when nothing matches. GA4 compares values case-insensitively;
so do we, by lowercasing the inputs. The site lists and medium patterns are in
:mod:`marketops.quality.source_categories`.

Where marketops departs from, or adds to, GA4 (each such rule is labelled ``marketops``, not ``GA4``):

- **Empty source and medium** count as ``(direct)`` / ``(none)``: that is what GA4 records for a visit
  without campaign tags or referrer. A click id in the row is evidence against Direct, though.
- **Google click ids** (gclid, wbraid, gbraid, dclid): GA4 reads Google Ads auto-tagging as
  ``google / cpc`` and picks the channel from the Ads network type, which exports do not carry. We
  take a Google click id as a paid medium: Paid Shopping for a shopping site or shopping campaign,
  Paid Video for a video site, otherwise Paid Search. Cross-network (a campaign name containing
  "cross-network") and a Display medium still win, as in GA4.
- **msclkid** is added only to Microsoft Advertising clicks: Paid Search.
- **fbclid** is NOT evidence of paid traffic: Meta appends it to every outbound link, organic posts and
  shares included. With a paid medium it makes an otherwise unknown source Paid Social (instead of
  Paid Other); with no source and no medium it is a click from Facebook: Organic Social.
- A touchpoint that arrives with its own ``channel`` keeps it; workspace rules (``channels:`` in
  ``marketops.yaml``) come next, then the rules above.

Both faces of the rule table, :func:`channel_expression` (an Ibis CASE for DuckDB and Spark) and
:func:`explain` (pure Python, for one touchpoint), are built from the same :class:`Rule` objects, so they
cannot disagree.

Example:
    >>> explain("facebook", "cpc").channel
    'Paid Social'
    >>> explain("m.facebook.com", "referral").rule
    'GA4 Organic Social: source is a social site or medium is a social medium (social, sm, social-media...)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Protocol

from marketops.errors import did_you_mean
from marketops.quality import source_categories as cat
from marketops.settings import ChannelRule

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

__all__ = ["CHANNELS", "CLICK_IDS", "DEFAULT_RULES", "ChannelRule", "Explanation", "Rule", "channel_expression",
           "explain", "rule_table"]

CHANNELS = ("Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video", "Display",
            "Paid Other", "Organic Shopping", "Organic Social", "Organic Video", "Organic Search", "Email",
            "Affiliates", "Referral", "Audio", "SMS", "Mobile Push Notifications", "Unassigned")
"""GA4's default channel group, in GA4's order."""

UNASSIGNED = "Unassigned"
GOOGLE_CLICK_IDS = ("gclid", "wbraid", "gbraid", "dclid")
CLICK_IDS = (*GOOGLE_CLICK_IDS, "msclkid", "fbclid")
"""Click ids a touchpoint may carry (the columns of the same names)."""
FIELDS = ("source", "medium", "campaign", *CLICK_IDS)
"""Inputs the rules read; each is a lowercased string, empty when missing."""


# -- conditions: one small vocabulary, each able to test a Python value and to build an Ibis predicate --

class Condition(Protocol):
    def test(self, values: Mapping[str, str]) -> bool: ...
    def predicate(self, columns: Mapping[str, ir.StringValue]) -> ir.BooleanValue: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Match:
    """``field`` matches the regex ``pattern`` (searched, so anchor it for an exact match)."""

    field: str
    pattern: str
    label: str | None = None  # human wording, e.g. "source is a social site"

    def test(self, values: Mapping[str, str]) -> bool:
        return re.search(self.pattern, values[self.field]) is not None

    def predicate(self, columns: Mapping[str, ir.StringValue]) -> ir.BooleanValue:
        # re_search compiles to regexp_matches on DuckDB and RLIKE on Spark: both search, like re.search
        return columns[self.field].re_search(self.pattern)

    def describe(self) -> str:
        return self.label or f"{self.field} matches {self.pattern}"


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]
    label: str | None = None

    def test(self, values: Mapping[str, str]) -> bool:
        return all(p.test(values) for p in self.parts)

    def predicate(self, columns: Mapping[str, ir.StringValue]) -> ir.BooleanValue:
        return reduce(lambda a, b: a & b, (p.predicate(columns) for p in self.parts))

    def describe(self) -> str:
        return self.label or " and ".join(
            f"({p.describe()})" if isinstance(p, AnyOf) and not p.label else p.describe() for p in self.parts)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]
    label: str | None = None

    def test(self, values: Mapping[str, str]) -> bool:
        return any(p.test(values) for p in self.parts)

    def predicate(self, columns: Mapping[str, ir.StringValue]) -> ir.BooleanValue:
        return reduce(lambda a, b: a | b, (p.predicate(columns) for p in self.parts))

    def describe(self) -> str:
        return self.label or " or ".join(p.describe() for p in self.parts)


def _all(*parts: Condition, label: str | None = None) -> AllOf:
    return AllOf(tuple(parts), label)


def _any(*parts: Condition, label: str | None = None) -> AnyOf:
    return AnyOf(tuple(parts), label)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: touchpoints matching ``when`` get ``channel``."""

    channel: str
    when: Condition
    origin: str = "GA4"  # GA4, marketops (our additions) or workspace
    note: str | None = None

    @property
    def description(self) -> str:
        text = f"{self.origin} {self.channel}: {self.when.describe()}"
        return f"{text} ({self.note})" if self.note else text


# -- the default table ------------------------------------------------------------------------------

_PAID = Match("medium", cat.PAID_MEDIUM)
_SEARCH_SITE = Match("source", cat.SEARCH_SOURCE, "source is a search site")
_SOCIAL_SITE = Match("source", cat.SOCIAL_SOURCE, "source is a social site")
_VIDEO_SITE = Match("source", cat.VIDEO_SOURCE, "source is a video site")
_SHOPPING = _any(Match("source", cat.SHOPPING_SOURCE, "source is a shopping site"),
                 Match("campaign", cat.SHOPPING_CAMPAIGN))
_GOOGLE_CLICK = _any(*(Match(c, ".") for c in GOOGLE_CLICK_IDS),
                     label="a Google click id (" + ", ".join(GOOGLE_CLICK_IDS) + ") is present")
_NO_CLICK_ID = _all(*(Match(c, "^$") for c in CLICK_IDS), label="no click id")
_EMPTY_SOURCE = Match("source", "^$", "source is empty")
_EMPTY_MEDIUM = Match("medium", "^$", "medium is empty")

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("Direct", _all(Match("source", r"^(\(direct\))?$", 'source is "(direct)" or empty'),
                        Match("medium", r"^(\(not set\)|\(none\))?$", 'medium is "(none)", "(not set)" or empty'),
                        _NO_CLICK_ID)),
    Rule("Cross-network", Match("campaign", "cross-network", 'campaign contains "cross-network"')),
    Rule("Paid Shopping", _all(_SHOPPING, _PAID)),
    Rule("Paid Search", _all(_SEARCH_SITE, _PAID)),
    Rule("Paid Social", _all(_SOCIAL_SITE, _PAID)),
    Rule("Paid Video", _all(_VIDEO_SITE, _PAID)),
    Rule("Display", Match("medium", cat.DISPLAY_MEDIUM)),
    # Google Ads auto-tagging: GA4 reads it as google / cpc (see the module docstring)
    Rule("Paid Shopping", _all(_SHOPPING, _GOOGLE_CLICK), "marketops"),
    Rule("Paid Video", _all(_VIDEO_SITE, _GOOGLE_CLICK), "marketops"),
    Rule("Paid Search", _any(_GOOGLE_CLICK, Match("msclkid", ".", "msclkid is present")), "marketops"),
    Rule("Paid Social", _all(Match("fbclid", ".", "fbclid is present"), _PAID), "marketops"),
    Rule("Paid Other", _PAID),
    Rule("Organic Shopping", _SHOPPING),
    Rule("Organic Social", _any(_SOCIAL_SITE, Match("medium", cat.SOCIAL_MEDIUM,
                                                     "medium is a social medium (social, sm, social-media...)"))),
    Rule("Organic Social", _all(Match("fbclid", ".", "fbclid is present"), _EMPTY_SOURCE, _EMPTY_MEDIUM),
         "marketops", "Meta adds fbclid to organic links too"),
    Rule("Organic Video", _any(_VIDEO_SITE, Match("medium", cat.VIDEO_MEDIUM))),
    Rule("Organic Search", _any(_SEARCH_SITE, Match("medium", "^organic$", 'medium is "organic"'))),
    Rule("Email", _any(Match("source", cat.EMAIL_VALUE), Match("medium", cat.EMAIL_VALUE))),
    Rule("Affiliates", Match("medium", "^affiliate$", 'medium is "affiliate"')),
    Rule("Referral", Match("medium", cat.REFERRAL_MEDIUM)),
    Rule("Audio", Match("medium", "^audio$", 'medium is "audio"')),
    Rule("SMS", _any(Match("source", "^sms$", 'source is "sms"'), Match("medium", "^sms$", 'medium is "sms"'))),
    Rule("Mobile Push Notifications", _any(Match("medium", "push$", 'medium ends with "push"'),
                                           Match("medium", "mobile|notification",
                                                 'medium contains "mobile" or "notification"'),
                                           Match("source", "^firebase$", 'source is "firebase"'))),
)
"""GA4's default channel group (plus the click-id rules labelled marketops), first match wins."""


def _workspace_rule(rule: ChannelRule) -> Rule:
    parts = [Match(f, p if p.startswith("(?i)") else "(?i)" + p, f"{f} matches {p}")
             for f in ("source", "medium", "campaign") if (p := getattr(rule, f)) is not None]
    return Rule(rule.channel, _all(*parts), "workspace", rule.description)


def rule_table(rules: Iterable[ChannelRule] = ()) -> list[Rule]:
    """The rules in the order they are tried: the workspace's, then GA4's defaults.

    Example:
        >>> table = rule_table([ChannelRule(channel="Partners", source="^partner_")])
        >>> table[0].description, len(table) - len(DEFAULT_RULES)
        ('workspace Partners: source matches ^partner_', 1)
    """
    return [*(_workspace_rule(r) for r in rules), *DEFAULT_RULES]


# -- face 1: pure Python, one touchpoint -----------------------------------------------------------

@dataclass(frozen=True)
class Explanation:
    """The channel of one touchpoint and the rule that decided it."""

    channel: str
    rule: str
    origin: str  # given, workspace, GA4, marketops or default


def explain(source: str | None, medium: str | None, campaign: str | None = None, *,
            click_ids: Iterable[str] | Mapping[str, str | None] = (), given_channel: str | None = None,
            rules: Iterable[ChannelRule] = ()) -> Explanation:
    """The channel of one touchpoint and why, by the same rule table as :func:`channel_expression`.

    ``click_ids`` names the click ids the touchpoint carries (``["gclid"]``) or maps them to their
    values (empty values count as absent).

    Example:
        >>> explain("google", "cpc").channel, explain("Google", "Organic").channel
        ('Paid Search', 'Organic Search')
        >>> explain(None, None, click_ids=["gclid"]).rule
        'marketops Paid Search: a Google click id (gclid, wbraid, gbraid, dclid) is present or msclkid is present'
        >>> explain("newsletter", "email", given_channel="Lifecycle").channel
        'Lifecycle'
        >>> explain("acme", "partner", rules=[ChannelRule(channel="Partners", medium="^partner$")]).channel
        'Partners'
        >>> explain("something", "unknown")
        Explanation(channel='Unassigned', rule='no rule matched', origin='default')
    """
    if given_channel:
        return Explanation(given_channel, "given: the touchpoint arrived with its own channel", "given")
    present = ({k for k, v in click_ids.items() if v} if isinstance(click_ids, Mapping) else set(click_ids))
    for name in present:
        if name not in CLICK_IDS:
            raise ValueError(f"unknown click id '{name}'{did_you_mean(name, CLICK_IDS)}; valid: {', '.join(CLICK_IDS)}")
    values = {"source": (source or "").lower(), "medium": (medium or "").lower(),
              "campaign": (campaign or "").lower(), **{c: ("x" if c in present else "") for c in CLICK_IDS}}
    for rule in rule_table(rules):
        if rule.when.test(values):
            return Explanation(rule.channel, rule.description, rule.origin)
    return Explanation(UNASSIGNED, "no rule matched", "default")


# -- face 2: an Ibis expression over a whole table --------------------------------------------------

def channel_expression(t: ibis.Table, rules: Sequence[ChannelRule] = ()) -> ir.StringValue:
    """An Ibis CASE giving each row of ``t`` its channel; runs on DuckDB and Spark alike.

    Reads the columns source, medium, campaign, channel and the click ids (gclid, wbraid, gbraid,
    dclid, msclkid, fbclid); a missing column counts as empty.

    Example:
        >>> import ibis
        >>> t = ibis.memtable({"source": ["google", "Facebook", None], "medium": ["cpc", "social", None],
        ...                    "gclid": [None, None, "Cj0KCQ"]})
        >>> con = ibis.duckdb.connect()
        >>> con.execute(t.mutate(channel=channel_expression(t))["channel"]).tolist()
        ['Paid Search', 'Organic Social', 'Paid Search']
    """
    import ibis

    def text(name: str) -> ir.StringValue:
        if name not in t.columns:
            return ibis.literal("", type="string")
        return t[name].cast("string").lower().fill_null("")

    columns = {f: text(f) for f in FIELDS}
    given = t["channel"].cast("string").fill_null("") if "channel" in t.columns else ibis.literal("", type="string")
    branches = [(given != "", given)]
    branches += [(rule.when.predicate(columns), ibis.literal(rule.channel, type="string")) for rule in rule_table(rules)]
    return ibis.cases(*branches, else_=ibis.literal(UNASSIGNED, type="string"))
