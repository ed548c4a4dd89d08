"""The command line as a user types it: init, ingest, run, status, loads, quarantine, map, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "acme"
    assert cli("init", r).exit_code == 0
    return r


def test_init_creates_a_commented_config_and_folders(root):
    text = (root / "marketops.yaml").read_text()
    assert "engine: duckdb" in text and "# " in text
    assert (root / "inbox").is_dir() and (root / ".marketops").is_dir()


def test_ingest_run_status_loads_and_quarantine(root, cases):
    (root / "inbox" / "leads.csv").write_bytes((cases / "bad" / "unparseable_dates.csv").read_bytes())
    out = cli("run", "-w", root, "--json")
    assert out.exit_code == 0, out.output
    run = json.loads(out.output)
    assert run["status"] == "succeeded" and run["tables"]["people"] == 2

    status = json.loads(cli("status", "-w", root, "--json").output)
    assert status[0]["run_id"] == run["run_id"]

    loads = json.loads(cli("loads", "-w", root, "--json").output)
    assert loads[0]["file"] == "leads.csv" and loads[0]["rows_quarantined"] == 2 and len(loads[0]["sha256"]) == 64

    q = json.loads(cli("quarantine", "-w", root, "--json").output)
    assert {(x["row"], x["column"]) for x in q} == {(3, "Create Date"), (4, "Create Date")}

    table = cli("quarantine", "-w", root)
    assert "Create Date" in table.output and "leads.csv" in table.output

    export = root / "q.csv"
    assert cli("quarantine", "-w", root, "--export", export).exit_code == 0
    assert export.read_text(encoding="utf-8-sig").count("\n") == 3

    again = json.loads(cli("ingest", "-w", root, "--json").output)
    assert again[0]["status"] == "unchanged"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_every_format(root, cases, fmt):
    (root / "inbox" / "leads.csv").write_bytes((cases / "encodings" / "utf8.csv").read_bytes())
    cli("run", "-w", root)
    out = root / f"people.{fmt}"
    res = cli("export", "people", "--format", fmt, "-o", out, "-w", root)
    assert res.exit_code == 0, res.output
    import pandas as pd

    df = {"csv": lambda p: pd.read_csv(p, encoding="utf-8-sig"), "parquet": pd.read_parquet,
          "xlsx": pd.read_excel}[fmt](out)
    assert sorted(df["first_name"]) == ["Anna", "Luca", "Zoë"]


def test_unknown_table_suggests_the_right_name(root, cases):
    (root / "inbox" / "leads.csv").write_bytes((cases / "encodings" / "utf8.csv").read_bytes())
    cli("run", "-w", root)
    res = runner.invoke(app, ["export", "peple", "-o", str(root / "x.csv"), "-w", str(root)])
    assert res.exit_code != 0
    assert "did you mean 'people'" in str(res.exception)


def test_map_proposes_and_writes_a_rule(root, tmp_path):
    f = tmp_path / "odd.csv"
    f.write_text("Posta,Nome,Colore preferito\nann@example.com,Ann,blu\n")
    res = cli("map", f, "-w", root, "--entity", "people", "--json")
    proposal = json.loads(res.output)
    assert proposal["entity"] == "people" and proposal["columns"]["Nome"] == "first_name"
    assert proposal["columns"]["Colore preferito"] is None
    assert cli("map", f, "-w", root, "--entity", "people", "--write").exit_code == 0
    assert "odd.csv" in (root / "marketops.yaml").read_text()
    res = cli("ingest", f, "-w", root, "--json")
    assert json.loads(res.output)[0]["status"] == "loaded"


def test_errors_are_plain_sentences_not_tracebacks(tmp_path):
    """Through the real entry point: a missing workspace and a bad setting."""
    env = {**os.environ, "NO_COLOR": "1"}
    exe = [sys.executable, "-m", "marketops.cli.main"]
    res = subprocess.run([*exe, "status", "-w", str(tmp_path)], capture_output=True, text=True, env=env)
    assert res.returncode == 1
    assert "not a marketops workspace" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "marketops.yaml").write_text("name: x\nengnie: duckdb\n")
    res = subprocess.run([*exe, "status", "-w", str(tmp_path)], capture_output=True, text=True, env=env)
    assert "marketops.yaml:2" in res.stderr and "did you mean 'engine'" in res.stderr


def test_run_summary_counts_persons_and_points_to_review_and_quality(root):
    # Ann twice (same mailbox, different case and a typo in the name) and Bo once.
    (root / "inbox" / "contacts.csv").write_text(
        "Record ID,Email,First Name,Last Name\n1,ann@acme-analytics.com,Ann,Lee\n"
        "2,Ann@Acme-Analytics.com,Anne,Lee\n3,bo@acme-analytics.com,Bo,Park\n")
    out = cli("run", "-w", root)
    assert out.exit_code == 0, out.output
    assert "3 source records -> 2 persons" in out.output
    assert "marketops quality" in out.output
    exported = root / "identity.csv"
    assert cli("export", "identity_map", "-w", root, "-o", exported).exit_code == 0
    rows = exported.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("record_key,source_system,record_id,email,person_id,match_probability,match_rule")
    assert len(rows) == 4
