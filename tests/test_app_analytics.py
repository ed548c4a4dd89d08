"""The analytics pages (Overview KPIs, Channels, Attribution, Funnel) and their API, on a workspace built
from the sample company by a real pipeline run: the numbers a page shows are the capability functions'."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from decimal import Decimal

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from marketops.app import analytics as an
from marketops.app import create_app
from marketops.app.deps import require_user
from marketops.app.main import routes
from marketops.app.routes import metrics as metrics_routes
from marketops.attribution import MODELS, compare
from marketops.attribution.inputs import workspace_journeys
from marketops.attribution.report import channel_report
from marketops.funnel import first_touch_groups, funnel
from marketops.metrics import query_metrics
from marketops.metrics.query import engine_rates
from marketops.pipeline import run_pipeline
from marketops.state.db import dispose, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    login,
    login_as,
    make_workspace,
    users,
    workspace_root,
)
from tests.exports_reading import read_export

ENV = ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL", "MARKETOPS_ADMIN_PASSWORD",
       "MARKETOPS_ENGINE")


def _with_metrics_api(application):
    # routes/metrics.py is registered in main.py by the coordinator; until then the tests add it
    if not any(path == "/api/v1/metrics" for path, _ in routes(application)):
        application.include_router(metrics_routes.router, dependencies=[Depends(require_user)])
    return application


@pytest.fixture(scope="module")
def sample(tmp_path_factory, sample_dir):
    """The sample company after one pipeline run, and what the capability functions say about it."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        ws = Workspace.init(tmp_path_factory.mktemp("analytics") / "acme", name="Acme Sample")
        shutil.rmtree(ws.inbox)
        shutil.copytree(sample_dir / "inbox", ws.inbox)
        assert run_pipeline(ws).status == "succeeded"
        config = ws.config.attribution
        expected = {
            "channels": {m: {r.channel: r for r in channel_report(ws, config, model=m)[1]}
                         for m in ("first_touch", "last_touch", config.model)},
            "compare": compare(workspace_journeys(ws, config), {m: config.params(m) for m in MODELS}).to_dicts(),
            "funnel": funnel(ws.table("lifecycle_stages").to_pyarrow(),
                             groups=first_touch_groups(ws.table("touchpoints")).to_pyarrow(), group_label="channel"),
            "default_model": config.model,
            "kpis": an.kpis(ws),
            "metrics": query_metrics(ws.engine, ["clicks", "ctr"], by=["channel"], grain="month",
                                     reporting_currency=ws.config.reporting_currency,
                                     rates=engine_rates(ws.engine)).to_pylist(),
        }
        root = ws.root
        ws.close()
        application = _with_metrics_api(create_app(root))
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
        yield application, expected
        dispose(application.state.database_url)


@pytest.fixture
def viewer(sample):
    application, _ = sample
    with TestClient(application, follow_redirects=False) as c:
        login_as(c, "viewer")
        yield c


def _row(html: str, table_id: str, key: str, attr: str = "data-channel") -> str:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    assert table, f"no table #{table_id}"
    row = re.search(rf'<tr[^>]*{attr}="{re.escape(key)}".*?</tr>', table.group(0), re.DOTALL)
    assert row, f"no row {key} in #{table_id}"
    return row.group(0)


def _values(row_html: str) -> list[str]:
    return re.findall(r'data-value="([^"]*)"', row_html)


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# -- Channels ----------------------------------------------------------------------------------

def test_channels_page_shows_the_channel_report(viewer, sample):
    _, expected = sample
    page = viewer.get("/channels")
    assert page.status_code == 200
    report = expected["channels"][expected["default_model"]]
    paid = report["Paid Search"]
    spend, _leads, conversions, revenue, roas = _values(_row(page.text, "channels-table", "Paid Search"))
    assert Decimal(spend) == paid.spend and Decimal(revenue) == paid.revenue
    assert Decimal(conversions) == paid.conversions and Decimal(roas) == paid.roas
    # every model is offered with a readable name, the workspace's selected
    assert f'<option value="{expected["default_model"]}" selected>' in page.text
    assert "Position-based (U-shaped)" in page.text and "Markov chain (data-driven)" in page.text
    assert page.text.count('class="chart"') >= 2 and '<script src="/static/charts.js"' in page.text


