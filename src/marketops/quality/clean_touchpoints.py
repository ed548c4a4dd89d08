"""Cleaning touchpoints and web traffic: one spelling per source, referrers read, channel grouped.

* ``source`` is cleaned with the UTM rules and the alias table (workspace ``source_aliases``
  first), so ``fb``, ``facebook`` and ``FB Ads`` become ``facebook``; ``medium`` and ``campaign``
  with the UTM rules.
* A touchpoint without UTM tags (no clean source and no clean medium) takes its source and medium
  from its ``referrer``, as GA4 does (:mod:`marketops.quality.referrer`): ``google / organic``,
  ``linkedin / referral``, ``g2.com / referral``. Not when the referrer is the site itself (a
  self-referral), and not when the touchpoint carries a Google or Microsoft click id: that is a
  paid click, which the channel rules recognise from the click id itself.
* ``channel_group`` is computed once, from the clean values, by the channel rules
  (:func:`~marketops.quality.channels.channel_expression`); a touchpoint that arrived with its
  own ``channel`` keeps it.

Web traffic (aggregated GA4 reports) has no referrer: its UTM columns are cleaned and its channel
group computed the same way.

Example:
    >>> referrer_mapping(["google.com", "(direct)", "l.facebook.com"], {}).to_pylist()[2]
    {'referrer__raw': 'l.facebook.com', 'referrer__source': 'facebook', 'referrer__medium': 'referral'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from marketops.quality.channels import channel_expression
from marketops.quality.clean_mapping import TableCleaning
from marketops.quality.referrer import host_expression, referrer_origin

__all__ = ["PAID_CLICK_IDS", "clean_touchpoints", "clean_web_traffic", "referrer_mapping"]

#: Click ids that prove a paid click; an untagged touchpoint carrying one is not given its
#: referrer as source (a gclid click from google.com is Paid Search, not google / organic).
PAID_CLICK_IDS = ("gclid", "msclkid")


def referrer_mapping(hosts: Iterable[str], aliases: Mapping[str, str]) -> pa.Table:
    """``referrer__raw, referrer__source, referrer__medium`` for each distinct referrer host."""
    hosts = list(dict.fromkeys(hosts))
    origins = [referrer_origin(h, aliases) for h in hosts]
    return pa.table({"referrer__raw": pa.array(hosts, pa.string()),
                     "referrer__source": pa.array([s for s, _ in origins], pa.string()),
                     "referrer__medium": pa.array([m for _, m in origins], pa.string())})


def _utm(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    t = work.normalise(t, "source", "utm_source", aliases=dict(work.options.source_aliases))
    t = work.normalise(t, "medium", "utm_value")
    return work.normalise(t, "campaign", "utm_value")


def _channel_group(work: TableCleaning) -> dict[str, Callable[[ibis.Table], ir.Value]]:
    return {"channel_group": lambda out: channel_expression(out, work.options.channel_rules)}


def _present(column: ir.Value) -> ir.BooleanValue:
    return column.cast("string").fill_null("") != ""


def clean_touchpoints(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    """The cleaned touchpoints table (see the module docstring)."""
    t = _utm(work, t)
    t = t.mutate(_referrer_host=host_expression(t.referrer), _landing_host=host_expression(t.landing_page))
    src = work.source  # distinct hosts from the table itself, not from t and its joins
    hosts = (src.select(h=host_expression(src.referrer)).filter(lambda x: x.h.notnull() & (x.h != ""))
             .distinct().to_pyarrow().column("h").to_pylist())
    ref = work.mapping("referrer", referrer_mapping(hosts, work.options.source_aliases))
    t = t.left_join(ref, t._referrer_host == ref.referrer__raw)

    paid_click = ibis.literal(False)
    for click_id in PAID_CLICK_IDS:
        paid_click = paid_click | _present(t[click_id])
    self_referral = (t._referrer_host == t._landing_host).fill_null(False)
    from_referrer = (t["source__value"].isnull() & t["medium__value"].isnull() & ~paid_click & ~self_referral
                     & t.referrer__source.notnull())
    return work.finish(
        t,
        clean={"source": from_referrer.ifelse(t.referrer__source, t["source__value"]),
               "medium": from_referrer.ifelse(t.referrer__medium, t["medium__value"])},
        derived_after=_channel_group(work),
    )


def clean_web_traffic(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    """The cleaned web-traffic table: UTM columns and the channel group."""
    return work.finish(_utm(work, t), derived_after=_channel_group(work))
