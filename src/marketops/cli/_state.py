"""Shared by the command groups that touch the app database (users, tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from marketops.cli.output import fail
from marketops.errors import MarketopsError
from marketops.state.db import init_db, session_scope
from marketops.workspace import Workspace


def database_url(workspace: Path) -> str:
    """The app database of the workspace, migrated to the newest schema."""
    url = Workspace.open(workspace).app_database_url
    init_db(url)
    return url


@contextmanager
def app_session(workspace: Path) -> Iterator[Session]:
    """A session committed when the block succeeds; expected errors end the command with a message."""
    try:
        with session_scope(database_url(workspace)) as session:
            yield session
    except MarketopsError as e:
        fail(e.message, e.hint)
