"""The People pages and API: search over golden records, one person's record, sources and journey."""

from __future__ import annotations

import io
import json
import shutil
import string
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from marketops.app import create_app
from marketops.app.people import search_people
from marketops.state.db import dispose, session_scope
from marketops.state.tokens import create_token
from marketops.state.users import create_user, get_user
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, app, clean_env, client, login, login_as, users  # noqa: F401

HOSTILE = "<script>alert(1)</script>"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _write(ws: Workspace, tables: dict[str, dict]) -> None:
    for name, columns in tables.items():
        ws.engine.write(f"{name}__r1", pa.table(columns))
    ws.engine.publish({name: f"{name}__r1" for name in tables}, "r1")


def people_workspace(root: Path) -> Path:
    """Three people as a pipeline run would leave them: golden records, source records, identity
    map and pairs, touchpoints, conversions, lifecycle stages and a deal."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "marketops.yaml").write_text("name: Acme\nlanguage: en\n", encoding="utf-8")
    ws = Workspace.init(root)
    contributors = json.dumps({"email": "hubspot:1", "phone": "salesforce:9", "company": "salesforce:9"})
    try:
        _write(ws, {
            "golden_people": {
                "person_id": ["P1", "P2", "P3"],
                "first_name": ["Ana", HOSTILE, "Bo"],
                "last_name": ["Rossi", "Evil", "Chen"],
                "email": ["ana.rossi@acme.it", "x@evil.test", "bo@globex.com"],
                "phone": ["+393331234567", None, "+12025550123"],
                "company": ["Acme S.p.A.", "Evil <b>Corp</b>", "Globex"],
                "job_title": ["CMO", None, "Analyst"],
                "country": ["IT", None, "US"],
                "lifecycle_stage": ["lead", None, None],
                "account_id": ["A1", None, None],
                "created_at": [ts("2024-01-01 09:00"), ts("2024-02-01 09:00"), ts("2024-03-01 09:00")],
                "updated_at": [ts("2024-05-01 09:00"), ts("2024-04-01 09:00"), ts("2024-06-01 09:00")],
                "unsubscribed": [False, False, True],
                "source_records": [2, 1, 1],
                "sources": ["hubspot,salesforce", "generic", "hubspot"],
                "contributors": [contributors, None, None],
            },
            "people": {
                "record_key": ["hubspot:1", "salesforce:9", "generic:7", "hubspot:2"],
                "person_id": ["P1", "P1", "P2", "P3"],
                "_source_system": ["hubspot", "salesforce", "generic", "hubspot"],
                "_source_file": ["hubspot_contacts.csv", "salesforce_leads.csv", "people.csv", "hubspot_contacts.csv"],
                "_source_row": [12, 4, 2, 13],
                "email": ["ana.rossi@acme.it", None, "x@evil.test", "bo@globex.com"],
                "email_original": ["ana.rossi@acme.it", "ana at acme", "x@evil.test", "bo@globex.com"],
                "email_issue": [None, "not an email address", None, None],
                "first_name": ["Ana", "Ana", HOSTILE, "Bo"],
                "last_name": ["Rossi", "Rossi", "Evil", "Chen"],
                "phone": [None, "+393331234567", None, "+12025550123"],
                "company": ["Acme", "Acme S.p.A.", "Evil <b>Corp</b>", "Globex"],
            },
            "identity_map": {
                "record_key": ["hubspot:1", "salesforce:9", "generic:7", "hubspot:2"],
                "person_id": ["P1", "P1", "P2", "P3"],
                "match_rule": ["splink", "splink", "single", "single"],
                "match_probability": [0.97, 0.97, None, None],
            },
            "identity_pairs": {
                "pair_id": ["pair1"], "record_key_l": ["hubspot:1"], "record_key_r": ["salesforce:9"],
                "match_probability": [0.97], "status": ["merged"],
                "evidence": [json.dumps([{"column": "phone", "left": None, "right": "+393331234567",
                                          "level": "One side empty"},
                                         {"column": "last_name", "left": "Rossi", "right": "Rossi",
                                          "level": "Exact match on last_name"}])],
            },
            "touchpoints": {
                "record_key": ["t1", "t2", "t3"], "person_id": ["P1", "P1", "P3"],
                "occurred_at": [ts("2024-01-05 10:00"), ts("2024-01-02 08:00"), ts("2024-03-02 08:00")],
                "type": ["ad_click", "web_session", "web_session"],
                "channel_group": ["Paid Search", "Organic Search", "Direct"],
                "source": ["google", "google", None], "medium": ["cpc", "organic", None],
                "campaign": ["brand", None, None], "_source_system": ["generic", "generic", "generic"],
            },
            "conversions": {
                "record_key": ["c1"], "person_id": ["P1"], "occurred_at": [ts("2024-01-06 12:00")],
                "type": ["demo_request"], "value": [None], "currency": [None], "_source_system": ["generic"],
            },
            "lifecycle_stages": {
                "record_key": ["s1", "s2"], "person_id": ["P1", "P1"], "stage": ["Lead", "Opportunity"],
                "entered_at": [ts("2024-01-06 12:00"), ts("2024-02-01 12:00")], "_source_system": ["hubspot", "hubspot"],
            },
            "opportunities": {
                "record_key": ["o1"], "person_id": ["P1"], "name": ["Acme - Team plan"], "stage": ["closedwon"],
                "amount": [12000.5], "currency": ["EUR"], "created_at": [ts("2024-02-02 09:00")],
                "closed_at": [ts("2024-03-15 09:00")], "is_won": [True], "is_closed": [True],
                "_source_system": ["hubspot"],
            },
            "golden_accounts": {"account_id": ["A1"], "name": ["Acme S.p.A."], "domain": ["acme.it"],
                                "industry": ["Software"], "employees": [120]},
        })
    finally:
        ws.close()
    return root


@pytest.fixture(scope="module")
def people_template(tmp_path_factory) -> Path:
    return people_workspace(tmp_path_factory.mktemp("people") / "acme")


@pytest.fixture
def workspace_root(tmp_path: Path, clean_env, people_template: Path) -> Path:  # noqa: F811
    # A copy per test: the app database (users) lives inside the workspace.
    root = tmp_path / "acme"
    shutil.copytree(people_template, root)
    return root


@contextmanager
def viewer_client(root: Path):
    """A client signed in as a viewer of the workspace at ``root``."""
    application = create_app(root)
    try:
        with session_scope(application.state.database_url) as s:
            create_user(s, EMAILS["viewer"], PASSWORDS["viewer"])
        with TestClient(application, follow_redirects=False) as c:
            login(c, EMAILS["viewer"], PASSWORDS["viewer"])
            yield c
    finally:
        dispose(application.state.database_url)


@pytest.fixture(scope="module")
def viewer(tmp_path_factory, people_template: Path):
    """A viewer signed in to a copy of the people workspace, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("viewer") / "acme"
    shutil.copytree(people_template, root)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        with viewer_client(root) as c:
            yield c


