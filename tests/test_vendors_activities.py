"""Sales activity exports: HubSpot's activities export and Salesforce's Tasks and Events report load into
``sales_activities`` with the vendor's dates, types, directions and people."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from marketops.ingest.loader import ingest_file
from marketops.ingest.vendors import by_name, recognise

CASES = Path(__file__).parent / "cases" / "vendors"


def _load(ws, name: str) -> list[dict]:
    [result] = ingest_file(ws, CASES / name)
    assert result.status == "loaded", result.message
    assert result.rows_quarantined == 0
    return ws.engine.con.table("raw_sales_activities").order_by("_source_row").to_pyarrow().to_pylist()


def test_hubspot_activities_load(ws):
    rows = _load(ws, "hubspot_activities.csv")
    assert [r["type"] for r in rows] == ["Call", "Email", "Call", "Meeting", "Call"]
    assert [r["direction"] for r in rows] == ["Outbound", None, "Inbound", None, "Outbound"]
    first = rows[0]
    assert first["occurred_at"] == dt.datetime(2024, 5, 2, 9, 41)
    assert (first["owner"], first["outcome"], first["person_record_id"], first["_source_system"]) == (
        "Giulia Bianchi", "Connected", "51234567801", "hubspot")
    # the contact's name and email ("Name (email)") stays as a property, the ids link the person
    assert "giulia.rossi@acme-analytics.it" in first["properties"]


def test_salesforce_activities_load_with_us_dates(ws):
    rows = _load(ws, "salesforce_activities.csv")
    assert [r["occurred_at"] for r in rows] == [dt.datetime(2024, 3, 12, 14, 3), dt.datetime(2024, 3, 12, 16, 40),
                                                dt.datetime(2024, 3, 19, 10, 0), dt.datetime(2024, 3, 20, 9, 12)]
    # this report writes "Task Subtype" and "Contact ID" where the sample writes "Type" and "Lead ID"
    assert [r["type"] for r in rows] == ["Call", "Email", "Event", "Call"]
    assert [r["direction"] for r in rows] == ["Outbound", None, None, "Inbound"]
    assert rows[0]["person_record_id"] == "0035g00000XyZaBAAV" and rows[0]["owner"] == "Marco Verdi"
    assert rows[3]["outcome"] == "Left Voicemail" and rows[1]["subject"].startswith("Email:")


def test_activity_formats_are_told_apart_from_the_people_exports():
    assert recognise(["Activity date", "Activity type", "Activity assigned to", "Record ID"]).name == "hubspot_activities"
    assert recognise(["Assigned", "Subject", "Date", "Type", "Lead ID"]).name == "salesforce_activities"
    # a leads report is still a leads report, though it also has an email and an owner
    assert recognise(["Lead ID", "Company / Account", "Lead Source", "Email", "Lead Owner"]).name == "salesforce_leads"
    for name in ("hubspot_activities", "salesforce_activities"):
        assert by_name(name).entity == "sales_activities"
