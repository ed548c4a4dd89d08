"""Every table of the web app downloads as CSV and XLSX (issue 5): the review queue and a pair's tables,
users, API tokens, the audit log, a person's source records / journey / deals, the overview's tables, a
run's steps, the imports inbox and proposed mappings, and quality's files with quarantined rows.

Each download holds every row the table shows (for paged lists, every matching row), with the same
role checks as the JSON, and never a secret.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from marketops.app import create_app
from marketops.pipeline import RunRecord, StepRecord
from marketops.state.db import dispose, session_scope
from marketops.state.tokens import create_token
from marketops.state.users import create_user, get_user
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, login_as
from tests.test_app_imports import LEADS, UNMAPPED, upload_form
from tests.test_app_people import HOSTILE, people_workspace

REVIEW_PAIRS = 60  # more than one page of the queue (50 by default)
RUNS = 30  # more than the overview's 10 and one page of /runs (25)
SENSITIVE = ("password", "hash", "secret")


def _pairs_table(n: int) -> pa.Table:
    """``n`` pairs waiting for review (plus one already merged), as the resolver leaves them."""
    evidence = json.dumps([{"column": "email", "left": "a@x.io", "right": "a@x.io", "level": "exact",
                            "bayes_factor": 512.0, "match_weight": 9.0},
                           {"column": "phone", "left": "+391", "right": "+442", "level": "different",
                            "bayes_factor": 0.125, "match_weight": -3.0}])
    rows = [{"pair_id": f"q{i:03d}", "record_key_l": f"hubspot:{i}", "record_key_r": f"salesforce:{i}",
             "match_probability": 0.5 + i / 200, "match_weight": 1.0, "status": "review", "evidence": evidence,
             "first_name_l": "Ana" if i else HOSTILE, "last_name_l": "Rossi", "email_l": f"a{i}@x.io",
             "first_name_r": "Anna", "last_name_r": "Rossi", "email_r": f"a{i}@x.io"} for i in range(n)]
    rows.append({**rows[0], "pair_id": "done", "status": "merged"})
    return pa.Table.from_pylist(rows)


def _run(i: int) -> RunRecord:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)
    steps = [StepRecord("ingest", "succeeded", 10, 10, 1.5), StepRecord("stage", "succeeded", 10, 9, 0.5),
             StepRecord("canonical", "failed" if i % 7 == 0 else "succeeded", 9, 0, 0.25,
                        error="boom" if i % 7 == 0 else None)]
    return RunRecord(f"r{start:%Y%m%d%H%M%S}", "failed" if i % 7 == 0 else "succeeded", start,
                     start + timedelta(seconds=2.25), "boom" if i % 7 == 0 else None, steps)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = people_workspace(tmp_path_factory.mktemp("downloads") / "acme")
    with Workspace.open(root) as ws:
        ws.engine.write("identity_pairs__r2", _pairs_table(REVIEW_PAIRS))
        ws.engine.publish({"identity_pairs": "identity_pairs__r2"}, "r2")
        now = datetime.now(UTC)
        ws.engine.write("_loads", pa.table({
            "load_id": [f"l{i}" for i in range(12)], "file": [f"file_{i}.csv" for i in range(12)],
            "entity": ["people"] * 12, "system": ["hubspot"] * 12,
            "loaded_at": [now - timedelta(minutes=i) for i in range(12)],
            "rows_in": list(range(12)), "rows_loaded": list(range(12)), "rows_quarantined": [0] * 12,
            "status": ["loaded"] * 12}))
        ws.runs_dir.mkdir(parents=True, exist_ok=True)
        for i in range(RUNS):
            run = _run(i)
            (ws.runs_dir / f"{run.run_id}.json").write_text(json.dumps(run.to_json()))
    return root


@pytest.fixture(scope="module")
def dl(tmp_path_factory, template: Path):
    """An app on a copy of the workspace, with one user per role and a token of each scope."""
    root = tmp_path_factory.mktemp("dl") / "acme"
    shutil.copytree(template, root)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        application = create_app(root, warm=False)
        secrets = {}
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
            _, secrets["admin-read"] = create_token(s, get_user(s, EMAILS["admin"]), "bi", ["read"])
            _, secrets["admin"] = create_token(s, get_user(s, EMAILS["admin"]), "ops", ["read", "admin"])
            _, secrets["viewer"] = create_token(s, get_user(s, EMAILS["viewer"]), "sheet", ["read"])
            revoked, _ = create_token(s, get_user(s, EMAILS["viewer"]), "old", ["read"])
            revoked.revoked_at = datetime.now(UTC)
        with TestClient(application, follow_redirects=False) as c:
            c.secrets = secrets
            yield c
    dispose(application.state.database_url)


def as_role(client: TestClient, role: str) -> TestClient:
    client.cookies.clear()
    login_as(client, role)
    return client


def bearer(client: TestClient, name: str) -> dict[str, str]:
    client.cookies.clear()
    return {"Authorization": f"Bearer {client.secrets[name]}"}


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def csv_header(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def no_secrets(response) -> None:
    text = response.content.decode("utf-8-sig").lower()
    header = " ".join(csv_header(response)).lower()
    assert not any(word in header for word in SENSITIVE)
    for secret in getattr(response, "_secrets", ()):
        assert secret.lower() not in text


def links(html: str, prefix: str) -> set[str]:
    """The CSV links of the page that point under ``prefix``."""
    return {m.replace("&amp;", "&") for m in re.findall(r'href="([^"]+format=csv)"', html) if m.startswith(prefix)}


# -- review queue ------------------------------------------------------------------------------------
def test_review_queue_downloads_every_waiting_pair_not_one_page(dl):
    as_role(dl, "viewer")
    page = dl.get("/api/v1/review").json()
    assert page["total"] == REVIEW_PAIRS and len(page["items"]) == 50
    rows = read_csv(dl.get("/api/v1/review?format=csv&limit=5&offset=10"))
    assert len(rows) == REVIEW_PAIRS
    assert [r["pair_id"] for r in rows[:50]] == [i["pair_id"] for i in page["items"]]
    first = rows[0]
    assert first["record_key_a"] and first["record_key_b"] and first["email_a"]
    assert first["evidence_for"] == "email" and first["evidence_against"] == "phone"
    assert "done" not in {r["pair_id"] for r in rows}  # merged pairs are not in the queue
    assert {r["first_name_a"] for r in rows} >= {HOSTILE}  # a file carries values as they are
    sheet = read_xlsx(dl.get("/api/v1/review?format=xlsx"))
    assert sheet[0][0] == "pair_id" and len(sheet) == REVIEW_PAIRS + 1


def test_review_download_keeps_the_filters_the_page_shows(dl):
    as_role(dl, "viewer")
    total = dl.get("/api/v1/review?min_probability=0.7").json()["total"]
    assert 0 < total < REVIEW_PAIRS
    assert len(read_csv(dl.get("/api/v1/review?min_probability=0.7&format=csv"))) == total
    html = dl.get("/review?min_probability=70%25").text
    (url,) = links(html, "/api/v1/review")
    assert "min_probability=0.7" in url
    assert len(read_csv(dl.get(url))) == total
    empty = dl.get("/api/v1/review?min_probability=1&format=csv")
    assert read_csv(empty) == [] and csv_header(empty)[0] == "pair_id"


# -- users -------------------------------------------------------------------------------------------
def test_users_download_is_for_admins_and_holds_no_password(dl):
    as_role(dl, "admin")
    users = dl.get("/api/v1/users").json()
    r = dl.get("/api/v1/users?format=csv")
    rows = read_csv(r)
    assert [x["email"] for x in rows] == [u["email"] for u in users["items"]] and len(rows) == users["total"]
    assert csv_header(r) == ["id", "email", "name", "role", "active", "language", "created_at", "last_login_at",
                             "active_tokens"]
    no_secrets(r)
    assert len(read_xlsx(dl.get("/api/v1/users?format=xlsx"))) == users["total"] + 1
    assert "/api/v1/users?format=csv" in dl.get("/settings/users").text
    for role in ("viewer", "editor"):
        as_role(dl, role)
        assert dl.get("/api/v1/users?format=csv").status_code == 403
    assert dl.get("/api/v1/users?format=csv", headers=bearer(dl, "admin-read")).status_code == 403
    assert len(read_csv(dl.get("/api/v1/users?format=csv", headers=bearer(dl, "admin")))) == users["total"]
    dl.cookies.clear()
    assert dl.get("/api/v1/users?format=csv").status_code == 401


# -- tokens and audit --------------------------------------------------------------------------------
def test_token_downloads_never_carry_a_secret(dl):
    as_role(dl, "viewer")
    mine = dl.get("/api/v1/tokens").json()
    r = dl.get("/api/v1/tokens?format=csv")
    rows = read_csv(r)
    assert len(rows) == mine["total"] == 2 and {x["user"] for x in rows} == {EMAILS["viewer"]}
    assert csv_header(r) == ["id", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at", "active"]
    r._secrets = list(dl.secrets.values())
    no_secrets(r)
    # settings shows the active ones only, and links to exactly those
    active = read_csv(dl.get("/api/v1/tokens?active=true&format=csv"))
    assert [x["name"] for x in active] == ["sheet"]
    assert "/api/v1/tokens?active=true&format=csv" in links(dl.get("/settings").text, "/api/v1/tokens")
    assert "/api/v1/tokens?format=csv" in links(dl.get("/settings/tokens").text, "/api/v1/tokens")
    # a viewer asking for everyone's still gets their own
    assert len(read_csv(dl.get("/api/v1/tokens?all=true&format=csv"))) == 2
    as_role(dl, "admin")
    everyone = dl.get("/api/v1/tokens?all=true").json()
    sheet = read_xlsx(dl.get("/api/v1/tokens?all=true&format=xlsx"))
    assert len(sheet) == everyone["total"] + 1 == 5 and sheet[0][3] == "scopes"
    assert "/api/v1/tokens?all=true&format=csv" in links(dl.get("/settings/tokens?all=true").text, "/api/v1/tokens")


def test_audit_download_holds_every_matching_event(dl):
    as_role(dl, "admin")
    total = dl.get("/api/v1/audit?limit=1").json()["total"]
    assert total >= 3  # the sign-ins of this module at least
    r = dl.get("/api/v1/audit?limit=1&format=csv")
    assert len(read_csv(r)) == total and csv_header(r) == ["id", "at", "actor", "action", "target", "detail", "ip"]
    as_role(dl, "editor")
    assert dl.get("/api/v1/audit?format=csv").status_code == 403


# -- person page -------------------------------------------------------------------------------------
@pytest.mark.parametrize("table, header", [
    ("sources", ["record_key", "source_system", "source_file", "source_row", "name", "email"]),
    ("timeline", ["at", "kind", "title", "channel", "detail", "amount", "currency", "source_system", "record_key"]),
    ("deals", ["record_key", "name", "stage", "amount", "currency", "created_at", "closed_at"]),
])
def test_person_tables_download_with_the_rows_of_the_page(dl, table, header):
    as_role(dl, "viewer")
    person = dl.get("/api/v1/people/P1").json()
    r = dl.get(f"/api/v1/people/P1?table={table}&format=csv")
    rows = read_csv(r)
    assert csv_header(r)[: len(header)] == header
    assert len(rows) == len(person[table]) > 0
    assert len(read_xlsx(dl.get(f"/api/v1/people/P1?table={table}&format=xlsx"))) == len(rows) + 1
    assert f"/api/v1/people/P1?table={table}&format=csv" in links(dl.get("/people/P1").text, "/api/v1/people/P1")


def test_person_download_contents(dl):
    as_role(dl, "viewer")
    sources = {r["record_key"]: r for r in read_csv(dl.get("/api/v1/people/P1?table=sources&format=csv"))}
    assert sources["salesforce:9"]["source_file"] == "salesforce_leads.csv"
    assert sources["salesforce:9"]["issues"] == 'email "ana at acme": not an email address'
    assert sources["hubspot:1"]["match_rule"] == "splink" and sources["hubspot:1"]["issues"] == ""
    kinds = [r["kind"] for r in read_csv(dl.get("/api/v1/people/P1?table=timeline&format=csv"))]
    assert kinds.count("touchpoint") == 2 and "deal_won" in kinds
    (deal,) = read_csv(dl.get("/api/v1/people/P1?table=deals&format=csv"))
    assert deal["name"] == "Acme - Team plan" and float(deal["amount"]) == 12000.5
    # JSON unchanged; a file needs a table; unknown people are still 404
    assert set(dl.get("/api/v1/people/P1?table=deals").json()) >= {"golden", "sources", "timeline", "deals"}
    assert dl.get("/api/v1/people/P1?format=csv").status_code == 400
    assert dl.get("/api/v1/people/P1?table=secrets&format=csv").status_code == 422
    assert dl.get("/api/v1/people/nobody?table=deals&format=csv").status_code == 404
    dl.cookies.clear()
    assert dl.get("/api/v1/people/P1?table=deals&format=csv").status_code == 401
    # a person without deals still gets a file with the header
    as_role(dl, "viewer")
    empty = dl.get("/api/v1/people/P2?table=deals&format=csv")
    assert read_csv(empty) == [] and csv_header(empty)[0] == "record_key"


# -- overview ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("table, key, header", [
    ("tables", "tables", ["table", "rows"]),
    ("loads", "recent_loads", ["load_id", "file", "entity", "system", "loaded_at", "rows_in", "rows_loaded",
                               "rows_quarantined", "status"]),
    ("runs", "runs", ["run_id", "status", "started_at", "finished_at", "seconds", "engine", "error"]),
])
def test_overview_tables_download_as_the_page_shows_them(dl, table, key, header):
    as_role(dl, "viewer")
    facts = dl.get("/api/v1/overview").json()
    r = dl.get(f"/api/v1/overview?table={table}&format=csv")
    rows = read_csv(r)
    assert csv_header(r) == header and len(rows) == len(facts[key]) > 0
    assert len(read_xlsx(dl.get(f"/api/v1/overview?table={table}&format=xlsx"))) == len(rows) + 1
    assert f"/api/v1/overview?table={table}&format=csv" in links(dl.get("/").text, "/api/v1/overview")
    if table == "tables":
        assert {(x["table"], int(x["rows"])) for x in rows} == {(t["name"], t["rows"]) for t in facts["tables"]}
    if table == "runs":
        assert [x["run_id"] for x in rows] == [x["run_id"] for x in facts["runs"]]


def test_overview_download_needs_a_table_and_a_signed_in_reader(dl):
    as_role(dl, "viewer")
    assert dl.get("/api/v1/overview?format=csv").status_code == 400
    assert "kpis" in dl.get("/api/v1/overview?table=loads").json()  # JSON unchanged
    assert dl.get("/api/v1/overview?table=runs&format=csv", headers=bearer(dl, "viewer")).status_code == 200
    dl.cookies.clear()
    assert dl.get("/api/v1/overview?table=runs&format=csv").status_code == 401


# -- runs --------------------------------------------------------------------------------------------
def test_run_steps_and_run_history_download(dl):
    as_role(dl, "viewer")
    history = dl.get("/api/v1/runs?limit=1").json()
    assert history["total"] == RUNS
    every = read_csv(dl.get("/api/v1/runs?format=csv"))  # every run, not the first page of 20
    assert len(every) == RUNS and every[0]["run_id"] == history["items"][0]["run_id"]
    run_id = every[0]["run_id"]
    steps = read_csv(dl.get(f"/api/v1/runs/{run_id}?format=csv"))
    assert [s["name"] for s in steps] == ["ingest", "stage", "canonical"]
    assert len(read_xlsx(dl.get(f"/api/v1/runs/{run_id}?format=xlsx"))) == 4
    assert f"/api/v1/runs/{run_id}?format=csv" in links(dl.get(f"/runs/{run_id}").text, "/api/v1/runs/")


# -- imports: inbox and proposed mappings ------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An app on a new, empty workspace (an inbox to fill), with one user per role."""
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Acme\nlanguage: en\n", encoding="utf-8")
    Workspace.init(root).close()
    application = create_app(root, warm=False)
    with session_scope(application.state.database_url) as s:
        for role, email in EMAILS.items():
            create_user(s, email, PASSWORDS[role], role=role, name=role.title())
    with TestClient(application, follow_redirects=False) as c:
        yield c
    dispose(application.state.database_url)


