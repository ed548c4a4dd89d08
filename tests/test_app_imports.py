"""The Imports page and API: uploads (roles, CSRF, hostile names, bad content, size), the load
history with downloads, and proposed mappings accepted as rules."""

from __future__ import annotations

import io
import json
from html import unescape

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.app import uploads
from marketops.state.audit import recent
from marketops.state.db import session_scope
from marketops.state.tokens import create_token
from marketops.state.users import get_user
from marketops.workspace import Workspace
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    EMAILS,
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    users,
)

LEADS = b"Email,First Name,Create Date\nann@acme.test,Ann,2024-03-12\nbo@acme.test,Bo,not a date\n"
UNMAPPED = b"mail_addr,x1,x2,x3\nann@acme.test,1,2,3\n"


@pytest.fixture
def workspace_root(tmp_path, clean_env):
    """A real, empty workspace (the shared fixture fakes a load history without all its columns)."""
    root = tmp_path / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Acme Marketing\nlanguage: en\n", encoding="utf-8")
    Workspace.init(root).close()
    return root


def inbox(root) -> list[str]:
    """Every entry of the inbox, hidden temporary files included."""
    return sorted(p.name for p in (root / "inbox").iterdir())


def upload_form(client, name: str, data: bytes, *, ingest: bool = True, csrf: str | None = None):
    token = csrf if csrf is not None else csrf_from(client.get("/imports").text)
    fields = {"csrf_token": token}
    if ingest:
        fields["ingest"] = "1"
    return client.post("/imports/upload", data=fields, files={"file": (name, data, "text/csv")})


def raw_multipart(filename: bytes, data: bytes, csrf: str) -> tuple[bytes, str]:
    """A multipart body written by hand, for file names a client library would escape."""
    boundary = "----marketopstest"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").encode() + filename + (
        b"\"\r\nContent-Type: text/csv\r\n\r\n" + data + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


def token_for(app, role: str, scopes: tuple[str, ...]) -> str:
    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS[role]), "ci", scopes)
    return secret


# -- roles and CSRF ---------------------------------------------------------------------------------
def test_viewer_sees_the_page_but_cannot_upload(client, users, workspace_root):
    login_as(client, "viewer")
    page = client.get("/imports")
    assert page.status_code == 200 and "Only editors and admins can upload files" in page.text
    assert 'action="/imports/upload"' not in page.text
    assert upload_form(client, "leads.csv", LEADS).status_code == 403
    assert inbox(workspace_root) == []


def test_anonymous_upload_is_sent_to_sign_in(client, workspace_root):
    response = client.post("/imports/upload", files={"file": ("leads.csv", LEADS, "text/csv")})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert inbox(workspace_root) == []


def test_upload_form_without_the_csrf_token_is_refused_before_storing(client, users, workspace_root):
    login_as(client, "editor")
    assert upload_form(client, "leads.csv", LEADS, csrf="forged").status_code == 403
    response = client.post("/imports/upload", files={"file": ("leads.csv", LEADS, "text/csv")})
    assert response.status_code == 403
    assert inbox(workspace_root) == []


# -- a good upload ----------------------------------------------------------------------------------
def test_editor_uploads_and_loads_a_file_and_sees_it_in_the_history(client, users, workspace_root):
    login_as(client, "editor")
    response = upload_form(client, "leads.csv", LEADS)
    assert response.status_code == 200
    assert 'data-status="loaded"' in response.text and "1 rows loaded" in response.text
    assert "1 quarantined" in response.text
    assert inbox(workspace_root) == ["leads.csv"]
    loads = client.get("/api/v1/loads").json()
    assert loads["total"] == 1
    row = loads["items"][0]
    assert (row["file"], row["entity"], row["status"], row["rows_in"], row["rows_loaded"],
            row["rows_quarantined"]) == ("leads.csv", "people", "loaded", 2, 1, 1)
    page = client.get("/imports")
    assert '<tr data-file="leads.csv">' in page.text and "/api/v1/loads?format=csv" in page.text


