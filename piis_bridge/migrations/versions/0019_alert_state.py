"""alert state per rule and scope (caps and durations of alert conditions)

Revision ID: 0019_alert_state
Revises: 0018_console_indexes
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_alert_state"
down_revision = "0018_console_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("rule", "scope", name=op.f("pk_alert_state")),
    )


def downgrade() -> None:
    op.drop_table("alert_state")