def test_inbox_and_proposals_download_as_the_imports_page_shows_them(fresh):
    client = fresh
    as_role(client, "editor")
    upload_form(client, "leads.csv", LEADS)
    upload_form(client, "weird.csv", UNMAPPED)
    upload_form(client, "later.csv", LEADS + b"cy@acme.test,Cy,2024-04-01\n", ingest=False)
    as_role(client, "viewer")
    html = client.get("/imports").text
    assert {"/api/v1/inbox?format=csv", "/api/v1/mappings/proposals?format=csv"} <= links(html, "/api/v1/")
    inbox = client.get("/api/v1/inbox").json()["items"]
    assert sorted(f["file"] for f in inbox) == ["later.csv", "leads.csv", "weird.csv"]
    assert html.count('<td class="file">') == len(inbox)
    r = client.get("/api/v1/inbox?format=csv")
    rows = read_csv(r)
    assert csv_header(r) == ["file", "size", "modified", "last_status", "last_loaded_at"]
    status = {x["file"]: x["last_status"] for x in rows}
    assert len(rows) == len(inbox) and status == {"leads.csv": "loaded", "weird.csv": "failed", "later.csv": ""}
    assert len(read_xlsx(client.get("/api/v1/inbox?format=xlsx"))) == len(inbox) + 1

    (proposal,) = client.get("/api/v1/mappings/proposals").json()["items"]
    r = client.get("/api/v1/mappings/proposals?format=csv")
    rows = read_csv(r)
    assert csv_header(r) == ["file", "entity", "column", "canonical_column", "confidence", "sample"]
    assert [x["column"] for x in rows] == [c["header"] for c in proposal["columns"]] == ["mail_addr", "x1", "x2", "x3"]
    assert {x["file"] for x in rows} == {"weird.csv"} and rows[0]["entity"] == proposal["entity"]
    assert [(x["canonical_column"] or None, float(x["confidence"]) if x["confidence"] else None, x["sample"] or None)
            for x in rows] == [(c["column"], c["confidence"], c["sample"]) for c in proposal["columns"]]
    sheet = read_xlsx(client.get("/api/v1/mappings/proposals?format=xlsx"))
    assert sheet[0][:3] == ("file", "entity", "column") and len(sheet) == len(rows) + 1
    client.cookies.clear()
    for url in ("/api/v1/inbox?format=csv", "/api/v1/mappings/proposals?format=csv"):
        assert client.get(url).status_code == 401


