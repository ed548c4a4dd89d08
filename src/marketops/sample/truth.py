"""Ground truth of the sample company, written next to (never inside) the inbox.

- ``identity.csv``: which true person each source record is (scores identity resolution);
- ``people.csv``: true person attributes and outcomes;
- ``channel_effects.csv``: the per-touch incremental conversion probability of each channel the
  journey simulation used (scores attribution).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> write_channel_effects(d / "channel_effects.csv")
    >>> (d / "channel_effects.csv").read_text().splitlines()[1]
    'paid_search_google,google_ads,ad_click,0.04,0.16'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from marketops.sample import dirt, world
from marketops.sample.exports import _dates, hubspot_contact_id
from marketops.sample.journeys import Journeys
from marketops.sample.people import People, company_names
from marketops.sample.sinks import TextSink

IDENTITY_HEADER = ["source_system", "source_file", "source_record_id", "person_id"]
PEOPLE_HEADER = ["person_id", "first_name", "last_name", "work_email", "personal_email", "phone", "company",
                 "job_title", "country", "city", "in_hubspot", "in_salesforce", "identified_at", "converted",
                 "converted_at", "conversion_probability", "has_deal", "deal_won", "deal_amount", "deal_currency"]


def write_channel_effects(path: Path) -> None:
    rows = [(c.name, c.platform, c.touch_type, c.weight, c.touch_share) for c in world.CHANNELS]
    rows.append(("(baseline)", "", "", world.BASELINE_RATE, 0.0))
    pl.DataFrame(rows, schema=["channel", "platform", "touchpoint_type", "incremental_conversion_probability",
                               "touch_share"], orient="row").write_csv(path)


def identity_rows(system: str, file: str, record_ids: list[str], pids: np.ndarray) -> pl.DataFrame:
    """Identity truth for one export: every row (duplicates included) -> its true person."""
    return pl.DataFrame({"source_system": system, "source_file": file, "source_record_id": record_ids,
                         "person_id": [f"P{p:09d}" for p in pids.tolist()]})


def people_rows(people: People, j: Journeys) -> pl.DataFrame:
    cc = [world.COUNTRIES[c] for c in people.country.tolist()]
    return pl.DataFrame({
        "person_id": [f"P{p:09d}" for p in people.pid.tolist()],
        "first_name": np.array(world.FIRST_NAMES)[people.first],
        "last_name": np.array(world.LAST_NAMES)[people.last],
        "work_email": people.work_email,
        "personal_email": people.personal_email,
        "phone": dirt.phone_e164(np.array([int(c[2]) for c in cc]), people.phone_area, people.phone_number),
        "company": company_names(people.company),
        "job_title": np.array(world.JOB_TITLES)[people.title],
        "country": [c[0] for c in cc],
        "city": people.city,
        "in_hubspot": people.in_hubspot,
        "in_salesforce": people.in_salesforce,
        "identified_at": _dates(j.identified_at, "%Y-%m-%dT%H:%M:%SZ"),
        "converted": j.converted,
        "converted_at": _dates(j.converted_at, "%Y-%m-%dT%H:%M:%SZ"),
        "conversion_probability": np.round(j.conversion_probability, 6),
        "has_deal": j.has_deal,
        "deal_won": j.deal_won,
        "deal_amount": np.round(j.deal_amount, 2),
        "deal_currency": [c[3] for c in cc],
    }).select(PEOPLE_HEADER)


def hubspot_identity(people: People, sel: np.ndarray, file: str) -> pl.DataFrame:
    return identity_rows("hubspot", file, hubspot_contact_id(people.pid[sel]).astype(str).tolist(), people.pid[sel])


def open_truth(truth_dir: Path) -> tuple[TextSink, TextSink]:
    return (TextSink(truth_dir / "identity.csv", IDENTITY_HEADER, line_end="\n"),
            TextSink(truth_dir / "people.csv", PEOPLE_HEADER, line_end="\n"))
