"""console: index of pulled versions by (CPAS, record id) for the dossier history

Revision ID: 0018_console_dossier_index
Revises: 0017_console_audit
Create Date: 2026-12-06 12:00:02
"""

from __future__ import annotations

from alembic import op

revision = "0018_console_dossier_index"
down_revision = "0017_console_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_console_sync_item_record", "sync_item", ["cpas_id", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_console_sync_item_record", table_name="sync_item")
