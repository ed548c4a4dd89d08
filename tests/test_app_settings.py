"""Settings: the user's language, API tokens, users and roles, the audit log; sessions that expire.

Every test runs on SQLite and on PostgreSQL (``MARKETOPS_TEST_POSTGRES_URL``, see
tests/test_app_database.py; without it the PostgreSQL cases skip, under CI they fail).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from openpyxl import load_workbook
from sqlalchemy import delete, select, text

from marketops.app.routes.users import user_version
from marketops.app.security import SESSION_COOKIE, SESSION_MAX_AGE, password_fingerprint
from marketops.state.audit import record
from marketops.state.db import init_db, make_engine, session_scope
from marketops.state.models import ApiToken, AuditEvent, Base, User
from marketops.state.tokens import create_token
from marketops.state.users import create_user, get_user, remove_user, set_active, set_role
from tests.app_fixtures import (  # noqa: F401
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    csrf_from,
    login,
    login_as,
    make_workspace,
    users,
)
from tests.test_app_database import postgres_url  # noqa: F401

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch, clean_env):  # noqa: F811
    """The app database: the workspace's SQLite file, or the test session's PostgreSQL database
    (emptied after each test)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("MARKETOPS_DATABASE_URL", url)
    yield "postgresql"
    init_db(url)
    with make_engine(url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def workspace_root(tmp_path: Path, backend) -> Path:  # overrides app_fixtures.workspace_root
    return make_workspace(tmp_path / "acme")


def db(app):
    return session_scope(app.state.database_url)


def csrf(client, page: str = "/settings") -> str:
    return csrf_from(client.get(page).text)


def post(client, url: str, page: str, **data):
    """Submit a form of ``page`` as a browser would: with the page's CSRF token."""
    return client.post(url, data={"csrf_token": csrf(client, page), **data})


def events(app, action: str) -> list[AuditEvent]:
    with db(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_the_backend_is_the_one_asked_for(app, backend):
    assert make_engine(app.state.database_url).dialect.name == backend


# -- sessions ------------------------------------------------------------------------------------------
def aged_cookie(app, data: dict, age_seconds: int) -> str:
    """A correctly signed session cookie made ``age_seconds`` ago."""
    serializer = URLSafeTimedSerializer(app.state.secret_key, salt="marketops.session")
    signer = serializer.make_signer()
    # The signature carries its own timestamp: stamp it in the past.
    signer.get_timestamp = lambda: int(time.time()) - age_seconds
    return signer.sign(serializer.dump_payload(data)).decode()


def test_an_expired_session_goes_back_to_sign_in(app, client, users):
    login_as(client, "viewer")
    assert client.get("/settings").status_code == 200
    with db(app) as s:
        user = get_user(s, EMAILS["viewer"])
        data = {"uid": user.id, "fp": password_fingerprint(user.password_hash, app.state.secret_key), "csrf": "x"}
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, aged_cookie(app, data, 60))
    assert client.get("/settings").status_code == 200  # a fresh cookie works: the test cookie is right
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, aged_cookie(app, data, SESSION_MAX_AGE + 60))
    r = client.get("/settings/tokens")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fsettings%2Ftokens"
    assert client.get("/api/v1/tokens").status_code == 401


def test_a_tampered_session_goes_back_to_sign_in(client, users):
    login_as(client, "admin")
    value = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/settings").headers["location"].startswith("/login")


def test_a_deactivated_users_session_ends(app, client, users):
    login_as(client, "editor")
    with db(app) as s:
        set_active(s, EMAILS["editor"], False)
    assert client.get("/settings").headers["location"].startswith("/login")


