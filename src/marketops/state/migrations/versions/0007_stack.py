"""Martech stack: tools, their integrations and evaluations of tools under consideration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


ANSWERS = ("yes", "partly", "no")


def upgrade() -> None:
    op.create_table(
        "stack_tools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("cost_cents", sa.BigInteger(), nullable=True),
        sa.Column("cost_period", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("active_users", sa.Integer(), nullable=True),
        sa.Column("contract_notes", sa.Text(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("stale_days", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("cost_period", ("month", "year")), name=op.f("ck_stack_tools_cost_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_tools")),
        sa.UniqueConstraint("name", name=op.f("uq_stack_tools_name")),
    )
    op.create_index(op.f("ix_stack_tools_category"), "stack_tools", ["category"], unique=False)
    op.create_table(
        "stack_integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_stack_integrations_not_self")),
        sa.CheckConstraint(_in("method", ("native", "zapier", "file", "api")),
                           name=op.f("ck_stack_integrations_method")),
        sa.CheckConstraint(_in("frequency", ("realtime", "hourly", "daily", "weekly", "monthly", "manual")),
                           name=op.f("ck_stack_integrations_frequency")),
        sa.ForeignKeyConstraint(["source_id"], ["stack_tools.id"], name=op.f("fk_stack_integrations_source_id_stack_tools"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["stack_tools.id"], name=op.f("fk_stack_integrations_target_id_stack_tools"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_integrations")),
        sa.UniqueConstraint("source_id", "target_id", "object", name=op.f("uq_stack_integrations_source_id")),
    )
    op.create_index(op.f("ix_stack_integrations_source_id"), "stack_integrations", ["source_id"], unique=False)
    op.create_index(op.f("ix_stack_integrations_target_id"), "stack_integrations", ["target_id"], unique=False)
    op.create_table(
        "stack_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("serves_goals", sa.String(length=8), nullable=False),
        sa.Column("improves_journey", sa.String(length=8), nullable=False),
        sa.Column("has_budget", sa.String(length=8), nullable=False),
        sa.Column("has_time", sa.String(length=8), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("recommendation", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("recommendation", ("buy", "pilot", "defer", "do_not_buy")),
                           name=op.f("ck_stack_evaluations_recommendation")),
        sa.CheckConstraint(_in("serves_goals", ANSWERS), name=op.f("ck_stack_evaluations_serves_goals")),
        sa.CheckConstraint(_in("improves_journey", ANSWERS), name=op.f("ck_stack_evaluations_improves_journey")),
        sa.CheckConstraint(_in("has_budget", ANSWERS), name=op.f("ck_stack_evaluations_has_budget")),
        sa.CheckConstraint(_in("has_time", ANSWERS), name=op.f("ck_stack_evaluations_has_time")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_evaluations")),
    )


def downgrade() -> None:
    op.drop_table("stack_evaluations")
    op.drop_index(op.f("ix_stack_integrations_target_id"), table_name="stack_integrations")
    op.drop_index(op.f("ix_stack_integrations_source_id"), table_name="stack_integrations")
    op.drop_table("stack_integrations")
    op.drop_index(op.f("ix_stack_tools_category"), table_name="stack_tools")
    op.drop_table("stack_tools")
