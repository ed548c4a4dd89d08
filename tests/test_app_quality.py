"""The data-quality pages and API: the scorecard with trends, the quarantine browser and its
downloads, the review queue pages (reading, deciding, roles, CSRF, conflicts) and the API docs.

One workspace for the module: the synthetic sample company run through the pipeline twice (two
scorecards, so trends have two points), with a few of the resolver's real pairs put back in the
review band (the small sample resolves every pair with certainty) and a batch of hostile
quarantined rows added as a badly exported file would produce them.
"""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import select

from marketops import sample
from marketops.app import create_app
from marketops.app.deps import require_user
from marketops.app.main import routes
from marketops.app.routes import apidocs, review_pages
from marketops.app.routes.quality import QUARANTINE_COLUMNS
from marketops.ingest.loader import QUARANTINE_SCHEMA, QUARANTINE_TABLE
from marketops.pipeline import run_pipeline
from marketops.quality.scorecard_history import load_history
from marketops.quality.scorecard_thresholds import format_value
from marketops.state.db import dispose, session_scope
from marketops.state.models import AuditEvent, MergeDecision
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, csrf_from, login_as

QUALITY_RULES = """
quality:
  thresholds:
    - table: people
      column: phone
      metric: completeness
      min: 0.999
      action: warn
    - table: people
      metric: rows
      min: 1
      action: fail
"""
HOSTILE = '<script>alert("x")</script>'
BAD_FILE = "crm_export_bad.csv"
BAD_ROWS = 120
REVIEW_PROBABILITIES = (0.91, 0.86, 0.81, 0.74, 0.69, 0.63)


def _review_band(ws: Workspace) -> list[str]:
    """Put six of the run's real pairs back in the review band, the first with a hostile name."""
    physical = ws.engine.published()["identity_pairs"]
    table = ws.engine.con.table(physical).to_pyarrow()
    rows = table.to_pylist()
    differing = [r for r in rows
                 if r.get("email_l") != r.get("email_r") or r.get("phone_l") != r.get("phone_r")]
    chosen = (differing + [r for r in rows if r not in differing])[:len(REVIEW_PROBABILITIES)]
    assert len(chosen) == len(REVIEW_PROBABILITIES), "the sample run produced too few pairs"
    for r, p in zip(chosen, REVIEW_PROBABILITIES):
        r["status"], r["match_probability"] = "review", p
    chosen[0]["first_name_l"] = HOSTILE
    ws.engine.write(physical, pa.Table.from_pylist(rows, schema=table.schema))
    return [r["pair_id"] for r in chosen]


def _hostile_quarantine(ws: Workspace) -> None:
    load = ws.engine.table(QUARANTINE_TABLE).to_pyarrow().to_pylist()
    at = load[0]["quarantined_at"] if load else None
    rows = [{"load_id": "Lbad", "file": BAD_FILE, "sheet": None, "row": i + 2, "column": "Birthday",
             "reason": f"not a date: '31/02/2024' <b>row {i}</b>",
             "raw": json.dumps({"Name": HOSTILE if i == 0 else f"Person {i}", "Birthday": "31/02/2024"}),
             "entity": "people", "quarantined_at": at} for i in range(BAD_ROWS)]
    con = ws.engine.scratch()
    con.register("__bad", pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA))
    try:
        con.execute(f"INSERT INTO {QUARANTINE_TABLE} BY NAME SELECT * FROM __bad")
    finally:
        con.unregister("__bad")


@pytest.fixture(scope="module")
def quality_ws(tmp_path_factory) -> dict:
    """The resolved sample workspace: root, review pair ids (most probable first), quarantine size."""
    root = tmp_path_factory.mktemp("quality") / "acme"
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        Workspace.init(root).close()
        sample.generate(root, contacts=1500, months=3, seed=3)
        with open(root / "marketops.yaml", "a", encoding="utf-8") as f:
            f.write(QUALITY_RULES)
        for _ in range(2):
            with Workspace.open(root) as ws:
                assert run_pipeline(ws).status == "succeeded"
        with Workspace.open(root) as ws:
            pairs = _review_band(ws)
            _hostile_quarantine(ws)
            reasons = ws.engine.table(QUARANTINE_TABLE).reason.to_pyarrow().to_pylist()
    return {"root": root, "pairs": pairs, "quarantined": len(reasons), "reasons": reasons}


