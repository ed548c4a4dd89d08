"""Erasure of a person everywhere: a sample workspace, a person under two emails, then every table
(every column), the app database and every file are searched for them; a new run, and a re-export
that brings them back, must not resurrect them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.pipeline import run_pipeline
from marketops.privacy.resolve import resolve_subject
from marketops.state.audit import record
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.privacy import ConsentRecord, Erasure, Suppression, value_hash
from marketops.workspace import Workspace

runner = CliRunner()


def scan(root: Path, values: set[str]) -> list[tuple]:
    """Every place under ``root`` (warehouse tables, app database, files outside inbox/) that holds
    one of ``values`` (case-insensitive substring)."""
    vals = sorted({v.lower() for v in values if v})
    found = []
    con = duckdb.connect(str(root / ".marketops" / "warehouse.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = ?", [t]).fetchall()]
            for c in cols:
                for v in vals:
                    n = con.execute(f'SELECT count(*) FROM "{t}" WHERE contains(lower(CAST("{c}" AS VARCHAR)), ?)',
                                    [v]).fetchone()[0]
                    if n:
                        found.append(("warehouse", t, c, v, n))
    finally:
        con.close()
    db = sqlite3.connect(str(root / ".marketops" / "app.sqlite"))
    try:
        for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{t}"').fetchall():
                text = " ".join(str(x) for x in row).lower()
                found += [("app", t, v) for v in vals if v in text]
    finally:
        db.close()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] == "inbox" or path.name.startswith(("warehouse.duckdb", "app.sqlite")):
            continue
        data = path.read_bytes().lower()
        found += [("file", str(rel), v) for v in vals if v.encode() in data]
    return found


@pytest.fixture(scope="module")
def erased(tmp_path_factory, sample_dir):
    """A sample workspace after one run, with app records about a person seen under two emails."""
    root = tmp_path_factory.mktemp("erase") / "ws"
    ws = Workspace.init(root)
    shutil.rmtree(ws.inbox)
    shutil.copytree(sample_dir / "inbox", ws.inbox)
    assert run_pipeline(ws).status == "succeeded"
    imap = ws.table("identity_map")
    two = (imap.group_by("person_id").aggregate(n=imap.email.lower().nunique()).filter(lambda t: t.n == 2)
           .order_by("person_id").limit(1).to_pyarrow().to_pylist())[0]["person_id"]
    emails = sorted({e.lower() for e in imap.filter(imap.person_id == two).email.to_pyarrow().to_pylist() if e})
    subject = resolve_subject(ws, emails[1])
    url = ws.app_database_url
    init_db(url)
    with session_scope(url) as s:
        s.add(ConsentRecord(email=emails[0], purpose="tracking", status="granted", source="api", recorded_by="t"))
        s.add(Suppression(kind="email", value=emails[1], value_hash=value_hash(emails[1]), reason="bounced",
                          added_by="t"))
        record(s, "ana@acme.test", "review.note", emails[0], {"about": f"called {emails[1]}"})
    ws.close()
    values = subject.emails | subject.person_ids | subject.record_keys | subject.phones | subject.names
    before = scan(root, values)
    result = runner.invoke(cli_app, ["erase", "--email", emails[1].upper(), "--yes", "--json", "-w", str(root)])
    yield {"root": root, "emails": emails, "person": two, "subject": subject, "values": values, "before": before,
           "result": result}
    dispose(url)


def test_erase_finds_the_person_under_both_emails_and_removes_them_everywhere(erased):
    assert erased["before"], "the person should be found before erasure"
    assert erased["result"].exit_code == 0, erased["result"].output
    receipt = json.loads(erased["result"].output)
    assert receipt["status"] == "erased"
    assert receipt["subject"]["emails_found"] == 2 and receipt["subject"]["several_emails"]
    assert receipt["subject"]["persons_found"] == 1
    assert any("2 emails" in n for n in receipt["notes"])
    tables = {t["table"].split("__")[0]: t for t in receipt["warehouse"]}
    assert tables["people"]["rows"] >= 2 and tables["people"]["action"] == "deleted"
    assert tables["raw_people"]["rows"] >= 2
    assert all(t["rows"] > 0 for t in receipt["warehouse"])
    # the receipt never names the person
    text = json.dumps(receipt).lower()
    assert not [v for v in erased["values"] if v and v.lower() in text]
    assert scan(erased["root"], erased["values"]) == []


def test_erase_keeps_hashes_and_anonymises_app_records(erased):
    url = f"sqlite:///{erased['root'] / '.marketops' / 'app.sqlite'}"
    with session_scope(url) as s:
        entries = list(s.query(Suppression))
        assert {e.value_hash for e in entries} >= {value_hash(e) for e in erased["emails"]}
        assert all(e.value is None for e in entries)
        assert not list(s.query(ConsentRecord))
        receipt = s.query(Erasure).one()
        assert receipt.status == "erased" and receipt.emails_found == 2
    dispose(url)


def test_a_new_run_and_a_re_export_do_not_bring_the_person_back(erased):
    root = erased["root"]
    # the CRM exports the person again under a new file name
    src = (root / "inbox" / "hubspot_contacts.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [src[0]] + [line for line in src[1:] if any(e in line.lower() for e in erased["emails"])]
    assert len(rows) > 1
    (root / "inbox" / "hubspot_contacts_2.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with Workspace.open(root) as ws:
        run = run_pipeline(ws)
        assert run.status == "succeeded", run.error
        step = next(s for s in run.steps if s.name == "privacy")
        assert sum(step.detail["erased_rows_dropped"].values()) >= 1
    assert scan(root, erased["values"]) == []


def test_erase_of_nobody_writes_a_nothing_found_receipt(erased):
    result = runner.invoke(cli_app, ["erase", "--email", "nobody@nowhere.example", "--yes", "--json",
                                     "-w", str(erased["root"])])
    assert result.exit_code == 3
    assert json.loads(result.output)["status"] == "nothing_found"


def test_dry_run_changes_nothing(sample_ws):
    assert run_pipeline(sample_ws).status == "succeeded"
    email = sample_ws.table("people").email.to_pyarrow().to_pylist()[5]
    n = sample_ws.engine.count("people")
    sample_ws.close()
    result = runner.invoke(cli_app, ["erase", "--email", email, "--dry-run", "--json", "-w", str(sample_ws.root)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dry_run"] is True
    with Workspace.open(sample_ws.root) as ws:
        assert ws.engine.count("people") == n
