"""The app database: migrations, users and passwords, roles, the first admin, API tokens, audit,
and the `users` / `tokens` command groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from marketops.errors import NotFound
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
    remove_user,
    revoke_token,
    session_scope,
    set_role,
    verify_token,
)
from marketops.state.db import alembic_config
from marketops.state.users import InvalidUser
from tests.app_fixtures import clean_env  # noqa: F401  (fixture used by name)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'state' / 'app.sqlite'}"
    init_db(database)
    yield database
    dispose(database)


# -- migrations -------------------------------------------------------------------------------------
def test_migrations_create_the_schema_on_sqlite(url):
    engine = make_engine(url)
    assert {"users", "api_tokens", "audit_events", "alembic_version"} <= set(inspect(engine).get_table_names())
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    init_db(url)  # idempotent


def test_migrations_downgrade_and_upgrade_again(url):
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "users" not in inspect(engine).get_table_names()
    init_db(url)
    assert "users" in inspect(make_engine(url)).get_table_names()


def test_the_models_match_the_migrations(url):
    # A model change without a migration would show up here as a pending difference.
    from alembic.autogenerate import compare_metadata

    from marketops.state.models import Base

    with make_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_file_is_private(url):
    path = Path(url.removeprefix("sqlite:///"))
    assert path.stat().st_mode & 0o777 == 0o600


# -- users and passwords ------------------------------------------------------------------------------
def test_passwords_are_stored_as_argon2_hashes(url):
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
        assert authenticate(s, "BO@acme.test", "bo's password").last_login_at is not None
        assert authenticate(s, "bo@acme.test", "not bo's password") is None
        assert authenticate(s, "nobody@acme.test", "bo's password") is None
        assert authenticate(s, "not an email", "bo's password") is None
        s.scalar(select(User)).active = False
        assert authenticate(s, "bo@acme.test", "bo's password") is None


def test_old_hashes_are_upgraded_at_sign_in(url):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with session_scope(url) as s:
        user = create_user(s, "cy@acme.test", "cy's password")
        user.password_hash = weak.hash("cy's password")
    with session_scope(url) as s:
        user = authenticate(s, "cy@acme.test", "cy's password")
        assert user is not None and "m=8," not in user.password_hash
        assert not PasswordHasher().check_needs_rehash(user.password_hash)


def test_invalid_users_are_refused(url):
    with session_scope(url) as s:
        create_user(s, "dee@acme.test", "dee's password")
        with pytest.raises(InvalidUser, match="already exists"):
            create_user(s, "DEE@acme.test", "another password")
        with pytest.raises(InvalidUser, match="too short"):
            create_user(s, "eve@acme.test", "short")
        with pytest.raises(InvalidUser, match="not an email"):
            create_user(s, "eve", "long enough password")
        with pytest.raises(NotFound, match="did you mean 'admin'"):
            create_user(s, "eve@acme.test", "long enough password", role="admn")


def test_roles_and_the_last_admin(url):
    with session_scope(url) as s:
        create_user(s, "root@acme.test", "root password", role="admin")
        create_user(s, "fay@acme.test", "fay's password")
        with pytest.raises(InvalidUser, match="only admin"):
            set_role(s, "root@acme.test", "viewer")
        with pytest.raises(InvalidUser, match="only admin"):
            remove_user(s, "root@acme.test")
        set_role(s, "fay@acme.test", "admin", actor="root@acme.test")
        set_role(s, "root@acme.test", "editor")
        assert [(u.email, u.role) for u in list_users(s)] == [("fay@acme.test", "admin"), ("root@acme.test", "editor")]
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


def test_ensure_admin_uses_the_given_credentials(url):
    assert ensure_admin(url, "Boss@Acme.test", "the boss password") == ("boss@acme.test", "the boss password")


# -- tokens -------------------------------------------------------------------------------------------
def test_tokens_are_shown_once_and_stored_hashed(url):
    with session_scope(url) as s:
        user = create_user(s, "gus@acme.test", "gus's password")
        token, secret = create_token(s, user, "looker", ["read"])
    assert secret.startswith("mko_") and len(secret) > 40
    with make_engine(url).connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar()
    assert secret not in stored and len(stored) == 64
    with session_scope(url) as s:
        verified = verify_token(s, secret)
        assert verified.user.email == "gus@acme.test" and verified.last_used_at is not None
        assert verify_token(s, secret[:-1] + "x") is None
        revoke_token(s, token.id)
        assert verify_token(s, secret) is None
        assert [t.revoked_at is not None for t in list_tokens(s)] == [True]
        with pytest.raises(NotFound, match="did you mean 'read'"):
            create_token(s, verified.user, "bad", ["reed"])


def test_removing_a_user_removes_their_tokens(url):
    with session_scope(url) as s:
        create_user(s, "root@acme.test", "root password", role="admin")
        user = create_user(s, "hal@acme.test", "hal's password")
        _, secret = create_token(s, user, "script")
        remove_user(s, "hal@acme.test")
    with session_scope(url) as s:
        assert s.scalars(select(ApiToken)).all() == []
        assert verify_token(s, secret) is None
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["user.create", "user.create", "token.create", "user.remove"]


# -- the `users` and `tokens` command groups --------------------------------------------------------
runner = CliRunner()


@pytest.fixture
def cli_app():
    from marketops.cli import tokens, users

    root = typer.Typer()
    root.add_typer(users.app, name="users")
    root.add_typer(tokens.app, name="tokens")
    return root


@pytest.fixture
def workspace(tmp_path: Path, clean_env) -> Path:
    root = tmp_path / "acme"
    root.mkdir()
    (root / "marketops.yaml").write_text("name: Acme\n")
    yield root
    dispose()


def test_cli_users_and_tokens(cli_app, workspace):
    w = ["-w", str(workspace)]
    added = runner.invoke(cli_app, ["users", "add", "Ivy@Acme.test", "--role", "admin", "--name", "Ivy",
                                    "--password-stdin", *w], input="ivy's long password\n")
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(cli_app, ["users", "list", "--json", *w]).output)
    assert [(u["email"], u["role"], u["name"]) for u in listed] == [("ivy@acme.test", "admin", "Ivy")]
    assert "ivy's long password" not in added.output

    created = runner.invoke(cli_app, ["tokens", "create", "looker", "--user", "ivy@acme.test", *w])
    assert created.exit_code == 0, created.output
    secret = [line for line in created.output.splitlines() if line.startswith("mko_")][0]
    tokens = json.loads(runner.invoke(cli_app, ["tokens", "list", "--json", *w]).output)
    assert [(t["name"], t["scopes"], t["revoked_at"]) for t in tokens] == [("looker", ["read"], None)]
    assert secret not in json.dumps(tokens)
    assert runner.invoke(cli_app, ["tokens", "revoke", str(tokens[0]["id"]), *w]).exit_code == 0

    bad = runner.invoke(cli_app, ["users", "set-role", "ivy@acme.test", "viewer", *w])
    assert bad.exit_code == 1 and "only admin" in bad.output
    wrong = runner.invoke(cli_app, ["users", "set-role", "ivy@acme.test", "admn", *w])
    assert wrong.exit_code == 1 and "did you mean 'admin'" in wrong.output


def test_cli_add_prompts_for_the_password_twice(cli_app, workspace):
    result = runner.invoke(cli_app, ["users", "add", "jo@acme.test", "--role", "viewer", "-w", str(workspace)],
                           input="jo's password!\njo's password!\n")
    assert result.exit_code == 0, result.output
    with session_scope(f"sqlite:///{workspace / '.marketops' / 'app.sqlite'}") as s:
        assert authenticate(s, "jo@acme.test", "jo's password!") is not None
    removed = runner.invoke(cli_app, ["users", "remove", "jo@acme.test", "--yes", "-w", str(workspace)])
    assert removed.exit_code == 0