# -- language ------------------------------------------------------------------------------------------
def test_each_user_picks_a_language_that_follows_them(app, client, users):
    login_as(client, "editor")
    assert '<html lang="en">' in client.get("/settings").text
    r = post(client, "/settings/language", "/settings", language="it")
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    page = client.get("/settings").text
    assert '<html lang="it">' in page and 'value="it" lang="it" selected' in page
    assert '<html lang="it">' in client.get("/people").text
    # An explicit ?lang= still wins for that page.
    assert '<html lang="es">' in client.get("/settings?lang=es").text
    # A new session (another browser, no cookie) keeps the saved language.
    client.cookies.clear()
    login_as(client, "editor")
    assert '<html lang="it">' in client.get("/").text
    # Other users keep theirs.
    client.cookies.clear()
    login_as(client, "viewer")
    assert '<html lang="en">' in client.get("/settings").text
    [event] = events(app, "user.language")
    assert (event.actor, event.target, event.detail) == (EMAILS["editor"], EMAILS["editor"], {"from": None, "to": "it"})
    assert event.ip == "testclient"


def test_going_back_to_the_workspace_language(app, client, users):
    login_as(client, "viewer")
    post(client, "/settings/language", "/settings", language="ru")
    assert '<html lang="ru">' in client.get("/settings").text
    r = post(client, "/settings/language", "/settings", language="")
    assert r.status_code == 303
    client.cookies.delete("marketops_lang")
    assert '<html lang="en">' in client.get("/settings").text
    with db(app) as s:
        assert get_user(s, EMAILS["viewer"]).language is None


def test_language_changes_are_checked(app, client, users):
    login_as(client, "viewer")
    assert post(client, "/settings/language", "/settings", language="xx").status_code == 400
    assert post(client, "/settings/language", "/settings", language=HOSTILE).status_code == 400
    # Without the form's CSRF token nothing changes.
    assert client.post("/settings/language", data={"language": "it"}).status_code == 403
    # `next` only goes to this site.
    r = post(client, "/settings/language", "/settings", language="es", next="https://evil.test/")
    assert r.headers["location"] == "/"
    with db(app) as s:
        assert get_user(s, EMAILS["viewer"]).language == "es"