def test_an_empty_inbox_downloads_just_the_header(fresh):
    client = fresh
    as_role(client, "viewer")
    assert client.get("/api/v1/inbox").json() == {"items": []}
    assert "/api/v1/inbox?format=csv" not in client.get("/imports").text
    for url, first in (("/api/v1/inbox?format=csv", "file"), ("/api/v1/mappings/proposals?format=csv", "file")):
        r = client.get(url)
        assert read_csv(r) == [] and csv_header(r)[0] == first


# -- quality: files with quarantined rows ------------------------------------------------------------
@pytest.fixture(scope="module")
def qfiles(tmp_path_factory, template: Path):
    """The downloads workspace whose people files had rows quarantined when loaded."""
    root = tmp_path_factory.mktemp("qfiles") / "acme"
    shutil.copytree(template, root)
    with Workspace.open(root) as ws:
        now = datetime.now(UTC)
        files = ["hubspot_contacts.csv", "salesforce_leads.csv", "people.csv"]
        ws.engine.write("_loads", pa.table({
            "load_id": ["l1", "l2", "l3"], "file": files, "sheet": [None, None, None],
            "entity": ["people"] * 3, "system": ["hubspot", "salesforce", "generic"],
            "loaded_at": [now - timedelta(minutes=i) for i in range(3)], "rows_in": [10, 20, 5],
            "rows_loaded": [8, 20, 4], "rows_quarantined": [2, 0, 1], "status": ["loaded"] * 3,
            "message": [None, None, None], "sha256": ["a", "b", "c"]}))
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        application = create_app(root, warm=False)
        with session_scope(application.state.database_url) as s:
            create_user(s, EMAILS["viewer"], PASSWORDS["viewer"], role="viewer", name="Viewer")
        with TestClient(application, follow_redirects=False) as c:
            yield c
    dispose(application.state.database_url)


