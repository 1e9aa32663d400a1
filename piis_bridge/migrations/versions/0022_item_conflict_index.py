"""index the records of a CPAS by record id and version (the pull's cross-run conflict check)

Revision ID: 0022_item_conflict_index
Revises: 0021_console_answer_code
Create Date: 2026-12-06 16:05:00

Why: every page a pull admits looks up the earlier runs' items of the same records
(``pipeline.pull._stored``: ``cpas_id = ? AND record_id IN (...)``); the only index with those
columns starts with ``run_id``, so each page read every retained item of the CPAS.
"""

from __future__ import annotations

from alembic import op

revision = "0022_item_conflict_index"
down_revision = "0021_console_answer_code"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sync_item_cpas_record", "sync_item", ["cpas_id", "record_id", "version"])


def downgrade() -> None:
    op.drop_index("ix_sync_item_cpas_record", table_name="sync_item")