# -- API tokens: pages -----------------------------------------------------------------------------------
def test_a_token_is_shown_once_stored_hashed_and_works_until_revoked(app, client, users):
    login_as(client, "editor")
    r = post(client, "/settings/tokens", "/settings/tokens", name="Looker", scopes=["read", "write"])
    assert r.status_code == 200 and 'id="new-token"' in r.text
    secret = r.text.split('id="token-secret"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("mko_")
    # Never again: not on the list, not in the database.
    listing = client.get("/settings/tokens").text
    assert secret not in listing and "Looker" in listing and 'id="new-token"' not in listing
    with make_engine(app.state.database_url).connect() as conn:
        stored = conn.execute(text("SELECT token_hash, scopes FROM api_tokens")).one()
    assert secret not in stored[0]
    # Last used: never, then set by the first call.
    row = listing.split('data-token-id="', 1)[1]
    assert ">never<" in row.split("</tr>")[0]
    api = client.__class__(app, follow_redirects=False)
    assert api.get("/api/v1/people", headers=bearer(secret)).status_code == 200
    with db(app) as s:
        token = s.scalar(select(ApiToken))
        assert token.last_used_at is not None and token.scopes == ["read", "write"]
        token_id = token.id
    assert ">never<" not in client.get("/settings/tokens").text.split(f'data-token-id="{token_id}"')[1].split("</tr>")[0]
    # Revoked: the very next call is refused.
    r = post(client, f"/settings/tokens/{token_id}/revoke", "/settings/tokens")
    assert r.status_code == 303
    assert "revoked" in client.get("/settings/tokens").text
    refused = api.get("/api/v1/people", headers=bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    [created] = events(app, "token.create")
    [revoked] = events(app, "token.revoke")
    assert created.actor == revoked.actor == EMAILS["editor"] and revoked.target == f"token:{token_id}"
    assert secret not in repr([(e.target, e.detail) for e in (created, revoked)])


def test_a_token_cannot_get_more_than_the_role(app, client, users):
    login_as(client, "viewer")
    page = client.get("/settings/tokens").text
    assert 'value="read"' in page and 'value="write"' not in page
    r = post(client, "/settings/tokens", "/settings/tokens", name="sneaky", scopes=["read", "write"])
    assert r.status_code == 400 and "cannot give a token the scope" in r.text
    r = post(client, "/settings/tokens", "/settings/tokens", name="nothing")
    assert r.status_code == 400 and "pick at least one scope" in r.text
    r = post(client, "/settings/tokens", "/settings/tokens", name="bad", scopes=["root"])
    assert r.status_code == 400
    with db(app) as s:
        assert s.scalar(select(ApiToken)) is None


def test_token_names_with_html_are_escaped(client, users):
    login_as(client, "editor")
    r = post(client, "/settings/tokens", "/settings/tokens", name=HOSTILE, scopes=["read"])
    assert r.status_code == 200
    for html in (r.text, client.get("/settings/tokens").text, client.get("/settings").text):
        assert HOSTILE not in html and "&lt;script&gt;" in html


def test_users_revoke_only_their_own_tokens_and_admins_any(app, client, users):
    with db(app) as s:
        token, _ = create_token(s, get_user(s, EMAILS["admin"]), "admin's", ["read"])
        admin_token = token.id
        token, _ = create_token(s, get_user(s, EMAILS["viewer"]), "viewer's", ["read"])
        viewer_token = token.id
    login_as(client, "editor")
    r = post(client, f"/settings/tokens/{admin_token}/revoke", "/settings/tokens")
    assert r.status_code == 404 and "no longer exists" in r.text
    client.cookies.clear()
    login_as(client, "admin")
    assert "viewer&#39;s" in client.get("/settings/tokens?all=true").text
    assert "viewer&#39;s" not in client.get("/settings/tokens").text
    r = post(client, f"/settings/tokens/{viewer_token}/revoke", "/settings/tokens", all="true")
    assert r.status_code == 303 and r.headers["location"] == "/settings/tokens?all=true"
    with db(app) as s:
        assert s.get(ApiToken, viewer_token).revoked_at is not None
        assert s.get(ApiToken, admin_token).revoked_at is None


# -- API tokens: API ----------------------------------------------------------------------------------------
def test_token_api_with_the_browser_session(app, client, users):
    login_as(client, "editor")
    token = csrf(client)
    # Unsafe methods need the CSRF header when the session cookie authenticates.
    assert client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"]}).status_code == 403
    r = client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    body = r.json()
    assert body["secret"].startswith("mko_") and body["scopes"] == ["read"] and body["user"] == EMAILS["editor"]
    listed = client.get("/api/v1/tokens").json()
    assert [t["name"] for t in listed["items"]] == ["ci"] and "secret" not in listed["items"][0]
    assert client.post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"]},
                       headers={"X-CSRF-Token": token}).status_code == 400
    r = client.delete(f"/api/v1/tokens/{body['id']}", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/people", headers=bearer(body["secret"])).status_code == 401
    assert client.delete("/api/v1/tokens/999999", headers={"X-CSRF-Token": token}).status_code == 404


def test_token_api_with_tokens_needs_the_admin_scope(app, client, users):
    with db(app) as s:
        _, reader = create_token(s, get_user(s, EMAILS["admin"]), "reader", ["read"])
        _, boss = create_token(s, get_user(s, EMAILS["admin"]), "boss", ["read", "write", "admin"])
    # A read token may list, but not mint itself a stronger token.
    assert client.get("/api/v1/tokens", headers=bearer(reader)).status_code == 200
    r = client.post("/api/v1/tokens", json={"name": "escalate", "scopes": ["admin"]}, headers=bearer(reader))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post("/api/v1/tokens", json={"name": "deploy", "scopes": ["read"]}, headers=bearer(boss))
    assert r.status_code == 201
    assert client.delete(f"/api/v1/tokens/{r.json()['id']}", headers=bearer(boss)).status_code == 200
    assert client.post("/api/v1/tokens", json={"name": "", "scopes": ["read"]}, headers=bearer(boss)).status_code == 422


# -- users ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_manage_users_and_read_the_audit_log(app, client, users, role):
    login_as(client, role)
    for url in ("/settings/users", "/settings/audit"):
        assert client.get(url).status_code == 403, url
    for url in ("/api/v1/users", "/api/v1/audit"):
        r = client.get(url)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", url
    token = csrf(client)
    with db(app) as s:
        target = get_user(s, EMAILS["viewer"]).id
    assert client.post("/settings/users", data={"csrf_token": token, "email": "x@acme.test",
                                                "password": "long enough pw", "role": "admin"}).status_code == 403
    assert client.post(f"/settings/users/{target}/role", data={"csrf_token": token, "role": "admin"}).status_code == 403
    nav = client.get("/settings").text
    assert 'href="/settings/users"' not in nav and 'href="/settings/audit"' not in nav
    with db(app) as s:
        assert get_user(s, "x@acme.test") is None and get_user(s, EMAILS["viewer"]).role == "viewer"


def test_admin_tokens_need_the_admin_scope_for_users(app, client, users):
    with db(app) as s:
        _, reader = create_token(s, get_user(s, EMAILS["admin"]), "reader", ["read"])
        _, boss = create_token(s, get_user(s, EMAILS["admin"]), "boss", ["admin"])
    assert client.get("/api/v1/users", headers=bearer(reader)).status_code == 403
    body = client.get("/api/v1/users", headers=bearer(boss)).json()
    assert [u["email"] for u in body["items"]] == sorted(EMAILS.values())
    assert "password_hash" not in body["items"][0]


def _version(page: str, email: str, action: str) -> tuple[int, str]:
    row = page.split(f'data-email="{email}"', 1)[1].split("</tr>", 1)[0]
    form = row.split(f'/{action}"', 1)
    user_id = int(form[0].rsplit("/settings/users/", 1)[1])
    version = form[1].split('name="version" value="', 1)[1].split('"', 1)[0]
    return user_id, version


def test_admin_adds_a_user_and_the_new_user_signs_in(app, client, users):
    login_as(client, "admin")
    r = post(client, "/settings/users", "/settings/users", email="Dee@Acme.test", name=HOSTILE, role="editor",
             password="dee's long password")
    assert r.status_code == 303
    page = client.get("/settings/users").text
    assert "Added dee@acme.test as editor." in page
    assert HOSTILE not in page and "&lt;script&gt;" in page
    client.cookies.clear()
    assert login(client, "dee@acme.test", "dee's long password").status_code == 303
    [event] = events(app, "user.create")[-1:]
    assert (event.actor, event.target, event.ip) == (EMAILS["admin"], "dee@acme.test", "testclient")


def test_admin_adds_a_user_with_a_generated_password_shown_once(app, client, users):
    login_as(client, "admin")
    r = post(client, "/settings/users", "/settings/users", email="eve@acme.test", role="viewer")
    assert r.status_code == 200 and 'id="password-shown"' in r.text
    password = r.text.split('id="temp-password"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert 'id="password-shown"' not in client.get("/settings/users").text
    client.cookies.clear()
    assert login(client, "eve@acme.test", password).status_code == 303


@pytest.mark.parametrize("fields, message", [
    ({"email": "not-an-email", "password": "long enough pw"}, "is not an email address"),
    ({"email": "new@acme.test", "password": "short"}, "too short"),
    ({"email": EMAILS["viewer"].upper(), "password": "long enough pw"}, "already exists"),
    ({"email": "new@acme.test", "password": "long enough pw", "role": "root"}, "unknown role"),
])
def test_bad_new_users_are_refused_with_a_reason(app, client, users, fields, message):
    login_as(client, "admin")
    r = post(client, "/settings/users", "/settings/users", **{"role": "viewer", **fields})
    assert r.status_code == 400 and message in r.text
    with db(app) as s:
        assert get_user(s, "new@acme.test") is None


def test_admin_changes_roles_deactivates_resets_and_removes(app, client, users):
    login_as(client, "admin")
    user_id, version = _version(client.get("/settings/users").text, EMAILS["viewer"], "role")
    r = post(client, f"/settings/users/{user_id}/role", "/settings/users", role="editor", version=version)
    assert r.status_code == 303
    assert f"{EMAILS['viewer']} is now editor." in client.get("/settings/users").text
    # Deactivate: no sign-in, tokens stop working.
    with db(app) as s:
        _, secret = create_token(s, get_user(s, EMAILS["viewer"]), "bi", ["read"])
    _, version = _version(client.get("/settings/users").text, EMAILS["viewer"], "active")
    assert post(client, f"/settings/users/{user_id}/active", "/settings/users", active="false",
                version=version).status_code == 303
    assert client.get("/api/v1/people", headers=bearer(secret)).status_code == 401
    other = client.__class__(app, follow_redirects=False)
    assert login(other, EMAILS["viewer"], PASSWORDS["viewer"]).status_code == 401
    _, version = _version(client.get("/settings/users").text, EMAILS["viewer"], "active")
    assert post(client, f"/settings/users/{user_id}/active", "/settings/users", active="true",
                version=version).status_code == 303
    assert login(other, EMAILS["viewer"], PASSWORDS["viewer"]).status_code == 303
    # Reset the password: shown once, the old one stops working, the user's sessions end.
    _, version = _version(client.get("/settings/users").text, EMAILS["viewer"], "password")
    r = post(client, f"/settings/users/{user_id}/password", "/settings/users", version=version)
    assert r.status_code == 200 and 'id="password-shown"' in r.text
    new_password = r.text.split('id="temp-password"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert other.get("/settings").status_code == 303
    assert login(other, EMAILS["viewer"], PASSWORDS["viewer"]).status_code == 401
    assert login(other, EMAILS["viewer"], new_password).status_code == 303
    # Remove.
    _, version = _version(client.get("/settings/users").text, EMAILS["viewer"], "remove")
    assert post(client, f"/settings/users/{user_id}/remove", "/settings/users", version=version).status_code == 303
    with db(app) as s:
        assert get_user(s, EMAILS["viewer"]) is None
    actions = [e.action for e in events(app, "user.role") + events(app, "user.deactivate") + events(app, "user.activate")
               + events(app, "user.password") + events(app, "user.remove")]
    assert actions == ["user.role", "user.deactivate", "user.activate", "user.password", "user.remove"]
    assert all(e.actor == EMAILS["admin"] and e.target == EMAILS["viewer"] and e.ip == "testclient"
               for e in events(app, "user.role") + events(app, "user.remove"))
    assert new_password not in repr([e.detail for e in events(app, "user.password")])


def test_an_admin_cannot_demote_deactivate_or_remove_themselves(app, client, users):
    login_as(client, "admin")
    with db(app) as s:
        me = get_user(s, EMAILS["admin"])
        my_id, version = me.id, user_version(me)
    for action, extra in (("role", {"role": "viewer"}), ("active", {"active": "false"}), ("remove", {})):
        r = post(client, f"/settings/users/{my_id}/{action}", "/settings/users", version=version, **extra)
        assert r.status_code == 400 and "ask another admin" in r.text, action
    with db(app) as s:
        me = get_user(s, EMAILS["admin"])
        assert me.role == "admin" and me.active


def test_the_last_admin_stays(app, client, users):
    # A second admin demotes the first; then the first (now editor) cannot be the one to lock out the last admin.
    with db(app) as s:
        create_user(s, "root@acme.test", "root's long password", role="admin")
    login_as(client, "admin")
    root_id, version = _version(client.get("/settings/users").text, "root@acme.test", "role")
    assert post(client, f"/settings/users/{root_id}/role", "/settings/users", role="viewer",
                version=version).status_code == 303
    with db(app) as s:
        with pytest.raises(Exception, match="only admin"):
            set_role(s, EMAILS["admin"], "viewer")
        with pytest.raises(Exception, match="only admin"):
            set_active(s, EMAILS["admin"], False)


def test_changing_a_user_another_admin_just_changed_is_refused_clearly(app, client, users):
    login_as(client, "admin")
    page = client.get("/settings/users").text
    user_id, version = _version(page, EMAILS["editor"], "role")
    # Meanwhile another admin (or the CLI) deactivates the editor...
    with db(app) as s:
        set_active(s, EMAILS["editor"], False, actor="other@acme.test")
    r = post(client, f"/settings/users/{user_id}/role", "/settings/users", role="admin", version=version)
    assert r.status_code == 409 and "Another admin changed" in r.text and "inactive" in r.text
    with db(app) as s:
        assert get_user(s, EMAILS["editor"]).role == "editor"
    # ...and then removes them.
    with db(app) as s:
        remove_user(s, EMAILS["editor"], actor="other@acme.test")
    for action, extra in (("role", {"role": "admin"}), ("active", {"active": "true"}), ("password", {}),
                          ("remove", {})):
        r = post(client, f"/settings/users/{user_id}/{action}", "/settings/users", version=version, **extra)
        assert r.status_code == 409 and "no longer exists" in r.text, action


# -- audit log --------------------------------------------------------------------------------------------------
def test_the_audit_log_pages_filters_and_downloads(app, client, users):
    with db(app) as s:
        for i in range(7):
            record(s, "cli", "token.create", f"token:{i}", {"n": i}, "10.0.0.1")
        record(s, HOSTILE, "user.role", HOSTILE, {"to": HOSTILE}, "10.0.0.2")
    login_as(client, "admin")
    page = client.get("/settings/audit", params={"action": "token.create", "limit": 5}).text
    assert page.count("<code>token.create</code>") == 5 and 'rel="next"' in page
    assert 'data-total="7"' in page
    page = client.get("/settings/audit", params={"action": "token.create", "limit": 5, "offset": 5}).text
    assert page.count("<code>token.create</code>") == 2
    page = client.get("/settings/audit").text
    assert HOSTILE not in page and "&lt;script&gt;" in page
    body = client.get("/api/v1/audit", params={"actor": "CLI", "limit": 3}).json()
    assert body["total"] == 7 and len(body["items"]) == 3
    assert body["items"][0]["target"] == "token:6" and body["items"][0]["ip"] == "10.0.0.1"
    # Sign-ins are in the log too, with the address they came from.
    login_event = client.get("/api/v1/audit", params={"action": "login"}).json()["items"][0]
    assert (login_event["actor"], login_event["ip"]) == (EMAILS["admin"], "testclient")
    r = client.get("/api/v1/audit", params={"action": "token.create", "format": "csv"})
    lines = r.content.decode("utf-8-sig").splitlines()
    assert r.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    assert lines[0].split(",")[:4] == ["id", "at", "actor", "action"] and len(lines) == 8
    r = client.get("/api/v1/audit", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(r.content)).active.max_row >= 9
    # SQL-looking filters are values, nothing more.
    assert client.get("/api/v1/audit", params={"actor": "' OR 1=1 --"}).json()["total"] == 0


def test_every_user_change_is_in_the_audit_log(app, client, users):
    login_as(client, "admin")
    post(client, "/settings/users", "/settings/users", email="fay@acme.test", role="viewer", password="fay's password")
    with db(app) as s:
        fay = s.scalar(select(User).where(User.email == "fay@acme.test"))
    assert {e.action for e in events(app, "user.create")} == {"user.create"}
    text_log = client.get("/settings/audit", params={"actor": EMAILS["admin"]}).text
    assert "fay@acme.test" in text_log and "<code>user.create</code>" in text_log
    assert fay.password_hash not in text_log