def test_switching_the_model_changes_the_credits(viewer, sample):
    _, expected = sample
    first = viewer.get("/channels?model=first_touch").text
    last = viewer.get("/channels?model=last_touch").text
    credited = {m: {c: Decimal(_values(_row(html, "channels-table", c))[2]) for c in expected["channels"][m]}
                for m, html in (("first_touch", first), ("last_touch", last))}
    assert credited["first_touch"] != credited["last_touch"]
    for model, rows in credited.items():
        assert rows == {c: r.conversions for c, r in expected["channels"][model].items()}


def test_channels_by_source_lists_sources(viewer):
    page = viewer.get("/channels?by=source")
    assert page.status_code == 200
    assert '<option value="source" selected>' in page.text
    assert 'data-channel="google"' in page.text


def test_channels_api_json_and_downloads(viewer, sample):
    _, expected = sample
    data = viewer.get("/api/v1/channels?model=first_touch").json()
    assert data["model"] == "first_touch" and data["by"] == "channel" and data["currency"] == "EUR"
    rows = {r["channel"]: r for r in data["items"]}
    assert set(rows) == set(expected["channels"]["first_touch"])
    assert rows["Paid Search"]["spend"] == str(expected["channels"]["first_touch"]["Paid Search"].spend)
    assert set(rows["Paid Search"]) >= {"spend", "sessions", "leads", "pipeline", "conversions", "revenue", "cpl",
                                        "cac", "roas", "flag"}

    file = viewer.get("/api/v1/channels?model=first_touch&format=csv")
    assert file.headers["content-type"].startswith("text/csv")
    assert 'filename="channels_by_channel_first_touch.csv"' in file.headers["content-disposition"]
    lines = _csv(file)
    assert list(lines[0])[:3] == ["channel", "spend", "sessions"]
    assert {r["channel"]: Decimal(r["revenue"]) for r in lines} == {
        c: r.revenue for c, r in expected["channels"]["first_touch"].items()}


def test_channels_xlsx_download(viewer, sample, tmp_path):
    _, expected = sample
    file = viewer.get("/api/v1/channels?by=channel&format=xlsx")
    assert file.status_code == 200 and file.content[:2] == b"PK"
    path = tmp_path / "channels.xlsx"
    path.write_bytes(file.content)
    header, rows = read_export(path)
    assert header[:2] == ["channel", "spend"]
    assert len(rows) == len(expected["channels"][expected["default_model"]])


def test_a_bad_model_or_dimension_is_a_400_with_a_suggestion(viewer):
    r = viewer.get("/api/v1/channels?model=linaer")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"
    assert "did you mean 'linear'" in r.json()["error"]["message"]
    r = viewer.get("/api/v1/channels?by=chanel")
    assert r.status_code == 400 and "did you mean 'channel'" in r.json()["error"]["message"]
    page = viewer.get("/channels?by=<script>alert(1)</script>")
    assert page.status_code == 400
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_flagged_channels_are_called_out_and_names_escaped(client, users, app, monkeypatch):
    hostile = '<img src=x onerror="alert(1)">'
    row = {"channel": hostile, "spend": Decimal("900.00"), "sessions": 10, "leads": Decimal(3), "pipeline": None,
           "conversions": Decimal(3), "revenue": Decimal("300.00"), "cpl": Decimal("300.00"),
           "cac": Decimal("300.00"), "roas": Decimal("0.33"), "flag": "CAC 300.00 is 30.0x the median (10.00)"}
    monkeypatch.setattr(an, "channels", lambda ws, **kw: {
        "model": "linear", "by": "channel", "currency": "EUR", "rows": [row], "empty": None, "notes": [],
        "flagged": [{"channel": hostile, "flag": row["flag"]}]})
    login_as(client, "viewer")
    page = client.get("/channels?model=linear")
    assert page.status_code == 200
    callout = re.search(r'id="flagged".*?</section>', page.text, re.DOTALL).group(0)
    assert "1 channel is doing far worse than the others" in callout and "30.0x the median" in callout
    assert hostile not in page.text and "&lt;img src=x" in page.text
    assert 'class="flagged"' in page.text


