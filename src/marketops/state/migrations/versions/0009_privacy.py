"""Consent and privacy: consent records from the API, suppression lists, erasure receipts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('granted', 'withdrawn')", name=op.f("ck_privacy_consent_records_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_consent_records")),
    )
    op.create_index(op.f("ix_privacy_consent_records_email"), "privacy_consent_records", ["email"], unique=False)
    op.create_index(op.f("ix_privacy_consent_records_purpose"), "privacy_consent_records", ["purpose"], unique=False)
    op.create_index(op.f("ix_privacy_consent_records_at"), "privacy_consent_records", ["at"], unique=False)
    op.create_table(
        "privacy_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=True),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('email', 'domain')", name=op.f("ck_privacy_suppressions_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_suppressions")),
        sa.UniqueConstraint("kind", "value_hash", name=op.f("uq_privacy_suppressions_kind")),
    )
    op.create_index(op.f("ix_privacy_suppressions_value_hash"), "privacy_suppressions", ["value_hash"], unique=False)
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emails_found", sa.Integer(), nullable=False),
        sa.Column("persons_found", sa.Integer(), nullable=False),
        sa.Column("rows_removed", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('erased', 'nothing_found')", name=op.f("ck_privacy_erasures_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erasures")),
    )
    op.create_index(op.f("ix_privacy_erasures_subject_hash"), "privacy_erasures", ["subject_hash"], unique=False)
    op.create_index(op.f("ix_privacy_erasures_requested_at"), "privacy_erasures", ["requested_at"], unique=False)
    op.create_table(
        "privacy_erased_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erasure_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["erasure_id"], ["privacy_erasures.id"],
                                name=op.f("fk_privacy_erased_keys_erasure_id_privacy_erasures"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erased_keys")),
        sa.UniqueConstraint("kind", "value_hash", name=op.f("uq_privacy_erased_keys_kind")),
    )
    op.create_index(op.f("ix_privacy_erased_keys_erasure_id"), "privacy_erased_keys", ["erasure_id"], unique=False)
    op.create_index(op.f("ix_privacy_erased_keys_value_hash"), "privacy_erased_keys", ["value_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_erased_keys_value_hash"), table_name="privacy_erased_keys")
    op.drop_index(op.f("ix_privacy_erased_keys_erasure_id"), table_name="privacy_erased_keys")
    op.drop_table("privacy_erased_keys")
    op.drop_index(op.f("ix_privacy_erasures_requested_at"), table_name="privacy_erasures")
    op.drop_index(op.f("ix_privacy_erasures_subject_hash"), table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
    op.drop_index(op.f("ix_privacy_suppressions_value_hash"), table_name="privacy_suppressions")
    op.drop_table("privacy_suppressions")
    op.drop_index(op.f("ix_privacy_consent_records_at"), table_name="privacy_consent_records")
    op.drop_index(op.f("ix_privacy_consent_records_purpose"), table_name="privacy_consent_records")
    op.drop_index(op.f("ix_privacy_consent_records_email"), table_name="privacy_consent_records")
    op.drop_table("privacy_consent_records")
