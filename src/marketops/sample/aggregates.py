"""Aggregated exports: ad spend per platform, GA4 traffic acquisition, Mailchimp campaigns.

Touches are counted into small accumulators (day x ad unit, GA4 key counts, clicks per send)
while the chunks stream by; the files are written once at the end, from numbers that agree with
the simulated journeys (scaled up: platforms and GA4 also see people who never became contacts).

Example:
    >>> acc = Accumulators(days=3, sends=2)
    >>> acc.ad_clicks.shape
    (3, 11)
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
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


class Accumulators:
    """Bounded-size counters filled chunk by chunk."""

    def __init__(self, days: int, sends: int) -> None:
        self.days = days
        self.ad_clicks = np.zeros((days, len(world.AD_UNITS)), dtype=np.int64)
        self.ga4: Counter[int] = Counter()
        self.email_clicks = np.zeros(max(sends, 1), dtype=np.int64)

    def add(self, j: Journeys, ga4_keys: np.ndarray) -> None:
        ad = j.touch_unit >= 0
        day = (j.touch_time[ad] - T0) // DAY
        np.add.at(self.ad_clicks, (day, j.touch_unit[ad]), 1)
        keys, counts = np.unique(ga4_keys, return_counts=True)
        self.ga4.update(dict(zip(keys.tolist(), counts.tolist())))
        mail = j.touch_send >= 0
        self.email_clicks += np.bincount(j.touch_send[mail], minlength=len(self.email_clicks))


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
    for key, count in sorted(acc.ga4.items()):
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
