"""Lead scores on the sample company after a real pipeline run: the published ``lead_scores`` contract,
explanations that add up, the CLI (`marketops leads score`), the API and the pages, roles and downloads."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marketops.app import create_app
from marketops.cli.main import app as cli_app
from marketops.errors import NotFound
from marketops.leads.scoring import SCORE_SCHEMA, explain_person, lead_page, score_table
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
    login_as,
    users,
    workspace_root,
)
from tests.exports_reading import read_export

ENV = ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL", "MARKETOPS_ADMIN_PASSWORD",
       "MARKETOPS_ENGINE")
HOSTILE = "<script>alert(1)</script>"
HOSTILE_OWNER = "<b>Boss</b>"


@pytest.fixture(scope="module")
def root(tmp_path_factory, sample_dir):
    """The sample company (plus one person with HTML in their name) after one pipeline run."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        ws = Workspace.init(tmp_path_factory.mktemp("leads") / "acme", name="Acme Sample")
        shutil.rmtree(ws.inbox)
        shutil.copytree(sample_dir / "inbox", ws.inbox)
        (ws.inbox / "hostile_contacts.csv").write_text(
            f"Email,First Name,Last Name,Job Title,Company,Contact Owner\n"
            f"mallory@evil-corp.com,{HOSTILE},Doe,CEO,Evil,{HOSTILE_OWNER}\n",
            encoding="utf-8")
        run = run_pipeline(ws)
        assert run.status == "succeeded", run.error
        path = ws.root
        ws.close()
        yield path


@pytest.fixture
def ws(root):
    with Workspace.open(root, read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def web(root):
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        application = create_app(root, warm=False)
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
        yield application
        dispose(application.state.database_url)


@pytest.fixture
def as_role(web):
    clients = []

    def make(role: str) -> TestClient:
        c = TestClient(web, follow_redirects=False)
        c.__enter__()
        clients.append(c)
        login_as(c, role)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


# -- the contract ------------------------------------------------------------------------------------
def test_every_run_publishes_scores_for_every_person(ws):
    assert {"lead_scores", "lead_score_details"} <= set(ws.table_names())
    scores = score_table(ws)
    assert scores.schema.equals(SCORE_SCHEMA)
    people = ws.engine.count("golden_people")
    assert scores.num_rows == people  # one group by default
    rows = scores.to_pylist()
    mqls = [r for r in rows if r["mql"]]
    assert 0 < len(mqls) < people  # the default rules separate the sample's people
    assert all((r["score"] >= 50) == r["mql"] for r in rows)
    assert all(r["score"] == pytest.approx(r["fit"] + r["engagement"]) for r in rows)
    assert max(r["fit"] for r in rows) <= 50 and max(r["engagement"] for r in rows) <= 60  # the default caps
    run = json.loads(max(ws.runs_dir.glob("r*.json")).read_text())
    step = next(s for s in run["steps"] if s["name"] == "score")
    assert step["status"] == "succeeded" and step["detail"]["mqls"]["default"] == len(mqls)


def test_score_table_by_group_and_an_unknown_group(ws):
    assert score_table(ws, group="default").num_rows == ws.engine.count("golden_people")
    with pytest.raises(NotFound, match="did you mean 'default'"):
        score_table(ws, group="defualt")


def test_the_explanation_adds_up_to_the_score(ws):
    top = lead_page(ws, mql=True, limit=5).items
    assert top and all(r["mql"] for r in top)
    for r in top:
        x = explain_person(ws, r["email"])
        g = x.groups[0]
        assert g.score == pytest.approx(r["score"])
        assert sum(rule["points"] for rule in g.rules) == pytest.approx(g.score)
        assert sum(rule["points"] for rule in g.rules if rule["category"] == "fit") == pytest.approx(g.fit)
    with pytest.raises(NotFound):
        explain_person(ws, "nobody@nowhere.test")


def test_changed_rules_are_used_at_once_without_a_new_run(root):
    path = root / "marketops.yaml"
    before = path.read_text(encoding="utf-8")
    try:
        path.write_text(before + "\nleads:\n  scoring:\n    groups:\n      - name: core\n        mql_threshold: 5\n"
                        "        fit:\n          - name: CEO\n            field: job_title\n            op: matches\n"
                        "            value: '^ceo$'\n            points: 7\n", encoding="utf-8")
        with Workspace.open(root, read_only=True) as w:
            scores = score_table(w).to_pylist()
            assert {r["group"] for r in scores} == {"core"}
            assert {r["score"] for r in scores} == {0.0, 7.0}
            assert sum(r["mql"] for r in scores) == sum(r["score"] == 7 for r in scores) > 0
    finally:
        path.write_text(before, encoding="utf-8")


def test_lead_page_filters_and_pages_in_the_engine(ws):
    everyone = lead_page(ws, limit=None)
    first, second = lead_page(ws, limit=10), lead_page(ws, limit=10, offset=10)
    assert [r["person_id"] for r in first.items + second.items] == [r["person_id"] for r in everyone.items[:20]]
    scores = [r["score"] for r in everyone.items]
    assert scores == sorted(scores, reverse=True)
    owner = next(r["owner"] for r in everyone.items if r["owner"])
    mine = lead_page(ws, owner=owner, limit=None)
    assert mine.total == sum(r["owner"] == owner for r in everyone.items) == len(mine.items)
    unowned = lead_page(ws, owner="-", limit=None)
    assert unowned.total == sum(r["owner"] is None for r in everyone.items)
    high = lead_page(ws, min_score=40, mql=False, limit=None)
    assert all(40 <= r["score"] < 50 for r in high.items)


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_score_lists_explains_and_writes_files(root, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "--top", "3", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["group"] == "default" and len(data["items"]) == 3 and data["total"] > 1000
    email = data["items"][0]["email"]
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "--explain", email.upper(), "--json"])
    assert res.exit_code == 0, res.output
    x = json.loads(res.output)
    assert x["person"]["email"] == email
    assert sum(r["points"] for r in x["groups"][0]["rules"]) == pytest.approx(data["items"][0]["score"])
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "--explain", email])
    assert res.exit_code == 0 and "score (MQL" in res.output
    out = tmp_path / "scores.xlsx"
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "-o", str(out), "--mql"])
    assert res.exit_code == 0, res.output
    headers, rows = read_export(out)
    assert headers[:2] == ["person_id", "email"] and "score" in headers
    with Workspace.open(root, read_only=True) as w:
        assert len(rows) == lead_page(w, mql=True, limit=None).total
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "--group", "defualt"])
    assert res.exit_code == 1 and "did you mean 'default'" in res.output
    res = runner.invoke(cli_app, ["leads", "score", "-w", str(root), "--explain", "nobody@x.test"])
    assert res.exit_code == 1 and "no person" in res.output


