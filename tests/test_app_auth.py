"""Signing in and out, sessions, CSRF, rate limits, roles and API tokens in the web app."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from marketops.app.main import routes
from marketops.state.db import session_scope
from marketops.state.models import AuditEvent
from marketops.state.tokens import create_token, revoke_token
from marketops.state.users import get_user, set_password
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    csrf_from,
    login,
    login_as,
    users,
    workspace_root,
)

PUBLIC_PATHS = {"/login", "/health"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_private_route_refuses_anonymous_requests(app, client):
    checked = 0
    for path, methods in routes(app):
        if path in PUBLIC_PATHS or path.startswith("/static"):
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            response = client.request(method, _concrete(path))
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path)
                assert response.json()["error"]["code"] == "not_authenticated"
                assert response.headers["www-authenticate"] == "Bearer"
            else:
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/login?next="), (method, path)
            checked += 1
    assert checked >= 4  # /, /logout, /settings/users, /api/v1/overview at least


def test_public_routes_answer_anonymous_requests(client):
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] == "ok"
    assert client.get("/login").status_code == 200
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "--accent" in css.text


def test_login_works_and_sets_a_safe_cookie(client, users):
    response = login(client, EMAILS["editor"], PASSWORDS["editor"])
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "Acme Marketing" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'self'" in page.headers["content-security-policy"]


def test_cookie_is_secure_over_https(app, users):
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        response = login(c, EMAILS["viewer"], PASSWORDS["viewer"])
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


def test_login_fails_with_a_wrong_password_or_unknown_email(client, users):
    for email, password in ((EMAILS["admin"], "not the password"), ("nobody@acme.test", "whatever pass")):
        response = login(client, email, password)
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
    assert client.get("/").status_code == 303


def test_login_redirects_only_within_the_site(client, users):
    assert login(client, EMAILS["admin"], PASSWORDS["admin"], next="/settings/users").headers["location"] == \
        "/settings/users"
    client.cookies.clear()
    assert login(client, EMAILS["admin"], PASSWORDS["admin"], next="//evil.test/").headers["location"] == "/"


def test_failed_logins_are_rate_limited_per_ip(client, users):
    for _ in range(5):
        assert login(client, EMAILS["viewer"], "wrong password!").status_code == 401
    # Even the right password is refused while the limit holds: guessing gains nothing.
    blocked = login(client, EMAILS["viewer"], PASSWORDS["viewer"])
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text


def test_failed_logins_are_rate_limited_per_email_across_addresses(app, users):
    for i in range(5):
        with TestClient(app, client=(f"10.0.0.{i}", 4000), follow_redirects=False) as c:
            assert login(c, EMAILS["admin"], "wrong password!").status_code == 401
    with TestClient(app, client=("10.0.1.1", 4000), follow_redirects=False) as c:
        assert login(c, EMAILS["admin"], PASSWORDS["admin"]).status_code == 429
        # Another account from a fresh address is unaffected.
        assert login(c, EMAILS["editor"], PASSWORDS["editor"]).status_code == 303


def test_login_without_csrf_token_is_rejected(client, users):
    client.get("/login")
    response = client.post("/login", data={"email": EMAILS["admin"], "password": PASSWORDS["admin"]})
    assert response.status_code == 400
    assert client.get("/").status_code == 303  # still anonymous
    forged = client.post("/login", data={"email": EMAILS["admin"], "password": PASSWORDS["admin"],
                                         "csrf_token": "forged"})
    assert forged.status_code == 400


def test_logout_needs_the_csrf_token(client, users):
    login_as(client, "viewer")
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    token = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_session_cookie_cannot_be_forged(client, users):
    client.cookies.set("marketops_session", "eyJ1aWQiOjF9.forged.signature")
    assert client.get("/").status_code == 303


def test_password_change_ends_existing_sessions(app, client, users):
    login_as(client, "editor")
    assert client.get("/").status_code == 200
    with session_scope(app.state.database_url) as s:
        set_password(s, EMAILS["editor"], "a brand new password")
    assert client.get("/").status_code == 303


def test_viewer_cannot_reach_the_admin_page(client, users):
    login_as(client, "viewer")
    response = client.get("/settings/users")
    assert response.status_code == 403
    assert "/settings/users" not in client.get("/").text  # not even linked


def test_admin_sees_the_users_page(client, users):
    login_as(client, "admin")
    page = client.get("/settings/users")
    assert page.status_code == 200
    for email in EMAILS.values():
        assert email in page.text


def test_api_token_works_and_revoked_token_fails(app, client, users):
    with session_scope(app.state.database_url) as s:
        token, secret = create_token(s, get_user(s, EMAILS["viewer"]), "looker")
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.get("/api/v1/overview", headers=headers)
    assert response.status_code == 200
    assert {t["name"]: t["rows"] for t in response.json()["tables"]} == {"ad_spend": 2, "people": 3}
    with session_scope(app.state.database_url) as s:
        revoke_token(s, token.id)
    refused = client.get("/api/v1/overview", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"error": {"code": "not_authenticated",
                                        "message": "the API token is invalid or revoked"}}


def test_api_refuses_malformed_credentials_with_the_error_envelope(client, users):
    for header in ("Bearer mko_not_a_real_token", "Basic YWRtaW46YWRtaW4=", "Bearer"):
        response = client.get("/api/v1/overview", headers={"Authorization": header})
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message"}


def test_api_errors_use_one_envelope(app, client, users):
    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS["admin"]), "ci")
    response = client.get("/api/v1/no-such-thing", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_accepts_the_browser_session_for_reads(client, users):
    login_as(client, "viewer")
    assert client.get("/api/v1/overview").status_code == 200


def test_sign_ins_are_audited_without_secrets(app, client, users):
    login(client, EMAILS["admin"], "wrong password!")
    login_as(client, "admin")
    with session_scope(app.state.database_url) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("login%"))))
    assert [(e.action, e.target, e.ip) for e in events] == [
        ("login.failed", EMAILS["admin"], "testclient"), ("login", EMAILS["admin"], "testclient")]
    dumped = repr([(e.actor, e.target, e.detail) for e in events])
    assert "wrong password" not in dumped and PASSWORDS["admin"] not in dumped
