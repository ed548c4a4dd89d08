"""Dirty data through the whole pipeline: placeholders, absurd phones, any script, a source with no
identifiers. Each is handled with a reason a user can read; nothing crashes; a failing quality gate
keeps the last good results."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from marketops.cli.main import app
from marketops.pipeline import run_pipeline
from marketops.quality.scorecard_history import load_scorecard
from marketops.workspace import Workspace

CRM = """Record ID,Email,First Name,Last Name,Phone,Country,Company
1,ann.lee@acme-analytics.com,Ann,Lee,+39 312 345 6789,Italia,Acme Analytics S.r.l.
2,n/a,Анна,Иванова,000,Россия,ООО Ромашка
3,asdf@asdf.com,José,Núñez,123,España,-
4,test,-,-,n/a,n/a,test
5,Ann.Lee@Acme-Analytics.com,ANN,LEE,0039 3123456789,IT,ACME ANALYTICS
"""
# A webinar list with names only: nothing to link people by but the names.
WEBINAR = "Name,Company\nBo Park,Beta Ltd\nCy Ng,Gamma GmbH\n"


def _workspace(ws) -> Path:
    """The workspace's folder with the two files and a rule naming the webinar list's system."""
    (ws.inbox / "crm.csv").write_text(CRM, encoding="utf-8")
    (ws.inbox / "webinar.csv").write_text(WEBINAR)
    config = ws.root / "marketops.yaml"
    config.write_text(config.read_text().replace(
        "sources: []", 'sources:\n  - pattern: "webinar.csv"\n    system: webinar\n    entity: people'))
    ws.close()
    return ws.root


def test_junk_values_are_rejected_with_reasons_and_nothing_crashes(ws):
    ws = Workspace.open(_workspace(ws))
    run = run_pipeline(ws)
    assert run.status == "succeeded", run.error
    people = {r["record_key"]: r for r in ws.table("people").to_pyarrow().to_pylist()}
    ann, russian, spanish, junk = (people[f"generic:{i}"] for i in (1, 2, 3, 4))
    assert russian["first_name"] == "Анна" and russian["country"] == "RU"
    assert spanish["last_name"] == "Núñez" and spanish["country"] == "ES"
    assert russian["email"] is None and russian["email_original"] == "n/a" and russian["email_issue"]
    assert spanish["email"] is None and spanish["email_issue"]  # asdf@asdf.com is a placeholder
    assert russian["phone"] is None and "phone" in (russian["phone_issue"] or "")
    assert junk["email"] is None and junk["first_name"] is None
    # the two spellings of Ann's mailbox are one person; the webinar names stand alone
    assert ann["person_id"] == people["generic:5"]["person_id"] and ann["phone"] == "+393123456789"
    assert len({r["person_id"] for r in people.values()}) == 6

    card = load_scorecard(ws, run.run_id)
    findings = {f.code: f for f in card.findings}
    assert "webinar" in findings["no_identifier"].message
    validity = card.get("people", "generic", "email", "validity")
    assert validity.value < 1 and "placeholder" in validity.detail
    ws.close()


def test_a_failing_quality_gate_fails_the_run_and_keeps_the_last_good_results(ws):
    root = _workspace(ws)
    runner = CliRunner()
    first = runner.invoke(app, ["run", "-w", str(root), "--json"])
    assert first.exit_code == 0, first.output
    good = json.loads(first.output)["run_id"]

    with open(root / "marketops.yaml", "a", encoding="utf-8") as f:
        f.write("quality:\n  thresholds:\n    - table: people\n      source: generic\n      column: email\n"
                "      metric: validity\n      min: 0.95\n      action: fail\n"
                "      description: campaigns need mailable contacts\n")
    (root / "inbox" / "more.csv").write_text("Record ID,Email\n9,none\n")
    second = runner.invoke(app, ["run", "-w", str(root), "--json"])
    assert second.exit_code == 1
    record = json.loads(second.output)
    assert record["status"] == "failed" and "validity" in record["error"]
    with Workspace.open(root) as again:
        assert again.engine.published() and json.loads(
            (again.state_dir / "published.json").read_text())["run_id"] == good
    out = runner.invoke(app, ["quality", "-w", str(root), "--json"])
    assert out.exit_code == 2 and json.loads(out.output)["breaches"][0]["metric"] == "validity"
