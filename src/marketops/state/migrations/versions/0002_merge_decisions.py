"""Merge decisions: always / never merge two source records, from review, split or by hand.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merge_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_key_a", sa.String(500), nullable=False),
        sa.Column("record_key_b", sa.String(500), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("pair_id", sa.String(128), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("decided_by", sa.String(320), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merge_decisions"),
        sa.UniqueConstraint("record_key_a", "record_key_b", name="uq_merge_decisions_record_key_a"),
        sa.CheckConstraint("decision IN ('always', 'never')", name="ck_merge_decisions_decision"),
        sa.CheckConstraint("origin IN ('review_accept', 'review_reject', 'split', 'manual')",
                           name="ck_merge_decisions_origin"),
        sa.CheckConstraint("record_key_a <> record_key_b", name="ck_merge_decisions_two_records"),
    )
    op.create_index("ix_merge_decisions_record_key_b", "merge_decisions", ["record_key_b"])
    op.create_index("ix_merge_decisions_decided_at", "merge_decisions", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_merge_decisions_decided_at", table_name="merge_decisions")
    op.drop_index("ix_merge_decisions_record_key_b", table_name="merge_decisions")
    op.drop_table("merge_decisions")
