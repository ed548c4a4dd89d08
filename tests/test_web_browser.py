"""The web app in a real browser: headless Chromium, driven by Playwright, against uvicorn.

The app serves a workspace on which the pipeline has really run (a small contacts file), from a
background thread on a free 127.0.0.1 port. Chromium is Debian's (``apt-get install chromium``);
Playwright's own browser download is never used. Without Chromium or Playwright these tests
skip, except under ``CI``, where they fail (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time

import pytest

from marketops.state.db import dispose, init_db, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace

CHROMIUM = "/usr/bin/chromium"
# Checked on these machines (ARCHITECTURE.md): no sandbox as root, nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WORKSPACE_NAME = "Acme Browser Test"
EMAIL, PASSWORD = "ops@acme.test", "ops long password"
CONTACTS = [(i, f"person{i}@example.com", name)
            for i, name in enumerate(["Ann", "Bo", "Cy", "Dee", "Eve", "Fay", "Gus"], start=1)]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI this is an error, not a skip (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


# -- the served workspace ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace_root(tmp_path_factory):
    """A workspace whose pipeline ran on a small contacts file, with one signed-up user."""
    with pytest.MonkeyPatch.context() as mp:
        # A developer's database, key or engine must not leak into the served app.
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                    "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        from marketops.pipeline import run_pipeline

        ws = Workspace.init(tmp_path_factory.mktemp("browser") / "acme", name=WORKSPACE_NAME)
        try:
            (ws.inbox / "contacts.csv").write_text(
                "Record ID,Email,First Name\n" + "".join(f"{i},{e},{n}\n" for i, e, n in CONTACTS),
                encoding="utf-8")
            run = run_pipeline(ws)
            assert run.status == "succeeded", run.error
            people = ws.engine.count("people")
            url = ws.app_database_url
        finally:
            ws.close()
        init_db(url)
        with session_scope(url) as s:
            create_user(s, EMAIL, PASSWORD, role="admin", name="Olga Ops")
        dispose(url)
        assert people == len(CONTACTS)
        yield ws.root


@pytest.fixture(scope="module")
def base_url(workspace_root):
    """The real app under uvicorn in a background thread; its base URL."""
    import uvicorn

    from marketops.app.main import create_app

    app = create_app(workspace_root)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other processes
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    dispose(app.state.database_url)


# -- the browser -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh browser profile (no cookies) per test; fails the test on page errors."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
           if r.status >= 400 and "/static/" in r.url else None)
    yield tab
    context.close()
    # Wrong passwords answer 401, which Chromium logs as a console error; anything else is a bug
    # (a blocked stylesheet, a CSP violation, a script error).
    problems = [p for p in problems if "status of 401" not in p]
    assert problems == []


def sign_in(page, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


# -- the tests ---------------------------------------------------------------------------------------
def test_an_anonymous_visitor_lands_on_the_login_page(page):
    page.goto("/")
    assert path_of(page).startswith("/login")
    assert page.inner_text("h1") == "Sign in"
    assert WORKSPACE_NAME in page.inner_text("main")
    assert page.locator("#password").get_attribute("type") == "password"


def test_a_wrong_password_shows_an_error(page):
    sign_in(page, password="not the password")
    page.wait_for_selector("[role=alert]")
    assert path_of(page).startswith("/login")
    assert page.inner_text("[role=alert]") == "Wrong email or password."
    assert page.input_value("#email") == EMAIL  # kept, so only the password needs retyping
    assert page.input_value("#password") == ""


def test_the_right_password_shows_the_overview(page, tmp_path):
    sign_in(page)
    page.wait_for_selector("#tables")
    assert path_of(page) == "/"
    assert page.inner_text("h1") == "Overview"
    assert page.inner_text(".page-header .muted") == WORKSPACE_NAME
    assert page.inner_text(".sidebar .workspace-name") == WORKSPACE_NAME
    assert page.title() == f"Overview · {WORKSPACE_NAME} · marketops"
    people = page.locator("#tables tr", has=page.locator("code", has_text=re.compile(r"^people$")))
    assert people.locator("td.num").get_attribute("data-rows") == str(len(CONTACTS))
    assert people.locator("td.num").inner_text() == str(len(CONTACTS))
    assert page.locator(".badge-succeeded").count() >= 1  # the pipeline run
    # The stylesheet applied (served, and not blocked by the content security policy).
    assert page.evaluate("getComputedStyle(document.querySelector('.sidebar')).display") != "inline"

    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_switching_to_italian(page):
    sign_in(page)
    page.wait_for_selector("#tables")
    page.click(".languages [lang=it]")
    page.wait_for_selector("html[lang=it]")
    assert page.inner_text("h1") == "Panoramica"
    assert page.inner_text("form.logout button") == "Esci"
    # The choice sticks (a cookie) when the next page is asked for without ?lang=.
    page.goto("/")
    assert page.inner_text("h1") == "Panoramica"
    page.click(".languages [lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("h1") == "Overview"


def test_sign_out(page):
    sign_in(page)
    page.wait_for_selector("#tables")
    page.click("form.logout button")
    page.wait_for_url(re.compile(r"/login$"))
    assert page.inner_text("h1") == "Sign in"
    page.goto("/")  # the session is gone: back to the login page
    assert path_of(page).startswith("/login")
