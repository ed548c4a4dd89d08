"""The app database on SQLite specifics (file mode, the last admin, given admin credentials) and the
`users` / `tokens` command groups; behaviour on both SQLite and PostgreSQL is in test_app_database.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from marketops.state import (
    authenticate,
    dispose,
    ensure_admin,
    init_db,
    session_scope,
)
from tests.app_fixtures import clean_env  # noqa: F401  (fixture used by name)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'state' / 'app.sqlite'}"
    init_db(database)
    yield database
    dispose(database)


# -- migrations -------------------------------------------------------------------------------------


def test_sqlite_file_is_private(url):
    path = Path(url.removeprefix("sqlite:///"))
    assert path.stat().st_mode & 0o777 == 0o600


# -- users and passwords ------------------------------------------------------------------------------


def test_ensure_admin_uses_the_given_credentials(url):
    assert ensure_admin(url, "Boss@Acme.test", "the boss password") == ("boss@acme.test", "the boss password")


# -- tokens -------------------------------------------------------------------------------------------


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

    viewer = runner.invoke(cli_app, ["users", "add", "vi@acme.test", "--role", "viewer", "--password-stdin", *w],
                           input="vi's long password\n")
    assert viewer.exit_code == 0, viewer.output
    above = runner.invoke(cli_app, ["tokens", "create", "sync", "--user", "vi@acme.test", "--scope", "write", *w])
    assert above.exit_code != 0 and "a viewer cannot have a token with the write scope" in str(above.output) + str(
        above.exception)

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
    w = ["-w", str(workspace)]
    assert runner.invoke(cli_app, ["users", "deactivate", "jo@acme.test", *w]).exit_code == 0
    with session_scope(f"sqlite:///{workspace / '.marketops' / 'app.sqlite'}") as s:
        assert authenticate(s, "jo@acme.test", "jo's password!") is None  # deactivated: no sign-in
    assert runner.invoke(cli_app, ["users", "activate", "jo@acme.test", *w]).exit_code == 0
    with session_scope(f"sqlite:///{workspace / '.marketops' / 'app.sqlite'}") as s:
        assert authenticate(s, "jo@acme.test", "jo's password!") is not None
    removed = runner.invoke(cli_app, ["users", "remove", "jo@acme.test", "--yes", *w])
    assert removed.exit_code == 0
