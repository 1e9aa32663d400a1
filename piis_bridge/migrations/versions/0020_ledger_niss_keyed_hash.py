"""federal ledger: NISS as keyed hash (look-ups) and encrypted (forms only), never in clear

Revision ID: 0020_ledger_niss_keyed_hash
Revises: 0019_alert_state
Create Date: 2026-12-06 15:20:00

Why: ``federal_form_ledger.niss`` and ``federal_niss_integration.niss`` were the last NISS stored in
clear (docs/privacy.md 6).  Both are look-up keys of the exactly-once machinery, so they become an
HMAC-SHA256 under the stable hash key (``PIIS_HASH_KEY`` / ``PIIS_HASH_KEY_FILE``, never the rotating
data key); a form also keeps its NISS encrypted (a resend integrates it, the audited reveal shows
it), an integration does not (every caller holds the NISS it asks about).

Existing rows are converted here: with data keys configured, a hash key is required (the error names
both settings).  Without any key (a development database) the NISS stays readable and the hashes use
the public development key; ``db rotate-key`` and ``rehash_niss`` convert them once keys exist.

Downgrade is refused: it would write every NISS back in clear and the integrations' NISS no longer
exist.  Restore the backup taken before ``db upgrade`` instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020_ledger_niss_keyed_hash"
down_revision = "0019_alert_state"
branch_labels = None
depends_on = None

# Frozen here (the application's constant may not change without a migration of its own).
_PURPOSE = "federal-ledger/niss"
_AAD = "federal_form_ledger.niss"
_BATCH = 1000


def _convert(table: str, *, encrypt: bool) -> None:
    """Fill ``niss_hash`` of every row (and encrypt ``niss`` when *encrypt*), by id in batches."""
    from piis_bridge.crypto import key_ring, keyed_hash

    bind = op.get_bind()
    t = sa.table(
        table,
        sa.column("id", sa.Integer),
        sa.column("niss", sa.Text),
        sa.column("niss_hash", sa.String),
    )
    ring = key_ring()
    last = 0
    while True:
        rows = list(
            bind.execute(
                sa.select(t.c.id, t.c.niss)
                .where(t.c.id > last, t.c.niss_hash.is_(None))
                .order_by(t.c.id)
                .limit(_BATCH)
            )
        )
        if not rows:
            return
        updates: list[dict[str, Any]] = []
        for row_id, niss in rows:
            value = {"i": row_id, "h": keyed_hash(niss, _PURPOSE)}
            if encrypt:
                value["n"] = ring.encrypt(niss, _AAD)
            updates.append(value)
        values: dict[str, Any] = {"niss_hash": sa.bindparam("h")}
        if encrypt:
            values["niss"] = sa.bindparam("n")
        bind.execute(sa.update(t).where(t.c.id == sa.bindparam("i")).values(values), updates)
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("federal_form_ledger") as batch:
        batch.add_column(sa.Column("niss_hash", sa.String(length=64), nullable=True))
        batch.alter_column("niss", existing_type=sa.String(length=11), type_=sa.Text())
    _convert("federal_form_ledger", encrypt=True)
    with op.batch_alter_table("federal_form_ledger") as batch:
        batch.alter_column("niss_hash", existing_type=sa.String(length=64), nullable=False)
        batch.drop_index("ix_federal_form_ledger_period")
        batch.create_index(
            "ix_federal_form_ledger_period", ["cpas_id", "kind", "niss_hash", "period_key"]
        )

    with op.batch_alter_table("federal_niss_integration") as batch:
        batch.add_column(sa.Column("niss_hash", sa.String(length=64), nullable=True))
    _convert("federal_niss_integration", encrypt=False)
    with op.batch_alter_table("federal_niss_integration") as batch:
        batch.drop_constraint("uq_federal_niss_integration_cpas_id", type_="unique")
        batch.drop_column("niss")
        batch.alter_column("niss_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(
            "uq_federal_niss_integration_cpas_id", ["cpas_id", "niss_hash"]
        )


def downgrade() -> None:
    raise RuntimeError(
        "0020_ledger_niss_keyed_hash cannot be downgraded: it would write every NISS of the federal "
        "ledger back in clear, and the integrations keep only a keyed hash.  Restore the database "
        "backup taken before `piis-bridge db upgrade` instead (docs/privacy.md 3)."
    )
