"""The library through the web app and the API: roles, pages, downloads."""

from __future__ import annotations

from tests.app_fixtures import app, clean_env, client, csrf_from, login_as, users, workspace_root  # noqa: F401

PLAYBOOK = {"title": "Lead handoff process", "body": "# Lead handoff\nSales calls every MQL within one business hour.",
            "owner": "fran@acme.test", "tags": ["sales", "Leads"]}


def _csrf(client) -> dict:
    return {"X-CSRF-Token": csrf_from(client.get("/playbooks").text)}


def test_viewers_read_editors_write(client, users):
    login_as(client, "viewer")
    h = _csrf(client)
    assert client.post("/api/v1/playbooks", json=PLAYBOOK, headers=h).status_code == 403
    assert client.post("/api/v1/assets", json={"name": "Logo", "type": "logo"}, headers=h).status_code == 403
    assert client.post("/api/v1/templates/campaign-brief/use", json={"start": "2027-03-01", "owner": "x"},
                       headers=h).status_code == 403
    assert client.get("/api/v1/templates").status_code == 200
    assert client.get("/playbooks/new").status_code == 403


def test_playbooks_create_search_render(client, users, workspace_root):
    login_as(client, "editor")
    h = _csrf(client)
    r = client.post("/api/v1/playbooks", json=PLAYBOOK, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == "lead-handoff-process" and r.json()["tags"] == ["sales", "leads"]
    assert (workspace_root / "playbooks" / "lead-handoff-process.md").read_text().startswith("---\ntitle: Lead")
    (workspace_root / "playbooks" / "xss.md").write_text("# Bad\n<script>alert(1)</script>\n[x](javascript:alert(1))")
    found = client.get("/api/v1/playbooks", params={"q": "business HOUR"}).json()
    assert [i["slug"] for i in found["items"]] == ["lead-handoff-process"]
    assert "<mark>business</mark> <mark>hour</mark>" in found["items"][0]["snippet_html"]
    page = client.get("/playbooks", params={"q": "business hour"}).text
    assert "<mark>business</mark>" in page and 'data-slug="lead-handoff-process"' in page
    bad = client.get("/playbooks/xss").text
    assert "<script>alert(1)</script>" not in bad and "&lt;script&gt;" in bad and "javascript:" not in bad.split(
        'id="playbook-body"')[1].split("href=")[-1][:30]
    r = client.put("/api/v1/playbooks/lead-handoff-process", json={"tags": ["sales"]}, headers=h)
    assert r.json()["tags"] == ["sales"] and r.json()["title"] == "Lead handoff process"
    assert client.get("/api/v1/playbooks/nope").status_code == 404
    csv = client.get("/api/v1/playbooks", params={"format": "csv"})
    assert csv.status_code == 200 and "lead-handoff-process" in csv.text


def test_playbook_form_round_trip(client, users):
    login_as(client, "editor")
    token = csrf_from(client.get("/playbooks/new").text)
    r = client.post("/playbooks/new", data={"csrf_token": token, "title": "UTM conventions", "body": "Lower case.",
                                            "tags": "utm", "owner": "fran"})
    assert r.status_code == 303 and r.headers["location"] == "/playbooks/utm-conventions"
    again = client.post("/playbooks/new", data={"csrf_token": token, "title": "UTM conventions", "body": ""})
    assert again.status_code == 400 and "already exists" in again.text


def test_template_use_creates_initiative_and_tasks(client, users):
    login_as(client, "editor")
    h = _csrf(client)
    r = client.post("/api/v1/templates/campaign-brief/use",
                    json={"start": "2027-03-01", "owner": "fran@acme.test", "values": {"campaign": "Spring webinar"}},
                    headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["initiative"]["end_date"] == "2027-04-12" and len(body["tasks"]) == 7
    launch = next(t for t in body["tasks"] if t["title"] == "Launch Spring webinar")
    assert launch["due"] == "2027-03-19" and len(launch["depends_on"]) == 3
    missing = client.post("/api/v1/templates/campaign-brief/use", json={"start": "2027-03-01", "owner": "x"}, headers=h)
    assert missing.status_code == 400 and "needs a value for 'campaign'" in missing.json()["error"]["message"]
    unknown = client.post("/api/v1/templates/campain-brief/use", json={"start": "2027-03-01", "owner": "x"}, headers=h)
    assert unknown.status_code == 404 and "did you mean 'campaign-brief'" in unknown.json()["error"]["message"]
    assert client.get("/api/v1/templates").json()["items"][0]["used"] == 1
    page = client.get("/templates/launch-checklist", params={"start": "2027-01-04"}).text
    assert "Create initiative" in page and 'data-key="launch_day"' in page
    token = csrf_from(page)
    r = client.post("/templates/launch-checklist/use", data={"csrf_token": token, "start": "2027-01-04",
                                                             "owner": "bo", "v_product": "Acme Pulse"})
    assert r.status_code == 303 and r.headers["location"].startswith("/initiatives/")


def test_asset_register_through_the_api_and_pages(client, users):
    login_as(client, "editor")
    h = _csrf(client)
    r = client.post("/api/v1/assets", json={"name": "Hero photo", "type": "image", "tags": ["brand"],
                                            "expires_on": "2020-01-31", "usage_rights": "Web only"}, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "expired"
    aid = r.json()["id"]
    bad = client.post("/api/v1/assets", json={"name": "x", "type": "imgae"}, headers=h)
    assert bad.status_code == 400 and "did you mean 'image'" in bad.json()["error"]["message"]
    r = client.patch(f"/api/v1/assets/{aid}", json={"expires_on": None}, headers=h)
    assert r.json()["status"] == "ok" and r.json()["expires_on"] is None
    client.patch(f"/api/v1/assets/{aid}", json={"expires_on": "2020-01-31"}, headers=h)
    listed = client.get("/api/v1/assets", params={"status": "expired"}).json()
    assert listed["total"] == 1 and listed["counts"]["expired"] == 1
    page = client.get("/assets").text
    assert 'id="expiry-banner"' in page and 'class="asset-expired"' in page
    assert "Hero photo" in client.get("/api/v1/assets", params={"format": "csv"}).text
    assert client.get("/api/v1/assets", params={"format": "xlsx"}).status_code == 200
    assert client.get(f"/assets/{aid}").status_code == 200
    assert client.delete(f"/api/v1/assets/{aid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/assets/{aid}").status_code == 404


def test_pages_need_sign_in(client):
    for path in ("/playbooks", "/templates", "/assets"):
        assert client.get(path).status_code == 303
    assert client.get("/api/v1/assets").status_code == 401