def test_load_history_downloads_as_csv_and_xlsx(client, users, workspace_root):
    login_as(client, "editor")
    upload_form(client, "leads.csv", LEADS)
    csv = client.get("/api/v1/loads?format=csv")
    assert csv.status_code == 200 and "loads.csv" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("loaded_at,file,") and "leads.csv" in lines[1]
    xlsx = client.get("/api/v1/loads?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert sheet.cell(row=2, column=header.index("file") + 1).value == "leads.csv"


def test_upload_without_loading_waits_for_the_next_run(client, users, workspace_root):
    login_as(client, "editor")
    response = upload_form(client, "leads.csv", LEADS, ingest=False)
    assert response.status_code == 200 and 'data-status="saved"' in response.text
    assert "It will be loaded by the next run" in response.text
    assert client.get("/api/v1/loads").json()["total"] == 0
    assert inbox(workspace_root) == ["leads.csv"]


def test_the_same_bytes_again_are_unchanged_and_a_different_file_keeps_both(client, users, workspace_root):
    login_as(client, "editor")
    upload_form(client, "leads.csv", LEADS)
    again = upload_form(client, "copy of leads.csv", LEADS)
    assert 'data-status="unchanged"' in again.text and "leads.csv" in again.text
    assert inbox(workspace_root) == ["leads.csv"]
    newer = LEADS + b"cy@acme.test,Cy,2024-04-01\n"
    other = upload_form(client, "leads.csv", newer)
    assert 'data-status="loaded"' in other.text and 'data-file="leads-2.csv"' in other.text
    assert inbox(workspace_root) == ["leads-2.csv", "leads.csv"]
    assert (workspace_root / "inbox" / "leads.csv").read_bytes() == LEADS  # never overwritten


def test_api_upload_needs_a_write_token(app, client, users, workspace_root):
    read = token_for(app, "editor", ("read",))
    write = token_for(app, "editor", ("write",))
    refused = client.post("/api/v1/uploads", headers={"Authorization": f"Bearer {read}"},
                          files={"file": ("leads.csv", LEADS, "text/csv")})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert inbox(workspace_root) == []
    # a write token made while its owner was an editor: the owner is a viewer now, so the role refuses
    with session_scope(app.state.database_url) as s:
        demoted = get_user(s, EMAILS["viewer"])
        demoted.role = "editor"
        _, viewer = create_token(s, demoted, "old", ("write",))
        demoted.role = "viewer"
    assert client.post("/api/v1/uploads", headers={"Authorization": f"Bearer {viewer}"},
                       files={"file": ("leads.csv", LEADS, "text/csv")}).status_code == 403
    done = client.post("/api/v1/uploads?ingest=true", headers={"Authorization": f"Bearer {write}"},
                       files={"file": ("leads.csv", LEADS, "text/csv")})
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["file"] == "leads.csv" and body["status"] == "loaded"
    assert [(r["rows_loaded"], r["rows_quarantined"]) for r in body["loads"]] == [(1, 1)]
    again = client.post("/api/v1/uploads", headers={"Authorization": f"Bearer {write}"},
                        files={"file": ("other-name.csv", LEADS, "text/csv")})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    with session_scope(app.state.database_url) as s:
        events = [(e.actor, e.target, e.detail["status"]) for e in recent(s, action="file.upload")]
    assert events == [(EMAILS["editor"], "leads.csv", "unchanged"), (EMAILS["editor"], "leads.csv", "loaded")]


def test_api_upload_with_the_session_cookie_needs_the_csrf_header(client, users, workspace_root):
    login_as(client, "editor")
    token = csrf_from(client.get("/imports").text)
    assert client.post("/api/v1/uploads", files={"file": ("leads.csv", LEADS, "text/csv")}).status_code == 403
    ok = client.post("/api/v1/uploads", headers={"X-CSRF-Token": token},
                     files={"file": ("leads.csv", LEADS, "text/csv")})
    assert ok.status_code == 201 and ok.json()["status"] == "saved"


# -- hostile names and bad content ------------------------------------------------------------------
@pytest.mark.parametrize("client_name, saved", [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("..\\..\\Windows\\leads.csv", "leads.csv"),
    ('lea"ds\'<b>.csv', "lea_ds__b_.csv"),
    ("Müller – Kontakte.CSV", "Müller – Kontakte.csv"),
    (".hidden.csv", "hidden.csv"),
])
def test_hostile_names_land_in_the_inbox_under_a_safe_name(client, users, workspace_root, client_name, saved):
    login_as(client, "editor")
    response = upload_form(client, client_name, LEADS, ingest=False)
    assert response.status_code == 200, response.text
    assert inbox(workspace_root) == [saved]
    assert not (workspace_root.parent / "etc").exists()


@pytest.mark.parametrize("client_name, status, words", [
    ("con.csv", 400, "reserved device name"),
    ("LPT1.report.csv", 400, "reserved device name"),
    ("..", 400, "no usable file name"),
    ("...csv", 400, "no usable file name"),
    ("payload.exe", 415, "cannot read '.exe' files"),
    ("leads", 400, "no usable file name"),
])
def test_unusable_names_are_refused_with_a_reason(client, users, workspace_root, client_name, status, words):
    login_as(client, "editor")
    response = upload_form(client, client_name, LEADS)
    assert response.status_code == status and words in unescape(response.text)
    assert inbox(workspace_root) == []


def test_a_name_with_a_line_break_is_refused(client, users, workspace_root):
    login_as(client, "editor")
    token = csrf_from(client.get("/imports").text)
    body, content_type = raw_multipart(b"lea\nds.csv", LEADS, token)
    response = client.post("/imports/upload", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400 and "control characters" in response.text
    assert inbox(workspace_root) == []


@pytest.mark.parametrize("name, data, status, words", [
    ("empty.csv", b"", 400, "the file is empty"),
    ("blank.csv", b"  \r\n\r\n", 400, "only blank space"),
    ("garbage.csv", bytes(range(256)) * 64, 415, "binary data"),
    ("garbage.json", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 415, "binary data"),
    ("notes.json", b"Email,Name\na@x.io,Ann\n", 415, "does not start like a JSON file"),
    ("book.xlsx", b"Email,Name\na@x.io,Ann\n", 415, "not an Excel workbook"),
    ("archive.csv", b"PK\x03\x04" + b"\x00" * 60, 415, "ZIP archive"),
    ("table.parquet", b"PAR1 cut short", 415, "not a Parquet file"),
])
def test_bad_content_is_refused_and_leaves_nothing(client, users, workspace_root, name, data, status, words):
    login_as(client, "editor")
    response = upload_form(client, name, data)
    assert response.status_code == status, response.text
    assert words in unescape(response.text)
    assert inbox(workspace_root) == []
    assert client.get("/api/v1/loads").json()["total"] == 0


def test_too_large_upload_is_refused_while_streaming(client, users, workspace_root, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    login_as(client, "editor")
    big = b"Email,First Name\n" + b"someone@acme.test,Someone\n" * 200
    response = upload_form(client, "big.csv", big)
    assert response.status_code == 413 and "larger than the upload limit" in response.text
    assert inbox(workspace_root) == []
    write = token_for(client.app, "editor", ("write",))
    api = client.post("/api/v1/uploads", headers={"Authorization": f"Bearer {write}"},
                      files={"file": ("big.csv", big, "text/csv")})
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
    assert inbox(workspace_root) == []


def test_a_body_cut_short_leaves_no_partial_file(client, users, workspace_root):
    login_as(client, "editor")
    token = csrf_from(client.get("/imports").text)
    body, content_type = raw_multipart(b"leads.csv", LEADS * 100, token)
    response = client.post("/imports/upload", content=body[: len(body) // 2], headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert inbox(workspace_root) == []


def test_upload_that_is_not_multipart_is_refused(app, client, users, workspace_root):
    write = token_for(app, "editor", ("write",))
    response = client.post("/api/v1/uploads", content=LEADS,
                           headers={"Authorization": f"Bearer {write}", "Content-Type": "text/csv"})
    assert response.status_code == 415 and "multipart/form-data" in response.json()["error"]["message"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_a_safe_name_never_leaves_the_inbox_nor_hides(name):
    try:
        safe = uploads.safe_upload_name(name)
    except uploads.UploadRefused:
        return
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ch.isprintable() for ch in safe) and len(safe) <= uploads.MAX_NAME_CHARS
    assert safe.rsplit(".", 1)[-1] in {k.lstrip(".") for k in uploads.FORMATS}


# -- proposed mappings ------------------------------------------------------------------------------
def test_a_file_marketops_cannot_map_gets_a_proposal_an_editor_accepts(app, client, users, workspace_root):
    login_as(client, "editor")
    response = upload_form(client, "weird.csv", UNMAPPED)
    assert 'data-status="failed"' in response.text
    proposals = client.get("/api/v1/mappings/proposals").json()["items"]
    assert [p["file"] for p in proposals] == ["weird.csv"]
    assert proposals[0]["entity"] == "people"
    assert [c["header"] for c in proposals[0]["columns"]] == ["mail_addr", "x1", "x2", "x3"]
    page = client.get("/imports")
    assert 'class="proposal" data-file="weird.csv"' in page.text and "Accept mapping" in page.text

    token = csrf_from(page.text)
    assert client.post("/imports/proposals/weird.csv/accept", data={}).status_code == 403  # no CSRF
    accepted = client.post("/imports/proposals/weird.csv/accept", data={"csrf_token": token})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/imports?accepted=weird.csv"
    config = (workspace_root / "marketops.yaml").read_text(encoding="utf-8")
    assert "pattern: weird.csv" in config and "entity: people" in config
    assert client.get("/api/v1/mappings/proposals").json()["items"] == []
    reloaded = upload_form(client, "weird.csv", UNMAPPED)  # same bytes: loads now, with the rule
    assert 'data-status="loaded"' in reloaded.text or 'data-status="unchanged"' in reloaded.text


def test_accepting_through_the_api_needs_write_and_an_inbox_file(app, client, users, workspace_root):
    (workspace_root / "inbox" / "weird.csv").write_bytes(UNMAPPED)
    read = token_for(app, "editor", ("read",))
    write = token_for(app, "editor", ("write",))
    assert client.post("/api/v1/mappings/proposals/weird.csv/accept",
                       headers={"Authorization": f"Bearer {read}"}).status_code == 403
    for hostile in ("..%2Fmarketops.yaml", "..", ".marketops", "nope.csv"):
        r = client.post(f"/api/v1/mappings/proposals/{hostile}/accept", headers={"Authorization": f"Bearer {write}"})
        assert r.status_code == 404, hostile
    ok = client.post("/api/v1/mappings/proposals/weird.csv/accept", headers={"Authorization": f"Bearer {write}"})
    assert ok.status_code == 200 and ok.json()["entity"] == "people"
    assert "weird.csv" in (workspace_root / "marketops.yaml").read_text(encoding="utf-8")


def test_page_escapes_file_names_and_messages(client, users, workspace_root):
    login_as(client, "editor")
    upload_form(client, "<script>alert(1)</script>.csv", LEADS)
    page = client.get("/imports").text
    assert "<script>alert(1)" not in page


def test_api_lists_are_json_envelopes(client, users, workspace_root):
    login_as(client, "viewer")
    loads = client.get("/api/v1/loads?limit=5&offset=0").json()
    assert set(loads) == {"items", "total", "limit", "offset"}
    assert json.dumps(client.get("/api/v1/mappings/proposals").json())
