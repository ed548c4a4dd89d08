"""Budgets through the web app: the API's rules and messages, roles, CSRF, audit, downloads, the
page and its forms, on a workspace whose last run published constructed ad spend (see
tests/test_budgets.py: Paid Search spends 150 a day and meta_ads 45 EUR a day from 1 to 10 March 2026)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from marketops.state.db import session_scope
from marketops.state.models import AuditEvent
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    users,
)
from tests.test_budgets import spend_workspace

TODAY = "2026-03-11"


@pytest.fixture
def workspace_root(tmp_path, clean_env):  # noqa: F811  (this module's workspace has ad spend)
    return spend_workspace(tmp_path / "acme")


def _as(client, role: str) -> dict[str, str]:
    login_as(client, role)
    return {"X-CSRF-Token": csrf_from(client.get("/budgets?month=2026-03").text)}


@pytest.fixture
def editor(client, users):
    return client, _as(client, "editor")


def _events(app, target: str) -> list[AuditEvent]:
    with session_scope(app.state.database_url) as s:
        return [(e.action, e.actor, e.detail) for e in
                s.scalars(select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.id))]


def test_set_update_and_delete_a_line_through_the_api(editor, app):
    client, h = editor
    body = {"month": "2026-03", "channel": "paid search", "amount": "3 100"}
    r = client.put("/api/v1/budgets", json=body, headers=h)
    assert r.status_code == 201, r.text
    line = r.json()["line"]
    assert (line["channel"], line["amount"], line["currency"]) == ("Paid Search", "3100.00", "EUR")
    assert client.post("/api/v1/budgets", json=body, headers=h).json()["status"] == "unchanged"
    r = client.post("/api/v1/budgets", json={**body, "amount": 3200.5}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "updated" and r.json()["line"]["amount"] == "3200.50"
    assert client.delete(f"/api/v1/budgets/{line['id']}", headers=h).status_code == 200
    assert client.delete(f"/api/v1/budgets/{line['id']}", headers=h).json()["error"]["code"] == "not_found"
    assert [(a, who) for a, who, _ in _events(app, f"budget:{line['id']}")] == [
        ("budget.create", "editor@acme.test"), ("budget.update", "editor@acme.test"),
        ("budget.delete", "editor@acme.test")]


@pytest.mark.parametrize(("body", "words"), [
    ({"month": "2026/03"}, "month '2026/03' is not a month written YYYY-MM"),
    ({"amount": "-100"}, "the amount -100 is negative"),
    ({"channel": "Paid Serch"}, "unknown channel 'Paid Serch' (did you mean 'Paid Search'?)"),
    ({"channel": None, "platform": "metta_ads"}, "did you mean 'meta_ads'?"),
    ({"currency": "GBP"}, "the budget is in GBP but reports are in EUR, and the exchange-rates table has no GBP rate"),
])
def test_bad_lines_are_refused_with_the_rule(editor, body, words):
    client, h = editor
    r = client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Paid Search", "amount": "100", **body},
                   headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_budget" and words in r.json()["error"]["message"]


def test_a_usd_budget_is_converted_and_says_at_which_rate(editor):
    client, h = editor
    r = client.put("/api/v1/budgets", json={"month": "2026-03", "platform": "meta_ads", "amount": "1000",
                                            "currency": "USD"}, headers=h)
    assert r.status_code == 201 and r.json()["line"]["amount"] == "900.00"
    assert "converted 1,000.00 USD to 900.00 EUR at 0.9" in r.json()["message"]


def test_viewers_read_but_cannot_change(client, users, app):
    h = _as(client, "viewer")
    assert client.get("/api/v1/budgets?month=2026-03").status_code == 200
    r = client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Email", "amount": "1"}, headers=h)
    assert r.status_code == 403
    files = {"file": ("plan.csv", b"month,channel,amount\n2026-03,Email,5\n", "text/csv")}
    assert client.post("/api/v1/budgets/import", files=files, headers=h).status_code == 403
    page = client.get("/budgets?month=2026-03").text
    assert 'id="set-budget-form"' not in page and 'id="import-budget-form"' not in page


def test_api_changes_from_the_page_session_need_the_csrf_header(editor):
    client, _ = editor
    r = client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Email", "amount": "1"})
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["error"]["message"]


def test_plan_actual_variance_and_pacing(editor):
    client, h = editor
    for body in ({"channel": "Paid Search", "amount": "3100"}, {"platform": "meta_ads", "amount": "1000"},
                 {"platform": "google_ads", "campaign": "Brand Search", "amount": "5000"}):
        assert client.put("/api/v1/budgets", json={"month": "2026-03", **body}, headers=h).status_code == 201
    data = client.get(f"/api/v1/budgets?month=2026-03&today={TODAY}").json()
    rows = {i["scope"]: i for i in data["items"]}
    assert (rows["Paid Search"]["planned"], rows["Paid Search"]["actual"], rows["Paid Search"]["variance"]) == (
        "3100.00", "1500.00", "-1600.00")
    assert rows["meta_ads"]["actual"] == "450.00" and rows["google_ads / brand_search"]["actual"] == "1500.00"
    assert data["totals"] == {"planned": "9100.00", "actual": "3450.00", "variance": "-5650.00",
                              "variance_pct": pytest.approx(-5650 / 9100)}
    pacing = client.get(f"/api/v1/budgets/pacing?month=2026-03&today={TODAY}").json()
    status = {i["scope"]: i["status"] for i in pacing["items"]}
    assert status == {"Paid Search": "over_pacing", "meta_ads": "over_pacing", "google_ads / brand_search": "on_pace"}
    assert {a["scope"] for a in pacing["alerts"]} == {"Paid Search", "meta_ads"}
    # a wide tolerance silences the alerts
    wide = client.get(f"/api/v1/budgets/pacing?month=2026-03&today={TODAY}&tolerance=0.5").json()
    assert [a["scope"] for a in wide["alerts"]] == ["Paid Search"]  # 1500 spent, about half that expected
    assert client.get("/api/v1/budgets?month=March").status_code == 422


def test_import_through_the_api(editor, app):
    client, h = editor
    text = ("month,channel,platform,campaign,amount,currency\n2026-03,Paid Search,,,12 000,EUR\n"
            "2026-03,Emial,,,100,\n2026-04,Email,,,-5,\n2026-03,Paid Social,,,\"€1.500,50\",\n")
    files = {"file": ("plan.csv", text.encode(), "text/csv")}
    r = client.post("/api/v1/budgets/import", files=files, headers=h).json()
    assert (r["created"], r["updated"], r["unchanged"], r["refused"]) == (2, 0, 0, 2)
    assert [(e["file"], e["row"], e["column"]) for e in r["errors"]] == [("plan.csv", 3, "channel"),
                                                                         ("plan.csv", 4, "amount")]
    before = len(_events(app, "budget:1")) + len(_events(app, "budget:2"))
    again = client.post("/api/v1/budgets/import", files=files, headers=h).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(_events(app, "budget:1")) + len(_events(app, "budget:2")) == before
    lines = client.get("/api/v1/budgets/lines?month=2026-03").json()
    assert sorted(i["amount"] for i in lines["items"]) == ["12000.00", "1500.50"]
    bad = client.post("/api/v1/budgets/import", files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}, headers=h)
    assert bad.status_code == 400 and "x.csv, row 1: the header lacks 'month', 'amount'" in bad.json()["error"]["message"]


def test_downloads_have_the_rows(editor):
    client, h = editor
    client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Paid Search", "amount": "3100"}, headers=h)
    r = client.get(f"/api/v1/budgets?month=2026-03&today={TODAY}&format=csv")
    assert r.headers["content-disposition"] == 'attachment; filename="budget_2026-03.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0]["scope"] == "Paid Search" and rows[0]["planned"] == "3100.00" and rows[0]["actual"] == "1500.00"
    x = client.get(f"/api/v1/budgets/pacing?month=2026-03&today={TODAY}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    values = list(sheet.values)
    assert values[0][:2] == ("scope", "planned") and values[1][0] == "Paid Search"
    lines = client.get("/api/v1/budgets/lines?format=csv").content.decode("utf-8-sig")
    assert "Paid Search" in lines
    hint = client.get("/api/v1/budgets/reallocation?month=2026-03&format=csv")
    assert hint.status_code == 200 and hint.content.decode("utf-8-sig").startswith("channel")


def test_reallocation_without_attribution_data_says_why(editor):
    client, h = editor
    client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Paid Search", "amount": "3100"}, headers=h)
    r = client.get("/api/v1/budgets/reallocation?month=2026-03").json()
    assert r["suggestion"] is False and r["applied"] is False and r["reasoning"].startswith("No hint")
    assert client.get("/api/v1/budgets/reallocation?cap=2").status_code == 422


def test_the_page_forms_set_import_and_remove(editor, app):
    client, _ = editor
    page = client.get("/budgets?month=2026-03").text
    token = csrf_from(page)
    assert 'id="budgets-empty"' in page
    form = {"month": "2026-03", "scope": "channel:Paid Search", "amount": "3 100",
            "note": "<script>alert(1)</script>", "currency": "EUR"}
    assert client.post("/budgets/set", data=form).status_code == 403  # no CSRF token
    r = client.post("/budgets/set", data={**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/budgets?month=2026-03")
    page = client.get("/budgets?month=2026-03").text
    assert 'data-scope="Paid Search"' in page and 'id="flash"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'class="chart"' in page and "/api/v1/budgets?month=2026-03&amp;format=csv" in page
    bad = client.post("/budgets/set", data={**form, "scope": "channel:Nope", "csrf_token": token})
    assert bad.status_code == 400 and "unknown channel" in bad.text
    files = {"file": ("plan.csv", b"month,channel,amount\n2026-03,Email,500\n2026-03,Emial,5\n", "text/csv")}
    r = client.post("/budgets/import", data={"csrf_token": token, "month": "2026-03"}, files=files)
    assert r.status_code == 200 and 'data-created="1"' in r.text and 'data-refused="1"' in r.text
    assert 'data-row="3" data-column="channel"' in r.text
    line_id = client.get("/api/v1/budgets/lines?month=2026-03").json()["items"][0]["id"]
    assert client.post(f"/budgets/{line_id}/remove", data={}).status_code == 403
    assert client.post(f"/budgets/{line_id}/remove", data={"csrf_token": token}).status_code == 303
    assert [a for a, _, _ in _events(app, f"budget:{line_id}")][-1] == "budget.delete"


def test_page_shows_pacing_alerts_for_the_current_month(editor, monkeypatch):
    import datetime as dt

    from marketops.plan import budgets

    client, h = editor
    client.put("/api/v1/budgets", json={"month": "2026-03", "channel": "Paid Search", "amount": "3100"}, headers=h)

    class March(dt.date):
        @classmethod
        def today(cls):
            return cls(2026, 3, 11)

    monkeypatch.setattr(budgets, "date", March)
    page = client.get("/budgets?month=2026-03").text
    assert 'class="callout callout-bad pacing-alert"' in page and "Paid Search is over-pacing" in page
    assert 'data-status="over_pacing"' in page
    assert client.get("/budgets?month=2026-3x").status_code == 400
