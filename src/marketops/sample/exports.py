"""Per-chunk rows of the record-level exports: CRM people and deals, web events, conversions, lifecycle.

Each function turns one chunk of true people and journeys into a polars DataFrame whose columns
are the vendor's headers (taken from the VendorFormat, so the files are recognised), with the
system's own formats and dirt applied. Ids are scrambled bijections of the person id, so that
ids of different systems do not reveal who is who.

Example:
    >>> hubspot_contact_id(np.array([0, 1]))
    array([51200000000, 53854435761])
    >>> salesforce_id("00Q5g", np.array([0]), 1)[0]
    '00Q5g0001000003AAV'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from marketops.sample import dirt, world
from marketops.sample.journeys import Journeys
from marketops.sample.people import People, company_domains, company_names, hubspot_company_id

if TYPE_CHECKING:
    from marketops.sample.sales import SalesSide

_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_TOKEN = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_FIRST = np.array(world.FIRST_NAMES, dtype=object)
_LAST = np.array(world.LAST_NAMES, dtype=object)
_REP_NAMES = np.array([r.name for r in world.SALES_REPS], dtype=object)


def hubspot_contact_id(pid: np.ndarray) -> np.ndarray:
    return 51_200_000_000 + (pid.astype(np.int64) * 2_654_435_761) % 2**32


def hubspot_deal_id(pid: np.ndarray) -> np.ndarray:
    return 19_100_000_000 + (pid.astype(np.int64) * 40_503 + 7) % 2**32


def salesforce_id(prefix: str, number: np.ndarray, variant: int = 0) -> list[str]:
    """18-character Salesforce-looking ids: prefix, a variant digit, 6 base-62 digits, a checksum-like tail."""
    x = (number.astype(np.int64) * 40_503 + 3) % 62**6  # 40503 is coprime with 62**6: a bijection
    digits = np.empty((len(x), 6), dtype=np.uint8)
    for i in range(5, -1, -1):
        digits[:, i] = _B62[x % 62]
        x //= 62
    body = digits.view("S6").ravel().astype("U6")
    return [f"{prefix}000{variant}{b}AAV" for b in body.tolist()]


def tokens(rng: np.random.Generator, n: int, length: int, prefix: str) -> np.ndarray:
    """Click ids such as gclid ("Cj0KCQiA...") as an array of strings."""
    chars = _TOKEN[rng.integers(0, 64, (n, length))]
    return np.char.add(prefix, chars.view(f"S{length}").ravel().astype(f"U{length}"))


def _epoch_format(seconds: np.ndarray, fmt: str, offset_hours: np.ndarray | int = 0) -> pl.Series:
    s = pl.Series(np.asarray(seconds, dtype=np.int64) + np.asarray(offset_hours, dtype=np.int64) * 3600)
    return pl.select(pl.from_epoch(s, time_unit="s").dt.strftime(fmt)).to_series()


def _dates(seconds: np.ndarray, fmt: str) -> list[str | None]:
    """Formatted dates; None where the time is unknown (-1)."""
    formatted = _epoch_format(np.maximum(seconds, 0), fmt).to_list()
    return [f if s >= 0 else None for f, s in zip(formatted, np.asarray(seconds).tolist())]


def lifecycle(people: People, j: Journeys, end: int) -> pl.DataFrame:
    """HubSpot lifecycle stage history of the chunk's HubSpot contacts (local index, stage, entered_at)."""
    rows = []
    hs = people.in_hubspot & (j.identified_at >= 0)
    first = np.where(j.first_channel == 5, 0, 1)  # newsletter sign-ups start as subscribers
    rows.append((hs, first, j.identified_at))
    mql_at = np.where(j.converted, j.converted_at, j.identified_at + 9 * 86_400)
    rows.append((hs & (j.converted | (people.pid % 4 == 0)) & (mql_at <= end), 2, mql_at))
    rows.append((hs & j.has_deal, 3, j.deal_created))
    rows.append((hs & j.has_deal, 4, j.deal_created + 3600))
    rows.append((hs & j.deal_won, 5, j.deal_close))
    idx, stage, at = [], [], []
    for mask, s, t in rows:
        sel = np.flatnonzero(mask)
        idx.append(sel)
        stage.append(np.broadcast_to(s, len(people))[sel])
        at.append(np.asarray(t)[sel])
    out = pl.DataFrame({"i": np.concatenate(idx), "stage": np.concatenate(stage).astype(np.int64),
                        "at": np.concatenate(at).astype(np.int64)})
    return out.sort(["i", "at", "stage"])