# -- Attribution -------------------------------------------------------------------------------

def test_attribution_page_shows_every_model_side_by_side(viewer, sample):
    _, expected = sample
    page = viewer.get("/attribution")
    assert page.status_code == 200
    row = _row(page.text, "attribution-table", "Paid Search")
    shares = dict(re.findall(r'data-model="([a-z_]+)" data-value="([^"]+)"', row))
    assert set(shares) == set(MODELS)
    want = {r["model"]: r["share"] for r in expected["compare"] if r["channel"] == "Paid Search"}
    assert {m: float(v) for m, v in shares.items()} == pytest.approx(want)
    assert 'id="chart-models"' in page.text


def test_attribution_api_compare_and_single_model(viewer, sample):
    _, expected = sample
    data = viewer.get("/api/v1/attribution?compare=true").json()
    assert data["models"] == list(MODELS)
    assert len(data["items"]) == len(expected["compare"])
    for model in MODELS:  # each model's shares add up to everything
        assert sum(r["share"] for r in data["items"] if r["model"] == model) == pytest.approx(1.0)
    assert {r["channel"] for r in data["table"]} == {r["channel"] for r in expected["compare"]}

    one = viewer.get("/api/v1/attribution?model=linear").json()
    assert one["models"] == ["linear"] and {r["model"] for r in one["items"]} == {"linear"}
    assert sum(Decimal(r["revenue"]) for r in one["items"]) == Decimal(one["revenue"])

    wide = _csv(viewer.get("/api/v1/attribution?compare=true&format=csv"))
    assert list(wide[0]) == ["channel", *MODELS]


def test_attribution_conversion_filter(viewer):
    ok = viewer.get("/api/v1/attribution?conversion=conversion&compare=true")
    assert ok.status_code == 200 and ok.json()["conversion"] == "conversion"
    bad = viewer.get("/api/v1/attribution?conversion=purchse")
    assert bad.status_code == 400 and "unknown conversion 'purchse'" in bad.json()["error"]["message"]


# -- Funnel ------------------------------------------------------------------------------------

def _said(b, lang: str = "en") -> str:
    """How the funnel page words a bottleneck or laggard, from its facts, in ``lang`` (HTML-escaped)."""
    from markupsafe import escape

    from marketops.app.i18n import Formatter, translations

    f, fmt, _ = b.facts, Formatter(lang), translations(lang).gettext
    text = {
        "least": lambda: _("converts least: %(rate)s (%(converted)s of %(reached)s)") % {
            "rate": fmt.percent(f["value"]), "converted": fmt.number(f["converted"]),
            "reached": fmt.number(f["reached"])},
        "group_conversion": lambda: _("converts %(rate)s, while the others' median is %(typical)s") % {
            "rate": fmt.percent(f["value"]), "typical": fmt.percent(f["typical"])},
        "group_speed": lambda: _("takes a median %(days)s days, while the others' median is %(typical)s days") % {
            "days": fmt.decimal(f["days"], 1), "typical": fmt.decimal(f["typical"], 1)},
        "cohort_drop": lambda: _("converted %(rate)s in cohort %(cohort)s, down from %(previous)s in "
                                 "%(previous_cohort)s") % {"rate": fmt.percent(f["value"]), "cohort": f["cohort"],
                                                          "previous": fmt.percent(f["previous"]),
                                                          "previous_cohort": f["previous_cohort"]},
        "cohort_slowdown": lambda: _("took a median %(days)s days in cohort %(cohort)s, up from %(previous)s days "
                                     "in %(previous_cohort)s") % {"days": fmt.decimal(f["days"], 1),
                                                                  "cohort": f["cohort"],
                                                                  "previous": fmt.decimal(f["previous"], 1),
                                                                  "previous_cohort": f["previous_cohort"]},
    }[f["case"]]()
    return str(escape(text))  # as Jinja escapes it


