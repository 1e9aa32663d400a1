"""pipeline outbox, runs, quarantine, cursors, circuit breaker

Revision ID: 0001_pipeline
Revises:
Create Date: 2026-11-22 22:05:50.399111
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_pipeline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sync_circuit",
        sa.Column("remote", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("remote", name=op.f("pk_sync_circuit")),
    )
    op.create_table(
        "sync_cursor",
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cpas_id", name=op.f("pk_sync_cursor")),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("schedule_key", sa.String(length=64), nullable=True),
        sa.Column("cpas_ids", sa.JSON(), nullable=False),
        sa.Column("dossier", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
        sa.UniqueConstraint("schedule_key", name=op.f("uq_sync_run_schedule_key")),
    )
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_run_status"), ["status"], unique=False)

    op.create_table(
        "sync_effect",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload_type", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("ticket", sa.String(length=120), nullable=True),
        sa.Column("remote_ref", sa.String(length=120), nullable=True),
        sa.Column("answer", sa.String(length=40), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_effect_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_effect")),
        sa.UniqueConstraint("key", name=op.f("uq_sync_effect_key")),
    )
    with op.batch_alter_table("sync_effect", schema=None) as batch_op:
        batch_op.create_index("ix_sync_effect_claim", ["kind", "cpas_id", "state"], unique=False)
        batch_op.create_index(
            "ix_sync_effect_dossier", ["cpas_id", "record_id", "id"], unique=False
        )
        batch_op.create_index("ix_sync_effect_run_state", ["run_id", "state"], unique=False)

    op.create_table(
        "sync_item",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("forms", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_item_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_item")),
        sa.UniqueConstraint(
            "run_id", "cpas_id", "record_id", "version", name="uq_sync_item_record"
        ),
    )
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.create_index("ix_sync_item_run_state", ["run_id", "state"], unique=False)
        batch_op.create_index("ix_sync_item_state_lease", ["state", "lease_until"], unique=False)

    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("effect_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replay_run_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_quarantine_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_quarantine")),
    )
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_quarantine_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_quarantine_status"), ["status"], unique=False)

    op.create_table(
        "sync_run_cpas",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_run_cpas_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("run_id", "cpas_id", name=op.f("pk_sync_run_cpas")),
    )
    op.create_table(
        "sync_stage_stat",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("busy_seconds", sa.Float(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_sync_stage_stat_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("run_id", "stage", name=op.f("pk_sync_stage_stat")),
    )


def downgrade() -> None:

    op.drop_table("sync_stage_stat")
    op.drop_table("sync_run_cpas")
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_status"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_run_id"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_record_id"))

    op.drop_table("sync_quarantine")
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_item_state_lease")
        batch_op.drop_index("ix_sync_item_run_state")

    op.drop_table("sync_item")
    with op.batch_alter_table("sync_effect", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_effect_run_state")
        batch_op.drop_index("ix_sync_effect_dossier")
        batch_op.drop_index("ix_sync_effect_claim")

    op.drop_table("sync_effect")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_run_status"))

    op.drop_table("sync_run")
    op.drop_table("sync_cursor")
    op.drop_table("sync_circuit")
