"""configuration fingerprint of each run and of each worker (restart the workers after a change)

Revision ID: 0013_ops_fingerprints
Revises: 0009_quarantine_closing
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_ops_fingerprints"
down_revision = "0009_quarantine_closing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_run_config",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_ops_run_config")),
    )
    op.create_table(
        "ops_worker_config",
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_ops_worker_config")),
    )


def downgrade() -> None:
    op.drop_table("ops_worker_config")
    op.drop_table("ops_run_config")
