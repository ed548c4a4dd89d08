"""Fixtures for the web app and app-database tests: a real DuckDB workspace, an app, users.

Import what a test module needs (``from tests.app_fixtures import app, client, users``): pytest
picks fixtures up from the module's namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from marketops.app import create_app
from marketops.state.db import dispose, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace

PASSWORDS = {"admin": "admin password 1", "editor": "editor password 2", "viewer": "viewer password 3"}
EMAILS = {role: f"{role}@acme.test" for role in PASSWORDS}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_workspace(root: Path, *, language: str = "en", name: str = "Acme Marketing") -> Path:
    """A workspace whose warehouse holds published canonical tables, quarantine and load history,
    written through the engine as a pipeline run would."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "marketops.yaml").write_text(f"name: {name}\nlanguage: {language}\n", encoding="utf-8")
    ws = Workspace.init(root)
    try:
        eng = ws.engine
        eng.write("people__r1", pa.table({"record_key": ["p1", "p2", "p3"], "email": ["a@x.io", "b@x.io", "c@x.io"]}))
        eng.write("ad_spend__r1", pa.table({"record_key": ["s1", "s2"], "cost": [10.5, 20.0]}))
        eng.publish({"people": "people__r1", "ad_spend": "ad_spend__r1"}, "r1")
        eng.write("_quarantine", pa.table({"load_id": ["l1", "l1"], "reason": ["bad email", "no date"]}))
        now = datetime.now(UTC)
        eng.write("_loads", pa.table({
            "load_id": ["l1", "l2"], "file": ["hubspot_contacts.csv", "google_ads.csv"], "sha256": ["a", "b"],
            "entity": ["people", "ad_spend"], "system": ["hubspot", "google_ads"],
            "loaded_at": [now - timedelta(hours=2), now - timedelta(minutes=5)],
            "rows_in": [5, 2], "rows_loaded": [3, 2], "rows_quarantined": [2, 0], "status": ["loaded", "loaded"]}))
    finally:
        ws.close()
    return root


@pytest.fixture
def clean_env(monkeypatch):
    """Tests must not pick up a developer's database or key."""
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def workspace_root(tmp_path: Path, clean_env) -> Path:
    return make_workspace(tmp_path / "acme")


@pytest.fixture
def app(workspace_root: Path):
    application = create_app(workspace_root, warm=False)  # no background work racing the assertions
    yield application
    dispose(application.state.database_url)


@pytest.fixture
def users(app) -> dict[str, str]:
    """One user per role; returns role -> email (passwords in PASSWORDS)."""
    with session_scope(app.state.database_url) as s:
        for role, email in EMAILS.items():
            create_user(s, email, PASSWORDS[role], role=role, name=role.title())
    return dict(EMAILS)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(client, email: str, password: str, **extra):
    """Sign in through the form as a browser would (GET the form, POST it with its CSRF token)."""
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra})


def login_as(client, role: str):
    response = login(client, EMAILS[role], PASSWORDS[role])
    assert response.status_code == 303, response.text
    return response


@contextmanager
def served(application) -> Iterator[str]:
    """``application`` under a real uvicorn in a background thread on a free 127.0.0.1 port; yields
    its base URL and stops it afterwards."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # held from here on: no race with other processes for the port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
