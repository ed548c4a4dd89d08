"""``marketops initiatives`` as a user types it: parse, add, list, show, update, comms, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.state.db import session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import Goal, Task
from marketops.workspace import Workspace

runner = CliRunner()
STORY = "As a sales rep, I want faster lead routing, so that I call new leads within the hour."


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("MARKETOPS_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich folds tables to the terminal width
    r = tmp_path / "acme"
    assert cli("init", r).exit_code == 0
    return r


def db(root: Path):
    return session_scope(Workspace.open(root).app_database_url)


@pytest.mark.parametrize(("story", "parts"), [
    (STORY, ("en", "sales rep", "faster lead routing", "I call new leads within the hour")),
    ("Come analista vorrei un cruscotto affinché il team decida", ("it", "analista", "un cruscotto", "il team decida")),
    ("Como gerente, quiero alertas, para que el equipo reaccione", ("es", "gerente", "alertas", "el equipo reaccione")),
    ("Как маркетолог, хочу отчёт, для того чтобы видеть падения", ("ru", "маркетолог", "отчёт", "видеть падения")),
])
def test_parse_shows_the_parts(story, parts):
    out = runner.invoke(app, ["initiatives", "parse", story, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["language"], data["persona"], data["want"], data["outcome"]) == parts
    table = runner.invoke(app, ["initiatives", "parse", story])
    assert parts[1] in table.output and parts[2] in table.output


def test_parse_says_which_part_is_missing():
    out = runner.invoke(app, ["initiatives", "parse", "Come analista, voglio un cruscotto"])
    assert out.exit_code == 1
    text = " ".join(out.output.split())
    assert "no 'in modo da …' part" in text and "Come [persona], voglio [obiettivo]" in text
    unknown = runner.invoke(app, ["initiatives", "parse", "Make it faster"])
    assert unknown.exit_code == 1 and "none of the known forms" in " ".join(unknown.output.split())


def test_add_list_show_update_comms_and_delete(root):
    with db(root) as s:
        goal = Goal(title="Faster routing", metric="leads", target=10.0)
        s.add(goal)
        s.flush()
        goal_id = goal.id
    out = cli("initiatives", "add", STORY, "--owner", "ana@acme.test", "--start", "2026-01-05", "--end", "2026-03-31",
              "--status", "planned", "--goal", goal_id, "--stakeholder", "Ana Rossi <ana@acme.test> (Head of Sales)",
              "--stakeholder", "Bo Chen (CMO)", "-w", root, "--json")
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert (d["title"], d["status"], d["start_date"], d["end_date"]) == ("Faster lead routing", "planned",
                                                                         "2026-01-05", "2026-03-31")
    assert d["goals"][0]["id"] == goal_id
    assert d["stakeholders"] == [{"name": "Ana Rossi", "role": "Head of Sales", "email": "ana@acme.test"},
                                 {"name": "Bo Chen", "role": "CMO", "email": ""}]
    iid = d["id"]
    with db(root) as s:
        s.add(Task(initiative_id=iid, title="Rules", status="done"))

    listing = cli("initiatives", "list", "-w", root)
    assert "Faster lead routing" in listing.output and "1/1" in listing.output
    rows = json.loads(cli("initiatives", "list", "--status", "planned", "-w", root, "--json").output)
    assert [r["id"] for r in rows] == [iid]
    assert json.loads(cli("initiatives", "list", "--owner", "nobody", "-w", root, "--json").output) == []

    shown = cli("initiatives", "show", iid, "-w", root)
    assert "sales rep" in shown.output and "Ana Rossi" in shown.output and "Faster routing" in shown.output
    detail = json.loads(cli("initiatives", "show", iid, "-w", root, "--json").output)
    assert detail["tasks"]["done"] == 1 and detail["segments"][1] == {"part": "persona", "text": "sales rep"}

    out = cli("initiatives", "update", iid, "--status", "active", "--end", "", "--unlink-goal", goal_id,
              "--remove-stakeholder", "bo chen", "--stakeholder", "Cy <cy@acme.test>", "-w", root, "--json")
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["status"] == "active" and d["end_date"] is None and d["goals"] == []
    assert [p["name"] for p in d["stakeholders"]] == ["Ana Rossi", "Cy"]

    out = cli("initiatives", "comms", iid, "--audience", "Sales team", "--message", "Routing times",
              "--channel", "Slack", "--frequency", "every two weeks", "-w", root)
    assert out.exit_code == 0 and "Sales team" in out.output
    assert json.loads(cli("initiatives", "show", iid, "-w", root, "--json").output)["communication_plan"] == [
        {"audience": "Sales team", "message": "Routing times", "channel": "slack", "frequency": "every two weeks"}]

    assert cli("initiatives", "delete", iid, "--yes", "-w", root).exit_code == 0
    with db(root) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.target == f"initiative:{iid}")
                                 .order_by(AuditEvent.id)))
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.target == f"initiative:{iid}")))
    assert actions == ["initiative.create", "initiative.update", "initiative.comms_add", "initiative.delete"]
    assert actors == {"cli"}


@pytest.mark.parametrize(("args", "message"), [
    (["add", STORY, "--start", "2026-03-01", "--end", "2026-01-01"], "is before the start date 2026-03-01"),
    (["add", STORY, "--status", "doen"], "unknown status 'doen' (did you mean 'done'?)"),
    (["add", STORY, "--stakeholder", "Ana <ana@>"], "'ana@' is not an email address"),
    (["add", STORY, "--goal", "77"], "there is no goal with id 77"),
    (["add", "As a rep, I want leads"], "no 'so that …' part"),
    (["show", "99"], "there is no initiative with id 99"),
    (["comms", "99", "--audience", "a", "--message", "m", "--channel", "email", "--frequency", "weekly"],
     "there is no initiative with id 99"),
])
def test_refusals_print_the_rule(root, args, message):
    out = runner.invoke(app, ["initiatives", *args, "-w", str(root)])
    assert out.exit_code == 1, out.output
    assert message in " ".join(out.output.split())


def test_comms_and_update_refusals(root):
    iid = json.loads(cli("initiatives", "add", STORY, "-w", root, "--json").output)["id"]
    out = runner.invoke(app, ["initiatives", "comms", str(iid), "--audience", "Sales", "--message", "m",
                              "--channel", "fax", "--frequency", "weekly", "-w", str(root)])
    assert out.exit_code == 1 and "unknown channel 'fax'" in " ".join(out.output.split())
    out = runner.invoke(app, ["initiatives", "update", str(iid), "-w", str(root)])
    assert out.exit_code == 1 and "nothing to change" in out.output
    out = runner.invoke(app, ["initiatives", "update", str(iid), "--remove-stakeholder", "Zed", "-w", str(root)])
    assert out.exit_code == 1 and "no stakeholder named 'zed'" in " ".join(out.output.split())
