"""Routing decisions of MQLs and the rotation state of round-robin and weighted rules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("mql_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mql_day", sa.Date(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("previous_owner", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.CheckConstraint("status IN ('assigned', 'unassigned', 'reassigned')",
                           name=op.f("ck_routing_decisions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decisions")),
        sa.UniqueConstraint("person_id", name=op.f("uq_routing_decisions_person_id")),
    )
    op.create_index(op.f("ix_routing_decisions_email"), "routing_decisions", ["email"], unique=False)
    op.create_index(op.f("ix_routing_decisions_owner"), "routing_decisions", ["owner"], unique=False)
    op.create_index(op.f("ix_routing_decisions_status"), "routing_decisions", ["status"], unique=False)
    op.create_table(
        "routing_rotation",
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("last_owner", sa.String(length=200), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_routing_rotation")),
    )


def downgrade() -> None:
    op.drop_table("routing_rotation")
    op.drop_index(op.f("ix_routing_decisions_status"), table_name="routing_decisions")
    op.drop_index(op.f("ix_routing_decisions_owner"), table_name="routing_decisions")
    op.drop_index(op.f("ix_routing_decisions_email"), table_name="routing_decisions")
    op.drop_table("routing_decisions")