def test_funnel_page_calls_out_the_bottleneck(viewer, sample):
    _, expected = sample
    report = expected["funnel"]
    page = viewer.get("/funnel")
    assert page.status_code == 200
    callout = re.search(r'id="bottleneck".*?</section>', page.text, re.DOTALL).group(0)
    assert _said(report.bottleneck) in callout
    for step in report.steps:
        row = _row(page.text, "funnel-steps", step.stage, attr="data-stage")
        assert f'<td class="num">{step.reached:,}</td>' in row
    neck_row = _row(page.text, "funnel-steps", report.bottleneck.stage, attr="data-stage")
    assert 'class="flagged"' in neck_row
    assert 'id="funnel-cohorts"' in page.text


def test_funnel_split_by_channel_names_the_laggards(viewer, sample):
    _, expected = sample
    page = viewer.get("/funnel?by=channel")
    assert '<option value="channel" selected>' in page.text and 'id="funnel-groups"' in page.text
    for lag in expected["funnel"].laggards:
        assert f'data-group="{lag.group}"' in page.text
        assert _said(lag) in page.text
    # the same reasons in Italian: the page composes them from the numbers, not from the CLI's English
    italian = viewer.get("/funnel?by=channel&lang=it").text
    for lag in expected["funnel"].laggards:
        assert _said(lag, "it") in italian and lag.reason.replace(">", "&gt;") not in italian


def test_funnel_api_and_downloads(viewer, sample):
    _, expected = sample
    report = expected["funnel"]
    data = viewer.get("/api/v1/funnel").json()
    assert [s["reached"] for s in data["steps"]] == [s.reached for s in report.steps]
    assert data["stages"][0] == {"stage": report.stages[0], "people": report.steps[0].reached}
    assert data["bottleneck"]["reason"] == report.bottleneck.reason
    assert set(data["bottleneck"]) >= {"stage", "next_stage", "kind", "loss", "group", "reason"}

    steps = _csv(viewer.get("/api/v1/funnel?format=csv"))
    assert [int(r["reached"]) for r in steps] == [s.reached for s in report.steps]
    groups = _csv(viewer.get("/api/v1/funnel?by=channel&table=groups&format=csv"))
    assert list(groups[0])[:3] == ["channel", "from", "to"]
    cohorts = viewer.get("/api/v1/funnel?table=cohorts&format=xlsx")
    assert cohorts.status_code == 200 and 'funnel_cohorts.xlsx' in cohorts.headers["content-disposition"]
    assert viewer.get("/api/v1/funnel?by=country").status_code == 400


# -- Overview KPIs -----------------------------------------------------------------------------

def test_overview_shows_kpi_tiles_with_change_and_sparklines(viewer, sample):
    _, expected = sample
    kpis = expected["kpis"]
    assert kpis["period"] == dt.date(2024, 6, 1)  # the sample's web and ad data run to the end of June
    page = viewer.get("/")
    assert page.status_code == 200
    tiles = {t["name"]: t for t in kpis["tiles"]}
    assert {"sessions", "leads", "spend", "revenue"} <= set(tiles)
    for name, tile in tiles.items():
        html = re.search(rf'data-metric="{name}".*?data-figure', page.text, re.DOTALL).group(0)
        assert f'data-value="{tile["value"]}"' in html
        if tile["tone"]:
            assert f"change-{tile['tone']}" in html
    # spend going up is not good news
    assert tiles["spend"]["tone"] in ("bad", "good", "flat", None)
    if tiles["spend"]["change"]:
        assert tiles["spend"]["tone"] == ("bad" if tiles["spend"]["change"] > 0 else "good")
    assert page.text.count('class="chart sparkline"') == len(tiles)
    # what the overview showed before is still there
    assert 'id="tables"' in page.text and "Recent loads" in page.text


