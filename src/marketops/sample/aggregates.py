"""Aggregated exports: ad spend per platform, GA4 traffic acquisition, Mailchimp campaigns.

Touches are counted into small accumulators (day x ad unit, day x GA4 source/medium/campaign,
clicks per send) while the chunks stream by: their size depends on the period, never on the number
of contacts. The files are written once at the end, from numbers that agree with the simulated
journeys (scaled up: platforms and GA4 also see people who never became contacts).

Example:
    >>> acc = Accumulators(days=3, sends=2)
    >>> acc.ad_clicks.shape
    (3, 11)
    >>> acc.add_ga4(np.array([2 * GA4_DAY + 9, 7, 2 * GA4_DAY + 9, 7]))
    >>> acc.add_ga4(np.array([GA4_DAY + 3]))
    >>> [(int(k // GA4_DAY), int(k % GA4_DAY), n) for k, n in acc.ga4_counts()]
    [(0, 7, 2), (1, 3, 1), (2, 9, 2)]
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from marketops.ingest.vendors import by_name
from marketops.sample import world
from marketops.sample.events import ga4_source_medium, send_slug
from marketops.sample.journeys import DAY, T0, Journeys
from marketops.sample.sinks import TextSink

#: A GA4 key is ``day * GA4_DAY + slot``: the slot packs channel, source and medium variant and campaign.
GA4_DAY = 16 * 8 * 8 * 256


class Accumulators:
    """Bounded-size counters filled chunk by chunk: days x ad units, days x GA4 slots seen, sends."""

    def __init__(self, days: int, sends: int) -> None:
        self.days = days
        self.ad_clicks = np.zeros((days, len(world.AD_UNITS)), dtype=np.int64)
        self.email_clicks = np.zeros(max(sends, 1), dtype=np.int64)
        # GA4: a dense day x column table; a column per slot that occurred (a few hundred: channels x
        # utm spellings x campaigns), so the table is bounded by the period whatever the number of people
        self._ga4_column = np.full(GA4_DAY, -1, dtype=np.int64)
        self._ga4_slots = np.zeros(0, dtype=np.int64)
        self._ga4 = np.zeros((days, 0), dtype=np.int64)

    def add(self, j: Journeys, ga4_keys: np.ndarray) -> None:
        ad = j.touch_unit >= 0
        day = (j.touch_time[ad] - T0) // DAY
        np.add.at(self.ad_clicks, (day, j.touch_unit[ad]), 1)
        self.add_ga4(ga4_keys)
        mail = j.touch_send >= 0
        self.email_clicks += np.bincount(j.touch_send[mail], minlength=len(self.email_clicks))

    def add_ga4(self, keys: np.ndarray) -> None:
        day, slot = np.divmod(np.asarray(keys, dtype=np.int64), GA4_DAY)
        new = np.unique(slot[self._ga4_column[slot] < 0])
        if len(new):
            self._ga4_column[new] = np.arange(len(self._ga4_slots), len(self._ga4_slots) + len(new))
            self._ga4_slots = np.concatenate([self._ga4_slots, new])
            self._ga4 = np.pad(self._ga4, ((0, 0), (0, len(new))))
        width = self._ga4.shape[1]
        self._ga4 += np.bincount(day * width + self._ga4_column[slot], minlength=self.days * width).reshape(
            self.days, width)

    def ga4_counts(self) -> list[tuple[int, int]]:
        """(GA4 key, touches) of every key that occurred, in key order."""
        by_slot = np.argsort(self._ga4_slots)
        table = self._ga4[:, by_slot]
        day, col = np.nonzero(table)
        keys = day * GA4_DAY + self._ga4_slots[by_slot][col]
        return list(zip(keys.tolist(), table[day, col].tolist()))


def _day_strings(days: int, fmt: str) -> list[str]:
    return [datetime.fromtimestamp(T0 + d * DAY, world.START.tzinfo).strftime(fmt) for d in range(days)]


def _spend(rng: np.random.Generator, acc: Accumulators, platform: str) -> list[tuple]:
    """Rows (day, unit index, impressions, clicks, cost, conversions) of one platform, zero days dropped."""
    rows = []
    for u_i, unit in enumerate(world.AD_UNITS):
        if unit.platform != platform:
            continue
        clicks = rng.poisson(acc.ad_clicks[:, u_i] * world.CLICK_SCALE + 0.2)
        impressions = np.round(clicks / unit.ctr * rng.uniform(0.85, 1.15, acc.days)).astype(np.int64)
        cost = np.round(clicks * unit.cpc * rng.uniform(0.8, 1.2, acc.days), 2)
        conv = rng.binomial(clicks, 0.03)
        for d in np.flatnonzero(impressions > 0).tolist():
            rows.append((d, u_i, int(impressions[d]), int(clicks[d]), float(cost[d]), int(conv[d])))
    rows.sort()
    return rows


def _thousands(v: float, decimals: int = 2) -> str:
    return f"{v:,.{decimals}f}"


def write_google_ads(path: Path, rng: np.random.Generator, acc: Accumulators) -> int:
    """Google Ads ad group report: title lines, "1,234.56" numbers, "Total:" rows at the bottom."""
    fmt = by_name("google_ads_ad_groups")
    header = ["Campaign", "Ad group", "Ad group ID", "Day", "Customer ID", "Currency code", "Impr.", "Clicks",
              "Cost", "Conversions"]
    rows = _spend(rng, acc, "google_ads")
    days = _day_strings(acc.days, "%Y-%m-%d")
    title = [f'"{_day_strings(1, "%B %-d, %Y")[0]} - {datetime.fromtimestamp(T0 + (acc.days - 1) * DAY, world.START.tzinfo).strftime("%B %-d, %Y")}"']
    assert set(fmt.signature) <= set(header)
    with TextSink(path, header, preamble=("Ad group report", *title)) as sink:
        u = world.AD_UNITS
        sink.write(pl.DataFrame({
            "Campaign": [u[r[1]].campaign for r in rows], "Ad group": [u[r[1]].ad_group for r in rows],
            "Ad group ID": [u[r[1]].ad_group_id for r in rows], "Day": [days[r[0]] for r in rows],
            "Customer ID": "123-456-7890", "Currency code": "USD",
            "Impr.": [_thousands(r[2], 0) for r in rows], "Clicks": [_thousands(r[3], 0) for r in rows],
            "Cost": [_thousands(r[4]) for r in rows], "Conversions": [f"{r[5]:.2f}" for r in rows]}))
        tot = [sum(r[k] for r in rows) for k in (2, 3, 4, 5)]
        total = f',,,,,USD,"{_thousands(tot[0], 0)}","{_thousands(tot[1], 0)}","{_thousands(tot[2])}",{tot[3]:.2f}'
        sink.lines(["Total: Account" + total, "Total: Search" + total, "Total: Ad groups" + total])
        return sink.rows


def write_meta(path: Path, rng: np.random.Generator, acc: Accumulators) -> int:
    """Meta Ads Manager export with the currency in the spend header; UTF-8 with a BOM, as Excel likes it."""
    rows = _spend(rng, acc, "meta_ads")
    days = _day_strings(acc.days, "%Y-%m-%d")
    u = world.AD_UNITS
    cur = world.PLATFORM_CURRENCY["meta_ads"]
    header = ["Reporting starts", "Reporting ends", "Campaign name", "Campaign ID", "Ad set name", "Ad set ID",
              "Impressions", "Link clicks", f"Amount spent ({cur})", "Results"]
    with TextSink(path, header, encoding="utf-8-sig", line_end="\n") as sink:
        sink.write(pl.DataFrame({
            "a": [days[r[0]] for r in rows], "b": [days[r[0]] for r in rows],
            "c": [u[r[1]].campaign for r in rows], "d": [u[r[1]].campaign_id for r in rows],
            "e": [u[r[1]].ad_group for r in rows], "f": [u[r[1]].ad_group_id for r in rows],
            "g": [r[2] for r in rows], "h": [r[3] for r in rows], "i": [f"{r[4]:.2f}" for r in rows],
            "j": [str(r[5]) if r[5] else "" for r in rows]}))
        return sink.rows


def write_linkedin(path: Path, rng: np.random.Generator, acc: Accumulators) -> int:
    """LinkedIn Campaign Manager export: UTF-16 with tabs and a preamble, as Campaign Manager writes it."""
    rows = _spend(rng, acc, "linkedin_ads")
    days = _day_strings(acc.days, "%-m/%-d/%Y")
    u = world.AD_UNITS
    header = ["Start Date (in UTC)", "Account Name", "Campaign Group Name", "Campaign Name", "Campaign ID",
              "Campaign Type", "Currency", "Total Spent", "Impressions", "Clicks", "Conversions"]
    pre = ("Campaign Performance Report (in UTC)", f"Report Start: {days[0]}", f"Report End: {days[-1]}",
           "Account Name: Acme Analytics", "Account ID: 508123456", "")
    with TextSink(path, header, encoding="utf-16", delimiter="\t", preamble=pre) as sink:
        sink.write(pl.DataFrame({
            "a": [days[r[0]] for r in rows], "b": "Acme Analytics", "c": [u[r[1]].ad_group for r in rows],
            "d": [u[r[1]].campaign for r in rows], "e": [u[r[1]].campaign_id for r in rows],
            "f": "Sponsored Content", "g": world.PLATFORM_CURRENCY["linkedin_ads"],
            "h": [f"{r[4]:.2f}" for r in rows], "i": [r[2] for r in rows], "j": [r[3] for r in rows],
            "k": [r[5] for r in rows]}))
        return sink.rows


def write_microsoft(path: Path, rng: np.random.Generator, acc: Accumulators) -> int:
    """Microsoft Advertising campaign report as XLSX: metadata rows, header, data, total and copyright rows."""
    rows = _spend(rng, acc, "microsoft_ads")
    days = _day_strings(acc.days, "%Y-%m-%d")
    u = world.AD_UNITS
    header = ["Time period", "Account name", "Account number", "Campaign name", "Campaign ID", "Currency code",
              "Impressions", "Clicks", "Spend", "Conversions"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    # a fixed creation time: the same seed must give the same bytes
    book.set_properties({"created": datetime(2025, 1, 2, 8, 0, 0)})
    sheet = book.add_worksheet("Campaign report")
    meta = ["Report Name: Campaign report", f"Report Time: {days[0]} - {days[-1]}",
            "Time Zone: (GMT) Coordinated Universal Time", "Report Aggregation: Daily", f"Rows: {len(rows)}", ""]
    for r_i, line in enumerate(meta):
        sheet.write_string(r_i, 0, line)
    base = len(meta)
    sheet.write_row(base, 0, header)
    for k, r in enumerate(rows, start=1):
        unit = u[r[1]]
        sheet.write_row(base + k, 0, [days[r[0]], "Acme Analytics", "F123ABCD", unit.campaign, unit.campaign_id,
                                      "USD", r[2], r[3], r[4], r[5]])
    end = base + len(rows) + 1
    sheet.write_row(end, 0, ["Total", "", "", "", "", "", sum(r[2] for r in rows), sum(r[3] for r in rows),
                             round(sum(r[4] for r in rows), 2), sum(r[5] for r in rows)])
    sheet.write_string(end + 2, 0, "©2024 Microsoft Corporation. All rights reserved.")
    book.close()
    path.write_bytes(buffer.getvalue())
    return len(rows)


def write_ga4(path: Path, rng: np.random.Generator, acc: Accumulators, sends: np.ndarray) -> int:
    """GA4 Traffic acquisition CSV: '#' comment lines, YYYYMMDD dates, one row per day x source/medium x campaign."""
    days = _day_strings(acc.days, "%Y%m%d")
    n_units = len(world.AD_UNITS)
    grouped: dict[tuple, int] = {}
    for key, count in acc.ga4_counts():
        camp = key % 256
        rest = key // 256
        mv, rest = rest % 8, rest // 8
        sv, rest = rest % 8, rest // 8
        channel, day = rest % 16, rest // 16
        ch = world.CHANNELS[channel]
        source, medium, group = ga4_source_medium(channel, ch.sources[sv], ch.mediums[mv])
        if camp == 0:
            campaign = {"direct": "(direct)", "organic_search": "(organic)"}.get(ch.name, "(referral)")
        elif camp <= n_units:
            campaign = world.AD_UNITS[camp - 1].slug
        else:
            s = camp - 1 - n_units
            campaign = send_slug(s, int(sends[s]))
        k = (day, group, f"{source} / {medium}", campaign)
        grouped[k] = grouped.get(k, 0) + count
    keys = sorted(grouped)
    sessions = rng.poisson(np.array([grouped[k] for k in keys], dtype=float) * world.SESSION_SCALE) + 1
    engaged = rng.binomial(sessions, 0.62)
    users = np.maximum(1, rng.binomial(sessions, 0.83))
    events = sessions * 5 + rng.poisson(sessions)
    key_events = rng.binomial(sessions, 0.012)
    pre = ("# ----------------------------------------",
           "# Traffic acquisition: Session primary channel group (Default Channel Group)",
           "# Account: Acme Analytics", "# Property: acme-analytics.com - GA4",
           "# ----------------------------------------", "#", f"# Start date: {days[0]}", f"# End date: {days[-1]}")
    header = ["Date", "Session primary channel group (Default Channel Group)", "Session source / medium",
              "Session campaign", "Sessions", "Engaged sessions", "Engagement rate", "Total users", "Event count",
              "Key events", "Total revenue"]
    with TextSink(path, header, preamble=pre, line_end="\n") as sink:
        sink.write(pl.DataFrame({
            "a": [days[k[0]] for k in keys], "b": [k[1] for k in keys], "c": [k[2] for k in keys],
            "d": [k[3] for k in keys], "e": sessions, "f": engaged,
            "g": [f"{e / s:.10g}" for e, s in zip(engaged.tolist(), sessions.tolist())], "h": users,
            "i": events, "j": key_events, "k": "0"}))
        return sink.rows


def write_mailchimp(path: Path, rng: np.random.Generator, acc: Accumulators, sends: np.ndarray,
                    contacts: int) -> int:
    """Mailchimp campaign report: one row per send, hard and soft bounces apart."""
    header = list(by_name("mailchimp_campaigns").headers)[1:5] + [
        "Total Recipients", "Successful Deliveries", "Soft Bounces", "Hard Bounces", "Unique Opens", "Open Rate",
        "Unique Clicks", "Click Rate", "Unsubscribes", "Abuse Complaints", "Unique Id"]
    rows = []
    for s, when in enumerate(sends.tolist()):
        frac = (when - T0) / max(1, acc.days * DAY)
        recipients = int(contacts * 0.45 * (0.6 + 0.4 * frac)) + 50
        soft, hard = rng.binomial(recipients, 0.009), rng.binomial(recipients, 0.003)
        delivered = recipients - soft - hard
        opens = rng.binomial(delivered, 0.33)
        clicks = max(int(acc.email_clicks[s]), int(rng.binomial(opens, 0.1)))
        slug = send_slug(s, when)
        month = datetime.fromtimestamp(when, world.START.tzinfo)
        rows.append([f"Newsletter {month:%B %Y}" + (" (B)" if s % 2 else ""), f"What's new at Acme - {month:%B %-d}",
                     "Acme Analytics Newsletter", f"{month:%b %d, %Y %I:%M %p}", str(recipients), str(delivered),
                     str(soft), str(hard), str(opens), f"{opens / delivered:.2%}", str(clicks),
                     f"{clicks / delivered:.2%}", str(rng.binomial(delivered, 0.003)),
                     str(rng.binomial(delivered, 0.0002)), hashlib.md5(slug.encode()).hexdigest()[:10]])
    with TextSink(path, header, line_end="\n") as sink:
        sink.write(pl.DataFrame([list(c) for c in zip(*rows)], schema=[f"c{i}" for i in range(len(header))],
                                orient="col") if rows else pl.DataFrame())
        return sink.rows


#: Rough level of each deal and ad currency in EUR, around which the daily rates wander.
EUR_PER_UNIT = {"USD": 0.92, "GBP": 1.17}


def write_rates(path: Path, rng: np.random.Generator, days: int) -> int:
    """Daily rates to EUR (the reporting currency of the sample) for every other currency it uses:
    a small random walk, four decimals, as a finance team's sheet would have them."""
    import polars as pl

    from marketops.sample.exports import _dates
    from marketops.sample.journeys import DAY, T0

    day = T0 + np.arange(days) * DAY
    rows = []
    for currency, level in EUR_PER_UNIT.items():
        walk = level * np.exp(np.cumsum(rng.normal(0, 0.003, days)))
        rows.append(pl.DataFrame({"Date": _dates(day, "%Y-%m-%d"), "Currency": currency,
                                  "Rate": [f"{r:.4f}" for r in walk]}))
    frame = pl.concat(rows)
    frame.write_csv(path)
    return frame.height
