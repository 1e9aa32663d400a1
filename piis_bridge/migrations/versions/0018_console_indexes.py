"""console: indexes of its pages on the pipeline's and the ledger's tables (per CPAS, agenda by due date)

Revision ID: 0018_console_indexes
Revises: 0017_console_audit
Create Date: 2026-12-06 12:00:02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_console_indexes"
down_revision = "0017_console_audit"
branch_labels = None
depends_on = None


INDEXES: list[tuple[str, str, list[str | sa.TextClause]]] = [
    ("ix_console_sync_item_record", "sync_item", ["cpas_id", "record_id"]),
    ("ix_console_sync_item_run_cpas", "sync_item", ["run_id", "cpas_id", "state"]),
    (
        "ix_console_sync_effect_run_cpas",
        "sync_effect",
        ["run_id", "cpas_id", "kind", "state", "answer"],
    ),
    (
        "ix_console_sync_effect_due",
        "sync_effect",
        ["kind", sa.text('substr("key", length("key") - 9, 10)')],
    ),
    ("ix_console_quarantine_cpas_status", "sync_quarantine", ["cpas_id", "status", "id"]),
    ("ix_console_ledger_cpas_created", "federal_form_ledger", ["cpas_id", "created_at", "kind"]),
    ("ix_console_ledger_cpas_status_id", "federal_form_ledger", ["cpas_id", "status", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
