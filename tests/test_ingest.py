"""Ingest: every input row is loaded or quarantined with a reason; nothing is doubled."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketops.ingest.loader import ingest_file, quarantine_rows
from marketops.workspace import Workspace


def _load(ws, path, **kw):
    results = ingest_file(ws, path, **kw)
    assert len(results) == 1
    return results[0]


def _raw(ws, entity="people"):
    return ws.engine.con.table(f"raw_{entity}").order_by("_source_row").to_pyarrow().to_pylist()


def test_good_rows_load_and_bad_rows_are_quarantined_with_row_column_reason(ws, cases):
    r = _load(ws, cases / "bad" / "unparseable_dates.csv")
    assert (r.status, r.entity, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", "people", 4, 2, 2)
    assert [p["email"] for p in _raw(ws)] == ["ann@example.com", "di@example.com"]
    q = sorted(quarantine_rows(ws.engine), key=lambda x: x["row"])
    assert [(x["file"], x["row"], x["column"]) for x in q] == [
        ("unparseable_dates.csv", 3, "Create Date"), ("unparseable_dates.csv", 4, "Create Date")]
    assert "expected" in q[0]["reason"] and "yesterday" in q[0]["reason"]
    # The quarantined row keeps every original cell, so nothing is lost.
    assert q[0]["raw"]["Email"] == "bo@example.com"


@pytest.mark.parametrize("name, loaded, quarantined, column, words", [
    ("truncated_rows.csv", 2, 1, None, "cut short"),
    ("extra_columns.csv", 2, 1, None, "extra cells"),
    ("bad_numbers.csv", 2, 2, "Impressions", "expected"),
    ("missing_required.csv", 1, 1, "Day", "missing required"),
    ("unclosed_quote.csv", None, None, None, None),
])
def test_broken_rows_never_cost_good_rows(ws, cases, name, loaded, quarantined, column, words):
    r = _load(ws, cases / "bad" / name)
    assert r.rows_in == r.rows_loaded + r.rows_quarantined
    if loaded is None:  # an unclosed quote swallows what follows; the good first row still loads
        assert r.rows_loaded >= 1 and r.rows_quarantined >= 1
        return
    assert (r.rows_loaded, r.rows_quarantined) == (loaded, quarantined)
    q = quarantine_rows(ws.engine)
    assert all(x["row"] >= 2 for x in q)
    assert any(words in x["reason"] for x in q)
    if column:
        assert any(x["column"] == column for x in q)


@pytest.mark.parametrize("name, words", [
    ("empty.csv", "empty"),
    ("blank_lines_only.csv", "no text"),
    ("binary_junk.csv", "not a text file"),
    ("header_only.csv", "no data rows"),
    ("not_a_workbook.xlsx", "cannot open this workbook"),
    ("unknown_columns.csv", "marketops map"),
])
def test_unreadable_files_fail_with_a_plain_message_naming_the_file(ws, cases, name, words):
    r = _load(ws, cases / "bad" / name)
    assert r.status == "failed"
    assert name in r.message and words in r.message
    assert "Traceback" not in r.message


def test_duplicated_headers_keep_both_values(ws, cases):
    r = _load(ws, cases / "bad" / "duplicated_headers.csv")
    assert r.rows_loaded == 2
    assert any("Email (2)" in w for w in r.warnings)
    first = _raw(ws)[0]
    assert first["email"] == "ann@example.com"
    assert json.loads(first["properties"])["Email (2)"] == "ann.lee@gmail.com"


def test_huge_cell_is_quarantined_and_neighbours_load(ws, tmp_path):
    f = tmp_path / "huge.csv"
    f.write_bytes(b"Email,First Name,Notes\nann@example.com,Ann,short\nbo@example.com,Bo,"
                  + b"x" * (9 * 1024 * 1024) + b"\ncy@example.com,Cy,fine\n")
    r = _load(ws, f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    assert quarantine_rows(ws.engine)[0]["row"] == 3


def test_broken_json_lines_quarantined(ws, cases):
    r = _load(ws, cases / "bad" / "broken.jsonl")
    assert (r.entity, r.rows_loaded, r.rows_quarantined) == ("touchpoints", 2, 1)
    assert quarantine_rows(ws.engine)[0]["row"] == 2


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parent / "cases" / "encodings").iterdir()))
def test_encodings_and_delimiters_seen_in_the_wild(ws, cases, name):
    r = _load(ws, cases / "encodings" / name)
    assert r.status == "loaded" and r.rows_quarantined == 0, r.message
    rows = _raw(ws)
    if name.startswith("russian"):
        assert [x["first_name"] for x in rows] == ["Иван", "Ольга"]
        assert rows[0]["city"] == "Москва"
        return
    assert [x["first_name"] for x in rows] == ["Anna", "Luca", "Zoë"]
    assert rows[0]["city"] == "Forlì" and rows[2]["last_name"] == "Müller"
    assert str(rows[1]["created_at"].date()) == "2024-03-25"


def test_reimporting_the_same_file_changes_nothing(ws, cases):
    f = cases / "bad" / "unparseable_dates.csv"
    first = _load(ws, f)
    before = (ws.engine.count("raw_people"), ws.engine.count("_quarantine"))
    again = _load(ws, f)
    assert again.status == "unchanged" and first.load_id == again.load_id
    assert (ws.engine.count("raw_people"), ws.engine.count("_quarantine")) == before


def test_same_bytes_under_another_name_are_recognised(ws, cases, tmp_path):
    copy = tmp_path / "renamed.csv"
    shutil.copy(cases / "encodings" / "utf8.csv", copy)
    _load(ws, cases / "encodings" / "utf8.csv")
    assert _load(ws, copy).status == "unchanged"


def test_newer_overlapping_export_updates_records_instead_of_duplicating(ws, tmp_path):
    from marketops.pipeline import run_pipeline

    old = ws.inbox / "contacts_march.csv"
    old.write_text("Record ID,Email,First Name,Lifecycle Stage,Last Modified Date\n"
                   "1,ann@acme-analytics.com,Ann,lead,2024-03-01\n2,bo@acme-analytics.com,Bo,lead,2024-03-01\n")
    assert run_pipeline(ws).status == "succeeded"
    new = ws.inbox / "contacts_april.csv"
    new.write_text("Record ID,Email,First Name,Lifecycle Stage,Last Modified Date\n"
                   "2,bo@acme-analytics.com,Bo,customer,2024-04-01\n3,cy@acme-analytics.com,Cy,lead,2024-04-01\n")
    assert run_pipeline(ws).status == "succeeded"
    people = {r["email"]: r for r in ws.table("people").to_pyarrow().to_pylist()}
    assert sorted(people) == ["ann@acme-analytics.com", "bo@acme-analytics.com", "cy@acme-analytics.com"]
    assert people["bo@acme-analytics.com"]["lifecycle_stage"] == "customer"
    assert people["bo@acme-analytics.com"]["_source_file"] == "contacts_april.csv"


def test_unmapped_columns_are_kept_as_queryable_custom_properties(ws, tmp_path):
    f = tmp_path / "leads.csv"
    f.write_text("Email,First Name,Favourite Colour,Lead Score\nann@example.com,Ann,teal,42\n")
    _load(ws, f)
    con = ws.engine.scratch()
    got = con.execute("SELECT properties->>'$.\"Favourite Colour\"', (properties->>'$.\"Lead Score\"')::INT "
                      "FROM raw_people").fetchone()
    assert got == ("teal", 42)


def test_every_sheet_of_a_workbook_loads(ws, tmp_path):
    import xlsxwriter

    f = tmp_path / "export.xlsx"
    wb = xlsxwriter.Workbook(str(f))
    a = wb.add_worksheet("Contacts")
    for i, row in enumerate([["Email", "First Name", "Create Date"], ["ann@example.com", "Ann", "2024-03-12"]]):
        a.write_row(i, 0, row)
    b = wb.add_worksheet("Spend")
    for i, row in enumerate([["Day", "Campaign", "Impressions", "Clicks", "Cost", "Currency"],
                             ["2024-03-12", "Brand", 1000, 10, 12.5, "EUR"]]):
        b.write_row(i, 0, row)
    wb.add_worksheet("Empty")
    wb.close()
    only = ingest_file(ws, f, sheet="Spend")
    assert [(r.sheet, r.entity, r.rows_loaded) for r in only] == [("Spend", "ad_spend", 1)]
    results = ingest_file(ws, f, force=True)
    assert [(r.sheet, r.entity, r.rows_loaded) for r in results] == [("Contacts", "people", 1), ("Spend", "ad_spend", 1)]


def test_a_sources_rule_maps_a_file_the_user_described(tmp_path):
    root = tmp_path / "acme"
    Workspace.init(root).close()
    cfg = root / "marketops.yaml"
    cfg.write_text(cfg.read_text().replace("sources: []", (
        "sources:\n  - pattern: 'weird_*.csv'\n    system: legacy_crm\n    entity: people\n"
        "    columns:\n      Mail: email\n      Chi: full_name\n")))
    with Workspace.open(root) as ws:
        f = tmp_path / "weird_1.csv"
        f.write_text("Mail,Chi\nann@example.com,Ann Lee\n")
        r = _load(ws, f)
        assert (r.status, r.system, r.entity) == ("loaded", "legacy_crm", "people")
        assert _raw(ws)[0]["full_name"] == "Ann Lee"


# -- the accounting invariant, over arbitrary damage ---------------------------------------------
good = st.tuples(st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True), st.sampled_from(["Ann", "Bo", "Zoë"]),
                 st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31)).map(lambda d: d.isoformat()))
damage = st.sampled_from(["ok", "cut", "extra", "bad_date", "blank"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(good, damage), min_size=1, max_size=30))
def test_rows_in_equals_loaded_plus_quarantined(tmp_path_factory, rows):
    root = tmp_path_factory.mktemp("prop")
    with Workspace.init(root / "ws") as ws:
        lines = ["Email,First Name,Create Date"]
        for (email, name, date), how in rows:
            lines.append({"ok": f"{email},{name},{date}", "cut": f"{email},{name}",
                          "extra": f"{email},{name},{date},x", "bad_date": f"{email},{name},someday",
                          "blank": f"{email},,"}[how])
        f = root / "contacts.csv"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        r = _load(ws, f)
        assert r.rows_in == len(rows)
        assert r.rows_in == r.rows_loaded + r.rows_quarantined
        bad = sum(how in ("cut", "extra", "bad_date") for _, how in rows)
        assert r.rows_quarantined == bad
        quarantined_rows = sorted(q["row"] for q in quarantine_rows(ws.engine))
        assert quarantined_rows == [i + 2 for i, (_, how) in enumerate(rows) if how in ("cut", "extra", "bad_date")]


def test_parquet_and_json_array_files_load(ws, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    spend = tmp_path / "spend.parquet"
    pq.write_table(pa.table({"Day": ["2024-03-01", "2024-03-02"], "Campaign": ["Brand", "Brand"],
                             "Impressions": [1000, 1100], "Clicks": [10, 11], "Cost": [12.5, 13.25],
                             "Currency": ["EUR", "EUR"]}), spend)
    r = _load(ws, spend)
    assert (r.entity, r.rows_loaded) == ("ad_spend", 2)
    rows = ws.engine.con.table("raw_ad_spend").order_by("date").to_pyarrow().to_pylist()
    assert [str(x["cost"]) for x in rows] == ["12.5000", "13.2500"] and rows[1]["clicks"] == 11

    conv = tmp_path / "orders.json"
    conv.write_text('[{"order_id": "A1", "order_date": "2024-03-01T10:00:00+01:00", "email": "ann@example.com", '
                    '"revenue": "1.234,50", "currency": "EUR"}, {"order_id": "A2", "order_date": '
                    '"2024-03-02T10:00:00Z", "email": "bo@example.com", "revenue": "99,00", "currency": "EUR"}]')
    r = _load(ws, conv)
    assert (r.entity, r.rows_loaded) == ("conversions", 2)
    rows = ws.engine.con.table("raw_conversions").order_by("record_id").to_pyarrow().to_pylist()
    assert str(rows[0]["value"]) == "1234.5000" and str(rows[0]["occurred_at"]) == "2024-03-01 09:00:00"


@pytest.mark.parametrize("first, last, email", [
    ("First Name", "Last Name", "Email"), ("first_name", "last_name", "email"), ("fname", "lname", "e-mail"),
    ("f-name", "l-name", "E-Mail Address"), ("Nome", "Cognome", "Indirizzo email"),
    ("Nombre", "Apellido", "Correo electrónico"), ("Имя", "Фамилия", "Электронная почта"),
])
def test_headers_in_any_spelling_and_language(ws, tmp_path, first, last, email):
    f = tmp_path / "contacts.csv"
    f.write_text(f"{first},{last},{email}\nAnna,Rossi,anna@example.it\n", encoding="utf-8")
    r = _load(ws, f)
    assert r.entity == "people" and r.rows_loaded == 1
    row = _raw(ws)[0]
    assert (row["first_name"], row["last_name"], row["email"]) == ("Anna", "Rossi", "anna@example.it")


def test_local_number_date_and_money_formats_decided_from_the_whole_column(ws, tmp_path):
    f = tmp_path / "spend.csv"
    f.write_text(
        "Day;Campaign;Impressions;Clicks;Cost\n"
        "03/04/2024;Brand;1.234;10;\"1.234,56 €\"\n"      # 03/04 alone is ambiguous...
        "25/04/2024;Brand;2.000;11;\"1 200,00 €\"\n"      # ...25/04 proves the column is day-first
        "45383;Brand;900;12;\"0,99 €\"\n",                # an Excel serial date (2024-04-01)
        encoding="utf-8")
    r = _load(ws, f)
    assert r.rows_quarantined == 0, quarantine_rows(ws.engine)
    rows = ws.engine.con.table("raw_ad_spend").order_by("_source_row").to_pyarrow().to_pylist()
    assert [str(x["date"]) for x in rows] == ["2024-04-03", "2024-04-25", "2024-04-01"]
    assert [x["impressions"] for x in rows] == [1234, 2000, 900]
    assert [str(x["cost"]) for x in rows] == ["1234.5600", "1200.0000", "0.9900"]
    assert {x["currency"] for x in rows} == {"EUR"}

    g = tmp_path / "deals.csv"
    g.write_text("Deal Name,Amount,Close Date\nBig,\"$1,200\",12/31/2024\nSmall,$75.50,01/02/2024\n")
    _load(ws, g)
    deals = ws.engine.con.table("raw_opportunities").order_by("_source_row").to_pyarrow().to_pylist()
    assert [str(d["amount"]) for d in deals] == ["1200.0000", "75.5000"]
    assert [d["currency"] for d in deals] == ["USD", "USD"]
    assert [str(d["closed_at"].date()) for d in deals] == ["2024-12-31", "2024-01-02"]  # month-first here


def test_clean_json_lines_keep_nested_values_and_line_numbers(ws, tmp_path):
    f = tmp_path / "events.jsonl"
    f.write_text('{"anonymous_id": "a1", "timestamp": "2024-03-01T10:00:00+01:00", "utm_source": "google", '
                 '"context": {"page": "/pricing", "ab": [1, 2]}}\n'
                 '{"anonymous_id": "a2", "timestamp": "2024-03-01T11:00:00Z", "utm_source": "fb", "plan": "pro"}\n')
    r = _load(ws, f)
    assert (r.entity, r.rows_loaded, r.rows_quarantined) == ("touchpoints", 2, 0)
    rows = ws.engine.con.table("raw_touchpoints").order_by("_source_row").to_pyarrow().to_pylist()
    assert [x["_source_row"] for x in rows] == [1, 2]
    assert str(rows[0]["occurred_at"]) == "2024-03-01 09:00:00"
    assert json.loads(json.loads(rows[0]["properties"])["context"]) == {"page": "/pricing", "ab": [1, 2]}
    assert json.loads(rows[1]["properties"])["plan"] == "pro"
