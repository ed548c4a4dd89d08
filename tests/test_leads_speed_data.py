"""A constructed workspace for the speed-to-lead tests: MQLs of two teams (Rome and New York) with
hand-computed response times, first touches (and activities that are no first touch), holidays.

Judged at Wednesday 9 December 2026 12:00 in Rome (11:00 UTC). Team italy: 8 business hours, near
breach at 6; 09:00-13:00 and 14:00-18:00 on weekdays; Tuesday 8 December is a holiday. Team us: 4
business hours, 09:00-17:00 in New York, US holidays.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from marketops.workspace import Workspace

NOW = dt.datetime(2026, 12, 9, 11)  # UTC
HOSTILE = "<script>alert(1)</script>"

CONFIG = """name: Acme
timezone: Europe/Rome
language: en
leads:
  routing:
    owners:
      - {name: Ana Rossi, email: ana@acme.test, team: italy}
      - {name: Bob Stone, email: bob@acme.test, team: us}
  sla:
    target_hours: 8
    near_breach: 0.75
    alert_days: 30
    teams:
      - name: italy
        timezone: Europe/Rome
        holiday_country: IT
        hours: {mon: "09:00-13:00, 14:00-18:00", tue: "09:00-13:00, 14:00-18:00", wed: "09:00-13:00, 14:00-18:00",
                thu: "09:00-13:00, 14:00-18:00", fri: "09:00-13:00, 14:00-18:00"}
        escalate_to: boss.it@acme.test
      - name: us
        timezone: America/New_York
        holiday_country: US
        target_hours: 4
        escalate_to: boss.us@acme.test
"""


def rome(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo("Europe/Rome")).astimezone(dt.UTC).replace(tzinfo=None)


def new_york(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo("America/New_York")).astimezone(dt.UTC).replace(tzinfo=None)


#: person -> (email, owner, mql_at (UTC), lead_source, expected status, expected response / elapsed hours)
LEADS = {
    "P1": ("p1@client.it", "Ana Rossi", rome(2026, 12, 7, 17), "webinar", "met", 2.0),
    "P2": ("p2@client.it", "Ana Rossi", rome(2026, 12, 4, 16), "paid", "breached", 12.0),
    "P3": ("p3@client.it", "ana@acme.test", rome(2026, 12, 9, 9), "paid", "open", 3.0),
    "P4": ("p4@client.it", "Ana Rossi", rome(2026, 12, 7, 11, 30), "webinar", "open_breached", 8.5),
    "P5": ("p5@client.it", "Ana Rossi", rome(2026, 12, 7, 15), "organic", "near_breach", 6.0),
    "P6": ("p6@client.com", "Bob Stone", new_york(2026, 11, 25, 16), "paid", "met", 2.0),
    "P7": ("p7@client.it", HOSTILE, rome(2026, 12, 9, 11), None, "open", 1.0),
}


def build(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "marketops.yaml").write_text(CONFIG, encoding="utf-8")
    ws = Workspace.init(root)
    ids = [*LEADS, "P8", "P9"]
    people = {
        "person_id": ids,
        "email": [*(v[0] for v in LEADS.values()), "p8@client.it", "p9@client.it"],
        "first_name": ["A"] * len(ids),
        "owner": [*(v[1] for v in LEADS.values()), "Ana Rossi", "Ana Rossi"],
        "country": ["IT"] * len(ids),
        "account_id": [None] * len(ids),
        "lead_source": [*(v[3] for v in LEADS.values()), "paid", "paid"],
        "created_at": [dt.datetime(2026, 11, 1)] * len(ids),
    }
    stages = {"person_id": [], "stage": [], "entered_at": []}
    for pid, v in LEADS.items():
        stages["person_id"] += [pid, pid]
        stages["stage"] += ["lead", "Marketing Qualified Lead" if pid == "P2" else "MQL"]
        stages["entered_at"] += [v[2] - dt.timedelta(days=3), v[2]]
    # P1 entered MQL a second time later: the first time counts
    stages["person_id"].append("P1"), stages["stage"].append("mql"), stages["entered_at"].append(rome(2026, 12, 9, 9))
    # P8 is only an SQL (no MQL); P9 becomes an MQL after "now"
    stages["person_id"] += ["P8", "P9"]
    stages["stage"] += ["SQL", "MQL"]
    stages["entered_at"] += [rome(2026, 12, 7, 10), rome(2026, 12, 10, 10)]
    acts = [
        # P1: an activity before the MQL and an inbound email do not count; the call on Wednesday does
        ("A1", "P1", "email", "outbound", rome(2026, 12, 7, 10), "Ana Rossi", "Intro"),
        ("A2", "P1", "email", "inbound", rome(2026, 12, 7, 17, 30), None, "Re: question"),
        ("A3", "P1", "call", "outbound", rome(2026, 12, 9, 10), "Ana Rossi", "Discovery call"),
        ("A4", "P1", "email", "outbound", rome(2026, 12, 9, 10, 30), "Ana Rossi", "Follow-up"),
        # P2: direction unknown counts
        ("A5", "P2", "email", None, rome(2026, 12, 9, 11), "Ana Rossi", "Hello"),
        # P3: a touch after "now" does not count yet
        ("A6", "P3", "call", "outbound", rome(2026, 12, 9, 15), "Ana Rossi", "Later"),
        # P6: across US Thanksgiving
        ("A7", "P6", "meeting", "Outbound", new_york(2026, 11, 27, 10), "Bob Stone", "Demo"),
    ]
    tables = {
        "golden_people": people,
        "lifecycle_stages": stages,
        "sales_activities": {
            "record_id": [a[0] for a in acts], "person_id": [a[1] for a in acts], "type": [a[2] for a in acts],
            "direction": [a[3] for a in acts], "occurred_at": [a[4] for a in acts], "owner": [a[5] for a in acts],
            "subject": [a[6] for a in acts], "email": [None] * len(acts),
        },
    }
    try:
        for name, columns in tables.items():
            ws.engine.write(f"{name}__r1", pa.table(columns))
        ws.engine.publish({name: f"{name}__r1" for name in tables}, "r1")
    finally:
        ws.close()
    return root