def hubspot_contacts(rng: np.random.Generator, people: People, j: Journeys, stages: pl.DataFrame,
                     header: list[str], side: SalesSide) -> tuple[pl.DataFrame, np.ndarray]:
    """The HubSpot contacts rows (with ~1% duplicated rows) and the local indices they came from."""
    sel = np.flatnonzero(people.in_hubspot)
    outcome = side.person_outcome(len(people))[sel]
    touched = side.person_touched(len(people))[sel]
    is_lead = np.zeros(len(people), dtype=bool)
    is_lead[side.lead] = True
    # marketing keeps the people sales has not seen yet unassigned now and then
    owner = np.where(~is_lead[sel] & (people.pid[sel] % 4 == 3), "", _REP_NAMES[side.owner[sel]])
    current = stages.group_by("i", maintain_order=True).agg(pl.col("stage").last())
    stage_of = np.zeros(len(people), dtype=np.int64)
    stage_of[current["i"].to_numpy()] = current["stage"].to_numpy()
    cc = np.array([int(world.COUNTRIES[c][2]) for c in people.country[sel].tolist()])
    created = j.identified_at[sel]
    modified = np.maximum(created, np.maximum(j.deal_created[sel], j.converted_at[sel]))
    emails = dirt.junk(rng, [people.work_email[i] for i in sel.tolist()], empty=0.02, na=0.005)
    frame = pl.DataFrame({
        "Record ID": hubspot_contact_id(people.pid[sel]),
        "First Name": dirt.mess_names(rng, _FIRST[people.first[sel]].tolist(), upper=0.0, lower=0.02, typos=0.0),
        "Last Name": dirt.mess_names(rng, _LAST[people.last[sel]].tolist(), upper=0.01, lower=0.02, typos=0.0),
        "Email": emails,
        "Phone Number": dirt.junk(rng, dirt.phone_international(cc, people.phone_area[sel], people.phone_number[sel]),
                                  empty=0.08, absurd=0.003),
        "Company Name": company_names(people.company[sel]),
        "Job Title": np.array(world.JOB_TITLES)[people.title[sel]],
        "Website URL": company_domains(people.company[sel]),
        "Country/Region": [world.COUNTRIES[c][1] for c in people.country[sel].tolist()],
        "City": [people.city[i] for i in sel.tolist()],
        "Lifecycle Stage": np.array(world.CURRENT_STAGES)[stage_of[sel]],
        "Lead Status": np.select([j.has_deal[sel], outcome == 3, outcome == 2, touched | j.converted[sel]],
                                 ["Open Deal", "Unqualified", "Bad Timing", "In Progress"], "New"),
        "Original Source": np.array(world.HUBSPOT_SOURCE)[j.first_channel[sel]],
        "Contact owner": owner,
        "Associated Company ID": hubspot_company_id(people.company[sel]),
        "Create Date": dirt.bad_dates(rng, _dates(created, "%Y-%m-%d %H:%M"), 0.002, ("", "n/a", "0000-00-00 00:00")),
        "Last Modified Date": _dates(modified, "%Y-%m-%d %H:%M"),
        "Unsubscribed from all email": np.where(rng.random(len(sel)) < 0.04, "true", "false"),
    }).select(header)
    return _with_duplicates(rng, frame, sel, 0.01)


