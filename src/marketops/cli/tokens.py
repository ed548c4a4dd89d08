"""``marketops tokens``: API tokens for scripts and BI tools (``Authorization: Bearer ...``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, err_console, print_json
from marketops.errors import NotFound
from marketops.state.models import SCOPES
from marketops.state.tokens import create_token, list_tokens, revoke_token
from marketops.state.users import get_user

app = typer.Typer(help="Manage API tokens: create (shown once), list, revoke.", no_args_is_help=True)


@app.command("create")
def create(name: str = typer.Argument(..., help="What the token is for, e.g. 'looker'."),
           user: str = typer.Option(..., "--user", "-u", help="Email of the user the token acts as."),
           scope: list[str] = typer.Option(["read"], "--scope", "-s",
                                           help=f"Repeatable; one of: {', '.join(SCOPES)}."),
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Create a token and print it once: it cannot be shown again."""
    with app_session(workspace) as session:
        owner = get_user(session, user)
        if owner is None:
            raise NotFound(f"no user with email '{user}'", hint="list users with `marketops users list`")
        token, secret = create_token(session, owner, name, scope, actor="cli")
        err_console.print(f"Token {token.id} '{token.name}' for {owner.email} ({', '.join(token.scopes)}). "
                          "Copy it now, it will not be shown again:")
        # The secret alone on stdout, so `marketops tokens create ... > token.txt` captures just it.
        typer.echo(secret)


@app.command("list")
def list_(user: str | None = typer.Option(None, "--user", "-u", help="Only this user's tokens."),
          as_json: JsonOpt = False,
          workspace: WorkspaceOpt = Path(".")) -> None:
    """List tokens (never their secrets)."""
    with app_session(workspace) as session:
        owner = None
        if user is not None:
            owner = get_user(session, user)
            if owner is None:
                raise NotFound(f"no user with email '{user}'")
        tokens = list_tokens(session, owner)
        if as_json:
            rows = [{"id": t.id, "name": t.name, "user": t.user.email, "scopes": t.scopes,
                     "created_at": t.created_at.isoformat(),
                     "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                     "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None} for t in tokens]
            print_json(rows)
            return
        table = Table("Id", "Name", "User", "Scopes", "Created", "Last used", "Status")
        for t in tokens:
            table.add_row(str(t.id), t.name, t.user.email, " ".join(t.scopes), f"{t.created_at:%Y-%m-%d}",
                          f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                          "revoked" if t.revoked_at else "active")
        console.print(table)


@app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="The token's id (see `marketops tokens list`)."),
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Revoke a token for good."""
    with app_session(workspace) as session:
        token = revoke_token(session, token_id, actor="cli")
        console.print(f"Revoked token {token.id} '{token.name}'.")
