"""Engine, sessions and migrations of the app database.

One SQLAlchemy engine per URL per process (engines own a connection pool; making one per request
would defeat it). ``init_db`` brings the schema to the newest Alembic revision; it is idempotent
and cheap when nothing is pending, so the web app and every CLI command call it on start.

Example:
    >>> from sqlalchemy import inspect
    >>> eng = init_db("sqlite://")
    >>> {'users', 'api_tokens', 'goals', 'tasks'} <= set(inspect(eng).get_table_names())
    True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    """The (cached) engine for ``url``; SQLite files get their folder created and foreign keys on.

    Example:
        >>> make_engine("sqlite://") is make_engine("sqlite://")
        True
    """
    with _lock:
        if url in _engines:
            return _engines[url]
        parsed = make_url(url)
        kwargs: dict = {"future": True}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if not database or database == ":memory:":
                # An in-memory database lives as long as its connection: share one across threads.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                path = Path(database)
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    # It holds password hashes: readable by the owner only, like secret_key.
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
                # The web app answers from a thread pool; sessions never share a connection.
                kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        else:
            # Servers drop idle connections; test before use instead of failing a request.
            kwargs["pool_pre_ping"] = True
        engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
        return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets the CLI write while the
    # web app reads.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def session_factory(url: str) -> sessionmaker[Session]:
    """A session maker bound to ``url``'s engine; objects stay readable after commit."""
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back when it raises.

    Example:
        >>> _ = init_db("sqlite://")
        >>> from sqlalchemy import text
        >>> with session_scope("sqlite://") as s:
        ...     s.execute(text("select 1")).scalar()
        1
    """
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """An Alembic config for the migrations shipped in this package (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # set_main_option interpolates "%": escape it, passwords in URLs may contain one.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def init_db(url: str) -> Engine:
    """Create or upgrade the app database at ``url`` to the newest migration; return its engine."""
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as connection:
        # Hand Alembic our connection: it works for in-memory SQLite and keeps one pool.
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    return engine


def dispose(url: str | None = None) -> None:
    """Close the pooled connections of one URL's engine (or all); tests and shutdown use it."""
    with _lock:
        for key in [url] if url else list(_engines):
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()