def _with_duplicates(rng: np.random.Generator, frame: pl.DataFrame, sel: np.ndarray,
                     rate: float) -> tuple[pl.DataFrame, np.ndarray]:
    """Repeat a few rows (an export taken across a sync glitch) at random positions."""
    dup = np.flatnonzero(rng.random(frame.height) < rate)
    order = np.argsort(np.concatenate([np.arange(frame.height) * 2.0, dup * 2.0 + 1]), kind="stable")
    rows = np.concatenate([np.arange(frame.height), dup])[order]
    return frame[rows], sel[rows]


def salesforce_leads(rng: np.random.Generator, people: People, j: Journeys, header: list[str],
                     date_fmt: str, side: SalesSide) -> tuple[pl.DataFrame, np.ndarray, list[str]]:
    """Salesforce lead rows, including a second lead record for ~2% of people (a true duplicate)."""
    base = np.flatnonzero(people.in_salesforce)
    twin = base[rng.random(len(base)) < 0.02]
    sel = np.concatenate([base, twin])
    variant = np.concatenate([np.zeros(len(base), int), np.ones(len(twin), int)])
    ids = [f"{a[:8]}{v}{a[9:]}" for a, v in zip(salesforce_id("00Q5g", people.pid[sel]), variant.tolist())]
    cc = np.array([int(world.COUNTRIES[c][2]) for c in people.country[sel].tolist()])
    email = [people.personal_email[i] if people.sf_personal_email[i] else people.work_email[i] for i in sel.tolist()]
    email = dirt.junk(rng, dirt.mess_case(rng, email, 0.25), empty=0.03)
    company = company_names(people.company[sel])
    style = rng.random(len(sel)).tolist()
    suffix = rng.integers(0, len(world.LEGAL_SUFFIX), len(sel)).tolist()
    company = [c.upper() if s < 0.1 else c + world.LEGAL_SUFFIX[k] if s < 0.35 else c
               for c, s, k in zip(company, style, suffix)]
    country = [world.COUNTRIES[c][0] if s < 0.5 else world.COUNTRIES[c][1]
               for c, s in zip(people.country[sel].tolist(), rng.random(len(sel)).tolist())]
    created = j.identified_at[sel] + variant * 86_400 * 3
    outcome = side.person_outcome(len(people))[sel]
    touched = side.person_touched(len(people))[sel]
    status = np.select([j.has_deal[sel], outcome >= 2, touched | j.converted[sel]],
                       ["Closed - Converted", "Closed - Not Converted", "Working - Contacted"], "Open - Not Contacted")
    frame = pl.DataFrame({
        "Lead ID": ids,
        "First Name": dirt.mess_names(rng, _FIRST[people.first[sel]].tolist(), upper=0.12, lower=0.08,
                                      typos=0.04, nicknames=0.25),
        "Last Name": dirt.mess_names(rng, _LAST[people.last[sel]].tolist(), upper=0.08, lower=0.1, typos=0.03),
        "Title": np.array(world.JOB_TITLES)[people.title[sel]],
        "Company / Account": company,
        "Email": email,
        "Phone": dirt.junk(rng, dirt.phone_salesforce(rng, cc, people.phone_area[sel], people.phone_number[sel]),
                           empty=0.1, na=0.01, absurd=0.005),
        "City": [people.city[i] for i in sel.tolist()],
        "Country": country,
        "Lead Source": np.array(world.SALESFORCE_SOURCE)[j.first_channel[sel]],
        "Lead Status": status,
        "Lead Owner": _REP_NAMES[side.owner[sel]],
        "Email Opt Out": np.where(rng.random(len(sel)) < 0.04, "1", "0"),
        "Create Date": dirt.bad_dates(rng, _dates(created, date_fmt), 0.003, ("31/02/2024", "n/a", "", "13/13/2024")),
        "Last Modified Date": _dates(np.maximum(created, j.deal_created[sel]), date_fmt),
    }).select(header)
    # exact duplicate rows too: the same report exported twice and concatenated
    frame, sel = _with_duplicates(rng, frame, sel, 0.005)
    return frame, sel, frame["Lead ID"].to_list()


