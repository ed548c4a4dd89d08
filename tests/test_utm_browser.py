"""The UTM link builder in a real browser (headless Chromium via Playwright, against uvicorn): the live
preview shows each problem and its fix while typing, the fixed link is built and lands in the register.
Skips without Chromium or Playwright (fails under CI), like tests/test_plan_browser.py."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from marketops.state.db import dispose, init_db, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import served
from tests.test_plan_browser import browser  # noqa: F401 - the shared Chromium fixture
from tests.test_utm_workspace import build

USERS = {"editor": ("ed@acme.test", "editor long password"), "viewer": ("vi@acme.test", "viewer long password")}


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                    "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        root = build(tmp_path_factory.mktemp("utmb") / "acme")
        url = Workspace.open(root, read_only=True).app_database_url
        init_db(url)
        with session_scope(url) as s:
            for role, (email, password) in USERS.items():
                create_user(s, email, password, role=role, name=role.title())
        dispose(url)
        from marketops.app.main import create_app

        application = create_app(root, warm=False)
        with served(application) as base:
            yield {"base": base}
        dispose(application.state.database_url)


@pytest.fixture
def signed_in(browser, plan):  # noqa: F811
    contexts, problems = [], []

    def open_as(role: str):
        context = browser.new_context(base_url=plan["base"], viewport={"width": 1400, "height": 900}, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
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


def test_the_preview_flags_problems_live_and_the_fixed_link_is_registered(signed_in):
    page = signed_in("editor")
    page.goto("/utm")
    expect(page.locator("#utm-rate")).to_contain_text("60")
    page.fill("#utm-url", "https://acme.com/pricing?plan=pro#faq")
    page.fill("#utm-source", "FB Ads")
    page.fill("#utm-medium", "paid_social")
    page.fill("#utm-campaign", "Spring Launch")
    expect(page.locator('#utm-problems li[data-param="utm_source"]')).to_contain_text("use 'facebook'")
    expect(page.locator('#utm-problems li[data-param="utm_campaign"]')).to_contain_text("spring_launch")
    expect(page.locator("#utm-preview")).to_have_attribute("data-ok", "false")
    page.check("#utm-fix")
    expect(page.locator("#utm-preview")).to_have_text(
        "https://acme.com/pricing?plan=pro&utm_source=facebook&utm_medium=paid_social&utm_campaign=spring_launch#faq")
    page.click("#utm-build")
    page.wait_for_url("**/utm?built=*")
    row = page.locator("#utm-links tbody tr").first
    expect(row).to_contain_text("spring_launch")
    expect(row).to_contain_text("ed@acme.test")


def test_a_viewer_reads_without_the_form(signed_in):
    page = signed_in("viewer")
    page.goto("/utm")
    expect(page.locator("#utm-compliance")).to_be_visible()
    assert page.locator("#utm-form").count() == 0
