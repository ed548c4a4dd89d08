"""The overview page and API on a real DuckDB workspace, translations, and a real HTTP server."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from jinja2.ext import babel_extract

from marketops.app import create_app
from marketops.app.i18n import LOCALE_DIR, translations
from marketops.state.db import dispose, session_scope
from marketops.state.users import create_user
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    CSRF_RE,
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    login,
    login_as,
    make_workspace,
    users,
    workspace_root,
)

TEMPLATES = Path(__file__).parents[1] / "src" / "marketops" / "app" / "templates"


def _rows(html: str) -> dict[str, int]:
    return {name: int(rows) for name, rows in
            re.findall(r'<code>([a-z_]+)</code></td><td class="num" data-rows="(\d+)"', html)}


def test_overview_shows_table_counts_of_the_workspace(client, users):
    login_as(client, "viewer")
    page = client.get("/")
    assert page.status_code == 200
    assert _rows(page.text) == {"ad_spend": 2, "people": 3}
    assert "Acme Marketing" in page.text
    assert "Rows quarantined" in page.text and "hubspot_contacts.csv" in page.text
    assert "No run yet" in page.text


def test_overview_api_returns_the_same_facts(client, users):
    login_as(client, "viewer")
    data = client.get("/api/v1/overview").json()
    assert data["workspace"]["name"] == "Acme Marketing"
    assert data["tables"] == [{"name": "ad_spend", "rows": 2}, {"name": "people", "rows": 3}]
    assert data["rows_total"] == 5 and data["rows_quarantined"] == 2
    assert [load["file"] for load in data["recent_loads"]] == ["google_ads.csv", "hubspot_contacts.csv"]
    assert data["last_run"] is None


def test_overview_of_an_empty_workspace(tmp_path, clean_env):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Empty Co\n")
    application = create_app(root)
    with session_scope(application.state.database_url) as s:
        create_user(s, "solo@empty.test", "solo password!", role="viewer")
    from fastapi.testclient import TestClient

    with TestClient(application, follow_redirects=False) as c:
        assert login(c, "solo@empty.test", "solo password!").status_code == 303
        page = c.get("/")
        assert page.status_code == 200 and "No tables yet" in page.text
    dispose(application.state.database_url)


def test_overview_shows_the_last_run(tmp_path, clean_env):
    pipeline = pytest.importorskip("marketops.pipeline")
    root = make_workspace(tmp_path / "runs")
    from marketops.workspace import Workspace

    ws = Workspace.open(root)
    (ws.inbox / "contacts.csv").write_text("Email,First Name\na@x.com,Ann\nb@x.com,Bo\n")
    run = pipeline.run_pipeline(ws)
    ws.close()
    application = create_app(root)
    with session_scope(application.state.database_url) as s:
        create_user(s, "ops@acme.test", "ops password!", role="viewer")
    from fastapi.testclient import TestClient

    with TestClient(application, follow_redirects=False) as c:
        login(c, "ops@acme.test", "ops password!")
        data = c.get("/api/v1/overview").json()
        assert data["last_run"]["run_id"] == run.run_id
        assert data["last_run"]["status"] == run.status
        page = c.get("/")
        assert f"badge-{run.status}" in page.text
    dispose(application.state.database_url)


def test_a_running_import_shows_a_busy_message(app, client, users, workspace_root):
    # Another process holding DuckDB's write lock, as `marketops run` does.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(workspace_root / ".marketops" / "warehouse.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        login_as(client, "viewer")
        page = client.get("/")
        assert page.status_code == 503 and "A run is in progress" in page.text
        api = client.get("/api/v1/overview")
        assert api.status_code == 503 and api.json()["error"]["code"] == "workspace_busy"
    finally:
        holder.kill()
        holder.wait()


def test_pages_render_in_italian_from_the_workspace_config(tmp_path, clean_env):
    root = make_workspace(tmp_path / "it", language="it")
    application = create_app(root)
    from fastapi.testclient import TestClient

    with session_scope(application.state.database_url) as s:
        create_user(s, "ana@acme.test", "una password lunga", role="admin")
    with TestClient(application, follow_redirects=False) as c:
        form = c.get("/login")
        assert "Accedi" in form.text and '<html lang="it">' in form.text
        assert "Email o password errati." in login(c, "ana@acme.test", "sbagliata!!").text
        login(c, "ana@acme.test", "una password lunga")
        page = c.get("/")
        assert "Panoramica" in page.text and "Righe in quarantena" in page.text and "Esci" in page.text
    dispose(application.state.database_url)


def test_lang_parameter_switches_language_and_sticks(client, users):
    assert "Войти" in client.get("/login?lang=ru").text
    assert "Войти" in client.get("/login").text  # remembered in a cookie
    assert "Iniciar sesión" in client.get("/login?lang=es").text
    assert "Iniciar sesión" in client.get("/login?lang=xx").text  # unknown codes are ignored


def test_every_template_string_is_translated():
    msgids = set()
    for template in TEMPLATES.glob("*.html"):
        with template.open("rb") as f:
            msgids |= {m for _, _, m, _ in babel_extract(f, ["_"], [], {}) if isinstance(m, str)}
    assert len(msgids) > 30
    for lang in ("it", "es", "ru"):
        assert (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").exists()
        t = translations(lang)
        missing = sorted(m for m in msgids if t.gettext(m) == m and m not in {"Email", "File", "Password", "editor"})
        assert not missing, f"{lang}: untranslated {missing}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_over_http(app, users):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False, timeout=10) as http:
            assert http.get("/health").json()["status"] == "ok"
            assert http.get("/").headers["location"].startswith("/login")
            token = CSRF_RE.search(http.get("/login").text).group(1)
            signed_in = http.post("/login", data={"email": EMAILS["editor"], "password": PASSWORDS["editor"],
                                                  "csrf_token": token})
            assert signed_in.status_code == 303
            assert "HttpOnly" in signed_in.headers["set-cookie"]
            page = http.get("/")
            assert page.status_code == 200 and _rows(page.text) == {"ad_spend": 2, "people": 3}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
