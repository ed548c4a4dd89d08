"""The library through the CLI: playbooks, templates, assets, on a real workspace."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.sample.library import seed_sample_library
from marketops.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def ws(tmp_path, monkeypatch):
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "acme"
    Workspace.init(root, name="Acme").close()
    return root


def run(ws, *args):
    result = runner.invoke(app, [*args, "-w", str(ws)])
    return result


def test_sample_library_is_searchable_and_warns(ws, tmp_path):
    with Workspace.open(ws) as w:
        assert seed_sample_library(w) == {"playbooks": 7, "assets": 12}
        assert seed_sample_library(w) == {"playbooks": 0, "assets": 0}  # a second init adds nothing
    listed = json.loads(run(ws, "playbooks", "list", "--json").stdout)
    assert len(listed) == 7
    hits = json.loads(run(ws, "playbooks", "search", "business hour", "--json").stdout)
    assert hits[0]["slug"] == "lead-handoff-process"
    hits = json.loads(run(ws, "playbooks", "search", "PERCHE consenso", "--json").stdout)
    assert hits[0]["slug"] == "processo-di-approvazione-campagne"
    expiring = json.loads(run(ws, "assets", "expiring", "--json").stdout)
    assert [a["status"] for a in expiring][:1] == ["expired"] and len(expiring) == 4  # -12, 9, 21, 27 days
    out = tmp_path / "assets.csv"
    assert run(ws, "assets", "list", "--csv", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").count("\n") == 13


def test_templates_use_and_errors(ws):
    result = run(ws, "templates", "use", "new-region-playbook", "--start", "2027-01-04", "--owner", "Giulia",
                 "--set", "region=Italy", "--set", "language=Italian", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["initiative"]["title"] == "Open Italy" and body["initiative"]["end_date"] == "2027-04-04"
    assert [t["due"] for t in body["tasks"]][:2] == ["2027-01-14", "2027-01-18"]
    bad = run(ws, "templates", "use", "new-region-playbook", "--start", "2027-01-04", "--owner", "G")
    assert bad.exit_code == 1 and "needs a value for 'region'" in bad.output
    bad = run(ws, "templates", "use", "launch-checklist", "--start", "2027-01-04", "--owner", "G", "--set", "oops")
    assert bad.exit_code == 1 and "is not key=value" in bad.output
    shown = json.loads(run(ws, "templates", "list", "--json").stdout)
    assert {t["name"]: t["used"] for t in shown["templates"]}["new-region-playbook"] == 1


def test_assets_crud(ws):
    added = json.loads(run(ws, "assets", "add", "Logo", "--type", "Logo", "--tags", "brand,Web", "--json").stdout)
    assert added["tags"] == ["brand", "web"] and added["status"] == "ok"
    r = run(ws, "assets", "update", str(added["id"]), "--expires", "2000-01-01", "--json")
    assert json.loads(r.stdout)["status"] == "expired"
    assert "did you mean 'image'" in run(ws, "assets", "add", "x", "--type", "imgae").output
    assert run(ws, "assets", "remove", str(added["id"])).exit_code == 0
    gone = run(ws, "assets", "show", str(added["id"]))
    assert gone.exit_code == 1 and "no asset with id" in gone.output


def test_playbook_new_and_show(ws):
    r = run(ws, "playbooks", "new", "Webinar playbook", "--tags", "events", "--json")
    assert json.loads(r.stdout)["slug"] == "webinar-playbook"
    assert (ws / "playbooks" / "webinar-playbook.md").exists()
    assert "Webinar playbook" in run(ws, "playbooks", "show", "webinar-playbook").stdout
    missing = run(ws, "playbooks", "show", "webinar-playbok")
    assert missing.exit_code == 1 and "did you mean 'webinar-playbook'" in missing.output
