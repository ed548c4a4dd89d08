"""UTM link register: every tagged link built with the link builder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "utm_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("medium", sa.String(length=500), nullable=True),
        sa.Column("campaign", sa.String(length=500), nullable=True),
        sa.Column("term", sa.String(length=500), nullable=True),
        sa.Column("content", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_utm_links")),
        sa.UniqueConstraint("url_hash", name=op.f("uq_utm_links_url_hash")),
    )
    op.create_index(op.f("ix_utm_links_campaign"), "utm_links", ["campaign"], unique=False)
    op.create_index(op.f("ix_utm_links_created_at"), "utm_links", ["created_at"], unique=False)
    op.create_index(op.f("ix_utm_links_source"), "utm_links", ["source"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_utm_links_source"), table_name="utm_links")
    op.drop_index(op.f("ix_utm_links_created_at"), table_name="utm_links")
    op.drop_index(op.f("ix_utm_links_campaign"), table_name="utm_links")
    op.drop_table("utm_links")
