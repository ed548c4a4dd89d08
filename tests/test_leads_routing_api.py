"""Routing through the API, the page and the CLI: editors route and reassign (audited), viewers read,
every table downloads, unknown leads and owners answer with the error envelope."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.state.audit import recent
from marketops.state.db import session_scope
from tests.app_fixtures import EMAILS, PASSWORDS, app, clean_env, client, csrf_from, login_as, users  # noqa: F401
from tests.exports_reading import read_export
from tests.test_leads_routing import CONFIG, build

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("routing") / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text(CONFIG + "    fallback: {queue: " + json.dumps(HOSTILE) + "}\n",
                                         encoding="utf-8")
    build(root, 4)
    return root


@pytest.fixture
def workspace_root(template, clean_env, tmp_path):
    root = tmp_path / "acme"
    shutil.copytree(template, root)
    return root


def sign_in(client, role: str) -> None:
    """Sign in; API calls of a browser session carry the page's CSRF token in a header."""
    client.cookies.clear()
    login_as(client, role)
    client.headers["X-CSRF-Token"] = csrf_from(client.get("/leads/routing").text)


def routed(client):
    sign_in(client, "editor")
    r = client.post("/api/v1/leads/routing/run")
    assert r.status_code == 200, r.text
    return r.json()


def test_editor_routes_viewer_reads_and_cannot_act(client, users):
    sign_in(client, "viewer")
    assert client.post("/api/v1/leads/routing/run").status_code == 403
    assert client.get("/api/v1/leads/routing").json()["total"] == 0
    sign_in(client, "editor")
    r = client.post("/api/v1/leads/routing/run?dry_run=true").json()
    assert r["dry_run"] and r["routed"] == 4 and len(r["sample"]) == 4
    assert client.get("/api/v1/leads/routing").json()["total"] == 0  # nothing kept
    r = client.post("/api/v1/leads/routing/run").json()
    assert r["assigned"] == 4 and {x["owner"] for x in r["by_owner"]} == {"Ana", "Bo", "Carla"}
    again = client.post("/api/v1/leads/routing/run").json()
    assert again["routed"] == 0 and again["already_decided"] == 4


def test_decisions_filters_one_lead_and_errors(client, users):
    routed(client)
    page = client.get("/api/v1/leads/routing?owner=Carla").json()
    assert page["total"] == 2 and {i["email"] for i in page["items"]} == {"w0@client.test", "w3@client.test"}
    one = client.get("/api/v1/leads/routing/w0@client.test").json()
    assert one["rule"] == "account owner" and "owned by Carla" in one["explanation"]
    assert client.get("/api/v1/leads/routing/W001").json()["owner"] == "Ana"
    missing = client.get("/api/v1/leads/routing/ghost@nowhere.test")
    assert missing.status_code == 404 and "no routing decision" in missing.json()["error"]["message"]
    assert client.get("/api/v1/leads/routing?status=nope").status_code in (400, 422)


def test_reassign_is_audited_and_checks_the_owner(app, client, users):
    routed(client)
    r = client.post("/api/v1/leads/routing/W001/reassign", json={"to": "Carla"})
    assert r.status_code == 200 and r.json()["owner"] == "Carla" and r.json()["previous_owner"] == "Ana"
    assert r.json()["status"] == "reassigned"
    with session_scope(app.state.database_url) as s:
        ev = recent(s, action="routing.reassign")[0]
        assert ev.actor == EMAILS["editor"] and ev.detail == {"email": "w1@client.test", "from": "Ana", "to": "Carla"}
    bad = client.post("/api/v1/leads/routing/W001/reassign", json={"to": "Carl"})
    assert bad.status_code == 422 and "did you mean 'Carla'" in bad.json()["error"]["message"]
    sign_in(client, "viewer")
    assert client.post("/api/v1/leads/routing/W001/reassign", json={"to": "Ana"}).status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/leads/routing", "/api/v1/leads/routing/owners"])
def test_tables_download_as_csv_and_xlsx(client, users, url, tmp_path):
    routed(client)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"{url}?format={fmt}")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        path = tmp_path / f"out.{fmt}"
        path.write_bytes(r.content)
        header, rows = read_export(path)
        assert "owner" in header and rows


def test_page_queue_load_rules_and_the_editor_forms(client, users):
    login_as(client, "viewer")
    html = client.get("/leads/routing").text
    assert "Routing queue" in html and "Route new MQLs" not in html and "1. all: when any lead" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    sign_in(client, "editor")
    html = client.get("/leads/routing").text
    token = csrf_from(html)
    r = client.post("/leads/routing/run", data={"csrf_token": token})
    assert r.status_code == 303
    html = client.get("/leads/routing").text
    assert "Routed 4 new MQLs" in html and "round-robin among Ana, Bo, Carla" in html and 'id="routing-load"' in html
    r = client.post("/leads/routing/reassign", data={"csrf_token": token, "person": "W002", "to": "Ana"})
    assert r.status_code == 303
    assert client.get("/api/v1/leads/routing/W002").json()["owner"] == "Ana"
    assert client.post("/leads/routing/run", data={"csrf_token": "forged"}).status_code == 403


def run_cli(root, *args):
    return CliRunner().invoke(cli_app, ["leads", "route", *args, "--workspace", str(root)], catch_exceptions=False)


def test_cli_route_explain_queue_reassign(workspace_root, tmp_path):
    r = run_cli(workspace_root, "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["routed"] == 4
    r = run_cli(workspace_root)
    assert r.exit_code == 0 and "Routed 4 MQLs: 4 assigned" in r.output
    r = run_cli(workspace_root, "explain", "w1@client.test")
    assert r.exit_code == 0 and "Ana" in r.output and "round-robin among Ana, Bo, Carla" in r.output
    out = tmp_path / "queue.csv"
    r = run_cli(workspace_root, "queue", "-o", str(out))
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 4 and {r["owner"] for r in rows} == {"Ana", "Bo", "Carla"}
    r = run_cli(workspace_root, "reassign", "w1@client.test", "--to", "Bo")
    assert r.exit_code == 0 and "now belongs to Bo (was Ana)" in r.output
    r = run_cli(workspace_root, "reassign", "w1@client.test", "--to", "Boo")
    assert r.exit_code == 1
    r = run_cli(workspace_root, "queue", "--status", "reasigned")
    assert r.exit_code == 1
    r = run_cli(workspace_root, "owners", "--json")
    assert {o["owner"]: o["total"] for o in json.loads(r.output)["items"]} == {"Ana": 0, "Bo": 2, "Carla": 2}
