"""The overview page and API on a real DuckDB workspace, translations, and a real HTTP server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
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
    served,
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
    """Every msgid of the web app (templates, ngettext, and N_()/_()/gettext in Python) has a
    translation in it, es and ru; only words that really are the same in a language may stay."""
    from babel.messages.extract import extract_from_dir

    app_dir = TEMPLATES.parent
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    method_map = [("templates/**.html", babel_extract), ("**.py", "python")]
    msgids = {m for _, _, m, _, _ in extract_from_dir(str(app_dir), method_map, keywords=keywords)}
    singular = {m for m in msgids if isinstance(m, str)}
    plural = {m for m in msgids if isinstance(m, tuple)}
    assert len(singular) > 400 and len(plural) >= 5
    # Python-side labels (navigation, page sections, attribution models) must be found too
    assert {"Channels", "Analyse", "First touch", "Completeness", "Build golden records"} <= singular
    same_everywhere = {"API", "CAC", "CPL", "MQL", "ROAS", "SHA-256", "SQL"}
    same_in = {
        "it": {"Email", "File", "Funnel", "Lead", "Password", "Pipeline", "Record A", "Record B", "Token", "editor",
               "info", "No", "no"},
        "es": {"Email", "Endpoints", "Error", "General", "Lead", "Leads", "No", "Pipeline", "Token", "editor", "info",
               "no"},
        "ru": {"Email", "REST API"},
    }
    for lang in ("it", "es", "ru"):
        assert (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").exists()
        t = translations(lang)
        allowed = same_everywhere | same_in[lang]
        missing = sorted(m for m in singular if t.gettext(m) == m and m not in allowed)
        missing += sorted(f"{one} / {many}" for one, many in plural
                          if t.ngettext(one, many, 1) == one or t.ngettext(one, many, 5) == many)
        assert not missing, f"{lang}: untranslated {missing}"
    # Russian needs its three plural forms: 1 столбец, 3 столбца, 5 столбцов
    ru = translations("ru")
    forms = {ru.ngettext("%(num)s column", "%(num)s columns", n) % {"num": n} for n in (1, 3, 5, 21, 11)}
    assert forms == {"1 столбец", "3 столбца", "5 столбцов", "21 столбец", "11 столбцов"}



def test_real_server_over_http(app, users):
    with served(app) as base:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
            assert http.get("/health").json()["status"] == "ok"
            assert http.get("/").headers["location"].startswith("/login")
            token = CSRF_RE.search(http.get("/login").text).group(1)
            signed_in = http.post("/login", data={"email": EMAILS["editor"], "password": PASSWORDS["editor"],
                                                  "csrf_token": token})
            assert signed_in.status_code == 303
            assert "HttpOnly" in signed_in.headers["set-cookie"]
            page = http.get("/")
            assert page.status_code == 200 and _rows(page.text) == {"ad_spend": 2, "people": 3}


def test_the_overview_stays_up_while_a_run_writes(client, users, monkeypatch):
    from marketops.app.routes import overview as route
    from marketops.errors import WorkspaceLocked

    login_as(client, "viewer")
    first = client.get("/")
    assert first.status_code == 200 and "overview-busy" not in first.text

    def locked(*args, **kwargs):
        raise WorkspaceLocked("the warehouse is in use")

    monkeypatch.setattr(route, "build_overview", locked)
    during = client.get("/")
    # the last facts it read, with a notice, instead of an error page
    assert during.status_code == 200 and 'id="overview-busy"' in during.text
    assert _rows(during.text) == _rows(first.text)
