"""one run per CPAS at a time (a lease row per CPAS, SQLite and PostgreSQL alike) and why a run ended
when it did not finish by itself (abandoned, stalled) (issue #12)

Revision ID: 0008_run_lease
Revises: 0007_record_isolation
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_run_lease"
down_revision = "0007_record_isolation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_cpas_lease",
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cpas_id", name=op.f("pk_sync_cpas_lease")),
    )
    op.add_column("sync_run", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("sync_run", "reason")
    op.drop_table("sync_cpas_lease")
