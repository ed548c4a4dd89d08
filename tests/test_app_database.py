"""The app database behaves the same on SQLite (the default) and PostgreSQL (production).

Every test here runs once per backend. PostgreSQL is reached through ``MARKETOPS_TEST_POSTGRES_URL``
(a role that may create databases, e.g.
``postgresql+psycopg://marketops_ci:marketops_ci@127.0.0.1:5432/marketops_ci``; ``.ci/run`` sets
one up). The session creates its own uniquely named database there and drops it at the end, so
runs never see each other's rows. Without the variable the PostgreSQL cases skip, except under
``CI``, where they fail: CI must not pass by testing one backend.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy import create_engine, delete, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from marketops.errors import NotFound, ValidationFailed
from marketops.state import (
    ApiToken,
    AuditEvent,
    User,
    authenticate,
    create_token,
    create_user,
    dispose,
    ensure_admin,
    init_db,
    list_tokens,
    list_users,
    make_engine,
    record,
    remove_user,
    revoke_token,
    session_scope,
    set_role,
    verify_token,
)
from marketops.state.audit import recent
from marketops.state.db import alembic_config
from marketops.state.models import Base, utcnow
from marketops.state.users import InvalidUser

POSTGRES_ENV = "MARKETOPS_TEST_POSTGRES_URL"
APP_TABLES = {"users", "api_tokens", "audit_events", "merge_decisions", "goals", "goal_progress", "initiatives",
              "initiative_goals", "tasks", "task_dependencies", "task_comments", "budget_lines", "alert_digests",
              "routing_decisions", "routing_rotation", "stack_tools", "stack_integrations", "stack_evaluations",
              "library_assets", "library_template_runs", "privacy_consent_records", "privacy_suppressions",
              "privacy_erasures", "privacy_erased_keys", "utm_links"}


# -- one fresh database per backend -----------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url():
    """A new, empty PostgreSQL database for this test session (dropped afterwards)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        reason = (f"{POSTGRES_ENV} is not set: PostgreSQL app-database tests need a server "
                  "(`bash .ci/run` installs and starts one)")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; under CI this is an error, not a skip", pytrace=False)
        pytest.skip(reason)
    if make_url(admin_url).get_backend_name() != "postgresql":
        pytest.fail(f"{POSTGRES_ENV} must be a postgresql+psycopg:// URL, got {make_url(admin_url)!r}",
                    pytrace=False)
    name = f"marketops_test_{secrets.token_hex(4)}"
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        admin.dispose()
        pytest.fail(f"cannot create a test database through {make_url(admin_url)!r} (the role needs "
                    f"CREATEDB): {e}", pytrace=False)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path):
    """A migrated app database with no rows: a new SQLite file, or the session's PostgreSQL
    database emptied after each test."""
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'state' / 'app.sqlite'}"
        init_db(database)
        yield database
        dispose(database)
        return
    database = request.getfixturevalue("postgres_url")
    init_db(database)
    yield database
    init_db(database)  # a test may have downgraded the schema
    with make_engine(database).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


