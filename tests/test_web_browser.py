"""The web app in a real browser: headless Chromium, driven by Playwright, against uvicorn.

The app serves the synthetic sample company on which the pipeline has really run, with a few of the
resolver's real pairs put back in the review band (the small sample resolves every pair with
certainty), from a background thread on a free 127.0.0.1 port. What the pages show is checked
against the capability functions (channel report, KPI metrics, funnel) computed on the same
warehouse before the server starts.

Chromium is Debian's (``apt-get install chromium``); Playwright's own browser download is never
used. Without Chromium or Playwright these tests skip, except under ``CI``, where they fail
(``.ci/run`` installs both).

The module shares one workspace and its users: the upload-and-run test, which changes the
published tables, comes last; tests that change a user's language put it back.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from decimal import Decimal
from urllib.parse import quote, urlencode

import pyarrow as pa
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with the reason
    expect = None

from marketops import sample
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.users import create_user, set_language
from marketops.workspace import Workspace
from tests.browser_fixtures import browser  # noqa: F401  (the Chromium fixture)

WORKSPACE_NAME = "Acme Browser Test"
USERS = {  # role -> (email, password, name)
    "admin": ("ops@acme.test", "ops long password", "Olga Ops"),
    "editor": ("ed@acme.test", "editor long password", "Eddie Editor"),
    "viewer": ("vi@acme.test", "viewer long password", "Vera Viewer"),
}
EMAIL, PASSWORD = USERS["admin"][:2]
HOSTILE = '<script>alert("x")</script>'
REVIEW_PROBABILITIES = (0.91, 0.86, 0.81, 0.74)
CHANNEL = "Paid Search"
# Every page of the side navigation and the pages under them, with the h1 each shows signed in.
PAGES = {"/": "Overview", "/channels": "Channels", "/attribution": "Attribution", "/funnel": "Funnel",
         "/quality": "Data quality", "/quality/quarantine": "Quarantine", "/review": "Review queue",
         "/imports": "Imports", "/people": "People", "/runs": "Runs", "/settings": "Settings",
         "/settings/users": "Users", "/settings/tokens": "API tokens", "/settings/audit": "Audit log",
         "/docs": "REST API", "/channels?model=linear&by=source": "Channels",
         "/stack": "Martech stack", "/stack/map": "Integration map", "/stack/audit": "Stack audit",
         "/stack/evaluate": "Evaluate a tool", "/utm": "UTM links", "/privacy": "Consent and privacy",
         "/playbooks": "Playbooks", "/assets": "Assets"}
UNDRAWN = '.chart[data-figure]:not([data-drawn="1"])'


# -- the served workspace ---------------------------------------------------------------------------
def _review_band(ws: Workspace) -> list[str]:
    """Put a few of the run's real pairs back in the review band (most probable first), the first
    with a hostile first name; returns their pair ids."""
    physical = ws.engine.published()["identity_pairs"]
    table = ws.engine.con.table(physical).to_pyarrow()
    rows = table.to_pylist()
    differing = [r for r in rows if r.get("email_l") != r.get("email_r") or r.get("phone_l") != r.get("phone_r")]
    chosen = (differing + [r for r in rows if r not in differing])[:len(REVIEW_PROBABILITIES)]
    assert len(chosen) == len(REVIEW_PROBABILITIES), "the sample run produced too few pairs"
    for r, p in zip(chosen, REVIEW_PROBABILITIES, strict=True):
        r["status"], r["match_probability"] = "review", p
    chosen[0]["first_name_l"] = HOSTILE
    ws.engine.write(physical, pa.Table.from_pylist(rows, schema=table.schema))
    return [r["pair_id"] for r in chosen]


def _expectations(ws: Workspace) -> dict:
    """What the pages must show, from the capability functions on the same warehouse."""
    from marketops.app.analytics import kpis
    from marketops.attribution import MODELS
    from marketops.attribution.report import channel_report
    from marketops.funnel import DEFAULT_STAGES, funnel
    from marketops.metrics import query_metrics

    config = ws.config.attribution
    credited = {}
    for model in MODELS:
        used, rows = channel_report(ws, config, model=model)
        credited[used] = {r.channel: r.conversions for r in rows}
    default = config.model
    assert CHANNEL in credited[default], f"the sample has no {CHANNEL} channel"
    # Another model that credits the channel differently, so switching shows in the table.
    other = next(m for m in MODELS if credited[m].get(CHANNEL) != credited[default][CHANNEL])

    month = kpis(ws)["period"]  # the latest complete month: the tiles' period
    sessions = {r["period"]: r["sessions"] for r in query_metrics(ws.engine, ["sessions"], grain="month").to_pylist()}

    report = funnel(ws.table("lifecycle_stages").to_pyarrow(), stages=DEFAULT_STAGES)
    return {"models": list(MODELS), "default_model": default, "other_model": other, "credited": credited,
            "sessions": sessions[month], "first_step": (report.steps[0].stage, report.steps[0].reached),
            "people": ws.engine.count("people")}


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """The sample company, run through the pipeline once, a few pairs to review, three users;
    returns the root, the review pair ids and what the pages must show."""
    with pytest.MonkeyPatch.context() as mp:
        # A developer's database, key or engine must not leak into the served app.
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL",
                    "MARKETOPS_ADMIN_PASSWORD", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        from marketops.pipeline import run_pipeline

        root = tmp_path_factory.mktemp("browser") / "acme"
        Workspace.init(root, name=WORKSPACE_NAME).close()
        sample.generate(root, contacts=1500, months=4, seed=3)  # writes root/inbox (and root/truth)
        with Workspace.open(root) as ws:
            run = run_pipeline(ws)
            assert run.status == "succeeded", run.error
            pairs = _review_band(ws)
            expected = _expectations(ws)
            url = ws.app_database_url
        init_db(url)
        with session_scope(url) as s:
            for role, (email, password, name) in USERS.items():
                create_user(s, email, password, role=role, name=name)
        dispose(url)
        yield {"root": root, "pairs": pairs, "url": url, **expected}


@pytest.fixture(scope="module")
def base_url(acme):
    """The real app under uvicorn in a background thread; its base URL."""
    import uvicorn

    from marketops.app.main import create_app

    app = create_app(acme["root"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other processes
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # a start-up poll, not a test synchronisation: the browser is not involved yet
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    dispose(app.state.database_url)


# -- the browser: tests/browser_fixtures.py -----------------------------------------------------------


class Tabs:
    """Fresh browser profiles (no cookies) for one test, every page watched for errors."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.contexts: list = []
        self.problems: list[str] = []

    def new(self):
        context = self.browser.new_context(base_url=self.base_url, viewport={"width": 1280, "height": 860},
                                           locale="en-US")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        tab.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        tab.on("response", lambda r: self.problems.append(f"HTTP {r.status} {r.url}")
               if r.status >= 400 and "/static/" in r.url else None)
        # Any dialog means a script the page did not mean to run (e.g. a record's name).
        tab.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        return tab

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def no_problems(t: Tabs) -> None:
    # Wrong passwords answer 401, which Chromium logs as a console error; anything else is a bug
    # (a blocked stylesheet or script, a CSP violation, a script error).
    problems = [p for p in t.problems if "status of 401" not in p]
    assert problems == []


