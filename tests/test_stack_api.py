"""The stack through the API and the pages: every rule the CLI has, roles enforced on the server,
the JSON error envelope, CSV/XLSX downloads, the printable report, freshness from the load history."""

from __future__ import annotations

import csv

from sqlalchemy import select

from marketops.state.db import session_scope
from marketops.state.models import AuditEvent
from tests.app_fixtures import EMAILS, app, client, clean_env, csrf_from, login_as, users, workspace_root  # noqa: F401

API = "/api/v1/stack"


def _csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/stack").text)}


def _add(client, headers, **body):
    return client.post(f"{API}/tools", json=body, headers=headers)


def test_editors_build_the_registry_and_viewers_read_it(client, users, app):
    login_as(client, "editor")
    h = _csrf(client)
    r = _add(client, h, name="HubSpot", catalogue="HubSpot", owner="Ana", cost="3200", seats=10, active_users=8)
    assert r.status_code == 201, r.text
    hubspot = r.json()
    assert (hubspot["category"], hubspot["systems"], hubspot["freshness"]) == ("Marketing automation", ["hubspot"],
                                                                             "fresh")
    assert hubspot["last_seen"] is not None  # the fixture's warehouse loaded hubspot two hours ago
    sf = _add(client, h, name="Salesforce", catalogue="Salesforce", cost="54000", cost_period="year",
              currency="USD").json()
    assert client.post(f"{API}/integrations", json={"from_tool": "HubSpot", "to_tool": sf["id"],
                                                    "object": "contacts"}, headers=h).status_code == 201
    flow = client.post(f"{API}/integrations", json={"from_tool": sf["id"], "to_tool": "hubspot", "object": "deals",
                                                    "method": "api", "frequency": "hourly"}, headers=h).json()
    patched = client.patch(f"{API}/tools/{sf['id']}", json={"owner": "Bo", "seats": 40}, headers=h).json()
    assert (patched["owner"], patched["seats"], patched["integrations_in"][0]["from"]) == ("Bo", 40, "HubSpot")
    with session_scope(app.state.database_url) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("stack.%")))]
    assert actions == ["stack.tool.create", "stack.tool.create", "stack.link", "stack.link", "stack.tool.update"]

    client.post("/logout", data={"csrf_token": h["X-CSRF-Token"]})
    login_as(client, "viewer")
    vh = _csrf(client)
    listed = client.get(f"{API}/tools").json()
    assert [t["name"] for t in listed["items"]] == ["Salesforce", "HubSpot"] and listed["total"] == 2
    assert client.get(f"{API}/map").json()["cycles"] == [["HubSpot", "Salesforce"]]
    assert _add(client, vh, name="Nope").status_code == 403
    assert client.delete(f"{API}/integrations/{flow['id']}", headers=vh).status_code == 403
    assert client.post(f"{API}/evaluations", headers=vh, json={
        "tool": "X", "serves_goals": "yes", "improves_journey": "yes", "has_budget": "yes",
        "has_time": "yes"}).status_code == 403


