"""``marketops users``: who can sign in to the web app, and with which role."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, err_console, print_json
from marketops.state.models import ROLES
from marketops.state.users import create_user, list_users, remove_user, set_active, set_password, set_role

app = typer.Typer(help="Manage web app users: add, list, change roles, remove.", no_args_is_help=True)

ROLE_HELP = f"One of: {', '.join(ROLES)}."


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so `printf %s "$PW" | marketops users add ...` works in scripts.
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def add(email: str = typer.Argument(..., help="Sign-in email."),
        role: str = typer.Option(..., "--role", "-r", help=ROLE_HELP),
        name: str = typer.Option("", "--name", help="Display name."),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
        workspace: WorkspaceOpt = Path(".")) -> None:
    """Add a user; asks for the password (never pass it as an argument: shells keep history)."""
    password = _read_password(password_stdin)
    with app_session(workspace) as session:
        user = create_user(session, email, password, role=role, name=name, actor="cli")
        console.print(f"Added [bold]{user.email}[/bold] as {user.role}.")


@app.command("list")
def list_(as_json: JsonOpt = False,
          workspace: WorkspaceOpt = Path(".")) -> None:
    """List users."""
    with app_session(workspace) as session:
        users = list_users(session)
        if as_json:
            rows = [{"email": u.email, "name": u.name, "role": u.role, "active": u.active,
                     "created_at": u.created_at.isoformat(),
                     "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None} for u in users]
            print_json(rows)
            return
        table = Table("Email", "Name", "Role", "Last sign-in", "Active")
        for u in users:
            table.add_row(u.email, u.name or "-", u.role,
                          f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never",
                          "yes" if u.active else "no")
        console.print(table)


@app.command("set-role")
def set_role_(email: str = typer.Argument(..., help="The user's email."),
              role: str = typer.Argument(..., help=ROLE_HELP),
              workspace: WorkspaceOpt = Path(".")) -> None:
    """Change a user's role."""
    with app_session(workspace) as session:
        user = set_role(session, email, role, actor="cli")
        console.print(f"{user.email} is now {user.role}.")


@app.command("deactivate")
def deactivate(email: str = typer.Argument(..., help="The user's email."),
               workspace: WorkspaceOpt = Path(".")) -> None:
    """Stop a user signing in (their sessions end, their API tokens stop working); nothing is deleted."""
    with app_session(workspace) as session:
        user = set_active(session, email, False, actor="cli")
        console.print(f"{user.email} can no longer sign in; `marketops users activate` undoes it.")


@app.command("activate")
def activate(email: str = typer.Argument(..., help="The user's email."),
             workspace: WorkspaceOpt = Path(".")) -> None:
    """Let a deactivated user sign in again."""
    with app_session(workspace) as session:
        user = set_active(session, email, True, actor="cli")
        console.print(f"{user.email} can sign in again.")


@app.command("remove")
def remove(email: str = typer.Argument(..., help="The user's email."),
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove a user and their API tokens."""
    if not yes and not typer.confirm(f"Remove {email} and their API tokens?"):
        err_console.print("Nothing removed.")
        raise typer.Exit(1)
    with app_session(workspace) as session:
        remove_user(session, email, actor="cli")
        console.print(f"Removed {email}.")


@app.command("set-password")
def set_password_(email: str = typer.Argument(..., help="The user's email."),
                  password_stdin: bool = typer.Option(False, "--password-stdin",
                                                      help="Read the password from stdin."),
                  workspace: WorkspaceOpt = Path(".")) -> None:
    """Set a new password (this signs the user out of every browser)."""
    password = _read_password(password_stdin)
    with app_session(workspace) as session:
        user = set_password(session, email, password, actor="cli")
        console.print(f"Password changed for {user.email}.")
