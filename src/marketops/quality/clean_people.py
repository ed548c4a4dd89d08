"""Cleaning people: what a contact record needs beyond one normaliser per column.

* **Phones** are read in the record's own country: ``02 1234 5678`` on an Italian contact is
  ``+390212345678``, on a British one something else entirely. The country is the *cleaned* one
  (``Italia`` -> ``IT``); a record without a usable country falls back to the workspace's
  ``default_region``, and without that a national number is rejected with a reason that says how
  to fix it. Each distinct (phone, country) pair is normalised once.
* **Names**: ``first_name`` and ``last_name`` missing (or rejected) are taken from ``full_name``
  split in two (``Smith, John`` -> John / Smith).
* **Derived**: ``email_domain``, ``email_role`` and ``email_disposable`` from the clean email;
  ``company_key`` (for matching companies); ``seniority`` and ``job_function`` from the title.

Example:
    >>> pairs = [("02 1234 5678", "IT"), ("020 7946 0958", "GB"), ("02 1234 5678", "")]
    >>> phone_mapping(pairs, None).column("phone__value").to_pylist()
    ['+390212345678', '+442079460958', None]
    >>> phone_mapping(pairs, "IT").column("phone__value").to_pylist()
    ['+390212345678', '+442079460958', '+390212345678']
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import phonenumbers
import pyarrow as pa

from marketops.quality.clean_mapping import TableCleaning
from marketops.quality.normalise import normalise_values, split_full_name

__all__ = ["NO_REGION_REASON", "clean_people", "email_extras", "name_parts", "phone_mapping"]

NO_REGION_REASON = ("written without a country code, and the record has no country: set default_region in "
                    "marketops.yaml (for example default_region: IT) to read such numbers")


def email_extras(mapping: pa.Table) -> dict[str, pa.Array]:
    """``domain``, ``role`` and ``disposable`` of each clean email (NULL when rejected).

    >>> from marketops.quality.normalise import normalise_values
    >>> email_extras(normalise_values(["Info@Acme.com", "n/a"], "email"))["role"].to_pylist()
    [True, None]
    """
    values = mapping.column("value").to_pylist()
    flags = mapping.column("flags").to_pylist()
    return {
        "domain": pa.array([v.rsplit("@", 1)[1] if v else None for v in values], pa.string()),
        "role": pa.array([("role_address" in f) if v else None for v, f in zip(values, flags)], pa.bool_()),
        "disposable": pa.array([("disposable" in f) if v else None for v, f in zip(values, flags)], pa.bool_()),
    }


def name_parts(mapping: pa.Table) -> dict[str, pa.Array]:
    """``first`` and ``last`` of each full name, split (see :func:`~marketops.quality.normalise.split_full_name`).

    >>> from marketops.quality.normalise import normalise_values
    >>> parts = name_parts(normalise_values(["SMITH, JOHN", "n/a"], "person_name"))
    >>> parts["first"].to_pylist(), parts["last"].to_pylist()
    (['John', None], ['Smith', None])
    """
    split = [split_full_name(raw) for raw in mapping.column("raw_text").to_pylist()]
    return {"first": pa.array([s.first for s in split], pa.string()),
            "last": pa.array([s.last for s in split], pa.string())}


def phone_mapping(pairs: Iterable[tuple[str, str]], default_region: str | None) -> pa.Table:
    """``phone__raw, phone__region, phone__value, phone__reason`` for each (phone, record country).

    ``phone__region`` is the record's clean country ('' when it has none), the join key. Numbers
    are read in that country when libphonenumber knows it, else in ``default_region``; a number
    written once but found on records of many countries is normalised once per region.
    """
    pairs = list(dict.fromkeys(pairs))

    def region_of(country: str) -> str | None:
        return country if country in phonenumbers.SUPPORTED_REGIONS else default_region

    by_region: dict[str | None, list[str]] = {}
    for phone, country in pairs:
        by_region.setdefault(region_of(country), []).append(phone)
    results: dict[tuple[str | None, str], tuple[str | None, str | None]] = {}
    for region, phones in by_region.items():
        m = normalise_values(phones, "phone", default_region=region)
        columns = (m.column(c).to_pylist() for c in ("raw_text", "value", "flags", "reason"))
        for raw, value, flags, reason in zip(*columns):
            if "empty" in flags:
                reason = None
            elif "no_region" in flags:
                reason = NO_REGION_REASON
            results[(region, raw)] = (value, reason)
    found = [results[(region_of(country), phone)] for phone, country in pairs]
    return pa.table({
        "phone__raw": pa.array([p for p, _ in pairs], pa.string()),
        "phone__region": pa.array([c for _, c in pairs], pa.string()),
        "phone__value": pa.array([v for v, _ in found], pa.string()),
        "phone__reason": pa.array([r for _, r in found], pa.string()),
    })


def clean_people(work: TableCleaning, t: ibis.Table) -> ibis.Table:
    """The cleaned people table (see the module docstring)."""
    t = work.normalise(t, "country", "country")
    t = t.mutate(_phone_region=ibis.coalesce(t["country__value"], ibis.literal("")))
    pairs = (t.select(p=t.phone, r=t._phone_region).filter(lambda x: x.p.notnull()).distinct()
             .to_pyarrow().to_pylist())
    work.distinct["phone"] = len(pairs)
    phones = work.mapping("phone", phone_mapping(((x["p"], x["r"]) for x in pairs), work.options.default_region))
    t = t.left_join(phones, [t.phone == phones.phone__raw, t._phone_region == phones.phone__region])

    t = work.normalise(t, "email", "email", extras=email_extras)
    t = work.normalise(t, "first_name", "person_name")
    t = work.normalise(t, "last_name", "person_name")
    t = work.normalise(t, "full_name", "person_name", extras=name_parts)
    t = work.normalise(t, "company", "company")
    t = work.normalise(t, "job_title", "job_title")
    return work.finish(
        t,
        clean={"first_name": ibis.coalesce(t["first_name__value"], t["full_name__first"]),
               "last_name": ibis.coalesce(t["last_name__value"], t["full_name__last"])},
        derived={"email_domain": t["email__domain"], "email_role": t["email__role"],
                 "email_disposable": t["email__disposable"], "company_key": t["company__key"],
                 "seniority": t["job_title__seniority"], "job_function": t["job_title__function"]},
    )
