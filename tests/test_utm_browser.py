"""The UTM link builder in a real browser (headless Chromium via Playwright, against uvicorn): the live
preview shows each problem and its fix while typing, the fixed link is built and lands in the register.
Chromium and the fixtures are those of tests/browser_fixtures.py."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from tests.browser_fixtures import browser, serve_workspace, signed_in_as  # noqa: F401  (fixtures)
from tests.test_utm_workspace import build


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from serve_workspace(lambda: build(tmp_path_factory.mktemp("utmb") / "acme"))


@pytest.fixture
def signed_in(browser, served):
    yield from signed_in_as(browser, served["base"])


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
