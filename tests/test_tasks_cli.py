"""`marketops tasks` as a user types it: add, list, show, update, comment, import, export."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.planning import Initiative
from marketops.workspace import Workspace

runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    r = tmp_path / "acme"
    assert cli("init", r).exit_code == 0
    url = Workspace.open(r).app_database_url
    init_db(url)
    with session_scope(url) as s:
        s.add_all([Initiative(id=1, title="Spring launch"), Initiative(id=2, title="Webinars")])
    yield r
    dispose(url)


def test_add_list_show_update_comment(root):
    past = (date.today() - timedelta(days=2)).isoformat()
    out = cli("tasks", "add", "Brief", "--initiative", 1, "--owner", "ana@acme.test", "--due", past,
              "--estimate", 4, "-w", root, "--json")
    assert out.exit_code == 0, out.output
    brief = json.loads(out.output)
    assert (brief["title"], brief["owner"], brief["due"], brief["estimate"], brief["overdue"]) == (
        "Brief", "ana@acme.test", past, 4.0, True)
    out = cli("tasks", "add", "Design", "-i", 1, "--depends-on", brief["id"], "--status", "In progress", "-w", root)
    assert out.exit_code == 0 and "Added task 2: Design" in out.output
    assert "depends on task 1 'Brief', which is not done (to do)" in out.output

    listed = json.loads(cli("tasks", "list", "-w", root, "--json").output)
    assert [t["title"] for t in listed] == ["Brief", "Design"] and listed[1]["blocked"] is True
    assert [t["title"] for t in json.loads(cli("tasks", "list", "--overdue", "-w", root, "--json").output)] == ["Brief"]
    assert [t["title"] for t in json.loads(cli("tasks", "list", "--mine", "ANA@acme.test", "-w", root,
                                               "--json").output)] == ["Brief"]
    table = cli("tasks", "list", "--initiative", 1, "-w", root).output
    assert "Brief" in table and "overdue" in table

    out = cli("tasks", "update", brief["id"], "--status", "done", "-w", root)
    assert out.exit_code == 0 and "updated: status" in out.output
    assert cli("tasks", "comment", brief["id"], "Sent to the agency", "-w", root).exit_code == 0
    shown = json.loads(cli("tasks", "show", brief["id"], "-w", root, "--json").output)
    assert shown["status"] == "done" and shown["completed_at"]
    assert [c["body"] for c in shown["comments"]] == ["Sent to the agency"]
    assert [e["action"] for e in shown["activity"]] == ["task.create", "task.status", "task.comment"]
    assert shown["activity"][0]["actor"] == "cli"
    assert "Sent to the agency" in cli("tasks", "show", brief["id"], "-w", root).output


def test_rules_end_the_command_with_their_message(root):
    assert cli("tasks", "add", "Brief", "-i", 1, "-w", root).exit_code == 0
    assert cli("tasks", "add", "Design", "-i", 1, "--depends-on", 1, "-w", root).exit_code == 0
    out = cli("tasks", "update", 1, "--depends-on", 2, "-w", root)
    assert out.exit_code == 1
    assert "circular dependency: task 1 'Brief' -> 2 'Design' -> 1 'Brief'" in " ".join(out.output.split())
    out = cli("tasks", "add", "X", "-i", 9, "-w", root)
    assert out.exit_code == 1 and "there is no initiative with id 9" in out.output
    out = cli("tasks", "add", "X", "-i", 1, "--start", "2026-05-02", "--due", "2026-05-01", "-w", root)
    assert out.exit_code == 1 and "is before the start date 2026-05-02" in out.output
    out = cli("tasks", "show", 99, "-w", root)
    assert out.exit_code == 1 and "no task 99" in out.output
    assert cli("tasks", "update", 1, "-w", root).exit_code == 1


def test_import_and_export(root, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("title,initiative,status,due,depends_on\nBrief,Spring launch,To do,2031-01-05,\n"
                    "Design,Spring launch,,2031-01-09,Brief\nAds,Nowhere,,,\n", encoding="utf-8")
    out = cli("tasks", "import", plan, "-w", root)
    assert out.exit_code == 1  # some rows were rejected
    assert "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected" in out.output
    assert "plan.csv, row 4, column 'initiative': no initiative called 'Nowhere'" in " ".join(out.output.split())
    again = json.loads(cli("tasks", "import", plan, "-w", root, "--json").output)
    assert (again["created"], again["unchanged"], again["rejected"]) == (0, 2, 1)

    exported = tmp_path / "tasks.csv"
    out = cli("tasks", "export", "-o", exported, "-w", root)
    assert out.exit_code == 0 and "Wrote 2 tasks" in out.output
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("id,title,initiative_id,initiative") and lines[2].split(",")[10] == "1"
    assert json.loads(cli("tasks", "import", exported, "-w", root, "--json").output)["unchanged"] == 2
    book = tmp_path / "tasks.xlsx"
    assert cli("tasks", "export", "-o", book, "-w", root).exit_code == 0
    rows = list(load_workbook(book).active.iter_rows(values_only=True))
    assert rows[1][1] == "Brief" and len(rows) == 3
    assert cli("tasks", "export", "-o", tmp_path / "t.parquet", "-w", root).exit_code == 1
