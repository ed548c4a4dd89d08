"""The stack pages in a real browser (headless Chromium driven by Playwright, against uvicorn): an editor
adds a tool picked from the catalogue and filters the registry; the integration map draws one marker
per tool and one arrow per integration, with a hostile name shown as text; the audit page draws its chart.

Chromium is Debian's (``apt-get install chromium``), as in ``test_plan_browser.py``; without Chromium or
Playwright these tests skip, except under ``CI``, where they fail. One workspace and one server serve
the whole module.
"""

from __future__ import annotations

import os
import shutil

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from sqlalchemy import func, select

from marketops.sample.stack import seed_stack
from marketops.stack.registry import ToolDraft, create_tool, link
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.stack import StackIntegration, StackTool
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import make_workspace, served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERS = {"editor": ("ed@acme.test", "editor long password"), "viewer": ("vi@acme.test", "viewer long password")}
HOSTILE = '<img src=x onerror=alert(1)>'


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI this is an error, not a skip (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A workspace with the sample stack, a tool with a hostile name, and two users."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                    "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        root = make_workspace(tmp_path_factory.mktemp("stack") / "acme")
        url = Workspace.open(root).app_database_url
        init_db(url)
        with session_scope(url) as s:
            for role, (email, password) in USERS.items():
                create_user(s, email, password, role=role, name=role.title())
            seed_stack(s)
            create_tool(s, ToolDraft(name=HOSTILE, category="Experience analytics"), actor="test")
            link(s, HOSTILE, "HubSpot", object="<b>heatmaps</b>", actor="test")
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
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, stack):
    """Opens a fresh profile signed in as a role; fails the test on page errors, console errors (a CSP
    violation is one), dialogs (a name that ran as a script) and failed static files."""
    contexts, problems = [], []

    def open_as(role: str):
        context = browser.new_context(base_url=stack["base"], viewport={"width": 1400, "height": 1000},
                                      locale="en-US")
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


def _counts(stack) -> tuple[int, int]:
    with session_scope(stack["url"]) as s:
        return (s.scalar(select(func.count()).select_from(StackTool)),
                s.scalar(select(func.count()).select_from(StackIntegration)))


def test_the_integration_map_draws_every_tool_and_every_arrow(signed_in, stack):
    tools, flows = _counts(stack)
    page = signed_in("viewer")
    page.goto("/stack/map")
    chart = page.locator('#stack-map .chart[data-drawn="1"]')
    expect(chart).to_have_count(1)
    expect(chart.locator("g.points path.point")).to_have_count(tools)  # one marker per tool
    expect(chart.locator("g.annotation")).to_have_count(flows)  # one arrow per integration
    expect(chart.locator("g.legend g.traces")).to_have_count(len({*_categories(stack)}))
    expect(chart.locator("text", has_text=HOSTILE)).to_have_count(1)  # shown as text, never run
    expect(chart.locator("g.annotation text", has_text="<b>heatmaps</b> · native")).to_have_count(1)
    expect(page.locator(".stack-loop").first).to_contain_text("HubSpot → Salesforce → HubSpot")


def _categories(stack) -> list[str]:
    with session_scope(stack["url"]) as s:
        return list(s.scalars(select(StackTool.category)))


def test_an_editor_adds_a_tool_from_the_catalogue_and_finds_it_in_the_registry(signed_in, stack):
    page = signed_in("editor")
    page.goto("/stack")
    expect(page.locator("#stack-tools tbody tr")).to_have_count(_counts(stack)[0])
    page.select_option("#stack-catalogue", "Marketo")
    page.fill("#stack-cost", "2,500")
    page.fill("#stack-currency", "USD")
    page.fill("#stack-owner", "Marta Rossi")
    page.click("#stack-add")
    expect(page.locator("#stack-tool-name")).to_have_text("Marketo")
    expect(page.locator("#flash")).to_contain_text("Added Marketo")
    expect(page.locator("#stack-tool-cost")).to_contain_text("2,500.00")
    page.goto("/stack?category=Marketing+automation")
    expect(page.locator("#stack-tools tbody tr")).to_have_count(2)  # HubSpot and Marketo: an overlap
    expect(page.locator("#stack-tools")).to_contain_text("Marketo")
    page.goto("/stack/audit")
    expect(page.locator("#stack-findings")).to_contain_text("2 tools in Marketing automation: HubSpot, Marketo")
    expect(page.locator('#categories .chart[data-drawn="1"]')).to_have_count(1)


def test_a_viewer_sees_the_registry_with_freshness_and_no_forms(signed_in):
    page = signed_in("viewer")
    page.goto("/stack")
    expect(page.locator("#stack-add-form")).to_have_count(0)
    hubspot = page.locator("#stack-tools tbody tr", has_text="HubSpot")
    expect(hubspot.locator("[data-freshness]")).to_have_attribute("data-freshness", "fresh")
    expect(page.locator("#stack-tools tbody tr", has_text=HOSTILE)).to_have_count(1)