@pytest.fixture
def tabs(browser, base_url):
    """Opens fresh profiles on demand; fails the test on page errors, console errors (a CSP
    violation is one), dialogs and 4xx/5xx static assets in any of them."""
    t = Tabs(browser, base_url)
    yield t
    t.close()
    no_problems(t)


@pytest.fixture(scope="module")
def _reused_tab(browser, base_url):
    t = Tabs(browser, base_url)
    yield t, t.new()
    t.close()


@pytest.fixture
def anonymous_page(_reused_tab):
    """One profile for many tests, its cookies cleared before each (anonymous again) but its cache
    kept, so the 4.6 MB Plotly bundle is not fetched again for every page; watched like ``page``."""
    t, tab = _reused_tab
    tab.context.clear_cookies()
    t.problems.clear()
    yield tab
    no_problems(t)


@pytest.fixture
def page(tabs):
    """A fresh browser profile (no cookies)."""
    return tabs.new()


def sign_in(page, role: str = "admin", *, email: str | None = None, password: str | None = None) -> None:
    """Fill the login form (at /login, or the one the browser was sent to) and submit it."""
    if "/login" not in page.url:
        page.goto("/login")
    page.fill("#email", email or USERS[role][0])
    page.fill("#password", password or USERS[role][1])
    page.click("form.form button[type=submit]")


def signed_in(page, role: str = "admin") -> None:
    sign_in(page, role)
    page.wait_for_selector(".sidebar")


