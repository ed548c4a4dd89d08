"""Journeys: who touched which channel when, who converted, and which deals followed.

The conversion model is the ground truth attribution is scored against: a person converts
with probability ``1 - (1 - baseline·m) · Π (1 - w_channel·m)`` over their touches, where ``w``
is the channel's true incremental effect (:data:`world.CHANNELS`) and ``m`` the person's propensity.
Everything is vectorised over all touches of a chunk.

Example:
    >>> import numpy as np
    >>> from marketops.sample.people import make_people
    >>> rng = np.random.default_rng(3)
    >>> p = make_people(rng, start=0, n=200, n_companies=30)
    >>> j = simulate(rng, p, days=90, sends=mailchimp_sends(90))
    >>> bool((np.diff(j.touch_person) >= 0).all()), j.converted.dtype
    (True, dtype('bool'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketops.sample import world
from marketops.sample.people import People

DAY = 86_400
T0 = int(world.START.timestamp())
_WEIGHTS = np.array([c.weight for c in world.CHANNELS])
_SHARES = np.array([c.touch_share for c in world.CHANNELS])
_UNITS_BY_PLATFORM = {p: np.array([i for i, u in enumerate(world.AD_UNITS) if u.platform == p])
                      for p in world.PLATFORM_CURRENCY}


def mailchimp_sends(days: int) -> np.ndarray:
    """Send times (epoch seconds) of the newsletter: the 2nd and 4th Tuesday-ish of each month, 09:00 UTC.

    >>> len(mailchimp_sends(366))
    24
    """
    out = []
    for d in range(days):
        day = world.START.fromtimestamp(T0 + d * DAY, world.START.tzinfo)
        if day.day in (9, 23):
            out.append(T0 + d * DAY + 9 * 3600)
    return np.array(out, dtype=np.int64)


@dataclass
class Journeys:
    """Touches (sorted by person, then time) and per-person outcomes of one chunk."""

    touch_person: np.ndarray   # local person index
    touch_time: np.ndarray     # epoch seconds, UTC
    touch_channel: np.ndarray  # index into world.CHANNELS
    touch_unit: np.ndarray     # index into world.AD_UNITS, -1 when not an ad click
    touch_send: np.ndarray     # index into the Mailchimp sends, -1 when not an email click
    touch_device: np.ndarray   # 0/1: which of the person's anonymous ids
    identified_at: np.ndarray  # epoch seconds of the first form fill; -1 for never-identified people
    first_channel: np.ndarray  # channel of the first touch (the CRM "original source")
    converted: np.ndarray
    converted_at: np.ndarray   # -1 when not converted
    conversion_probability: np.ndarray
    has_deal: np.ndarray
    deal_created: np.ndarray
    deal_close: np.ndarray
    deal_won: np.ndarray
    deal_closed: np.ndarray
    deal_amount: np.ndarray


def simulate(rng: np.random.Generator, people: People, *, days: int, sends: np.ndarray) -> Journeys:
    n = len(people)
    end = T0 + days * DAY - 60
    n_touch = 1 + rng.poisson(6.0, n)
    person = np.repeat(np.arange(n), n_touch)
    total = len(person)
    channel = rng.choice(len(world.CHANNELS), total, p=_SHARES)
    # Time: a first touch anywhere in the period, then gaps of a few days; journeys that would run
    # past the end are shifted back so that every touch falls inside the period.
    gaps = rng.exponential(5 * DAY, total)
    starts = np.concatenate(([0], np.cumsum(n_touch)[:-1]))
    gaps[starts] = 0.0
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[starts], n_touch)
    first = T0 + rng.random(n) * days * DAY
    t = np.repeat(first, n_touch) + cum
    overshoot = np.maximum(0.0, np.maximum.reduceat(t, starts) - end)
    t = np.maximum(T0 + 0.0, t - np.repeat(overshoot, n_touch))
    # Email clicks happen shortly after a send, never before the first one.
    email = channel == 5
    send = np.full(total, -1, dtype=np.int64)
    if len(sends):
        s = np.clip(np.searchsorted(sends, t[email], side="right") - 1, 0, len(sends) - 1)
        send[email] = s
        t[email] = np.minimum(sends[s] + rng.exponential(0.6 * DAY, int(email.sum())), end)
    t = t.astype(np.int64)
    order = np.lexsort((t, person))
    person, t, channel, send = person[order], t[order], channel[order], send[order]
    unit = np.full(total, -1, dtype=np.int64)
    for c_i, ch in enumerate(world.CHANNELS):
        if ch.touch_type == "ad_click":
            mask = channel == c_i
            choices = _UNITS_BY_PLATFORM[ch.platform]
            unit[mask] = choices[rng.integers(0, len(choices), int(mask.sum()))]
    device = ((rng.random(total) < 0.25) & people.has_second_device[person]).astype(np.int64)

    # Identification: the CRM record is born at a form fill right after one of the touches.
    identified = people.in_hubspot | people.in_salesforce
    k = (rng.random(n) * n_touch).astype(np.int64)
    identified_at = np.where(identified, t[starts + k] + 120, -1)
    first_channel = channel[starts]

    m = people.propensity
    log_survive = np.log1p(-np.minimum(world.BASELINE_RATE * m, 0.95))
    log_survive = log_survive + np.bincount(person, np.log1p(-np.minimum(_WEIGHTS[channel] * m[person], 0.95)), n)
    probability = 1.0 - np.exp(log_survive)
    converted = rng.random(n) < probability
    last = t[starts + n_touch - 1]
    converted_at = np.where(converted, np.minimum(last + 600 + rng.exponential(2 * DAY, n).astype(np.int64), end), -1)
    converted_at = np.where(converted & identified, np.maximum(converted_at, identified_at + 60), converted_at)

    has_deal = converted & identified & (rng.random(n) < 0.65)
    deal_created = np.where(has_deal, converted_at + rng.integers(DAY, 10 * DAY, n), -1)
    has_deal &= deal_created <= end
    deal_created = np.where(has_deal, deal_created, -1)
    deal_close = np.where(has_deal, deal_created + rng.integers(20 * DAY, 90 * DAY, n), -1)
    outcome = rng.random(n)
    deal_closed = has_deal & (deal_close <= end) & (outcome < 0.75)
    deal_won = deal_closed & (outcome < 0.32)
    amount = np.round(np.exp(rng.normal(9.4, 0.6, n)) * (1 + np.log10(1 + people.company % 97)), 2)
    return Journeys(person, t, channel, unit, send, device, identified_at, first_channel, converted,
                    converted_at, probability, has_deal, deal_created, deal_close, deal_won, deal_closed,
                    np.where(has_deal, amount, 0.0))