def with_page_routers(app):
    """The review pages and API docs, as main.py registers them (added here only if it does not yet)."""
    paths = {path for path, _ in routes(app)}
    for router, path in ((review_pages.router, "/review"), (apidocs.router, "/docs")):
        if path not in paths:
            app.include_router(router, dependencies=[Depends(require_user)])
    return app


@pytest.fixture(scope="module")
def qapp(quality_ws):
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
            mp.delenv(var, raising=False)
        application = with_page_routers(create_app(quality_ws["root"]))
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
        yield application
    dispose(application.state.database_url)


@pytest.fixture
def qclient(qapp):
    with TestClient(qapp, follow_redirects=False) as c:
        yield c


def decisions(app) -> list[MergeDecision]:
    with session_scope(app.state.database_url) as s:
        rows = list(s.scalars(select(MergeDecision)))
        s.expunge_all()
    return rows


def audit(app, action: str) -> list[AuditEvent]:
    with session_scope(app.state.database_url) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        s.expunge_all()
    return rows


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# -- sign-in --------------------------------------------------------------------------------------------
PAGES = ["/quality", "/quality/quarantine", "/review", "/review/abcdef123456", "/docs",
         "/docs/assets/swagger-ui.css"]
APIS = ["/api/v1/quality/scorecard", "/api/v1/quality/history", "/api/v1/quarantine", "/api/v1/openapi.json"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_sign_in(qclient, path):
    r = qclient.get(path)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_anonymous_decisions_redirect_to_sign_in(qclient, quality_ws, action):
    r = qclient.post(f"/review/{quality_ws['pairs'][4]}/{action}", data={"note": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert not [d for d in decisions(qclient.app) if d.pair_id == quality_ws["pairs"][4]]


@pytest.mark.parametrize("path", APIS)
def test_anonymous_api_gets_the_error_envelope(qclient, path):
    r = qclient.get(path)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


# -- the scorecard --------------------------------------------------------------------------------------
def test_scorecard_page_shows_the_latest_run_with_breaches_and_trends(qclient, quality_ws):
    login_as(qclient, "viewer")
    with Workspace.open(quality_ws["root"], read_only=True) as ws:
        history = load_history(ws)
    latest = history[-1]
    html = qclient.get("/quality").text
    assert latest.run_id in html
    assert len(history) == 2
    # a real measurement of the run, as the CLI formats it
    row = next(r for r in latest.rows
               if (r.table, r.column, r.metric) == ("people", "email", "completeness"))
    assert f">{format_value('completeness', row.value)}</td>" in html
    # the phone rule is breached (the sample leaves phones empty), the rows rule is not
    assert 'data-status="warn"' in html
    assert "people / " in html and "phone: completeness is" in html
    assert 'data-verdict="warn"' in html and 'data-verdict="pass"' in html
    # trend charts, drawn by the bundled Plotly
    assert html.count('class="chart"') >= 2 and "/static/vendor/plotly.min.js" in html
    assert f'data-rows="{quality_ws["quarantined"]}"' in html


def test_scorecard_api_and_its_download(qclient, quality_ws):
    login_as(qclient, "viewer")
    data = qclient.get("/api/v1/quality/scorecard").json()
    with Workspace.open(quality_ws["root"], read_only=True) as ws:
        latest = load_history(ws)[-1]
    assert data["run_id"] == latest.run_id and data["status"] == "warn"
    assert len(data["rows"]) == len(latest.rows)
    assert any(b["column"] == "phone" and b["action"] == "warn" for b in data["breaches"])
    people = qclient.get("/api/v1/quality/scorecard", params={"table": "people"}).json()
    assert people["rows"] and {r["table"] for r in people["rows"]} == {"people"}
    r = qclient.get("/api/v1/quality/scorecard", params={"format": "csv"})
    assert r.headers["content-disposition"].startswith('attachment; filename="scorecard_')
    rows = csv_rows(r)
    assert rows[0][:4] == ["run_id", "table", "source", "column"] and rows[0][-1] == "verdict"
    assert len(rows) - 1 == len(latest.rows)


def test_history_api_gives_each_metric_over_the_runs(qclient):
    login_as(qclient, "viewer")
    data = qclient.get("/api/v1/quality/history", params={"table": "people", "metric": "completeness"}).json()
    assert len(data["runs"]) == 2
    assert data["items"]
    assert all(len(s["values"]) == 2 and s["metric"] == "completeness" for s in data["items"])
    rows = csv_rows(qclient.get("/api/v1/quality/history", params={"format": "csv", "metric": "rows"}))
    assert rows[0][:3] == ["run_id", "computed_at", "table"]
    assert {r[0] for r in rows[1:]} == {run["run_id"] for run in data["runs"]}


# -- quarantine -----------------------------------------------------------------------------------------
def test_quarantine_page_pages_and_filters(qclient, quality_ws):
    login_as(qclient, "viewer")
    total = quality_ws["quarantined"]
    html = qclient.get("/quality/quarantine").text
    assert f'data-total="{total}"' in html
    assert html.count("<tr>") - 1 == 50  # header row + one page
    assert 'rel="next"' in html
    last = qclient.get("/quality/quarantine", params={"offset": total - 3}).text
    assert last.count("<tr>") - 1 == 3
    only_bad = qclient.get("/quality/quarantine", params={"file": BAD_FILE}).text
    assert f'data-total="{BAD_ROWS}"' in only_bad
    footers = qclient.get("/quality/quarantine", params={"reason": "FOOTER"}).text
    expected = sum("footer" in r.lower() for r in quality_ws["reasons"])
    assert expected and f'data-total="{expected}"' in footers and BAD_FILE not in footers.split("<tbody>")[1]


def test_quarantine_escapes_cells_and_reasons(qclient):
    login_as(qclient, "viewer")
    html = qclient.get("/quality/quarantine", params={"file": BAD_FILE, "limit": 500}).text
    assert HOSTILE not in html and "<b>row" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;b&gt;row 0&lt;/b&gt;" in html
    assert 'class="bad-cell"><dt>Birthday</dt>' in html


@pytest.mark.parametrize("reason", ["' OR 1=1 --", "%", "_", "'; DROP TABLE _quarantine; --", HOSTILE])
def test_sql_looking_filters_are_plain_text(qclient, quality_ws, reason):
    login_as(qclient, "viewer")
    r = qclient.get("/quality/quarantine", params={"reason": reason, "file": reason})
    assert r.status_code == 200 and 'data-total' not in r.text and 'id="quarantine-empty"' in r.text
    assert HOSTILE not in r.text
    assert qclient.get("/api/v1/quarantine", params={"reason": reason}).json()["total"] == 0
    # the table is still all there
    assert qclient.get("/api/v1/quarantine").json()["total"] == quality_ws["quarantined"]


def test_quarantine_api_is_a_page_of_the_filtered_rows(qclient, quality_ws):
    login_as(qclient, "viewer")
    total = quality_ws["quarantined"]
    data = qclient.get("/api/v1/quarantine", params={"limit": 10, "offset": total - 4}).json()
    assert (data["total"], data["limit"], data["offset"], len(data["items"])) == (total, 10, total - 4, 4)
    bad = qclient.get("/api/v1/quarantine", params={"entity": "people", "file": BAD_FILE, "limit": 1}).json()
    item = bad["items"][0]
    assert bad["total"] == BAD_ROWS and item["file"] == BAD_FILE and item["raw"]["Birthday"] == "31/02/2024"
    too_many = qclient.get("/api/v1/quarantine", params={"limit": 501})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "invalid_request"


def test_quarantine_download_has_every_matching_row(qclient, quality_ws):
    login_as(qclient, "viewer")
    r = qclient.get("/api/v1/quarantine", params={"format": "csv", "limit": 5})
    assert r.headers["content-disposition"] == 'attachment; filename="quarantine.csv"'
    rows = csv_rows(r)
    assert rows[0] == ["file", "sheet", "row", "column", "reason", "raw", "entity", "load_id",
                       "quarantined_at"]
    assert len(rows) - 1 == quality_ws["quarantined"]
    filtered = csv_rows(qclient.get("/api/v1/quarantine", params={"format": "csv", "file": BAD_FILE}))
    assert len(filtered) - 1 == BAD_ROWS and {r[0] for r in filtered[1:]} == {BAD_FILE}
    xlsx = qclient.get("/api/v1/quarantine", params={"format": "xlsx", "reason": "not a date"})
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row - 1 == BAD_ROWS and sheet.cell(1, 5).value == "reason"


# -- the review queue -----------------------------------------------------------------------------------
def test_review_queue_lists_the_pairs_with_evidence(qclient, quality_ws):
    login_as(qclient, "viewer")
    html = qclient.get("/review").text
    for pair_id in quality_ws["pairs"]:
        assert f'data-pair="{pair_id}"' in html or any(
            d.pair_id == pair_id for d in decisions(qclient.app))
    assert "91%" in html and "vote vote-agree" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert 'id="review-readonly"' in html  # viewers see the queue read-only
    strong = qclient.get("/review", params={"min_probability": "0.8"}).text
    assert "63%" not in strong and "81%" in strong
    percent = qclient.get("/review", params={"max_probability": "70%"}).text
    assert "91%" not in percent and "63%" in percent


def test_review_filters_reject_nonsense_without_failing(qclient):
    login_as(qclient, "viewer")
    r = qclient.get("/review", params={"min_probability": HOSTILE, "max_probability": "1 OR 1=1"})
    assert r.status_code == 200 and "is not a probability" in r.text
    assert HOSTILE not in r.text and "91%" in r.text  # the filter is ignored, the queue still shows


def test_review_pages_page_through_the_queue(qclient):
    login_as(qclient, "viewer")
    first = qclient.get("/review", params={"limit": 2}).text
    assert first.count("data-pair=") == 2 and 'rel="next"' in first


def test_review_item_compares_both_records_field_by_field(qclient, quality_ws):
    login_as(qclient, "viewer")
    pair_id = quality_ws["pairs"][0]
    html = qclient.get(f"/review/{pair_id}").text
    assert 'id="compare"' in html and 'data-field="record_key"' in html
    assert 'data-differs="1"' in html  # the hostile first name differs from the other record's
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html
    assert 'id="evidence"' in html and "data-verdict=" in html
    assert 'id="decision-form"' not in html and 'id="review-readonly"' in html
    missing = qclient.get("/review/ffffffffffffffff")
    assert missing.status_code == 404


def _post_decision(client, pair_id: str, action: str, note: str = "", csrf: str | None = "page"):
    token = csrf_from(client.get(f"/review/{pair_id}").text) if csrf == "page" else csrf
    data = {"note": note} | ({"csrf_token": token} if token else {})
    return client.post(f"/review/{pair_id}/{action}", data=data)


def test_viewer_cannot_decide(qclient, quality_ws):
    login_as(qclient, "viewer")
    pair_id = quality_ws["pairs"][5]
    r = _post_decision(qclient, pair_id, "accept")
    assert r.status_code == 403 and "Not allowed" in r.text
    assert not [d for d in decisions(qclient.app) if d.pair_id == pair_id]


def test_a_decision_without_the_csrf_token_is_refused(qclient, quality_ws):
    login_as(qclient, "editor")
    pair_id = quality_ws["pairs"][5]
    for token in (None, "forged-token"):
        r = _post_decision(qclient, pair_id, "accept", csrf=token)
        assert r.status_code == 403
    assert not [d for d in decisions(qclient.app) if d.pair_id == pair_id]


def test_editor_accepts_a_pair_and_it_is_audited(qclient, quality_ws):
    login_as(qclient, "editor")
    pair_id = quality_ws["pairs"][1]
    page = qclient.get(f"/review/{pair_id}").text
    assert 'id="decision-form"' in page and 'data-action="accept"' in page
    r = _post_decision(qclient, pair_id, "accept", note=f"same email {HOSTILE}")
    assert r.status_code == 303 and r.headers["location"] == "/review"
    queue = qclient.get("/review").text
    assert 'id="review-flash"' in queue and "next pipeline run" in queue
    assert f'data-pair="{pair_id}"' not in queue  # decided pairs leave the queue
    assert "review-flash" not in qclient.get("/review").text  # the message shows once
    [decision] = [d for d in decisions(qclient.app) if d.pair_id == pair_id]
    assert decision.decision == "always" and decision.decided_by == EMAILS["editor"]
    [event] = [e for e in audit(qclient.app, "identity.accept") if e.detail["pair_id"] == pair_id]
    assert event.actor == EMAILS["editor"] and event.detail["note"].startswith("same email")
    shown = qclient.get(f"/review/{pair_id}").text
    assert 'data-decision="always"' in shown and 'id="decision-form"' not in shown
    assert HOSTILE not in shown and "same email &lt;script&gt;" in shown


def test_deciding_a_decided_pair_says_so(qclient, quality_ws):
    login_as(qclient, "editor")
    pair_id = quality_ws["pairs"][2]
    assert _post_decision(qclient, pair_id, "reject").status_code == 303
    token = csrf_from(qclient.get("/review").text)
    again = qclient.post(f"/review/{pair_id}/accept", data={"csrf_token": token, "note": "changed my mind"})
    assert again.status_code == 409
    assert "already have a" in again.text and "never merge" in again.text and 'role="alert"' in again.text
    same = qclient.post(f"/review/{pair_id}/reject", data={"csrf_token": token})
    assert same.status_code == 303
    assert "Already decided" in qclient.get("/review").text
    assert [d.decision for d in decisions(qclient.app) if d.pair_id == pair_id] == ["never"]


def test_an_overlong_note_is_refused_with_a_message(qclient, quality_ws):
    login_as(qclient, "admin")
    pair_id = quality_ws["pairs"][3]
    r = _post_decision(qclient, pair_id, "reject", note="x" * 5000)
    assert r.status_code == 400 and "keep it under" in r.text and 'id="decision-form"' in r.text
    assert not [d for d in decisions(qclient.app) if d.pair_id == pair_id]


# -- API docs -------------------------------------------------------------------------------------------
def test_openapi_lists_the_api_and_not_the_pages(qclient):
    login_as(qclient, "viewer")
    schema = qclient.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/quality/scorecard", "/api/v1/quality/history", "/api/v1/quarantine",
                 "/api/v1/review", "/api/v1/review/{pair_id}/accept", "/api/v1/overview"):
        assert path in paths
    assert not [p for p in paths if not p.startswith("/api/")]
    assert "/api/v1/openapi.json" not in paths
    parameters = {p["name"] for p in paths["/api/v1/quarantine"]["get"]["parameters"]}
    assert {"limit", "offset", "format", "reason", "file", "entity"} <= parameters
    assert "bearerToken" in schema["components"]["securitySchemes"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_docs_page_serves_swagger_from_the_package(qclient):
    login_as(qclient, "viewer")
    html = qclient.get("/docs").text
    assert "/api/v1/quarantine" in html and 'id="api-endpoints"' in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    if apidocs.swagger_dir() is not None:
        assert 'id="swagger-ui"' in html and '<script src="/docs/assets/swagger-ui-bundle.js"' in html
        js = qclient.get("/docs/assets/swagger-ui-bundle.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert qclient.get("/docs/assets/index.html").status_code == 404
    assert qclient.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404


# -- before the first run -------------------------------------------------------------------------------
@pytest.fixture
def bare_client(tmp_path, monkeypatch):
    """A workspace where nothing was loaded or run yet."""
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "empty"
    Workspace.init(root).close()
    application = with_page_routers(create_app(root))
    with session_scope(application.state.database_url) as s:
        create_user(s, EMAILS["viewer"], PASSWORDS["viewer"], role="viewer")
    with TestClient(application, follow_redirects=False) as c:
        login_as(c, "viewer")
        yield c
    dispose(application.state.database_url)


def test_pages_before_the_first_run_say_what_to_do(bare_client):
    quality = bare_client.get("/quality")
    assert quality.status_code == 200 and 'id="quality-empty"' in quality.text
    assert "start a run" in quality.text
    quarantine = bare_client.get("/quality/quarantine")
    assert quarantine.status_code == 200 and 'id="quarantine-empty"' in quarantine.text
    review = bare_client.get("/review")
    assert review.status_code == 200 and 'id="review-empty"' in review.text and "start a run" in review.text
    assert bare_client.get("/api/v1/quality/scorecard").json()["error"]["code"] == "not_found"
    assert bare_client.get("/api/v1/quality/history").json() == {"runs": [], "items": [], "total": 0}
    assert bare_client.get("/api/v1/quarantine").json()["total"] == 0
    empty = csv_rows(bare_client.get("/api/v1/quarantine", params={"format": "csv"}))
    assert empty == [list(QUARANTINE_COLUMNS)]
