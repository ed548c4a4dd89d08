"""Each user's language for the web app (empty: the workspace's language).

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column needs no table rebuild, also on SQLite.
    op.add_column("users", sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    # SQLite drops columns only by rebuilding the table: batch mode does that (and is a plain
    # ALTER TABLE on PostgreSQL).
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