def test_overview_kpis_match_query_metrics_and_download(viewer, sample):
    _, expected = sample
    data = viewer.get("/api/v1/overview").json()
    assert data["kpis"]["period"] == "2024-06-01" and data["goal_summary"] is None
    sessions = next(t for t in data["kpis"]["tiles"] if t["name"] == "sessions")
    assert sessions["value"] == next(t for t in expected["kpis"]["tiles"] if t["name"] == "sessions")["value"]
    assert sessions["series"][-1] == {"period": "2024-06-01", "value": sessions["value"]}
    week = viewer.get("/api/v1/overview?grain=week").json()["kpis"]
    assert week["grain"] == "week" and dt.date.fromisoformat(week["period"]).weekday() == 0
    assert viewer.get("/api/v1/overview?grain=fortnight").status_code == 400

    tiles = _csv(viewer.get("/api/v1/overview/kpis?format=csv"))
    assert list(tiles[0]) == ["metric", "label", "period", "value", "previous", "change"]
    assert {r["metric"] for r in tiles} == {t["name"] for t in expected["kpis"]["tiles"]}
    series = _csv(viewer.get("/api/v1/overview/kpis?table=series&format=csv"))
    assert series[-1]["period"] == "2024-06-01"


# -- Metrics API -------------------------------------------------------------------------------

def test_metrics_api_returns_query_metrics_rows(viewer, sample):
    _, expected = sample
    data = viewer.get("/api/v1/metrics?names=clicks&names=ctr&by=channel&grain=month").json()
    assert data["names"] == ["clicks", "ctr"] and data["by"] == ["channel"]
    want = [{**r, "period": r["period"].isoformat()} for r in expected["metrics"]]
    assert data["items"] == want
    compared = viewer.get("/api/v1/metrics?names=spend&grain=month&from=2024-03-01&to=2024-04-30"
                          "&compare=previous").json()
    assert [r["period"] for r in compared["items"]] == ["2024-03-01", "2024-04-01"]
    assert compared["items"][1]["spend_prev"] == compared["items"][0]["spend"]
    file = _csv(viewer.get("/api/v1/metrics?names=clicks&by=channel&format=csv"))
    assert list(file[0]) == ["period", "channel", "clicks"]


@pytest.mark.parametrize(("query", "message"), [
    ("names=clics", "did you mean 'clicks'"),
    ("names=clicks&by=chanel", "did you mean 'channel'"),
    ("names=clicks&grain=monthly", "did you mean 'month'"),
    ("names=clicks&by=country", "cannot be broken down by 'country'"),
    ("names=clicks&compare=prev", "did you mean 'previous'"),
    ("", "name at least one metric"),
    ("names=clicks&from=2024-05-01&to=2024-01-01", "ends"),
])
def test_metrics_api_bad_parameters(viewer, query, message):
    r = viewer.get(f"/api/v1/metrics?{query}")
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]["message"]


def test_metrics_catalog(viewer):
    items = {m["name"]: m for m in viewer.get("/api/v1/metrics/catalog").json()["items"]}
    assert items["ctr"]["format"] == "percent" and items["ctr"]["ratio"] == ["clicks", "impressions"]
    assert items["spend"]["higher_is_better"] is False and "channel" in items["spend"]["dimensions"]
    assert items["clicks"]["ready"] is True


