"""federal NISS integration table

Revision ID: 0004_niss_integration
Revises: 0003_open_dossier_index
Create Date: 2026-11-22 23:22:37.104091
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_niss_integration"
down_revision = "0003_open_dossier_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The ledger creates its tables on first use when no migration ran (checkfirst).
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    if "federal_niss_integration" not in existing:
        op.create_table(
            "federal_niss_integration",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("cpas_id", sa.String(length=64), nullable=False),
            sa.Column("niss", sa.String(length=11), nullable=False),
            sa.Column("purpose", sa.Integer(), nullable=False),
            sa.Column("start", sa.Date(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_federal_niss_integration")),
            sa.UniqueConstraint(
                "cpas_id", "niss", name=op.f("uq_federal_niss_integration_cpas_id")
            ),
        )


def downgrade() -> None:

    op.drop_table("federal_niss_integration")
