"""agenda per social worker: the worker in charge of a deadline alert, and an account's own worker

Revision ID: 0023_agenda_worker
Revises: 0022_item_conflict_index
Create Date: 2026-12-06 16:20:00

Why a plain column: the push payload is encrypted, so the console cannot filter deadlines on the
worker without decrypting every alert of a CPAS.  ``sync_effect.worker_id`` holds a staff id only
(the social worker in charge, ``""`` when the contract names none; NULL on every other effect) --
no data of a beneficiary.  The partial index holds deadline alerts only, in due-date order per
CPAS and worker, so one worker's agenda is read in order.  ``console_user.worker_id`` links an
account to its worker id (``piis-bridge users set-worker``) for the agenda's "mine".

Alerts stored before this revision have no worker: they are marked unassigned here, and take their
worker the next time their contract is processed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_agenda_worker"
down_revision = "0022_item_conflict_index"
branch_labels = None
depends_on = None

DUE = 'substr("key", length("key") - 9, 10)'  # piis_bridge.console.models.AGENDA_DUE_SQL


def upgrade() -> None:
    op.add_column("sync_effect", sa.Column("worker_id", sa.String(120), nullable=True))
    op.add_column("console_user", sa.Column("worker_id", sa.String(120), nullable=True))
    op.execute(
        "UPDATE sync_effect SET worker_id = '' "
        """WHERE kind = 'push' AND "key" LIKE 'push:%:alert:%'"""
    )
    op.create_index(
        "ix_console_sync_effect_worker_due",
        "sync_effect",
        ["cpas_id", "worker_id", sa.text(DUE)],
        postgresql_where=sa.text("worker_id IS NOT NULL"),
        sqlite_where=sa.text("worker_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_console_sync_effect_worker_due", table_name="sync_effect")
    with op.batch_alter_table("console_user") as batch:
        batch.drop_column("worker_id")
    with op.batch_alter_table("sync_effect") as batch:
        batch.drop_column("worker_id")
