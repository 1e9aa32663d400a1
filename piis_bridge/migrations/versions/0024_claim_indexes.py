"""claim indexes: the claim index ends with the id, the lease-owner indexes go

Revision ID: 0024_claim_indexes
Revises: 0023_agenda_worker
Create Date: 2026-12-06 18:30:00

Why (issue #20, measured): the submit and push claims read the next batch of a CPAS's pending side
effects in id order (``kind = ? AND cpas_id = ? AND state = 'pending' ORDER BY id LIMIT n``).  With
``id`` in the index the scan stops after the batch; without it PostgreSQL read and sorted every
pending effect of the CPAS for each batch (and, on statistics taken while the table was still
empty, hash-joined them with every open form for the per-dossier order check: 29 ms per claim at
2,458 forms, growing with the size of the run).

The claims now return what they won (``UPDATE ... RETURNING``) instead of reading it back by lease
owner, so ``ix_sync_item_lease_owner`` and ``ix_sync_effect_lease_owner`` had no reader left; every
claim and every release of an item or side effect wrote an entry into them.
"""

from __future__ import annotations

from alembic import op

revision = "0024_claim_indexes"
down_revision = "0023_agenda_worker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sync_effect_claim", table_name="sync_effect")
    op.create_index("ix_sync_effect_claim", "sync_effect", ["kind", "cpas_id", "state", "id"])
    op.drop_index("ix_sync_effect_lease_owner", table_name="sync_effect")
    op.drop_index("ix_sync_item_lease_owner", table_name="sync_item")


def downgrade() -> None:
    op.create_index("ix_sync_item_lease_owner", "sync_item", ["lease_owner"])
    op.create_index("ix_sync_effect_lease_owner", "sync_effect", ["lease_owner"])
    op.drop_index("ix_sync_effect_claim", table_name="sync_effect")
    op.create_index("ix_sync_effect_claim", "sync_effect", ["kind", "cpas_id", "state"])
