"""The plan's pages in a real browser (headless Chromium driven by Playwright, against uvicorn): the
task board's drag and drop saves a status, the timeline draws one bar per task, viewers cannot drag.

Chromium is Debian's (``apt-get install chromium``), as in ``test_web_browser.py``; without Chromium
or Playwright these tests skip, except under ``CI``, where they fail. One workspace and one server
serve the whole module.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from marketops.state.db import dispose, init_db, session_scope
from marketops.state.planning import Initiative, Task
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import make_workspace, served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERS = {"editor": ("ed@acme.test", "editor long password"), "viewer": ("vi@acme.test", "viewer long password")}
TODAY = date.today()
HOSTILE = '<img src=x onerror=alert(1)>'


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI this is an error, not a skip (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """A workspace with two users, one initiative and four tasks (one overdue, one with a dependency)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                    "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        root = make_workspace(tmp_path_factory.mktemp("plan") / "acme")
        url = Workspace.open(root).app_database_url
        init_db(url)
        with session_scope(url) as s:
            for role, (email, password) in USERS.items():
                create_user(s, email, password, role=role, name=role.title())
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
        dispose(url)
        from marketops.app.main import create_app

        application = create_app(root, warm=False)
        with served(application) as base:
            yield {"base": base, "url": url, "dated": 4}
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
def signed_in(browser, plan):
    """Opens a fresh profile signed in as a role; fails the test on page errors, console errors
    (a CSP violation is one), dialogs (a title that ran as a script) and failed static files."""
    contexts, problems = [], []

    def open_as(role: str):
        context = browser.new_context(base_url=plan["base"], viewport={"width": 1400, "height": 900}, locale="en-US")
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