# -- API and pages ---------------------------------------------------------------------------------
def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_lists_leads_with_filters_paging_and_downloads(as_role, ws):
    viewer = as_role("viewer")
    r = viewer.get("/api/v1/leads", params={"limit": 5, "mql": "yes"})
    assert r.status_code == 200
    body = r.json()
    expected = lead_page(ws, mql=True, limit=5)
    assert body["total"] == expected.total and [i["person_id"] for i in body["items"]] == [
        i["person_id"] for i in expected.items]
    assert body["method"] == "rules" and all(i["mql"] for i in body["items"])
    r = viewer.get("/api/v1/leads", params={"mql": "yes", "format": "csv"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = _csv(r)
    assert len(rows) == expected.total and {"person_id", "score", "fit", "engagement", "mql"} <= set(rows[0])
    r = viewer.get("/api/v1/leads", params={"min_score": 60, "format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert viewer.get("/api/v1/leads", params={"group": "nope"}).json()["error"]["message"].startswith(
        "unknown score group")


def test_api_explains_one_score(as_role, ws):
    viewer = as_role("viewer")
    top = lead_page(ws, limit=1).items[0]
    r = viewer.get(f"/api/v1/leads/{top['person_id']}/score")
    assert r.status_code == 200
    g = r.json()["groups"][0]
    assert sum(x["points"] for x in g["rules"]) == pytest.approx(g["score"]) == pytest.approx(top["score"])
    rows = _csv(viewer.get(f"/api/v1/leads/{top['person_id']}/score", params={"format": "csv"}))
    assert len(rows) == len(g["rules"]) and set(rows[0]) == {"group", "category", "rule", "events", "points"}
    missing = viewer.get("/api/v1/leads/Pnobody/score")
    assert missing.status_code == 404 and "error" in missing.json()


def test_leads_page_shows_scores_badges_filters_and_pager(as_role, ws):
    viewer = as_role("viewer")
    page = viewer.get("/leads", params={"mql": "yes", "limit": 10})
    assert page.status_code == 200
    expected = lead_page(ws, mql=True, limit=10)
    ids = re.findall(r'<tr data-person-id="([^"]+)"', page.text)
    assert ids == [r["person_id"] for r in expected.items]
    assert page.text.count('class="badge badge-mql"') == 10
    assert 'rel="next"' in page.text and "/api/v1/leads?" in page.text
    assert viewer.get("/leads", params={"min_score": 1000}).text.count('id="leads-empty"') == 1


def test_lead_page_explains_with_a_chart_and_links_the_person(as_role, ws):
    viewer = as_role("viewer")
    top = lead_page(ws, limit=1).items[0]
    page = viewer.get(f"/leads/{top['person_id']}")
    assert page.status_code == 200
    assert f'href="/people/{top["person_id"]}"' in page.text
    assert 'class="chart"' in page.text and "lead-rules" in page.text
    assert viewer.get("/leads/Pnobody").status_code == 404


def test_html_in_a_name_is_escaped(as_role):
    viewer = as_role("viewer")
    page = viewer.get("/leads", params={"owner": HOSTILE_OWNER})
    assert re.findall(r'<tr data-person-id="([^"]+)"', page.text) != []
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    assert HOSTILE_OWNER not in page.text and "&lt;b&gt;Boss&lt;/b&gt;" in page.text
    r = viewer.get("/api/v1/leads/mallory@evil-corp.com/score")
    pid = r.json()["person"]["person_id"]
    one = viewer.get(f"/leads/{pid}")
    assert one.status_code == 200 and HOSTILE not in one.text and "&lt;script&gt;" in one.text


def test_pages_before_any_scores_say_what_to_do(client, users):
    login_as(client, "viewer")
    page = client.get("/leads")
    assert page.status_code == 200 and 'id="leads-empty"' in page.text
    assert client.get("/api/v1/leads").json() == {"items": [], "total": 0, "limit": 50, "offset": 0,
                                                  "group": "default", "method": "rules", "ready": False}
    model = client.get("/leads/model")
    assert model.status_code == 200 and 'id="model-empty"' in model.text
    assert client.get("/api/v1/leads/model").status_code == 404
    assert client.get("/leads/Pnobody").status_code == 404
