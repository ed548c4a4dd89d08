"""The plan's pages in a real browser (headless Chromium driven by Playwright, against uvicorn): the
task board's drag and drop saves a status, the timeline draws one bar per task, viewers cannot drag.

Chromium and the fixtures are those of ``tests/browser_fixtures.py``. One workspace and one server serve
the whole module.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from marketops.state.db import session_scope
from marketops.state.planning import Initiative, Task
from tests.app_fixtures import make_workspace
from tests.browser_fixtures import HOSTILE, browser, serve_workspace, signed_in_as  # noqa: F401  (fixtures)

TODAY = date.today()


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """A workspace with two users, one initiative and four tasks (one overdue, one with a dependency)."""
    def seed(s):
        s.add(Initiative(id=1, title="Spring launch"))
        s.flush()
        d = lambda n: TODAY + timedelta(days=n)
        brief = Task(id=1, initiative_id=1, title="Brief", status="done", start_date=d(-10), due_date=d(-6))
        design = Task(id=2, initiative_id=1, title="Design", start_date=d(-5), due_date=d(-1), owner="Ana")
        copy = Task(id=3, initiative_id=1, title=HOSTILE, start_date=d(1), due_date=d(4))
        launch = Task(id=4, initiative_id=1, title="Launch", status="in_progress", start_date=d(5), due_date=d(9))
        design.depends_on = [brief]
        launch.depends_on = [design, copy]
        s.add_all([brief, design, copy, launch])

    for served in serve_workspace(lambda: make_workspace(tmp_path_factory.mktemp("plan") / "acme"), seed):
        yield {**served, "dated": 4}


@pytest.fixture
def signed_in(browser, plan):
    yield from signed_in_as(browser, plan["base"])


def _status(plan, task_id: int) -> str:
    with session_scope(plan["url"]) as s:
        return s.get(Task, task_id).status


def test_an_editor_drags_a_card_to_in_progress_and_the_status_is_saved(signed_in, plan):
    page = signed_in("editor")
    page.goto("/tasks")
    card = page.locator('.task-card[data-task-id="2"]')
    expect(page.locator('#column-todo .task-card[data-task-id="2"]')).to_be_visible()
    assert "is-overdue" in (card.get_attribute("class") or "")  # design is past its due date
    card.drag_to(page.locator("#column-in_progress"))
    expect(page.locator('#column-in_progress .task-card[data-task-id="2"]')).to_be_visible()
    expect(page.locator("#column-in_progress .board-count")).to_have_text("2")
    assert _status(plan, 2) == "in_progress"
    page.reload()
    expect(page.locator('#column-in_progress .task-card[data-task-id="2"]')).to_be_visible()
    expect(page.locator('#column-in_progress .task-card[data-task-id="2"] select[name=status]')).to_have_value(
        "in_progress")
    # a hostile title is shown as text, and dragging the card that waits for it warns which task is not done
    expect(page.locator('.task-card[data-task-id="3"] .task-card-title')).to_have_text(HOSTILE)
    page.locator('.task-card[data-task-id="4"]').drag_to(page.locator("#column-done"))
    expect(page.locator('#column-done .task-card[data-task-id="4"]')).to_be_visible()
    expect(page.locator("#board-message")).to_contain_text("depends on task 2 'Design', which is not done")
    assert _status(plan, 4) == "done"


def test_the_timeline_draws_one_bar_per_task(signed_in, plan):
    page = signed_in("viewer")
    page.goto("/tasks/timeline")
    chart = page.locator('#timeline .chart[data-drawn="1"]')
    expect(chart).to_have_count(1)
    expect(chart.locator("g.trace.bars g.point")).to_have_count(plan["dated"])
    expect(chart.locator("g.annotation")).to_have_count(4)  # three dependency arrows and the today label
    expect(chart.locator("text", has_text=HOSTILE)).to_have_count(1)


def test_a_viewers_board_has_no_draggable_cards(signed_in):
    page = signed_in("viewer")
    page.goto("/tasks")
    expect(page.locator(".task-card")).to_have_count(4)
    expect(page.locator('.task-card[draggable="true"]')).to_have_count(0)
    expect(page.locator(".task-move")).to_have_count(0)