def _amounts(values: np.ndarray, decimal_comma: bool) -> list[str]:
    if decimal_comma:  # Italian locale: 24.000,50
        return [f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") for v in values.tolist()]
    return [f"{v:.2f}" for v in values.tolist()]


def deals(people: People, j: Journeys, *, salesforce: bool, header: list[str], lead_ids: dict[int, str],
          date_fmt: str, rep: np.ndarray) -> pl.DataFrame:
    """Deals of the chunk: Salesforce opportunities for people sales knows, HubSpot deals for the rest."""
    owner = people.in_salesforce if salesforce else ~people.in_salesforce
    sel = np.flatnonzero(j.has_deal & owner)
    names = company_names(people.company[sel])
    product = np.array(world.PRODUCTS)[people.pid[sel] % len(world.PRODUCTS)]
    currency = [world.COUNTRIES[c][3] for c in people.country[sel].tolist()]
    closed, won = j.deal_closed[sel], j.deal_won[sel]
    stages_open = np.array(world.DEAL_STAGES_OPEN_SF if salesforce else world.DEAL_STAGES_OPEN_HS)
    open_stage = stages_open[people.pid[sel] % len(stages_open)]
    stage = np.where(won, "Closed Won", np.where(closed, "Closed Lost", open_stage))
    updated = np.where(closed, j.deal_close[sel], j.deal_created[sel] + 86_400)
    if salesforce:
        return pl.DataFrame({
            "Opportunity ID": salesforce_id("0065g", people.pid[sel]),
            "Opportunity Name": [f"{n} - {p}" for n, p in zip(names, product)],
            "Account ID": salesforce_id("0015g", people.company[sel]),
            "Account Name": names,
            "Contact ID": [lead_ids.get(int(i), "") for i in people.pid[sel].tolist()],
            "Email": [people.personal_email[i] if people.sf_personal_email[i] else people.work_email[i]
                      for i in sel.tolist()],
            "Amount": _amounts(j.deal_amount[sel], decimal_comma=True),
            "Amount Currency": currency,
            "Stage": stage,
            "Opportunity Owner": _REP_NAMES[rep[sel]],
            "Lead Source": np.array(world.SALESFORCE_SOURCE)[j.first_channel[sel]],
            "Created Date": _dates(j.deal_created[sel], date_fmt),
            "Close Date": _dates(j.deal_close[sel], date_fmt),
            "Won": np.where(won, "1", "0"),
            "Closed": np.where(closed, "1", "0"),
            "Last Modified Date": _dates(updated, date_fmt),
        }).select(header)
    return pl.DataFrame({
        "Record ID": hubspot_deal_id(people.pid[sel]),
        "Deal Name": [f"{n} - {p}" for n, p in zip(names, product)],
        "Associated Company IDs": hubspot_company_id(people.company[sel]),
        "Associated Company": names,
        "Associated Contact IDs": np.where(people.in_hubspot[sel], hubspot_contact_id(people.pid[sel]).astype(str), ""),
        "Amount": _amounts(j.deal_amount[sel], decimal_comma=False),
        "Currency": currency,
        "Deal Stage": stage,
        "Pipeline": "Sales Pipeline",
        "Deal owner": _REP_NAMES[rep[sel]],
        "Create Date": _dates(j.deal_created[sel], "%Y-%m-%d %H:%M"),
        "Close Date": _dates(j.deal_close[sel], "%Y-%m-%d %H:%M"),
        "Is Closed Won": np.where(won, "true", "false"),
        "Is closed": np.where(closed, "true", "false"),
        "Last Modified Date": _dates(updated, "%Y-%m-%d %H:%M"),
    }).select(header)