def test_bad_input_answers_in_the_error_envelope(client, users):
    login_as(client, "editor")
    h = _csrf(client)
    _add(client, h, name="A")
    cases = [
        (_add(client, h, name="a"), 422, "already in the registry"),
        (_add(client, h, name="B", currency="dollars"), 422, "ISO 4217"),
        (_add(client, h, name="B", systems=["hubspt"]), 422, "did you mean 'hubspot'"),
        (_add(client, h, name="B", cost=-1), 422, ""),
        (client.post(f"{API}/integrations", json={"from_tool": "A", "to_tool": "a", "object": "x"}, headers=h), 422,
         "cannot feed itself"),
        (client.post(f"{API}/integrations", json={"from_tool": "A", "to_tool": "Zz", "object": "x"}, headers=h), 404,
         "unknown tool 'Zz'"),
        (client.get(f"{API}/tools/999"), 404, "unknown tool '999'"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error"} and message in response.json()["error"]["message"]


def test_the_audit_api_converts_flags_and_downloads_each_table(client, users):
    login_as(client, "editor")
    h = _csrf(client)
    _add(client, h, name="Tableau", category="BI", owner="Ana", cost="8400", cost_period="year", currency="EUR",
         seats=10, active_users=3, renewal_date="2099-01-01")
    _add(client, h, name="Looker", category="BI", owner="Ana", cost="100", currency="CHF")
    _add(client, h, name="Hotjar", category="Experience")
    audit = client.get(f"{API}/audit").json()
    assert audit["reporting_currency"] == "EUR" and audit["total_monthly"] == "700.00"
    assert audit["unconverted"] == ["Looker"] and audit["no_cost"] == ["Hotjar"] and audit["no_owner"] == ["Hotjar"]
    assert audit["overlaps"] == [{"category": "BI", "tools": ["Looker", "Tableau"]}]
    tableau = next(t for t in audit["tools"] if t["name"] == "Tableau")
    assert (tableau["cost_per_user"], tableau["utilisation"]) == ("233.33", 0.3)
    for table in ("tools", "categories", "renewals", "findings"):
        r = client.get(f"{API}/audit?table={table}&format=csv")
        assert r.status_code == 200 and r.headers["content-disposition"] == (
            f'attachment; filename="stack_audit_{table}.csv"')
    cats = list(csv.DictReader(client.get(f"{API}/audit?table=categories&format=csv").content.decode("utf-8-sig")
                               .splitlines()))
    assert (cats[0]["category"], cats[0]["monthly"], cats[0]["unconverted"]) == ("BI", "700.00", "100.00 CHF")
    assert client.get(f"{API}/audit?table=tools&format=xlsx").status_code == 200
    report = client.get(f"{API}/audit/report")
    assert report.headers["content-type"].startswith("text/html") and "attachment" in report.headers[
        "content-disposition"]
    assert "Stack audit" in report.text and "<svg" not in report.text  # no integrations: no map
    assert client.get(f"{API}/tools?format=csv").status_code == 200


def test_evaluations_check_without_saving_and_save_for_editors(client, users):
    login_as(client, "editor")
    h = _csrf(client)
    body = {"tool": "Drift", "category": "Conversational marketing", "serves_goals": "yes",
            "improves_journey": "yes", "has_budget": "no", "has_time": "yes", "notes": {"has_budget": "frozen"}}
    check = client.post(f"{API}/evaluations/check", json=body, headers=h).json()
    assert check["recommendation"] == "defer" and "no budget" in check["reasons"][0]
    assert client.get(f"{API}/evaluations").json()["total"] == 0
    saved = client.post(f"{API}/evaluations", json=body, headers=h)
    assert saved.status_code == 201 and saved.json()["notes"] == {"has_budget": "frozen"}
    assert client.get(f"{API}/evaluations").json()["items"][0]["label"] == "Not now"
    bad = client.post(f"{API}/evaluations/check", json={**body, "has_time": "maybe so"}, headers=h)
    assert bad.status_code == 422


def test_pages_render_and_forms_change_the_registry(client, users):
    login_as(client, "editor")
    page = client.get("/stack")
    assert page.status_code == 200 and "Pick from the catalogue" in page.text
    token = csrf_from(page.text)
    r = client.post("/stack", data={"csrf_token": token, "catalogue": "Salesforce", "cost": "100", "currency": "USD",
                                    "cost_period": "month", "systems": ["salesforce"]})
    assert r.status_code == 303
    tool_url = r.headers["location"]
    detail = client.get(tool_url)
    assert "Salesforce" in detail.text and "no USD rate to convert it" in detail.text
    bad = client.post("/stack", data={"csrf_token": token, "name": "X", "cost": "abc"})
    assert bad.status_code == 400 and "cost: &#39;abc&#39; is not a number" in bad.text
    client.post("/stack", data={"csrf_token": token, "name": "Segment", "category": "Customer data platform"})
    r = client.post("/stack/map", data={"csrf_token": token, "from_tool": "Segment", "to_tool": "Salesforce",
                                        "object": "accounts", "method": "api", "frequency": "daily"})
    assert r.status_code == 303
    selfloop = client.post("/stack/map", data={"csrf_token": token, "from_tool": "Segment", "to_tool": "Segment",
                                               "object": "x"})
    assert selfloop.status_code == 400 and "cannot feed itself" in selfloop.text
    map_page = client.get("/stack/map")
    assert 'data-figure="' in map_page.text and "accounts" in map_page.text
    audit_page = client.get("/stack/audit")
    assert audit_page.status_code == 200 and "Not converted, left out of the totals" in audit_page.text
    edited = client.post(tool_url, data={"csrf_token": token, "name": "Salesforce", "owner": "Bo",
                                         "cost_period": "month", "currency": "EUR", "cost": "100"})
    assert edited.status_code == 303 and "Bo" in client.get(tool_url).text
    ev = client.post("/stack/evaluate", data={"csrf_token": token, "tool": "Drift", "serves_goals": "yes",
                                              "improves_journey": "partly", "has_budget": "yes", "has_time": "yes",
                                              "action": "check"})
    assert ev.status_code == 200 and 'data-recommendation="pilot"' in ev.text
    assert client.post(tool_url + "/delete", data={"csrf_token": token}).status_code == 303
    assert client.get(tool_url).status_code == 404


def test_viewers_see_the_pages_without_forms_and_cannot_post(client, users):
    login_as(client, "viewer")
    page = client.get("/stack")
    assert page.status_code == 200 and "stack-add-form" not in page.text
    token = csrf_from(page.text)
    assert client.post("/stack", data={"csrf_token": token, "name": "X"}).status_code == 403
    ev = client.post("/stack/evaluate", data={"csrf_token": token, "tool": "Drift", "serves_goals": "yes",
                                              "improves_journey": "yes", "has_budget": "yes", "has_time": "yes",
                                              "action": "save"})
    assert ev.status_code == 403
    for path in ("/stack/map", "/stack/audit", "/stack/evaluate"):
        assert client.get(path).status_code == 200


def test_api_tokens_and_anonymous_requests(client, users, app):
    from marketops.state.tokens import create_token
    from marketops.state.users import get_user

    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS["editor"]), "ci", scopes=["read"])
    assert client.get(f"{API}/tools").status_code == 401
    assert client.get("/stack").status_code == 303
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/tools", headers=auth).status_code == 200
    assert client.post(f"{API}/tools", json={"name": "X"}, headers=auth).status_code == 403  # read scope only