# -- migrations --------------------------------------------------------------------------------------
def test_the_backend_is_the_one_asked_for(url, request):
    engine = make_engine(url)
    assert engine.dialect.name == request.node.callspec.params["url"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar().startswith("marketops_test_")


def test_migrations_bring_the_schema_to_head(url):
    engine = make_engine(url)
    assert APP_TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    init_db(url)  # idempotent
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_the_models_match_the_migrations(url):
    # A model change without a migration (or a type the backend stores differently) shows up here.
    with make_engine(url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_migrations_downgrade_to_base_and_upgrade_again(url):
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not APP_TABLES & set(inspect(engine).get_table_names())
    init_db(url)
    assert APP_TABLES <= set(inspect(engine).get_table_names())


def test_the_database_enforces_constraints(url):
    # Not only the Python checks: the schema itself refuses bad rows (SQLite too, with its pragmas).
    with make_engine(url).connect() as conn:
        insert = text("INSERT INTO users (email, name, role, password_hash, created_at, active) "
                      "VALUES (:email, '', :role, 'x', :at, :active)")
        conn.execute(insert, {"email": "ok@acme.test", "role": "viewer", "at": utcnow(), "active": True})
        for bad in ({"email": "ok@acme.test", "role": "viewer"}, {"email": "new@acme.test", "role": "root"}):
            nested = conn.begin_nested()
            with pytest.raises(IntegrityError):
                conn.execute(insert, {**bad, "at": utcnow(), "active": True})
            nested.rollback()
        conn.rollback()


# -- users and passwords ----------------------------------------------------------------------------
def test_passwords_are_stored_as_argon2id_hashes(url):
    with session_scope(url) as s:
        create_user(s, "Ana@Acme.test", "a long passphrase", role="editor", name="Ana")
    with make_engine(url).connect() as conn:
        email, stored = conn.execute(text("SELECT email, password_hash FROM users")).one()
    assert email == "ana@acme.test"
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert PasswordHasher().verify(stored, "a long passphrase")


def test_authenticate(url):
    with session_scope(url) as s:
        create_user(s, "bo@acme.test", "bo's password", role="viewer")
    with session_scope(url) as s:
        user = authenticate(s, "BO@acme.test", "bo's password")
        assert user is not None and user.role == "viewer"
        assert authenticate(s, "bo@acme.test", "not bo's password") is None
        assert authenticate(s, "nobody@acme.test", "bo's password") is None
        assert authenticate(s, "not an email", "bo's password") is None
    with session_scope(url) as s:
        # Timestamps come back timezone-aware (UTC) on both backends.
        last = s.scalar(select(User)).last_login_at
        assert last is not None and last.utcoffset() == timedelta(0)
        assert abs(utcnow() - last) < timedelta(minutes=5)
        s.scalar(select(User)).active = False
    with session_scope(url) as s:
        assert authenticate(s, "bo@acme.test", "bo's password") is None


def test_old_hashes_are_upgraded_at_sign_in(url):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with session_scope(url) as s:
        create_user(s, "cy@acme.test", "cy's password").password_hash = weak.hash("cy's password")
    with session_scope(url) as s:
        assert authenticate(s, "cy@acme.test", "cy's password") is not None
    with session_scope(url) as s:
        stored = s.scalar(select(User.password_hash))
        assert not PasswordHasher().check_needs_rehash(stored)


def test_invalid_users_are_refused(url):
    with session_scope(url) as s:
        create_user(s, "dee@acme.test", "dee's password")
        with pytest.raises(InvalidUser, match="already exists"):
            create_user(s, "DEE@acme.test", "another password")
        with pytest.raises(InvalidUser, match="too short"):
            create_user(s, "eve@acme.test", "short")
        with pytest.raises(NotFound, match="did you mean 'admin'"):
            create_user(s, "eve@acme.test", "long enough password", role="admn")
    with session_scope(url) as s:
        assert [u.email for u in list_users(s)] == ["dee@acme.test"]


def test_the_last_admin_cannot_be_demoted_or_removed(url):
    with session_scope(url) as s:
        create_user(s, "root@acme.test", "root password", role="admin")
        create_user(s, "fay@acme.test", "fay's password")
    with session_scope(url) as s:
        with pytest.raises(InvalidUser, match="only admin"):
            set_role(s, "root@acme.test", "viewer")
        with pytest.raises(InvalidUser, match="only admin"):
            remove_user(s, "root@acme.test")
    with session_scope(url) as s:
        set_role(s, "fay@acme.test", "admin", actor="root@acme.test")
        set_role(s, "root@acme.test", "editor", actor="fay@acme.test")
    with session_scope(url) as s:
        assert [(u.email, u.role) for u in list_users(s)] == [("fay@acme.test", "admin"),
                                                               ("root@acme.test", "editor")]
        with pytest.raises(InvalidUser, match="only admin"):
            remove_user(s, "fay@acme.test")
        with pytest.raises(NotFound):
            set_role(s, "ghost@acme.test", "viewer")


def test_ensure_admin_creates_the_first_admin_once(url):
    email, password = ensure_admin(url)
    assert email == "admin@localhost" and len(password) >= 16
    assert ensure_admin(url) is None
    with session_scope(url) as s:
        assert authenticate(s, email, password).role == "admin"
        events = s.scalars(select(AuditEvent)).all()
        assert password not in repr([(e.actor, e.target, e.detail) for e in events])


# -- API tokens --------------------------------------------------------------------------------------
def test_a_token_never_carries_more_than_its_owners_role(url):
    with session_scope(url) as s:
        viewer = create_user(s, "vi@acme.test", "vi's long password")
        with pytest.raises(ValidationFailed, match="a viewer cannot have a token with the write scope"):
            create_token(s, viewer, "sync", ["read", "write"])


def test_tokens_are_stored_hashed_and_can_be_revoked(url):
    with session_scope(url) as s:
        user = create_user(s, "gus@acme.test", "gus's password", role="editor")
        token, secret = create_token(s, user, "looker", ["read", "write"])
        token_id = token.id
    assert secret.startswith("mko_") and len(secret) > 40
    with make_engine(url).connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar()
    assert secret not in stored and len(stored) == 64
    with session_scope(url) as s:
        verified = verify_token(s, secret)
        assert verified.user.email == "gus@acme.test" and verified.scopes == ["read", "write"]
        assert verify_token(s, secret[:-1] + ("x" if secret[-1] != "x" else "y")) is None
        assert verify_token(s, "not-a-token") is None
    with session_scope(url) as s:
        assert s.get(ApiToken, token_id).last_used_at is not None
        revoke_token(s, token_id, actor="gus@acme.test")
    with session_scope(url) as s:
        assert verify_token(s, secret) is None
        assert [t.revoked_at is not None for t in list_tokens(s)] == [True]
        with pytest.raises(NotFound, match="did you mean 'read'"):
            create_token(s, s.scalar(select(User)), "bad", ["reed"])
        with pytest.raises(NotFound):
            revoke_token(s, token_id + 1000)


def test_tokens_of_inactive_users_do_not_verify(url):
    with session_scope(url) as s:
        _, secret = create_token(s, create_user(s, "ida@acme.test", "ida's password"), "cron")
    with session_scope(url) as s:
        s.scalar(select(User)).active = False
    with session_scope(url) as s:
        assert verify_token(s, secret) is None


def test_removing_a_user_removes_their_tokens(url):
    with session_scope(url) as s:
        create_user(s, "root@acme.test", "root password", role="admin")
        _, secret = create_token(s, create_user(s, "hal@acme.test", "hal's password"), "script")
    with session_scope(url) as s:
        remove_user(s, "HAL@acme.test", actor="root@acme.test")
    with session_scope(url) as s:
        assert s.scalars(select(ApiToken)).all() == []
        assert verify_token(s, secret) is None


def test_deleting_a_user_row_cascades_in_the_database(url):
    # ON DELETE CASCADE in the schema, not only in the ORM: SQL run by hand keeps no orphan tokens.
    with session_scope(url) as s:
        create_token(s, create_user(s, "jo@acme.test", "jo's password"), "sql")
    with make_engine(url).begin() as conn:
        conn.execute(text("DELETE FROM users"))
    with make_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 0


# -- the audit log -----------------------------------------------------------------------------------
def test_changes_are_audited_without_secrets(url):
    with session_scope(url) as s:
        create_user(s, "root@acme.test", "root password", role="admin", ip="10.0.0.1")
        user = create_user(s, "kim@acme.test", "kim's password", actor="root@acme.test")
        token, secret = create_token(s, user, "bi", ["read"], actor="root@acme.test")
        revoke_token(s, token.id, actor="root@acme.test")
        set_role(s, "kim@acme.test", "editor", actor="root@acme.test")
        remove_user(s, "kim@acme.test", actor="root@acme.test")
    with session_scope(url) as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action, e.target) for e in events] == [
        ("system", "user.create", "root@acme.test"),
        ("root@acme.test", "user.create", "kim@acme.test"),
        ("root@acme.test", "token.create", f"token:{token.id}"),
        ("root@acme.test", "token.revoke", f"token:{token.id}"),
        ("root@acme.test", "user.role", "kim@acme.test"),
        ("root@acme.test", "user.remove", "kim@acme.test"),
    ]
    assert events[0].ip == "10.0.0.1"
    assert events[2].detail == {"user": "kim@acme.test", "scopes": ["read"]}
    assert events[4].detail == {"from": "viewer", "to": "editor"}
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    dumped = repr([(e.actor, e.target, e.detail, e.ip) for e in events])
    assert secret not in dumped and "kim's password" not in dumped and "root password" not in dumped


def test_recent_events_newest_first(url):
    with session_scope(url) as s:
        for i in range(5):
            record(s, "ana@acme.test", "login" if i % 2 == 0 else "logout", "ana@acme.test",
                   {"n": i, "nested": {"ok": True}})
    with session_scope(url) as s:
        assert [e.detail["n"] for e in recent(s, limit=3)] == [4, 3, 2]
        assert [e.detail["n"] for e in recent(s, action="logout")] == [3, 1]
        assert recent(s, limit=1)[0].detail["nested"] == {"ok": True}
