"""True people and companies of the sample company, generated a chunk at a time.

A person is drawn with numpy in vectorised batches; a company is a pure function of its index
(hashed, not drawn), so that people in any chunk can point at any company without the company
table ever being held in memory, and the companies export can be written in its own chunks.

Example:
    >>> import numpy as np
    >>> p = make_people(np.random.default_rng(1), start=0, n=5, n_companies=10)
    >>> len(p.pid), p.work_email[0].count("@")
    (5, 1)
    >>> company_names(np.array([0, 41]))[:2]
    ['Acme Analytics', 'Northwind Software']
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from marketops.sample import world


def ascii_fold(text: str) -> str:
    """Lower-case ASCII spelling used in email addresses and domains ("Müller" -> "muller").

    >>> ascii_fold("Lumière O'Neil")
    'lumiereoneil'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


_FIRST_ASCII = [ascii_fold(n) for n in world.FIRST_NAMES]
_LAST_ASCII = [ascii_fold(n) for n in world.LAST_NAMES]
_COUNTRY_P = np.cumsum(world.COUNTRY_SHARE)


def _unit(index: np.ndarray, salt: int) -> np.ndarray:
    """A uniform [0, 1) number per index: a splitmix64 hash, so companies need no stored state."""
    z = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt * 0xBF58476D1CE4E5B9 % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def company_country(idx: np.ndarray) -> np.ndarray:
    """Country index (into world.COUNTRIES) of each company."""
    return np.searchsorted(_COUNTRY_P, _unit(idx, 1) * _COUNTRY_P[-1], side="right")


def company_names(idx: np.ndarray) -> list[str]:
    """Company names; beyond the word list's combinations a number keeps them unique."""
    nw, nk = len(world.COMPANY_WORDS), len(world.COMPANY_KINDS)
    out = []
    for i in idx.tolist():
        name = f"{world.COMPANY_WORDS[i % nw]} {world.COMPANY_KINDS[(i // nw) % nk]}"
        out.append(name if i < nw * nk else f"{name} {i // (nw * nk) + 1}")
    return out


def company_domains(idx: np.ndarray) -> list[str]:
    tld = company_country(idx)
    nw, nk = len(world.COMPANY_WORDS), len(world.COMPANY_KINDS)
    out = []
    for i, t in zip(idx.tolist(), tld.tolist()):
        base = ascii_fold(world.COMPANY_WORDS[i % nw]) + "-" + ascii_fold(world.COMPANY_KINDS[(i // nw) % nk])
        out.append(f"{base}{'' if i < nw * nk else i // (nw * nk) + 1}.{world.COUNTRY_TLD[t]}")
    return out


def company_attributes(idx: np.ndarray) -> dict[str, np.ndarray]:
    """Employees, annual revenue and industry index per company, hashed from the index."""
    employees = np.round(np.exp(2.5 + 5.5 * _unit(idx, 2))).astype(np.int64)
    revenue = np.round(employees * (60_000 + 140_000 * _unit(idx, 3)), -3).astype(np.int64)
    industry = (_unit(idx, 4) * len(world.INDUSTRIES)).astype(np.int64)
    return {"employees": employees, "annual_revenue": revenue, "industry": industry}


def hubspot_company_id(idx: np.ndarray) -> np.ndarray:
    return 8_800_000_000 + idx.astype(np.int64) * 7 + 3


@dataclass
class People:
    """One chunk of true people: parallel arrays, index-aligned."""

    pid: np.ndarray
    first: np.ndarray          # index into world.FIRST_NAMES
    last: np.ndarray
    title: np.ndarray
    company: np.ndarray        # company index
    country: np.ndarray        # index into world.COUNTRIES (the company's country)
    city: list[str]
    phone_area: np.ndarray     # 2-digit area code
    phone_number: np.ndarray   # 8-digit subscriber number
    work_email: list[str]
    personal_email: list[str]
    in_hubspot: np.ndarray
    in_salesforce: np.ndarray
    #: in both CRMs, but Salesforce only knows the personal email: no shared email to match on
    sf_personal_email: np.ndarray
    propensity: np.ndarray     # multiplies every channel's and the baseline's effect
    anon_ids: np.ndarray       # (n, 2) visitor ids; second device used only when has_second_device
    has_second_device: np.ndarray

    def __len__(self) -> int:
        return len(self.pid)


def make_people(rng: np.random.Generator, *, start: int, n: int, n_companies: int) -> People:
    """Draw ``n`` people with ids ``start .. start + n - 1``."""
    pid = np.arange(start, start + n, dtype=np.int64)
    first = rng.integers(0, len(world.FIRST_NAMES), n)
    last = rng.integers(0, len(world.LAST_NAMES), n)
    title = rng.integers(0, len(world.JOB_TITLES), n)
    company = rng.integers(0, n_companies, n)
    country = company_country(company)
    city_pick = rng.integers(0, 1 << 30, n)
    city = [world.COUNTRIES[c][5][k % len(world.COUNTRIES[c][5])] for c, k in zip(country.tolist(), city_pick.tolist())]
    domains = company_domains(company)
    birth = rng.integers(1960, 2002, n)
    pdomain = rng.integers(0, len(world.PERSONAL_DOMAINS), n)
    work_email, personal_email = [], []
    for f, la, d, b, pd in zip(first.tolist(), last.tolist(), domains, birth.tolist(), pdomain.tolist()):
        work_email.append(f"{_FIRST_ASCII[f]}.{_LAST_ASCII[la]}@{d}")
        personal_email.append(f"{_FIRST_ASCII[f][0]}{_LAST_ASCII[la]}{b}@{world.PERSONAL_DOMAINS[pd]}")
    # CRM membership: 35% HubSpot only, 25% Salesforce only, 25% both, 15% neither (anonymous visitors).
    u = rng.random(n)
    in_hs = u < 0.60
    in_sf = (u >= 0.35) & (u < 0.85)
    sf_personal = in_hs & in_sf & (rng.random(n) < 0.2)
    propensity = np.exp(rng.normal(-0.125, 0.5, n)) * np.asarray(world.TITLE_PROPENSITY)[title]
    anon = np.stack([rng.integers(10**8, 2 * 10**9, n), rng.integers(10**8, 2 * 10**9, n)], axis=1)
    return People(pid, first, last, title, company, country, city, rng.integers(10, 99, n),
                  rng.integers(10**7, 10**8, n), work_email, personal_email, in_hs, in_sf, sf_personal,
                  propensity, anon, rng.random(n) < 0.3)