# -- access ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/channels", "/attribution", "/funnel"])
def test_anonymous_visitors_are_sent_to_sign_in(sample, path):
    application, _ = sample
    with TestClient(application, follow_redirects=False) as anonymous:
        page = anonymous.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        api = anonymous.get("/api/v1" + path)
        assert api.status_code == 401 and api.json()["error"]["code"] == "not_authenticated"
        assert anonymous.get("/api/v1/metrics?names=clicks").status_code == 401


# -- missing data ------------------------------------------------------------------------------

def test_pages_say_what_to_load_when_data_is_missing(client, users, app):
    # the fixture workspace has people and ad costs but no touchpoints, lifecycle history or dates
    _with_metrics_api(app)
    login_as(client, "viewer")
    channels = client.get("/channels")
    assert channels.status_code == 200 and 'id="channels-empty"' in channels.text
    assert "No touchpoints yet" in channels.text or "no touchpoints yet" in channels.text
    funnel_page = client.get("/funnel")
    assert funnel_page.status_code == 200 and "No lifecycle history yet." in funnel_page.text
    assert 'id="attribution-empty"' in client.get("/attribution").text
    overview = client.get("/")
    assert overview.status_code == 200 and 'id="kpis-empty"' in overview.text
    api = client.get("/api/v1/channels").json()
    assert api["items"] == [] and api["empty"]["message"]
    empty_file = _csv(client.get("/api/v1/funnel?format=csv"))
    assert empty_file == []
    assert client.get("/api/v1/funnel?format=csv").content.decode("utf-8-sig").startswith("from,to,reached")
    missing = client.get("/api/v1/metrics?names=sessions").json()
    assert missing["items"] == [] and "web_traffic" in missing["empty"]["message"]


def test_a_workspace_without_a_run_shows_no_data_yet(tmp_path, clean_env):
    root = tmp_path / "new"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: New\n", encoding="utf-8")
    application = create_app(root)
    with session_scope(application.state.database_url) as s:
        create_user(s, EMAILS["viewer"], PASSWORDS["viewer"], role="viewer")
    try:
        with TestClient(application, follow_redirects=False) as c:
            login_as(c, "viewer")
            for path in ("/", "/channels", "/attribution", "/funnel"):
                page = c.get(path)
                assert page.status_code == 200, path
                assert "Load files on Imports, then start a run." in page.text, path
    finally:
        dispose(application.state.database_url)


# -- units -------------------------------------------------------------------------------------

@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.sampled_from(["day", "week", "month", "quarter"]))
def test_the_latest_complete_period_ends_by_the_data(as_of, grain):
    period = an.latest_complete(as_of, grain)
    end = an.period_end(period, grain)
    assert end <= as_of
    # and it is the newest such period: the next one is not over yet
    assert an.period_end(end + dt.timedelta(days=1), grain) > as_of


def test_kpi_tone_follows_higher_is_better():
    assert an._tone(0.2, True) == "good" and an._tone(0.2, False) == "bad"
    assert an._tone(-0.2, False) == "good" and an._tone(0.0, True) == "flat" and an._tone(None, True) is None


def test_the_warmer_computes_the_default_pages_before_anyone_asks(sample):
    import time as _time

    from marketops.app.routes.metrics import WARM, cached_analysis

    application, expected = sample
    application.state.analysis_cache.clear()
    with TestClient(application):  # starting the app starts the warmer
        deadline = _time.monotonic() + 120
        while application.state.warmer.warmed_version is None:
            assert _time.monotonic() < deadline, "the warmer did not finish"
            _time.sleep(0.2)
        for name, fn, params in WARM:
            called = []
            # answered from the cache: the function itself is not run again
            cached_analysis(application, name, lambda ws, **p: called.append(1), **params)
            assert called == [], name
        channels = cached_analysis(application, "channels", an.channels, model=None, by="channel")
        assert channels["model"] == expected["default_model"]