def test_quarantined_files_download_as_the_quality_page_shows_them(qfiles):
    as_role(qfiles, "viewer")
    html = qfiles.get("/quality").text
    assert "/api/v1/quality/scorecard?table=files&format=csv" in links(html, "/api/v1/quality/scorecard")
    shown = re.search(r'<table class="table" id="quarantine-files">.*?<tbody>(.*?)</tbody>', html, re.DOTALL).group(1)
    r = qfiles.get("/api/v1/quality/scorecard?table=files&format=csv")
    rows = read_csv(r)
    assert csv_header(r) == ["file", "table", "source", "rows_quarantined", "rows_in", "share", "notes"]
    assert len(rows) == shown.count("<tr>") == 2
    by_file = {x["file"]: x for x in rows}
    assert set(by_file) == {"hubspot_contacts.csv", "people.csv"}  # files without quarantine are left out
    assert (by_file["hubspot_contacts.csv"]["rows_quarantined"], by_file["hubspot_contacts.csv"]["rows_in"]) == ("2", "10")
    assert float(by_file["hubspot_contacts.csv"]["share"]) == pytest.approx(0.2)
    sheet = read_xlsx(qfiles.get("/api/v1/quality/scorecard?table=files&format=xlsx"))
    assert sheet[0][0] == "file" and len(sheet) == 3
    only = read_csv(qfiles.get("/api/v1/quality/scorecard?table=files&source=generic&format=csv"))
    assert [x["file"] for x in only] == ["people.csv"]
    qfiles.cookies.clear()
    assert qfiles.get("/api/v1/quality/scorecard?table=files&format=csv").status_code == 401


