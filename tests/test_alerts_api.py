"""SLAs and alerts through the web app: the API's answers and downloads, the pages, roles (viewers
read; only admins send the digest), CSRF on the digest form, hostile text escaped, and the digest
reaching a local SMTP server (aiosmtpd) started by the tests.

The workspace is :func:`tests.test_slas.sla_workspace` with the plan of :func:`tests.test_alerts.seed`;
budget pacing comes through the seam (``marketops.plan.budgets.pacing_alerts`` replaced).
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from marketops.state.alerts import AlertDigest
from marketops.state.db import session_scope
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    users,
)
from tests.test_alerts import PASSWORD, TODAY, alerts_yaml, free_port, pacing, seed, smtp  # noqa: F401
from tests.test_slas import sla_workspace

DAY = TODAY.isoformat()


@pytest.fixture
def workspace_root(tmp_path, clean_env, smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ACME_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setattr("marketops.plan.budgets.pacing_alerts",
                        lambda ws, session, today=None, tolerance=0.1: pacing(ws, session, today, tolerance))
    yaml = alerts_yaml(smtp[1]).replace("Sales follows up MQLs within 24 business hours",
                                        "Sales follows up <script>alert(2)</script>")
    return sla_workspace(tmp_path / "acme", yaml)


@pytest.fixture
def seeded(app, users):
    seed(app.state.database_url)
    return app


def _as(client, role: str) -> dict[str, str]:
    login_as(client, role)
    return {"X-CSRF-Token": csrf_from(client.get("/alerts").text)}


# -- SLAs ------------------------------------------------------------------------------------------------

def test_viewers_read_sla_compliance_and_its_history(client, seeded):
    _as(client, "viewer")
    r = client.get("/api/v1/slas", params={"today": "2026-04-15"})
    assert r.status_code == 200, r.text
    items = {i["name"]: i for i in r.json()["items"]}
    assert set(items) == {"mql-volume", "mql-follow-up", "google-clicks"}
    vol = items["mql-volume"]
    assert (vol["from_team"], vol["to_team"], vol["status"]) == ("marketing", "sales", "at_risk")
    assert vol["rule"] == "marketing delivers at least 10 MQLs a month to sales."
    assert vol["last_complete"]["status"] == "met" and vol["current"]["status"] == "in_progress"
    assert vol["current"]["near_breach"] is True and "periods" not in vol
    assert vol["compliance_rate"] == pytest.approx(2 / 3)
    r = client.get("/api/v1/slas/mql-follow-up", params={"today": "2026-04-15"})
    periods = r.json()["periods"]
    assert [(p["period"], p["value"], p["threshold"], p["status"]) for p in periods][:2] == [
        ("2026-01-01", 1.0, 0.9, "met"), ("2026-02-01", 0.75, 0.9, "breached")]
    assert periods[1]["margin"] == pytest.approx(-15) and periods[1]["late"] == 2
    r = client.get("/api/v1/slas/mql-volum")
    assert r.status_code == 404 and "did you mean 'mql-volume'" in r.json()["error"]["message"]


def test_sla_downloads(client, seeded):
    _as(client, "viewer")
    r = client.get("/api/v1/slas/mql-volume", params={"today": "2026-04-15", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="sla_mql-volume.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["period"], x["value"], x["status"]) for x in rows] == [
        ("2026-01-01", "12.0", "met"), ("2026-02-01", "8.0", "breached"), ("2026-03-01", "10.0", "met"),
        ("2026-04-01", "3.0", "in_progress")]
    r = client.get("/api/v1/slas", params={"today": "2026-04-15", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["sla", "from_team", "to_team"] and sheet.max_row == 4


def test_the_sla_page_shows_rules_teams_compliance_and_charts(client, seeded):
    _as(client, "viewer")
    r = client.get("/slas")
    assert r.status_code == 200
    html = r.text
    for name in ("mql-volume", "mql-follow-up", "google-clicks"):
        assert f'id="sla-{name}"' in html
    assert "marketing delivers at least 10 MQLs a month to sales." in html
    assert "marketing → sales" in html and 'class="chart"' in html and "data-figure=" in html
    assert "Sales follows up &lt;script&gt;alert(2)&lt;/script&gt;" in html and "<script>alert(2)" not in html
    assert "/api/v1/slas/mql-volume?periods=12&amp;format=csv" in html


def test_the_sla_page_without_rules_says_what_to_do(client, app, users):
    (app.state.workspace_root / "marketops.yaml").write_text("name: Acme\n")
    _as(client, "viewer")
    r = client.get("/slas")
    assert r.status_code == 200 and 'id="slas-empty"' in r.text and "slas: rules:" in r.text
    assert client.get("/api/v1/slas").json() == {"items": [], "total": 0, "periods": 12}


# -- alerts ---------------------------------------------------------------------------------------------------

def test_viewers_read_alerts_with_filters_and_downloads(client, seeded):
    _as(client, "viewer")
    r = client.get("/api/v1/alerts", params={"today": DAY})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 7 and body["counts"]["critical"] == 4 and body["problems"] == []
    kinds = [i["kind"] for i in body["items"]]
    assert sorted(set(kinds)) == ["budget", "goal", "sla", "task"]
    first = body["items"][0]
    assert {"kind", "severity", "title", "message", "link", "owner", "recipients"} <= set(first)
    tasks = client.get("/api/v1/alerts", params={"today": DAY, "kind": "task"}).json()["items"]
    assert {t["title"] for t in tasks} == {"Overdue task: Book the venue",
                                           "Overdue task: Write the <script>alert(1)</script> page"}
    ana = client.get("/api/v1/alerts", params={"today": DAY, "recipient": "ana@acme.test"}).json()
    assert ana["total"] == 2
    assert client.get("/api/v1/alerts", params={"owner": "BO@acme.test", "today": DAY}).json()["total"] == 2
    r = client.get("/api/v1/alerts", params={"kind": "tasks"})
    assert r.status_code == 404 and "did you mean 'task'" in r.json()["error"]["message"]
    r = client.get("/api/v1/alerts", params={"today": DAY, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 7 and rows[0]["severity"] == "critical" and "cmo@acme.test" in rows[0]["recipients"]
    r = client.get("/api/v1/alerts", params={"today": DAY, "format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(r.content)).active.max_row == 8


def test_the_alerts_page_groups_by_kind_with_counts_and_escapes_titles(client, seeded):
    _as(client, "viewer")
    r = client.get("/alerts", params={"today": DAY})
    assert r.status_code == 200
    html = r.text
    assert 'id="alerts-total" data-count="7"' in html
    for kind in ("goal", "budget", "sla", "task"):
        assert f'id="alerts-{kind}"' in html
    assert "Write the &lt;script&gt;alert(1)&lt;/script&gt; page" in html and "<script>alert(1)" not in html
    assert 'id="send-digest"' not in html  # viewers do not send the digest
    r = client.get("/alerts", params={"today": DAY, "kind": "budget"})
    assert 'id="alerts-budget"' in r.text and 'id="alerts-task"' not in r.text
    r = client.get("/alerts", params={"today": DAY, "severity": "critical", "owner": "nobody"})
    assert 'id="alerts-empty"' in r.text and "No alert matches these filters." in r.text


def test_only_admins_send_the_digest(client, seeded, smtp):
    inbox, _ = smtp
    for role in ("viewer", "editor"):
        h = _as(client, role)
        r = client.post("/api/v1/alerts/digest", json={"today": DAY}, headers=h)
        assert r.status_code == 403, r.text
        assert client.get("/api/v1/alerts/digest").status_code == 403
        client.post("/logout", data={"csrf_token": h["X-CSRF-Token"]})
    assert inbox.messages == []
    h = _as(client, "admin")
    preview = client.get("/api/v1/alerts/digest", params={"today": DAY}).json()
    assert [d["recipient"] for d in preview["digests"]] == ["cmo@acme.test", "ana@acme.test", "sam@acme.test",
                                                            "finance@acme.test"]
    r = client.post("/api/v1/alerts/digest", json={"today": DAY}, headers=h)
    assert r.status_code == 200, r.text
    assert sorted(s["recipient"] for s in r.json()["sent"]) == ["ana@acme.test", "cmo@acme.test",
                                                                 "finance@acme.test", "sam@acme.test"]
    got = inbox.by_recipient()
    assert got["sam@acme.test"]["Subject"] == "Acme alerts 2026-03-16: 1 alert (1 critical) - 1 SLA"
    assert "SLA breached: mql-follow-up" in got["sam@acme.test"].get_body(("plain",)).get_content()
    again = client.post("/api/v1/alerts/digest", json={"today": DAY}, headers=h).json()
    assert again["sent"] == [] and "Already sent today" in again["message"]
    forced = client.post("/api/v1/alerts/digest", json={"today": DAY, "force": True, "to": "cmo@acme.test"},
                         headers=h).json()
    assert [s["recipient"] for s in forced["sent"]] == ["cmo@acme.test"] and len(inbox.messages) == 5
    with session_scope(client.app.state.database_url) as s:
        assert {r.sent_by for r in s.scalars(select(AlertDigest))} == {"admin@acme.test"}


def test_an_smtp_failure_answers_502_without_the_password(client, app, users, monkeypatch):
    seed(app.state.database_url)
    yaml = (app.state.workspace_root / "marketops.yaml").read_text()
    closed = free_port()
    (app.state.workspace_root / "marketops.yaml").write_text(
        yaml.replace("    port: ", f"    port: {closed}\n    # was: ", 1))
    h = _as(client, "admin")
    r = client.post("/api/v1/alerts/digest", json={"today": DAY}, headers=h)
    assert r.status_code == 502
    message = r.json()["error"]["message"]
    assert f"could not connect to the SMTP server 127.0.0.1:{closed}" in message and PASSWORD not in message


def test_the_send_digest_button_needs_csrf_and_the_admin_role(client, seeded, smtp):
    inbox, _ = smtp
    _as(client, "admin")
    page = client.get("/alerts")
    assert 'id="send-digest"' in page.text
    assert client.post("/alerts/digest", data={}).status_code == 403  # no CSRF token
    r = client.post("/alerts/digest", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/alerts#digest"
    assert len(inbox.messages) == 4
    after = client.get("/alerts").text
    assert 'id="flash"' in after and "Sent the" in after and 'id="digest-sent"' in after
    client.post("/logout", data={"csrf_token": csrf_from(after)})
    login_as(client, "editor")
    page = client.get("/alerts")
    r = client.post("/alerts/digest", data={"csrf_token": csrf_from(page.text), "force": "1"})
    assert r.status_code == 403 and len(inbox.messages) == 4
