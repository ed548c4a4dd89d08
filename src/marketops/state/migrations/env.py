"""Alembic environment for the app database.

Run through :func:`marketops.state.db.init_db` (which hands over an open connection) or, for
development, ``alembic -x url=sqlite:///... `` with a config whose script_location is this folder.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from marketops.state import planning  # noqa: F401  (its tables join Base.metadata)
from marketops.state import alerts  # noqa: F401  (its tables join Base.metadata)
from marketops.state.models import Base


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


# pytest --doctest-modules imports every module, this one too: only run inside Alembic.
if hasattr(context, "config"):
    main()
