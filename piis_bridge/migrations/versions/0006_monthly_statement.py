"""monthly statement per CPAS in a statement run, with the reconciliation's differences

Revision ID: 0006_monthly_statement
Revises: 0005_register_notices
Create Date: 2026-11-23 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_monthly_statement"
down_revision = "0005_register_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_statement",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=True),
        sa.Column("total_cents", sa.Integer(), nullable=True),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_statement_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("run_id", "cpas_id", name=op.f("pk_sync_statement")),
    )


def downgrade() -> None:
    op.drop_table("sync_statement")
