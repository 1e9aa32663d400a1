"""a quarantine entry is closed with a trace: resolved (the record later went through) or dismissed by
hand with a reason (issue #14, owned by the outbox work of issue #12)

Revision ID: 0009_quarantine_closing
Revises: 0008_run_lease
Create Date: 2026-12-06 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_quarantine_closing"
down_revision = "0008_run_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sync_quarantine", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("sync_quarantine", sa.Column("closed_reason", sa.Text(), nullable=True))
    op.create_index(
        "ix_sync_quarantine_record", "sync_quarantine", ["cpas_id", "record_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_sync_quarantine_record", table_name="sync_quarantine")
    op.drop_column("sync_quarantine", "closed_reason")
    op.drop_column("sync_quarantine", "closed_at")
