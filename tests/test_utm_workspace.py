"""UTM governance on a real DuckDB workspace: ingested touchpoints flagged with fixes (the utm step, the
scorecard's rate), and every rule through the CLI and the API (build, register, compliance), roles,
downloads and the page."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.pipeline import run_pipeline
from marketops.quality.scorecard_history import load_scorecard  # noqa: F401 - the history reads it back
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, app, clean_env, client, csrf_from, login_as, users  # noqa: F401

TAXONOMY = """
utm:
  sources:
    - google
    - name: facebook
      aliases: [fb, FB Ads]
    - mailchimp
  mediums: [cpc, paid_social, email]
  campaign_pattern: "^[a-z0-9]+(_[a-z0-9]+)*$"
"""
# (source, medium, campaign, term): 10 tagged touchpoints, 4 breaking the taxonomy, 2 untagged
ROWS = [
    ("google", "cpc", "brand_search", "utm builder"),
    ("google", "cpc", "brand_search", "Utm Builder"),        # term: capitals
    ("facebook", "paid_social", "spring_launch", ""),
    ("facebook", "paid_social", "spring_launch", ""),
    ("FB Ads", "paid_social", "spring_launch", ""),         # source: alias with spaces and capitals
    ("mailchimp", "email", "newsletter_2025_03", ""),
    ("mailchimp", "e-mail", "Spring%20Launch", ""),         # medium not allowed; campaign encoded
    ("mailchimp", "email", "newsletter_2025_03", ""),
    ("google", "cpc", "весна_2025", ""),                    # campaign: unicode
    ("google", "cpc", "generic_search", ""),
    ("", "", "", ""),
    ("", "", "", ""),
]


def _csv() -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Event ID", "Timestamp", "Email", "utm_source", "utm_medium", "utm_campaign", "utm_term", "Landing Page",
                "Type"])
    for i, (s, m, c, t) in enumerate(ROWS, 1):
        w.writerow([f"e{i}", f"2025-03-{i:02d} 10:00:00", f"p{i}@acme.test", s, m, c, t,
                    "https://acme.com/pricing", "web_session"])
    return out.getvalue()


def build(root, taxonomy: str = TAXONOMY):
    ws = Workspace.init(root)
    ws.close()
    cfg = root / "marketops.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + taxonomy, encoding="utf-8")
    (root / "inbox" / "web_events.csv").write_text(_csv(), encoding="utf-8")
    with Workspace.open(root) as w:
        run = run_pipeline(w)
    assert run.status == "succeeded", run.error
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build(tmp_path_factory.mktemp("utm") / "acme")


@pytest.fixture
def workspace_root(root, clean_env, tmp_path):
    copy = tmp_path / "acme"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("app.sqlite*"))
    return copy


runner = CliRunner()


def cli(*args: str):
    return runner.invoke(cli_app, list(args), catch_exceptions=False)


# -- ingestion -----------------------------------------------------------------------------------------------

def test_the_run_flags_each_breaking_touchpoint_with_its_fix(root):
    with Workspace.open(root, read_only=True) as ws:
        rows = ws.engine.con.table("utm_violations").to_pyarrow().to_pylist()
        summary = ws.engine.con.table("utm_compliance").to_pyarrow().to_pylist()
    found = {(r["source_row"], r["param"]): (r["value"], r["suggested_fix"]) for r in rows}
    assert found == {
        (3, "utm_term"): ("Utm Builder", "utm builder"),
        (6, "utm_source"): ("FB Ads", "facebook"),
        (8, "utm_medium"): ("e-mail", "email"),  # not an alias here: the closest allowed medium
        (8, "utm_campaign"): ("Spring%20Launch", "spring_launch"),
        (10, "utm_campaign"): ("весна_2025", "vesna_2025"),
    }
    assert all(r["source_file"] == "web_events.csv" and r["problem"] for r in rows)
    assert summary == [{"source_system": "generic", "touchpoints": 12, "tagged": 10, "compliant": 6, "configured": True,
                        "top_problems": summary[0]["top_problems"]}]


def test_the_scorecard_shows_the_compliance_rate(root):
    result = cli("quality", "-w", str(root), "--json")
    card = json.loads(result.stdout)
    row = next(r for r in card["rows"] if r["metric"] == "utm_compliance")
    assert (row["table"], row["source"], row["value"], row["n"], row["total"]) == ("touchpoints", "generic", 0.6, 6, 10)
    assert "4 of 10 tagged touchpoints" in row["detail"]


def test_without_a_taxonomy_the_rate_says_so(tmp_path):
    root = build(tmp_path / "bare", taxonomy="")
    card = json.loads(cli("quality", "-w", str(root), "--json").stdout)
    row = next(r for r in card["rows"] if r["metric"] == "utm_compliance")
    assert row["value"] is None and "no taxonomy set" in row["detail"]
    out = " ".join(cli("utm", "check", "-w", str(root)).stdout.split())
    assert "No UTM taxonomy set" in out and "10 of 12 touchpoints" in out
    # the builder still encodes
    built = json.loads(cli("utm", "build", "https://acme.com", "--source", "Any Thing", "--json", "-w", str(root)).stdout)
    assert built["final_url"] == "https://acme.com?utm_source=Any%20Thing"


def test_a_threshold_can_warn_on_the_rate(tmp_path):
    root = build(tmp_path / "gated", taxonomy=TAXONOMY + "quality:\n  thresholds:\n    - table: touchpoints\n"
                                                           "      metric: utm_compliance\n      min: 0.9\n")
    card = json.loads(cli("quality", "-w", str(root), "--json").stdout)
    assert any(b["metric"] == "utm_compliance" for b in card["breaches"])


# -- the CLI -------------------------------------------------------------------------------------------------

def test_cli_check_reports_rate_and_top_violations(workspace_root, tmp_path):
    data = json.loads(cli("utm", "check", "-w", str(workspace_root), "--json").stdout)
    assert (data["tagged"], data["compliant"], data["rate"]) == (10, 6, 0.6)
    assert {r["param"]: r["touchpoints"] for r in data["by_param"]}["utm_campaign"] == 2
    assert any(t["value"] == "FB Ads" and t["suggested_fix"] == "facebook" for t in data["top"])
    out = tmp_path / "violations.csv"
    result = cli("utm", "check", "-w", str(workspace_root), "--csv", str(out))
    assert "60.0%" in result.stdout and "FB Ads" in result.stdout
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 5


def test_cli_build_refuses_fixes_and_registers_once(workspace_root, tmp_path):
    w = ["-w", str(workspace_root)]
    refused = cli("utm", "build", "https://acme.com/pricing?plan=pro#faq", "--source", "FB Ads", "--medium",
                  "Paid Social", "--campaign", "Spring Launch", *w)
    assert refused.exit_code == 1
    assert "utm_source 'FB Ads'" in refused.stdout and "use 'facebook'" in refused.stdout and "--fix" in refused.stderr
    fixed = json.loads(cli("utm", "build", "https://acme.com/pricing?plan=pro#faq", "--source", "FB Ads", "--medium",
                           "Paid Social", "--campaign", "Spring Launch", "--fix", "--json", *w).stdout)
    assert fixed["final_url"] == ("https://acme.com/pricing?plan=pro&utm_source=facebook&utm_medium=paid_social"
                                  "&utm_campaign=spring_launch#faq")
    assert fixed["created"] is True and {p["param"] for p in fixed["fixed"]} == {"utm_source", "utm_medium",
                                                                                  "utm_campaign"}
    again = json.loads(cli("utm", "build", fixed["final_url"], "--source", "facebook", "--medium", "paid_social",
                           "--campaign", "spring_launch", "--json", *w).stdout)
    assert again["created"] is False and again["link"]["id"] == fixed["link"]["id"]
    bad_json = cli("utm", "build", "https://acme.com", "--source", "tiktok", "--medium", "cpc", "--campaign", "x",
                   "--json", *w)
    assert bad_json.exit_code == 1 and json.loads(bad_json.stdout)["problems"][0]["param"] == "utm_source"
    assert cli("utm", "build", "not a url", "--source", "google", *w).exit_code == 1
    links = json.loads(cli("utm", "links", "--json", *w).stdout)
    assert links["total"] == 1 and links["items"][0]["created_by"] == "cli"
    out = tmp_path / "links.xlsx"
    assert "Wrote 1 rows" in cli("utm", "links", "--xlsx", str(out), *w).stdout and out.exists()


# -- the API and the page ------------------------------------------------------------------------------------

BODY = {"url": "acme.com/demo", "source": "google", "medium": "cpc", "campaign": "brand_search"}


def _headers(client) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/utm").text)}


def test_api_build_is_for_editors_and_registers_once(client, users):
    login_as(client, "viewer")
    refused = client.post("/api/v1/utm/build", json=BODY, headers=_headers(client))
    assert refused.status_code == 403 and "editor" in refused.text
    client.cookies.clear()
    login_as(client, "editor")
    h = _headers(client)
    first = client.post("/api/v1/utm/build", json=BODY, headers=h)
    assert first.status_code == 200, first.text
    assert first.json()["final_url"] == "https://acme.com/demo?utm_source=google&utm_medium=cpc&utm_campaign=brand_search"
    assert first.json()["created"] is True and first.json()["link"]["created_by"] == EMAILS["editor"]
    second = client.post("/api/v1/utm/build", json=BODY, headers=h).json()
    assert second["created"] is False and second["link"]["id"] == first.json()["link"]["id"]
    refused = client.post("/api/v1/utm/build", json={**BODY, "medium": "E-mail", "campaign": "Été 2025"}, headers=h)
    assert refused.status_code == 422
    problems = {p["param"]: p for p in refused.json()["error"]["problems"]}
    assert problems["utm_campaign"]["fix"] == "ete_2025" and "utm_medium" in problems
    listed = client.get("/api/v1/utm/links").json()
    assert listed["total"] == 1
    download = client.get("/api/v1/utm/links?format=csv")
    assert download.status_code == 200 and "brand_search" in download.text


def test_api_preview_compliance_and_violations_for_viewers(client, users):
    login_as(client, "viewer")
    preview = client.get("/api/v1/utm/preview", params={**BODY, "source": "FB Ads", "fix": "true"}).json()
    assert preview["ok"] and "utm_source=facebook" in preview["final_url"]
    assert client.get("/api/v1/utm/preview", params={**BODY, "source": "FB Ads"}).json()["ok"] is False
    report = client.get("/api/v1/utm/compliance").json()
    assert (report["rate"], report["tagged"]) == (0.6, 10)
    assert client.get("/api/v1/utm/compliance?format=xlsx").status_code == 200
    violations = client.get("/api/v1/utm/violations").json()
    assert violations["total"] == 5
    assert "suggested_fix" in client.get("/api/v1/utm/violations?format=csv").text


def test_the_page_shows_builder_register_and_report_by_role(client, users):
    login_as(client, "viewer")
    page = client.get("/utm")
    assert page.status_code == 200
    assert 'id="utm-compliance"' in page.text and "60.0%" in page.text
    assert 'id="utm-form"' not in page.text, page.text[page.text.find("utm-form") - 300:][:400]
    client.cookies.clear()
    login_as(client, "editor")
    page = client.get("/utm").text
    assert 'id="utm-form"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post("/utm/build", data={**BODY, "source": "FB Ads", "csrf_token": token})
    assert refused.status_code == 422 and "use &#39;facebook&#39;" in refused.text
    done = client.post("/utm/build", data={**BODY, "source": "FB Ads", "fix": "true", "csrf_token": token})
    assert done.status_code == 303
    assert "utm_source=facebook" in client.get(done.headers["location"]).text
