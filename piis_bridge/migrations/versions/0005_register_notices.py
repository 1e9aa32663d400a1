"""National Register notices: cursor and one row per notice, the person hash on items, its key

Revision ID: 0005_register_notices
Revises: 0004_niss_integration
Create Date: 2026-11-23 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_register_notices"
down_revision = "0004_niss_integration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_notice_cursor",
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cpas_id", name=op.f("pk_sync_notice_cursor")),
    )
    op.create_table(
        "sync_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_notice")),
        sa.UniqueConstraint("cpas_id", "reference", name="uq_sync_notice_reference"),
    )
    op.create_index("ix_sync_notice_state", "sync_notice", ["cpas_id", "state"])
    op.create_table(
        "sync_secret",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_secret")),
    )
    with op.batch_alter_table("sync_item") as batch:
        batch.add_column(sa.Column("person_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_sync_item_person", ["cpas_id", "person_key"])
    with op.batch_alter_table("sync_run_cpas") as batch:
        batch.add_column(
            sa.Column("notices_state", sa.String(length=16), nullable=False, server_default="none")
        )
        batch.add_column(
            sa.Column("notices_lease_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("notices_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_run_cpas") as batch:
        batch.drop_column("notices_error")
        batch.drop_column("notices_lease_until")
        batch.drop_column("notices_state")
    with op.batch_alter_table("sync_item") as batch:
        batch.drop_index("ix_sync_item_person")
        batch.drop_column("person_key")
    op.drop_table("sync_secret")
    op.drop_index("ix_sync_notice_state", table_name="sync_notice")
    op.drop_table("sync_notice")
    op.drop_table("sync_notice_cursor")