def path_of_url(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def path_of(page) -> str:
    return path_of_url(page.url)


def number(text: str) -> float:
    """A number as the English pages print it (1,234.5)."""
    return float(re.sub(r"[^\d.\-]", "", text))


def catalog(lang: str):
    from marketops.app.i18n import translations

    return translations(lang)


# -- signing in --------------------------------------------------------------------------------------
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


@pytest.mark.parametrize("path", list(PAGES))
def test_an_anonymous_browser_is_sent_to_sign_in_and_then_to_the_page_it_asked_for(anonymous_page, path):
    page = anonymous_page
    page.goto(path)
    assert path_of(page) == "/login?" + urlencode({"next": path})
    assert page.inner_text("h1") == "Sign in"
    assert page.locator(".sidebar").count() == 0  # nothing of the app shows before signing in
    sign_in(page)
    page.wait_for_url(lambda url: path_of_url(url) == path)
    assert page.inner_text("h1").startswith(PAGES[path])
    assert page.locator(".nav-item.active").count() == 1
    # Charts draw under the strict CSP (scripts only from this origin); the fixture fails on errors.
    expect(page.locator(UNDRAWN)).to_have_count(0)


def test_sign_out(page):
    signed_in(page)
    page.click("form.logout button")
    page.wait_for_url(re.compile(r"/login$"))
    assert page.inner_text("h1") == "Sign in"
    page.goto("/")  # the session is gone: back to the login page
    assert path_of(page).startswith("/login")


# -- the overview ------------------------------------------------------------------------------------
def test_the_overview_shows_the_kpis_with_their_charts_drawn(page, acme, tmp_path):
    sign_in(page)
    page.wait_for_selector("#tables")
    assert path_of(page) == "/"
    assert page.inner_text("h1") == "Overview"
    assert page.title() == f"Overview · {WORKSPACE_NAME} · marketops"
    assert page.inner_text(".sidebar .workspace-name") == WORKSPACE_NAME

    tiles = page.locator("#kpis .tile.kpi")
    assert tiles.count() >= 4
    # (No wait_for_function: its string predicates need eval, which the CSP rightly forbids.)
    expect(page.locator('.chart.sparkline[data-drawn="1"]')).to_have_count(tiles.count())
    assert page.locator(".chart.sparkline .main-svg").count() >= tiles.count()  # Plotly really drew them
    sessions = page.locator("#kpis .tile.kpi[data-metric=sessions] .tile-value")
    assert float(sessions.get_attribute("data-value")) == float(acme["sessions"])
    assert number(sessions.get_attribute("title")) == float(acme["sessions"])  # the exact figure, on hover

    people = page.locator("#tables tr", has=page.locator("code", has_text=re.compile(r"^people$")))
    assert people.locator("td.num").get_attribute("data-rows") == str(acme["people"])
    assert number(people.locator("td.num").inner_text()) == acme["people"]
    assert page.locator(".badge-succeeded").count() >= 1  # the pipeline run
    # The stylesheet applied (served, and not blocked by the content security policy).
    assert page.evaluate("getComputedStyle(document.querySelector('.sidebar')).display") != "inline"

    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


# -- analytics pages ---------------------------------------------------------------------------------
def test_switching_the_attribution_model_changes_the_credited_numbers(page, acme):
    default, other = acme["default_model"], acme["other_model"]
    signed_in(page, "viewer")
    page.goto("/channels")
    table = page.locator("#channels-table")
    assert table.get_attribute("data-model") == default
    assert page.input_value(".filter-bar select[name=model]") == default
    page.wait_for_selector('#chart-money .chart[data-drawn="1"]')
    page.wait_for_selector('#chart-roas .chart[data-drawn="1"]')

    def conversions():
        cell = page.locator(f'#channels-table tr[data-channel="{CHANNEL}"] td').nth(5)
        return Decimal(cell.get_attribute("data-value")), number(cell.inner_text())

    exact, shown = conversions()
    assert exact == acme["credited"][default][CHANNEL]
    assert shown == pytest.approx(float(exact), abs=0.05)  # one decimal on the page
    channels_shown = set(page.locator("#channels-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.channel)"))
    assert channels_shown == set(acme["credited"][default])

    page.select_option(".filter-bar select[name=model]", other)
    page.click(".filter-bar button[type=submit]")
    page.wait_for_selector(f'#channels-table[data-model="{other}"]')
    assert f"model={other}" in page.url  # a shareable URL
    assert page.input_value(".filter-bar select[name=model]") == other
    exact, shown = conversions()
    assert exact == acme["credited"][other][CHANNEL] != acme["credited"][default][CHANNEL]
    assert shown == pytest.approx(float(exact), abs=0.05)
    page.wait_for_selector('#chart-money .chart[data-drawn="1"]')


def test_hovering_a_bar_shows_its_values(page, acme):
    signed_in(page, "viewer")
    page.goto("/channels")
    chart = page.locator('#chart-money .chart[data-drawn="1"]')
    chart.wait_for()
    bar = chart.locator(".point path").first
    box = bar.bounding_box()
    assert box and box["height"] > 0
    # Plotly listens on a drag layer above the bars, so move the mouse there rather than "hover" the bar.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = chart.locator(".hoverlayer")
    label.locator("text").first.wait_for()
    assert any(c in label.text_content() for c in acme["credited"][acme["default_model"]])


def test_the_attribution_page_compares_every_model(page, acme):
    signed_in(page, "viewer")
    page.goto("/attribution")
    page.wait_for_selector('#chart-models .chart[data-drawn="1"]')
    models = page.locator("#attribution-table thead th[data-model]")
    assert models.evaluate_all("hs => hs.map(h => h.dataset.model)") == acme["models"]
    assert page.locator(f'#attribution-table thead th.col-current[data-model="{acme["default_model"]}"]').count() == 1
    for model in acme["models"]:  # each model's shares add up to 100%
        shares = page.locator(f'#attribution-table tbody td[data-model="{model}"]').evaluate_all(
            "cs => cs.map(c => parseFloat(c.dataset.value))")
        assert sum(shares) == pytest.approx(1.0, abs=1e-6), model


def test_the_funnel_shows_the_bottleneck_and_hovering_a_stage_shows_its_people(page, acme):
    signed_in(page, "viewer")
    page.goto("/funnel")
    chart = page.locator('#chart-funnel .chart[data-drawn="1"]')
    chart.wait_for()
    assert page.locator("#bottleneck .callout-title").inner_text().strip()
    stage, reached = acme["first_step"]
    row = page.locator(f'#funnel-steps tr[data-stage="{stage}"] td')
    assert number(row.nth(1).inner_text()) == reached

    box = chart.locator(".point path").first.bounding_box()
    assert box and box["width"] > 0
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    hover = chart.locator(".hoverlayer .hovertext")
    hover.first.wait_for()
    assert f"{reached:,}" in hover.first.text_content()


# -- the review queue --------------------------------------------------------------------------------
def test_an_editor_accepts_a_match_and_it_leaves_the_queue(page, acme):
    signed_in(page, "editor")
    page.goto("/review")
    rows = page.locator("#review-queue tbody tr[data-pair]")
    waiting = rows.evaluate_all("rs => rs.map(r => r.dataset.pair)")
    assert waiting == acme["pairs"]  # most probable first
    first = page.locator("#review-queue tbody tr:first-child")
    assert HOSTILE in first.locator(".record-name").first.inner_text()  # shown as text, never run
    pair = first.get_attribute("data-pair")
    first.locator("a.review-open").click()

    page.wait_for_selector("#decision-form")
    assert path_of(page) == f"/review/{quote(pair)}"
    assert page.locator("#compare tbody tr").count() >= 3
    assert page.locator("#evidence tbody tr").count() >= 1
    page.fill("#decision-form textarea[name=note]", "same person: checked the CRM")
    page.click("#decision-form button[data-action=accept]")

    page.wait_for_selector("#review-flash")
    assert path_of(page) == "/review"
    assert "next pipeline run" in page.inner_text("#review-flash")
    assert page.locator(f'#review-queue tbody tr[data-pair="{pair}"]').count() == 0
    assert rows.count() == len(acme["pairs"]) - 1

    page.goto(f"/review/{quote(pair)}")
    decided = page.locator("#decided")
    assert decided.get_attribute("data-decision") == "always"
    assert USERS["editor"][0] in decided.inner_text()
    assert "checked the CRM" in page.inner_text("#decision blockquote.note")
    assert page.locator("#decision-form").count() == 0


def test_a_viewer_can_look_at_a_pair_but_not_decide(page, acme):
    signed_in(page, "viewer")
    page.goto("/review")
    page.wait_for_selector("#review-readonly")
    page.locator("#review-queue tbody tr:first-child a.review-open").click()
    page.wait_for_selector("#compare")
    assert page.locator("#review-readonly").is_visible()
    assert page.locator("#decision-form").count() == 0


# -- the language --------------------------------------------------------------------------------------
def test_the_language_follows_the_user_across_sign_out_and_devices(tabs, acme):
    it = catalog("it")
    email = USERS["viewer"][0]
    try:
        page = tabs.new()
        signed_in(page, "viewer")
        page.click(".languages [lang=it]")
        page.wait_for_selector("html[lang=it]")
        assert path_of(page) == "/"  # back on the page it was asked from
        assert page.inner_text("h1") == it.gettext("Overview")
        assert page.inner_text("form.logout button") == it.gettext("Sign out")
        page.reload()
        assert page.locator("html").get_attribute("lang") == "it"
        page.goto("/settings")
        assert page.inner_text("h1") == it.gettext("Settings")
        assert page.input_value("#language-select") == "it"

        page.click("form.logout button")  # the sign-in page keeps the language (a cookie)
        page.wait_for_url(re.compile(r"/login$"))
        assert page.locator("html").get_attribute("lang") == "it"
        assert page.inner_text("h1") == it.gettext("Sign in")

        other = tabs.new()  # another device: no cookie, the user's setting decides
        signed_in(other, "viewer")
        assert other.locator("html").get_attribute("lang") == "it"
        assert other.inner_text("h1") == it.gettext("Overview")

        other.goto("/settings")
        other.select_option("#language-select", "en")
        other.click("#save-language")
        other.wait_for_selector("html[lang=en]")
        assert other.inner_text("h1") == "Settings"
        other.goto("/")
        assert other.inner_text("h1") == "Overview"
    finally:
        with session_scope(acme["url"]) as s:  # module-scoped users: leave the viewer in English
            set_language(s, email, None)


def test_a_language_chosen_before_signing_in_applies_to_the_sign_in_page(page):
    page.goto("/login")
    page.click(".languages [lang=it]")
    page.wait_for_selector("html[lang=it]")
    assert page.inner_text("h1") == catalog("it").gettext("Sign in")


def test_choosing_a_language_on_the_sign_in_page_keeps_where_the_browser_was_going(page):
    page.goto("/channels?model=linear")
    page.click(".languages [lang=it]")
    page.wait_for_selector("html[lang=it]")
    sign_in(page)
    page.wait_for_selector(".sidebar")
    assert path_of(page) == "/channels?model=linear"


def test_switching_the_language_keeps_the_page_filters(page, acme):
    try:
        signed_in(page, "viewer")
        page.goto("/channels?model=linear&by=source")
        page.click(".languages [lang=it]")
        page.wait_for_selector("html[lang=it]")
        assert path_of(page) == "/channels?model=linear&by=source"
    finally:
        with session_scope(acme["url"]) as s:
            set_language(s, USERS["viewer"][0], None)


# -- imports and runs (last: a run republishes the tables the tests above read) -------------------------
def test_an_uploaded_file_is_loaded_and_a_run_publishes_it(page, acme, tmp_path):
    inbox = acme["root"] / "inbox"
    header = (inbox / "hubspot_contacts.csv").read_text(encoding="utf-8").splitlines()[0]
    columns = header.split(",")
    people = [{"Record ID": f"99{i:09d}", "First Name": name, "Last Name": "Upload",
               "Email": f"{name.lower()}@upload.test", "Country/Region": "Italy", "Create Date": "2024-03-01 10:00"}
              for i, name in enumerate(["Ada", "Bruno", "Carla"])]
    upload = tmp_path / "hubspot_contacts_event.csv"
    upload.write_text(header + "\n" + "".join(",".join(p.get(c, "") for c in columns) + "\n" for p in people),
                      encoding="utf-8")

    signed_in(page, "editor")
    page.goto("/imports")
    page.set_input_files("#upload-file", str(upload))
    assert page.is_checked("input[name=ingest]")  # "Load it now"
    page.click("#upload-submit")
    result = page.locator('#upload-result[data-status="loaded"]')
    result.wait_for()
    assert result.get_attribute("data-file") == upload.name
    assert page.locator(f'#loads tr[data-file="{upload.name}"]').count() == 1
    assert (inbox / upload.name).read_bytes() == upload.read_bytes()

    page.goto("/runs")
    page.click("#start-run")
    page.wait_for_url(re.compile(r"/runs/[^/]+$"))
    # The page refreshes itself while the run goes on.
    page.wait_for_selector('#run-status[data-status="succeeded"]', timeout=120_000)
    assert page.locator('#steps tr[data-status="succeeded"]').count() >= 3

    page.goto("/")
    people_rows = page.locator("#tables tr", has=page.locator("code", has_text=re.compile(r"^people$")))
    assert int(people_rows.locator("td.num").get_attribute("data-rows")) == acme["people"] + len(people)

