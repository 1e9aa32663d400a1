"""reason text: a quarantine entry's reason as message id + values, next to its English

Revision ID: 0025_reason_text
Revises: 0024_claim_indexes
Create Date: 2026-12-06 19:40:00

Why (issue #19): ``sync_quarantine.reason`` is English text, printed as written by ``quarantine
list/show`` and the console.  ``reason_text`` keeps the same reason as the catalogue's message id
and its (redacted) values (``piis_bridge.i18n.text.text_json``) so it can be said in the reader's
language; ``reason`` stays as it is (logs, grep, the ``--reason`` filter, older rows, whose
``reason_text`` is NULL and are shown as written).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_reason_text"
down_revision = "0024_claim_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_quarantine", sa.Column("reason_text", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_quarantine") as batch:
        batch.drop_column("reason_text")
