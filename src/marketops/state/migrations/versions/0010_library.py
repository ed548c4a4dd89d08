"""Playbooks, templates and the register of digital assets.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "library_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("usage_rights", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_assets")),
    )
    op.create_index(op.f("ix_library_assets_type"), "library_assets", ["type"], unique=False)
    op.create_index(op.f("ix_library_assets_owner"), "library_assets", ["owner"], unique=False)
    op.create_index(op.f("ix_library_assets_expires_on"), "library_assets", ["expires_on"], unique=False)
    op.create_table(
        "library_template_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["initiative_id"], ["initiatives.id"],
                                name=op.f("fk_library_template_runs_initiative_id_initiatives"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_template_runs")),
    )
    op.create_index(op.f("ix_library_template_runs_template"), "library_template_runs", ["template"], unique=False)
    op.create_index(op.f("ix_library_template_runs_initiative_id"), "library_template_runs", ["initiative_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_library_template_runs_initiative_id"), table_name="library_template_runs")
    op.drop_index(op.f("ix_library_template_runs_template"), table_name="library_template_runs")
    op.drop_table("library_template_runs")
    op.drop_index(op.f("ix_library_assets_expires_on"), table_name="library_assets")
    op.drop_index(op.f("ix_library_assets_owner"), table_name="library_assets")
    op.drop_index(op.f("ix_library_assets_type"), table_name="library_assets")
    op.drop_table("library_assets")
