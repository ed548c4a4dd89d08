"""Consent, suppression, consent-aware exports, retention and person export: through the CLI and the
API, on small real DuckDB workspaces with hand-computed answers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.errors import ConfigError
from marketops.pipeline import run_pipeline
from marketops.settings import load_config
from marketops.state.db import dispose
from marketops.workspace import Workspace
from tests.app_fixtures import app, clean_env, client, csrf_from, login_as, users  # noqa: F401

runner = CliRunner()

PEOPLE = """Record ID,Email,First Name,Last Name,Unsubscribed,Last Modified Date
1,ann@acme.com,Ann,Lee,false,2024-01-05
2,bo@acme.com,Bo,Ray,true,2024-01-05
3,cy@rival.io,Cy,Fox,false,2024-01-05
4,di@acme.com,Di,Moe,false,2024-01-05
"""
CONSENT = """Email,Purpose,Status,Source,Timestamp
ann@acme.com,Newsletter,granted,web form,2024-02-01 10:00
ann@acme.com,email_marketing,withdrawn,preference centre,2024-03-01 10:00
ann@acme.com,tracking,yes,cookie banner,2024-02-01 10:00
di@acme.com,tracking,granted,cookie banner,2024-02-01 10:00
di@acme.com,tracking,denied,cookie banner,2024-01-01 10:00
di@acme.com,sms,granted,web form,2024-02-01 10:00
cy@rival.io,profiling,granted,web form,31/31/2024
"""


def make(root: Path, extra_yaml: str = "") -> Path:
    ws = Workspace.init(root)
    if extra_yaml:
        (root / "marketops.yaml").write_text((root / "marketops.yaml").read_text() + extra_yaml)
    (ws.inbox / "contacts.csv").write_text(PEOPLE)
    (ws.inbox / "consent_log.csv").write_text(CONSENT)
    ws.close()
    with Workspace.open(root) as ws:
        run = run_pipeline(ws)
        assert run.status == "succeeded", run.error
    return root


@pytest.fixture
def root(tmp_path, clean_env):  # noqa: F811
    yield make(tmp_path / "acme")
    dispose()


def cli(*args: str):
    return runner.invoke(cli_app, [*args])


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


# -- import ------------------------------------------------------------------------------------------
def test_consent_log_imports_and_bad_rows_are_quarantined(root):
    with Workspace.open(root, read_only=True) as ws:
        q = ws.table("_quarantine").filter(lambda t: t.entity == "consent").to_pyarrow().to_pylist()
        reasons = sorted(r["reason"] for r in q)
        assert len(q) == 2
        assert any("unknown purpose 'sms'" in r for r in reasons)
        assert any("Timestamp" in r for r in reasons)  # the unreadable date names its column
        state = {(r["email"], r["purpose"]): r["status"] for r in ws.table("consent_state").to_pyarrow().to_pylist()}
    # newest wins: Ann withdrew after granting; Di's newer grant beats the older denial
    assert state[("ann@acme.com", "email_marketing")] == "withdrawn"
    assert state[("ann@acme.com", "tracking")] == "granted"
    assert state[("di@acme.com", "tracking")] == "granted"
    # the people export's unsubscribed flag is a withdrawal too
    assert state[("bo@acme.com", "email_marketing")] == "withdrawn"


# -- consent through the CLI ---------------------------------------------------------------------------
def test_consent_set_show_and_list_through_the_cli(root):
    r = cli("consent", "set", "di@acme.com", "--purpose", "profiling", "--granted", "-w", str(root))
    assert r.exit_code == 0, r.output
    r = cli("consent", "show", "di@acme.com", "--json", "-w", str(root))
    shown = {c["purpose"]: c for c in json.loads(r.output)["consent"]}
    assert shown["profiling"]["status"] == "granted" and shown["profiling"]["may_contact"] is True
    assert shown["email_marketing"]["status"] == "none" and shown["email_marketing"]["may_contact"] is True  # opt-out
    r = cli("consent", "list", "--summary", "--json", "-w", str(root))
    cov = {c["purpose"]: c for c in json.loads(r.output)}
    assert cov["email_marketing"]["may_contact"] == 2  # cy, di (ann withdrew, bo unsubscribed)
    assert cov["tracking"]["may_contact"] == 2  # ann, di (opt-in)
    assert cov["profiling"]["may_contact"] == 1  # di, just set
    r = cli("consent", "set", "di@acme.com", "--purpose", "profilng", "--granted", "-w", str(root))
    assert r.exit_code != 0 and "did you mean 'profiling'" in r.output


def test_audience_and_table_exports_leave_out_people_without_consent_and_suppressed(root, tmp_path):
    assert cli("suppress", "add", "rival.io", "--reason", "competitor", "-w", str(root)).exit_code == 0
    out = tmp_path / "aud.csv"
    r = cli("audience", "export", "--purpose", "email_marketing", "-o", str(out), "-w", str(root))
    assert r.exit_code == 0, r.output
    assert [row["email"] for row in read_csv(out)] == ["di@acme.com"]
    out2 = tmp_path / "people.csv"
    r = cli("export", "people", "-o", str(out2), "--purpose", "tracking", "-w", str(root))
    assert r.exit_code == 0, r.output
    assert sorted(row["email"] for row in read_csv(out2)) == ["ann@acme.com", "di@acme.com"]
    r = cli("suppress", "list", "--json", "-w", str(root))
    assert [e["value"] for e in json.loads(r.output)] == ["rival.io"]
    assert cli("suppress", "remove", "rival.io", "-w", str(root)).exit_code == 0
    r = cli("audience", "export", "--purpose", "email_marketing", "-o", str(out), "--where", "email=cy@rival.io",
            "-w", str(root))
    assert [row["email"] for row in read_csv(out)] == ["cy@rival.io"]


def test_person_export_gives_everything_held(root, tmp_path):
    out = tmp_path / "ann.json"
    r = cli("person", "export", "--email", "ANN@acme.com", "-o", str(out), "-w", str(root))
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["emails"] == ["ann@acme.com"]
    assert [p["first_name"] for p in data["tables"]["people"]] == ["Ann"]
    assert {c["purpose"]: c["status"] for c in data["consent"]}["email_marketing"] == "withdrawn"
    assert cli("person", "export", "--email", "zed@acme.com", "-w", str(root)).exit_code == 3


# -- retention ---------------------------------------------------------------------------------------
def test_retention_rules_apply_at_each_run_and_on_demand(tmp_path, clean_env):  # noqa: F811
    root = make(tmp_path / "r", "privacy:\n  retention:\n    - {table: consent, older_than_days: 30}\n")
    with Workspace.open(root, read_only=True) as ws:
        assert ws.engine.count("consent") == 0  # every consent row is older than 30 days
        from marketops.pipeline import list_runs

        step = next(s for s in list_runs(ws, 1)[0].steps if s.name == "privacy")
        assert step.detail["retention"][0]["raw_deleted"] == 5
    r = cli("retention", "apply", "--dry-run", "--json", "-w", str(root))
    assert r.exit_code == 0 and json.loads(r.output)[0]["deleted"] == 0


def test_retention_rule_names_a_known_table(tmp_path):
    p = tmp_path / "marketops.yaml"
    p.write_text("name: Acme\nprivacy:\n  retention:\n    - table: tuchpoints\n      older_than_days: 10\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "did you mean 'touchpoints'" in str(e.value) and e.value.location.line == 4


# -- API and page --------------------------------------------------------------------------------------
@pytest.fixture
def workspace_root(tmp_path, clean_env):  # noqa: F811  (the app fixtures open this workspace)
    return make(tmp_path / "web")


def as_role(client, role: str) -> None:
    client.cookies.clear()
    login_as(client, role)
    client.headers["X-CSRF-Token"] = csrf_from(client.get("/privacy").text)


def test_api_consent_roles_and_effect(client, users):  # noqa: F811
    as_role(client, "viewer")
    body = {"email": "cy@rival.io", "purpose": "tracking", "status": "granted", "source": "api"}
    assert client.post("/api/v1/consent", json=body).status_code == 403
    as_role(client, "editor")
    r = client.post("/api/v1/consent", json=body)
    assert r.status_code == 201, r.text
    items = client.get("/api/v1/consent?purpose=tracking").json()["items"]
    assert {i["email"] for i in items if i["status"] == "granted"} == {"ann@acme.com", "cy@rival.io", "di@acme.com"}
    assert client.get("/api/v1/consent/cy@rival.io").json()["consent"]
    bad = client.post("/api/v1/consent", json={**body, "purpose": "trackng"})
    assert bad.status_code in (400, 404, 422) and "did you mean 'tracking'" in bad.text
    assert client.post("/api/v1/suppressions", json={"value": "bo@acme.com", "reason": "bounced"}).status_code == 201
    assert client.get("/api/v1/suppressions?format=csv").text.count("bo@acme.com") == 1
    # editors may export a person (audited) but not erase
    assert client.get("/api/v1/person-export", params={"email": "ann@acme.com"}).json()["found"] is True
    assert client.post("/api/v1/erase", json={"email": "ann@acme.com"}).status_code == 403


def test_api_erase_admin_only_and_page(client, users, workspace_root):  # noqa: F811
    as_role(client, "admin")
    page = client.get("/privacy")
    assert page.status_code == 200 and 'id="erase-form"' in page.text and 'id="consent-coverage"' in page.text
    token = csrf_from(page.text)
    r = client.post("/privacy/suppressions", data={"value": "rival.io", "reason": "competitor", "csrf_token": token})
    assert r.status_code == 303
    assert "rival.io" in client.get("/privacy").text
    r = client.post("/api/v1/erase", json={"email": "ann@acme.com"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "erased"
    assert client.post("/api/v1/erase", json={"email": "nobody@acme.com"}).json()["status"] == "nothing_found"
    assert len(client.get("/api/v1/erasures").json()["items"]) == 2
    assert client.get("/api/v1/person-export", params={"email": "ann@acme.com"}).status_code == 404
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/api/v1/consent?summary=true&format={fmt}").status_code == 200


def test_viewer_sees_the_page_without_erasure_or_forms(client, users):  # noqa: F811
    login_as(client, "viewer")
    page = client.get("/privacy")
    assert page.status_code == 200
    assert 'id="erase-form"' not in page.text and 'id="suppress-form"' not in page.text


def test_people_download_leaves_out_suppressed(client, users):  # noqa: F811
    as_role(client, "editor")
    assert client.post("/api/v1/suppressions", json={"value": "rival.io"}).status_code == 201
    text = client.get("/api/v1/people?format=csv").text
    assert "ann@acme.com" in text and "cy@rival.io" not in text


def test_the_person_page_shows_consent_per_purpose_and_suppression(client, users):  # noqa: F811
    as_role(client, "editor")

    def page(email: str) -> str:
        found = client.get("/api/v1/people", params={"q": email}).json()["items"]
        r = client.get(f"/people/{found[0]['person_id']}")
        assert r.status_code == 200 and 'id="consent"' in r.text
        return r.text

    def row(text: str, purpose: str) -> str:
        return text.split(f'data-purpose="{purpose}"')[1].split("</tr>")[0]

    di = page("di@acme.com")
    assert "granted" in row(di, "tracking")  # the newest decision of the consent log wins over "denied"
    assert "no record" in row(di, "profiling") and "<td>no</td>" in row(di, "profiling")  # opt-in: no consent
    assert "no record" in row(di, "email_marketing") and "<td>yes</td>" in row(di, "email_marketing")  # opt-out
    assert 'id="person-suppressed"' not in di
    assert client.post("/api/v1/suppressions", json={"value": "di@acme.com"}).status_code == 201
    assert 'id="person-suppressed"' in page("di@acme.com")
