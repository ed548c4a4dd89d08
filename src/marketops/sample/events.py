"""Per-chunk generic files: tracking-script events, conversions and lifecycle history.

``web_events.jsonl`` is what a first-party tracking snippet sends: an anonymous visitor id
always, the email and user id only once the visitor has identified, UTM parameters exactly as
typed into campaign links (so "facebook", "Facebook", "fb" and "FB Ads" all occur), click ids
and the local time with its UTC offset.

Example:
    >>> import numpy as np
    >>> from marketops.sample.people import make_people
    >>> from marketops.sample.journeys import simulate, mailchimp_sends
    >>> rng = np.random.default_rng(5)
    >>> p = make_people(rng, start=0, n=50, n_companies=10)
    >>> j = simulate(rng, p, days=60, sends=mailchimp_sends(60))
    >>> frames, ga4_keys = web_events(rng, p, j, sends=mailchimp_sends(60))
    >>> next(frames).columns[:4]
    ['anonymous_id', 'user_id', 'email', 'timestamp']
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from marketops.sample import world
from marketops.sample.exports import _dates, _epoch_format, hubspot_contact_id, tokens
from marketops.sample.journeys import DAY, T0, Journeys
from marketops.sample.people import People

_OFFSETS = np.array([int(c[4][:3]) for c in world.COUNTRIES])
_OFFSET_TEXT = np.array([c[4] for c in world.COUNTRIES])
SITE = "https://www.acme-analytics.com"
#: Events formatted into one frame at a time (a chunk has ~8 events per person).
EVENT_BATCH = 32_768
KEYWORDS = ("marketing attribution software", "multi touch attribution", "acme analytics", "utm builder",
            "b2b marketing analytics")


def send_slug(send_index: int, send_time: int) -> str:
    """utm_campaign of a newsletter send, e.g. "newsletter_2024_01_a"."""
    month = _epoch_format(np.array([send_time]), "%Y_%m")[0]
    return f"newsletter_{month}_{'ab'[send_index % 2]}"


def ga4_source_medium(channel: int, source: str, medium: str) -> tuple[str, str, str]:
    """GA4's session source, medium and channel group for a touch (rules simplified from GA4's defaults)."""
    ch = world.CHANNELS[channel]
    if ch.name == "direct":
        return "(direct)", "(none)", "Direct"
    if ch.name == "organic_search":
        return source, "organic", "Organic Search"
    if ch.name in ("referral", "organic_social"):
        return source, "referral", "Organic Social" if ch.name == "organic_social" else "Referral"
    m = medium.lower()
    if ch.name == "email":
        return source, medium, "Email" if m in ("email", "e-mail") else "Unassigned"
    if m in ("cpc", "ppc") and ch.name.startswith("paid_search"):
        return source, medium, "Paid Search"
    if m in ("paid_social", "paidsocial", "cpc") and source.lower() in ("facebook", "fb", "instagram", "linkedin"):
        return source, medium, "Paid Social"
    return source, medium, "Unassigned"


def web_events(rng: np.random.Generator, people: People, j: Journeys, *,
               sends: np.ndarray) -> tuple[Iterator[pl.DataFrame], np.ndarray]:
    """The chunk's tracking events in time order, as frames of at most EVENT_BATCH rows, plus per-touch GA4 keys
    (day, channel, source and medium variant, campaign).

    All random draws happen before this returns; the frames are formatted lazily, one batch at a time,
    so that a chunk's events never exist as text all at once.
    """
    person, t, channel = j.touch_person, j.touch_time, j.touch_channel
    n = len(t)
    # utm spellings: each touch picks one of the channel's spellings (campaign links are hand-made)
    src_var = np.zeros(n, dtype=np.int64)
    med_var = np.zeros(n, dtype=np.int64)
    src = np.empty(n, dtype=object)
    med = np.empty(n, dtype=object)
    landing = np.empty(n, dtype=object)
    referrer = np.empty(n, dtype=object)
    ttype = np.empty(n, dtype=object)
    for c_i, ch in enumerate(world.CHANNELS):
        mask = channel == c_i
        k = int(mask.sum())
        sv, mv = rng.integers(0, len(ch.sources), k), rng.integers(0, len(ch.mediums), k)
        src_var[mask], med_var[mask] = sv, mv
        src[mask], med[mask] = np.array(ch.sources, dtype=object)[sv], np.array(ch.mediums, dtype=object)[mv]
        landing[mask] = np.array([SITE + p for p in ch.landing_pages], dtype=object)[rng.integers(0, len(ch.landing_pages), k)]
        referrer[mask] = ch.referrer or None
        ttype[mask] = ch.touch_type
    units = np.array(world.AD_UNITS, dtype=object)
    is_ad = j.touch_unit >= 0
    is_mail = j.touch_send >= 0
    slugs = np.array([send_slug(i, s) for i, s in enumerate(sends.tolist())] or [""], dtype=object)
    campaign = np.full(n, None, dtype=object)
    campaign[is_ad] = [u.slug for u in units[j.touch_unit[is_ad]]]
    campaign[is_mail] = slugs[j.touch_send[is_mail]]
    content = np.full(n, None, dtype=object)
    content[is_ad] = [u.content for u in units[j.touch_unit[is_ad]]]
    term = np.full(n, None, dtype=object)
    google = channel == 0
    term[google] = np.array(KEYWORDS, dtype=object)[rng.integers(0, len(KEYWORDS), int(google.sum()))]
    tagged = is_ad | is_mail  # organic, direct and referral visits carry no utm parameters
    click = {}
    for name, c_i, prefix, length in (("gclid", 0, "Cj0KCQiA", 40), ("fbclid", 2, "IwAR", 50), ("msclkid", 1, "", 32)):
        col = np.full(n, None, dtype=object)
        mask = channel == c_i
        col[mask] = tokens(rng, int(mask.sum()), length, prefix)
        click[name] = col

    # form fills: the identifying form, and the demo request that is the conversion
    ident = np.flatnonzero(j.identified_at >= 0)
    conv = np.flatnonzero(j.converted)
    f_person = np.concatenate([ident, conv])
    f_time = np.concatenate([j.identified_at[ident], j.converted_at[conv]])
    f_landing = np.array([SITE + "/contact"] * len(ident) + [SITE + "/demo"] * len(conv), dtype=object)
    all_person = np.concatenate([person, f_person])
    all_time = np.concatenate([t, f_time])
    device = np.concatenate([j.touch_device, np.zeros(len(f_person), dtype=np.int64)])
    nf = len(f_person)

    def extend(col: np.ndarray, fill: object = None) -> np.ndarray:
        return np.concatenate([col, np.full(nf, fill, dtype=object)])

    # columns whose cells are shared strings (object arrays of references) are kept for the whole chunk;
    # the cells unique to an event (ids, timestamps) are formatted a batch at a time, in time order
    shared = {
        "type": extend(ttype, "form_fill"),
        "utm_source": extend(np.where(tagged, src, None)),
        "utm_medium": extend(np.where(tagged, med, None)),
        "utm_campaign": extend(campaign),
        "utm_content": extend(content),
        "utm_term": extend(term),
        "gclid": extend(click["gclid"]),
        "fbclid": extend(click["fbclid"]),
        "msclkid": extend(click["msclkid"]),
        "landing_page": np.concatenate([landing, f_landing]),
        "referrer": extend(referrer),
    }
    # the form captures the address the person typed: their work email
    email = np.array(people.work_email, dtype=object)
    order = np.argsort(all_time, kind="stable")  # events in time order, ties in generation order

    def batches() -> Iterator[pl.DataFrame]:
        for b in range(0, len(order), EVENT_BATCH):
            rows = order[b:b + EVENT_BATCH]
            p, when = all_person[rows], all_time[rows]
            known = (j.identified_at[p] >= 0) & (when >= j.identified_at[p])
            user = (j.converted_at[p] >= 0) & (when >= j.converted_at[p])
            anon = people.anon_ids[p, device[rows]]
            offset = people.country[p]
            columns = {
                "anonymous_id": [client_id(a) for a in anon.tolist()],
                "user_id": np.where(user, np.char.add("usr_", hubspot_contact_id(people.pid[p]).astype(str)), None),
                "email": np.where(known, email[p], None),
                "timestamp": _epoch_format(when, "%Y-%m-%dT%H:%M:%S", _OFFSETS[offset]).to_numpy()
                + _OFFSET_TEXT[offset],
                **{k: v[rows] for k, v in shared.items()},
            }
            # polars cannot take numpy object arrays (strings mixed with None): hand it lists
            yield pl.DataFrame({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in columns.items()},
                               schema={k: pl.String for k in columns})

    # GA4 key per touch: campaign code 0 = none, 1.. = ad units, then newsletter sends
    camp_code = np.where(is_ad, j.touch_unit + 1, np.where(is_mail, j.touch_send + 1 + len(world.AD_UNITS), 0))
    day = (t - T0) // DAY
    keys = (((day * 16 + channel) * 8 + src_var) * 8 + med_var) * 256 + camp_code
    return batches(), keys


def client_id(device: int) -> str:
    """The analytics client id of a device, as GA writes it ("random.timestamp"): the same string
    on the web events and on the conversions, so a conversion links to the visitor.

    >>> client_id(123456789)
    '123456789.1703456789'
    """
    return f"{device}.{1_700_000_000 + device % 10**7}"


def conversions(people: People, j: Journeys, sf_lead: dict[int, str]) -> pl.DataFrame:
    """Demo requests (the conversion attribution explains) and purchases (closed-won deals with value)."""
    conv = np.flatnonzero(j.converted)
    won = np.flatnonzero(j.deal_won)

    def record_id(idx: np.ndarray) -> list[str]:
        out = []
        for i in idx.tolist():
            if people.in_hubspot[i]:
                out.append(str(hubspot_contact_id(people.pid[i:i + 1])[0]))
            else:
                out.append(sf_lead.get(int(people.pid[i]), ""))
        return out

    ids = np.concatenate([conv, won])
    identified = j.identified_at[ids] >= 0
    return pl.DataFrame({
        "Conversion ID": [f"cv_{'d' if k < len(conv) else 'p'}{p}" for k, p in enumerate(people.pid[ids].tolist())],
        "Timestamp": _dates(np.concatenate([j.converted_at[conv], j.deal_close[won]]), "%Y-%m-%dT%H:%M:%SZ"),
        "Conversion Type": ["demo_request"] * len(conv) + ["purchase"] * len(won),
        "Contact ID": [r if ok else "" for r, ok in zip(record_id(ids), identified.tolist())],
        "Email": [people.work_email[i] if ok else "" for i, ok in zip(ids.tolist(), identified.tolist())],
        "Anonymous ID": [client_id(a) for a in people.anon_ids[ids, 0].tolist()],
        "Value": [""] * len(conv) + [f"{v:.2f}" for v in j.deal_amount[won].tolist()],
        "Currency": [""] * len(conv) + [world.COUNTRIES[c][3] for c in people.country[won].tolist()],
    })


def lifecycle_rows(people: People, stages: pl.DataFrame) -> pl.DataFrame:
    """HubSpot lifecycle history: contact id, email, stage label, time entered, and why (recycled or
    rejected MQLs: the reason sales gave)."""
    i = stages["i"].to_numpy()
    labels = np.array(world.HISTORY_STAGES)[stages["stage"].to_numpy()]
    reason = stages["reason"] if "reason" in stages.columns else pl.Series([None] * stages.height, dtype=pl.String)
    return pl.DataFrame({
        "Contact ID": hubspot_contact_id(people.pid[i]).astype(str),
        "Email": [people.work_email[k] for k in i.tolist()],
        "Lifecycle Stage": labels,
        "Entered At": _dates(stages["at"].to_numpy(), "%Y-%m-%d %H:%M:%S"),
        "Reason": reason,
    })