# -- a review pair: both records and the evidence ----------------------------------------------------
@pytest.mark.parametrize("table, header, key", [
    ("compare", ["field", "record_a", "record_b", "differs"], None),
    ("evidence", ["column", "record_a", "record_b", "level", "match_weight", "bayes_factor", "vote"], "evidence"),
])
def test_review_pair_tables_download_as_the_pair_page_shows_them(dl, table, header, key):
    as_role(dl, "viewer")
    item = dl.get("/api/v1/review/q001").json()
    html = dl.get("/review/q001").text
    assert f"/api/v1/review/q001?table={table}&format=csv" in links(html, "/api/v1/review/q001")
    r = dl.get(f"/api/v1/review/q001?table={table}&format=csv")
    rows = read_csv(r)
    assert csv_header(r) == header
    shown = re.search(rf'id="{table}">.*?<tbody>(.*?)</tbody>', html, re.DOTALL).group(1)
    assert len(rows) == shown.count("<tr") > 0
    if key:
        assert len(rows) == len(item[key])
        assert [(x["column"], x["vote"]) for x in rows] == [("email", "for"), ("phone", "against")]
    else:
        fields = {x["field"]: x for x in rows}
        assert (fields["first_name"]["record_a"], fields["first_name"]["record_b"]) == ("Ana", "Anna")
        assert fields["first_name"]["differs"].lower() == "true"
    assert len(read_xlsx(dl.get(f"/api/v1/review/q001?table={table}&format=xlsx"))) == len(rows) + 1


def test_review_pair_download_needs_a_table_and_keeps_the_json(dl):
    as_role(dl, "viewer")
    assert dl.get("/api/v1/review/q001?format=csv").status_code == 400
    assert dl.get("/api/v1/review/q001?table=secrets&format=csv").status_code == 422
    assert dl.get("/api/v1/review/q001?table=compare").json() == dl.get("/api/v1/review/q001").json()
    assert dl.get("/api/v1/review/nope?table=compare&format=csv").status_code == 404
    assert dl.get("/api/v1/review/q001?table=evidence&format=csv", headers=bearer(dl, "viewer")).status_code == 200
    dl.cookies.clear()
    assert dl.get("/api/v1/review/q001?table=evidence&format=csv").status_code == 401
