"""A constructed workspace for the lifecycle and handoff tests, with hand-computed answers.

Score group ``core``: threshold 30; fit: VP seniority 20 points; engagement: form fill 10 points (cap 30),
half-life so long that decay does not matter. Scored as of 31 March 2026.

- P1 (Email, campaign spring, source Webinar, account Acme): lead 2 Jan, MQL 5 Jan, SQL 10 Jan, deal created
  20 Jan and won 19 Feb.
- P2 (Paid Search, brand, Paid): a VP (20 fit points) with form fills on 3 Jan 10:00 and 7 Jan: the first fill
  makes 30 points -> MQL by score at 3 Jan 10:00 (no MQL stage); SQL 13 Jan.
- P3 (Email, spring, Webinar, account Acme): MQL 4 Jan, recycled 20 Jan ("No budget").
- P4 (Paid Search, brand, Paid): MQL 6 Jan, rejected 15 Jan ("Wrong contact").
- P5 (Email): a lead whose lead status is "Unqualified" (updated 25 Jan): rejected, no reason; never an MQL.
- P6: SQL stage only (8 Jan): an SQL, not an MQL.
- P7 (Paid Search, generic, Paid): MQL 9 Jan, a deal created 12 Jan (an SQL by the deal) and lost.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from marketops.workspace import Workspace

CONFIG = """name: Acme
language: en
leads:
  scoring:
    as_of: 2026-03-31
    half_life_days: 100000
    groups:
      - name: core
        mql_threshold: 30
        fit:
          - {name: VP, field: seniority, op: equals, value: vp, points: 20}
        engagement:
          - {name: Form fill, activity: form_fill, points: 10, cap: 30}
"""


def d(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)


#: person -> expected (mql_at, how) / (sql_at, how)
MQLS = {"P1": (d(1, 5), "stage mql"), "P2": (d(1, 3, 10), "score"), "P3": (d(1, 4), "stage mql"),
        "P4": (d(1, 6), "stage mql"), "P7": (d(1, 9), "stage mql")}
SQLS = {"P1": (d(1, 10), "stage sql"), "P2": (d(1, 13), "stage sql"), "P6": (d(1, 8), "stage sql"),
        "P7": (d(1, 12), "opportunity")}


def build(root: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "marketops.yaml").write_text(config, encoding="utf-8")
    ws = Workspace.init(root)
    ids = ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    people = {
        "person_id": ids,
        "email": [f"{p.lower()}@client.test" for p in ids],
        "first_name": ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus"],
        "seniority": [None, "vp", None, None, None, None, None],
        "owner": ["Ana Rossi"] * 7,
        "country": ["IT"] * 7,
        "account_id": ["A1", None, "A1", None, None, None, None],
        "lead_source": ["Webinar", "Paid", "Webinar", "Paid", "Webinar", None, "Paid"],
        "lifecycle_stage": ["Customer", "SQL", "Recycled", "Rejected", "Lead", "SQL", "Opportunity"],
        "lead_status": [None, None, None, None, "Unqualified", None, None],
        "created_at": [d(1, 1)] * 7,
        "updated_at": [d(1, 25)] * 7,
    }
    stages = [
        ("P1", "Lead", d(1, 2), None), ("P1", "Marketing Qualified Lead", d(1, 5), None),
        ("P1", "Sales Qualified Lead", d(1, 10), None),
        ("P2", "lead", d(1, 2), None), ("P2", "SQL", d(1, 13), None),
        ("P3", "MQL", d(1, 4), None), ("P3", "Recycled", d(1, 20), "No budget"),
        ("P4", "MQL", d(1, 6), None), ("P4", "Disqualified", d(1, 15), "Wrong contact"),
        ("P5", "Lead", d(1, 3), None),
        ("P6", "SQL", d(1, 8), None),
        ("P7", "MQL", d(1, 9), None),
        ("X9", "webinar attendee", d(1, 9), None),  # a stage nobody configured: left out
    ]
    touches = [  # person, when, type, channel group, source, campaign
        ("P1", d(1, 1, 9), "email_click", "Email", "newsletter", "spring"),
        ("P1", d(1, 2, 9), "web_session", "Organic Search", "google", None),
        ("P2", d(1, 2, 9), "ad_click", "Paid Search", "google", "brand"),
        ("P2", d(1, 3, 10), "form_fill", "Paid Search", "google", "brand"),
        ("P2", d(1, 7, 10), "form_fill", "Direct", None, None),
        ("P3", d(1, 1, 8), "email_click", "Email", "newsletter", "spring"),
        ("P4", d(1, 1, 8), "ad_click", "Paid Search", "google", "brand"),
        ("P5", d(1, 1, 8), "email_click", "Email", "newsletter", "spring"),
        ("P7", d(1, 1, 8), "ad_click", "Paid Search", "bing", "generic"),
    ]
    opps = [  # record, person, created, closed, won
        ("D1", "P1", d(1, 20), d(2, 19), True),
        ("D7", "P7", d(1, 12), d(2, 1), False),
    ]
    tables = {
        "golden_people": people,
        "golden_accounts": {"account_id": ["A1"], "name": ["Acme Corp"], "domain": ["acme.test"],
                            "employees": [500], "industry": ["Software"], "country": ["IT"], "owner": ["Ana Rossi"],
                            "annual_revenue": [1e7]},
        "lifecycle_stages": {"person_id": [s[0] for s in stages], "stage": [s[1] for s in stages],
                             "entered_at": [s[2] for s in stages], "exited_at": [None] * len(stages),
                             "reason": [s[3] for s in stages]},
        "touchpoints": {"record_key": [f"t{i}" for i in range(len(touches))], "person_id": [t[0] for t in touches],
                        "occurred_at": [t[1] for t in touches], "type": [t[2] for t in touches],
                        "channel_group": [t[3] for t in touches], "source": [t[4] for t in touches],
                        "campaign": [t[5] for t in touches], "landing_page": [None] * len(touches),
                        "event_name": [None] * len(touches)},
        "opportunities": {"record_id": [o[0] for o in opps], "person_id": [o[1] for o in opps],
                          "created_at": [o[2] for o in opps], "closed_at": [o[3] for o in opps],
                          "is_won": [o[4] for o in opps], "is_closed": [True] * len(opps),
                          "stage": ["Closed Won" if o[4] else "Closed Lost" for o in opps]},
    }
    try:
        for name, columns in tables.items():
            ws.engine.write(f"{name}__r1", pa.table(columns))
        ws.engine.publish({name: f"{name}__r1" for name in tables}, "r1")
    finally:
        ws.close()
    return root


# The fixtures of the test modules that read this workspace (each module builds its own ``root``).
@pytest.fixture
def ws(root):
    with Workspace.open(root, read_only=True) as w:
        yield w


@pytest.fixture
def workspace_root(root, clean_env, tmp_path):
    """A copy for the web app fixtures (each test gets its own app database)."""
    copy = tmp_path / "acme"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("app.sqlite*"))
    return copy
