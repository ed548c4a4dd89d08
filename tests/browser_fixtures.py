"""What the browser tests share: Debian's Chromium driven by Playwright, a workspace served by a real
uvicorn with an editor and a viewer, and tabs signed in as a role that fail the test on page errors,
console errors (a CSP violation is one), dialogs (a name that ran as a script) and failed static files.

Without Chromium or Playwright the tests skip, except under ``CI``, where they fail (``.ci/run``
installs both). A test module imports the fixtures it uses and builds its own workspace::

    from tests.browser_fixtures import browser, serve_workspace, signed_in_as  # noqa: F401

    @pytest.fixture(scope="module")
    def served(tmp_path_factory):
        yield from serve_workspace(lambda: make_workspace(tmp_path_factory.mktemp("x") / "acme"))
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketops.state.db import dispose, init_db, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import served

CHROMIUM = "/usr/bin/chromium"
# Checked on these machines (ARCHITECTURE.md): no sandbox as root, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERS = {"editor": ("ed@acme.test", "editor long password"), "viewer": ("vi@acme.test", "viewer long password")}
HOSTILE = '<img src=x onerror=alert(1)>'
_ENV = ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL", "MARKETOPS_ADMIN_PASSWORD",
        "MARKETOPS_ENGINE")


def unavailable(reason: str) -> None:
    """Skip, or fail under CI where a missing browser is a broken setup."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI this is an error, not a skip (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def serve_workspace(make_root: Callable[[], Path], seed: Callable[[Session], None] | None = None
                    ) -> Iterator[dict[str, Any]]:
    """Serve the workspace ``make_root()`` builds (outside the machine's MARKETOPS_* settings) with the
    editor and viewer of :data:`USERS` and what ``seed`` adds to the app database; yields
    ``{"base": url, "url": app database url}``."""
    with pytest.MonkeyPatch.context() as mp:
        for var in _ENV:
            mp.delenv(var, raising=False)
        root = make_root()
        url = Workspace.open(root, read_only=True).app_database_url
        init_db(url)
        with session_scope(url) as s:
            for role, (email, password) in USERS.items():
                create_user(s, email, password, role=role, name=role.title())
            if seed is not None:
                seed(s)
        dispose(url)
        from marketops.app.main import create_app

        application = create_app(root, warm=False)
        with served(application) as base:
            yield {"base": base, "url": url}
        dispose(application.state.database_url)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in_as(browser, base: str, *, height: int = 900) -> Iterator[Callable[[str], Any]]:
    """Yields ``open_as(role)``: a fresh profile signed in as that role; after the test, asserts that no
    tab saw a page error, a console error, a dialog or a failed static file."""
    contexts, problems = [], []

    def open_as(role: str):
        context = browser.new_context(base_url=base, viewport={"width": 1400, "height": height}, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        tab.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
               if r.status >= 400 and "/static/" in r.url else None)
        tab.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        tab.goto("/login")
        email, password = USERS[role]
        tab.fill("#email", email)
        tab.fill("#password", password)
        tab.click("form.form button[type=submit]")
        tab.wait_for_url(lambda u: "/login" not in u)
        return tab

    yield open_as
    for context in contexts:
        context.close()
    assert problems == []
