"""partial index for the per-dossier order check of the submit claim

Revision ID: 0003_open_dossier_index
Revises: 0002_ledger_transfer
Create Date: 2026-11-22 23:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_open_dossier_index"
down_revision = "0002_ledger_transfer"
branch_labels = None
depends_on = None

_WHERE = "kind = 'form' AND state IN ('pending', 'sending', 'submitted')"


def upgrade() -> None:
    op.create_index(
        "ix_sync_effect_open_dossier",
        "sync_effect",
        ["cpas_id", "record_id", "id"],
        postgresql_where=sa.text(_WHERE),
        sqlite_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_sync_effect_open_dossier", table_name="sync_effect")
