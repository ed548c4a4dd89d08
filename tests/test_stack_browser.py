"""The stack pages in a real browser (headless Chromium driven by Playwright, against uvicorn): an editor
adds a tool picked from the catalogue and filters the registry; the integration map draws one marker
per tool and one arrow per integration, with a hostile name shown as text; the audit page draws its chart.

Chromium and the fixtures are those of ``tests/browser_fixtures.py``. One workspace and one server serve
the whole module.
"""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from sqlalchemy import func, select

from marketops.sample.stack import seed_stack
from marketops.stack.registry import ToolDraft, create_tool, link
from marketops.state.db import session_scope
from marketops.state.stack import StackIntegration, StackTool
from tests.app_fixtures import make_workspace
from tests.browser_fixtures import HOSTILE, browser, serve_workspace, signed_in_as  # noqa: F401  (fixtures)

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A workspace with the sample stack, a tool with a hostile name, and two users."""
    def seed(s):
        seed_stack(s)
        create_tool(s, ToolDraft(name=HOSTILE, category="Experience analytics"), actor="test")
        link(s, HOSTILE, "HubSpot", object="<b>heatmaps</b>", actor="test")

    yield from serve_workspace(lambda: make_workspace(tmp_path_factory.mktemp("stack") / "acme"), seed)


@pytest.fixture
def signed_in(browser, stack):
    yield from signed_in_as(browser, stack["base"], height=1000)


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