def _names(client, q: str = "", **params) -> list[str]:
    r = client.get("/api/v1/people", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [item["person_id"] for item in r.json()["items"]]


# -- access ------------------------------------------------------------------------------------------
def test_people_need_a_signed_in_user(client, users):
    assert client.get("/people").status_code == 303
    assert client.get("/people/P1").headers["location"].startswith("/login")
    r = client.get("/api/v1/people")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_a_viewer_and_a_read_token_may_read(app, client, users):
    login_as(client, "viewer")
    assert client.get("/people").status_code == 200
    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS["viewer"]), "bi", ["read"])
    client.cookies.clear()
    r = client.get("/api/v1/people/P1", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.json()["person_id"] == "P1"


# -- search ------------------------------------------------------------------------------------------
def test_an_empty_search_lists_everyone_most_recently_updated_first(viewer):
    body = viewer.get("/api/v1/people").json()
    assert [i["person_id"] for i in body["items"]] == ["P3", "P1", "P2"]
    assert body["total"] == 3 and body["ready"] is True


@pytest.mark.parametrize("q, expected", [
    ("rossi", ["P1"]),                    # last name, any case
    ("ANA.ROSSI@", ["P1"]),               # part of the email
    ("ana rossi", ["P1"]),                # first and last name together
    ("globex", ["P3"]),                   # company
    ("333 123 4567", ["P1"]),             # phone, typed with spaces
    ("+1 (202) 555-0123", ["P3"]),        # phone, typed the US way
    ("o", ["P3", "P1", "P2"]),            # everyone with an "o" somewhere, newest first
])
def test_search_matches_names_emails_companies_and_phones(viewer, q, expected):
    assert _names(viewer, q) == expected


@pytest.mark.parametrize("q", ["' OR 1=1 --", "'; DROP TABLE golden_people; --", "%", "_", "\" OR \"\"=\"",
                               "1' UNION SELECT email FROM people --"])
def test_sql_looking_search_terms_simply_find_nothing(viewer, q):
    assert _names(viewer, q) == []
    page = viewer.get("/people", params={"q": q})
    assert page.status_code == 200 and 'id="people-empty"' in page.text
    # ...and the tables are still there.
    assert _names(viewer) == ["P3", "P1", "P2"]


def test_results_are_paged_with_a_total(viewer):
    body = viewer.get("/api/v1/people", params={"limit": 1, "offset": 1}).json()
    assert [i["person_id"] for i in body["items"]] == ["P1"]
    assert (body["total"], body["limit"], body["offset"]) == (3, 1, 1)
    page = viewer.get("/people", params={"limit": 1, "offset": 1}).text
    assert 'rel="next"' in page and 'rel="prev"' in page
    assert viewer.get("/api/v1/people", params={"limit": 0}).status_code == 422


def test_search_results_download_as_csv_and_xlsx(viewer):
    r = viewer.get("/api/v1/people", params={"q": "rossi", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="people.csv"'
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("person_id,") and len(lines) == 2 and "ana.rossi@acme.it" in lines[1]
    r = viewer.get("/api/v1/people", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.max_row == 4  # header + three people
    # a download holds every match, not the page the list shows
    r = viewer.get("/api/v1/people", params={"limit": 1, "offset": 1, "format": "csv"})
    assert len(r.content.decode("utf-8-sig").splitlines()) == 4


# -- hostile values ----------------------------------------------------------------------------------
def test_html_in_values_is_escaped_everywhere(viewer):
    for url in ("/people", "/people/P2", f"/people?q={HOSTILE}"):
        html = viewer.get(url).text
        assert HOSTILE not in html and "<b>Corp</b>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    # The API returns the value as data, untouched (JSON is not HTML).
    assert viewer.get("/api/v1/people/P2").json()["golden"]["first_name"] == HOSTILE


# -- one person --------------------------------------------------------------------------------------
def test_person_page_shows_golden_record_sources_journey_and_deals(viewer):
    html = viewer.get("/people/P1").text
    assert 'id="person-name">Ana Rossi<' in html
    # Where each golden value came from: system, file and row.
    assert "from salesforce · salesforce_leads.csv #4" in html
    # Source records, each with its system, file and row, and the rejected value with the reason.
    assert html.count('data-record-key="') == 2
    assert "hubspot_contacts.csv" in html and "not an email address" in html
    # The journey in time order, with the channel of each touchpoint.
    kinds = [part.split('"', 1)[0] for part in html.split('data-kind="')[1:]]
    assert kinds == ["touchpoint", "touchpoint", "conversion", "stage", "stage", "deal_created", "deal_won"]
    assert "Organic Search" in html and "Paid Search" in html
    # The current stage is the last one entered; the deal and its amount; the account.
    assert 'id="person-stage">Opportunity<' in html
    assert "Acme - Team plan" in html and "12,000.5 EUR" in html
    assert "acme.it" in html
    # Identity evidence.
    assert "Exact match on last_name" in html


def test_person_api_returns_the_same_facts(viewer):
    body = viewer.get("/api/v1/people/P1").json()
    fields = {f["column"]: f for f in body["fields"]}
    assert fields["phone"]["value"] == "+393331234567" and fields["phone"]["source_system"] == "salesforce"
    assert fields["email"]["source_file"] == "hubspot_contacts.csv" and fields["email"]["source_row"] == 12
    assert [s["record_key"] for s in body["sources"]] == ["hubspot:1", "salesforce:9"]
    assert {s["record_key"]: s["match_rule"] for s in body["sources"]} == {"hubspot:1": "splink", "salesforce:9": "splink"}
    times = [e["at"] for e in body["timeline"]]
    assert times == sorted(times) and body["timeline"][0]["channel"] == "Organic Search"
    assert body["stage"] == "Opportunity" and body["deals"][0]["is_won"] is True
    assert body["pairs"][0]["evidence"][1]["level"] == "Exact match on last_name"


def test_a_person_without_events_has_an_empty_journey(viewer):
    html = viewer.get("/people/P2").text
    assert "No touchpoints, conversions or stage changes for this person yet." in html
    assert "No deals for this person." in html


@pytest.mark.parametrize("person_id", ["P404", "' OR 1=1 --", "..%2F..%2Fetc"])
def test_an_unknown_person_is_a_404(viewer, person_id):
    page = viewer.get(f"/people/{person_id}")
    assert page.status_code == 404 and "Not found" in page.text
    r = viewer.get(f"/api/v1/people/{person_id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_workspace_without_a_run_says_what_to_do(tmp_path, clean_env):  # noqa: F811
    root = tmp_path / "empty"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Empty\n", encoding="utf-8")
    Workspace.init(root).close()
    with viewer_client(root) as c:
        assert "load files on Imports, then start a run" in c.get("/people").text
        body = c.get("/api/v1/people").json()
        assert body["items"] == [] and body["total"] == 0 and body["ready"] is False
        assert c.get("/people/P1").status_code == 404


# -- a realistic workspace ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_template(tmp_path_factory) -> Path:
    """The sample company after a pipeline run (small: a couple of hundred contacts)."""
    from marketops.pipeline import run_pipeline
    from marketops.sample import generate

    root = tmp_path_factory.mktemp("sample") / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Acme Analytics\n", encoding="utf-8")
    ws = Workspace.init(root)
    try:
        generate(ws.inbox, contacts=120, months=2, seed=3)
        run_pipeline(ws)
    finally:
        ws.close()
    return root


def test_a_merged_person_of_the_sample_company(tmp_path, clean_env, sample_template):  # noqa: F811
    root = tmp_path / "acme"
    shutil.copytree(sample_template, root)
    with viewer_client(root) as c:
        everyone = c.get("/api/v1/people", params={"limit": 500}).json()
        assert everyone["total"] > 100
        merged = max(everyone["items"], key=lambda p: p["source_records"])
        assert merged["source_records"] >= 2
        # Searching by their email finds them.
        found = c.get("/api/v1/people", params={"q": merged["email"].upper()}).json()["items"]
        assert merged["person_id"] in [p["person_id"] for p in found]
        person = c.get(f"/api/v1/people/{merged['person_id']}").json()
        assert len(person["sources"]) == merged["source_records"]
        assert {s["_source_system"] for s in person["sources"]} == set(merged["sources"].split(","))
        assert all(s["_source_file"] and s["_source_row"] is not None for s in person["sources"])
        page = c.get(f"/people/{merged['person_id']}")
        assert page.status_code == 200 and page.text.count('data-record-key="') == merged["source_records"]


# -- the search, as a property -------------------------------------------------------------------------
def _oracle(rows: list[dict], q: str) -> set[str]:
    """Who a search for ``q`` must find, computed in plain Python from the golden rows."""
    q = q.strip()
    if not q:
        return {r["person_id"] for r in rows}
    needle, digits = q.lower(), "".join(ch for ch in q if ch.isdigit())
    phone_like = all(ch.isdigit() or ch in " ()+./-" for ch in q)
    found = set()
    for r in rows:
        texts = [r[c] for c in ("email", "first_name", "last_name", "company") if r[c]]
        if " " in needle:
            texts.append(f"{r['first_name'] or ''} {r['last_name'] or ''}")
        if any(needle in t.lower() for t in texts) or (
                phone_like and len(digits) >= 3 and r["phone"] and digits in r["phone"]):
            found.add(r["person_id"])
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(alphabet=string.ascii_letters + string.digits + " .@+-()'%_\";<>", max_size=12))
def test_search_finds_exactly_the_people_whose_values_contain_the_text(people_ws, q):
    rows = people_ws.table("golden_people").to_pyarrow().to_pylist()
    page = search_people(people_ws, q, limit=500)
    assert {p["person_id"] for p in page.items} == _oracle(rows, q)
    assert page.total == len(page.items)


@pytest.fixture(scope="module")
def people_ws(people_template: Path):
    ws = Workspace.open(people_template, read_only=True)
    yield ws
    ws.close()
