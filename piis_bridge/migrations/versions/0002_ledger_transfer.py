"""federal form ledger and transfer tables

Revision ID: 0002_ledger_transfer
Revises: 0001_pipeline
Create Date: 2026-11-22 22:30:20.839409

The federal ledger and the transfer service create their table on first use when no migration ran
(``checkfirst``), so each table is created here only if it is not there yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger_transfer"
down_revision = "0001_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    if "federal_form_ledger" not in existing:
        op.create_table(
            "federal_form_ledger",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(length=36), nullable=False),
            sa.Column("cpas_id", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=1), nullable=False),
            sa.Column("niss", sa.String(length=11), nullable=False),
            sa.Column("dossier", sa.String(length=20), nullable=False),
            sa.Column("period_key", sa.String(length=32), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("supersedes_id", sa.Integer(), nullable=True),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("xml", sa.Text(), nullable=False),
            sa.Column("payload_hash", sa.String(length=64), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("ticket", sa.String(length=64), nullable=True),
            sa.Column("reference", sa.String(length=16), nullable=True),
            sa.Column("percentage", sa.Integer(), nullable=True),
            sa.Column("amount", sa.Integer(), nullable=True),
            sa.Column("accepted_amount", sa.Integer(), nullable=True),
            sa.Column("errors", sa.JSON(), nullable=False),
            sa.Column("received_at", sa.DateTime(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["supersedes_id"],
                ["federal_form_ledger.id"],
                name=op.f("fk_federal_form_ledger_supersedes_id_federal_form_ledger"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_federal_form_ledger")),
            sa.UniqueConstraint("key", name=op.f("uq_federal_form_ledger_key")),
        )
        with op.batch_alter_table("federal_form_ledger", schema=None) as batch_op:
            batch_op.create_index(
                "ix_federal_form_ledger_cpas_status", ["cpas_id", "status"], unique=False
            )
            batch_op.create_index(
                "ix_federal_form_ledger_dossier", ["cpas_id", "dossier"], unique=False
            )
            batch_op.create_index(
                "ix_federal_form_ledger_period",
                ["cpas_id", "kind", "niss", "period_key"],
                unique=False,
            )
            batch_op.create_index("ix_federal_form_ledger_ticket", ["ticket"], unique=False)

    if "transfer_case" not in existing:
        op.create_table(
            "transfer_case",
            sa.Column("case_id", sa.String(length=64), nullable=False),
            sa.Column("cpas_id", sa.String(length=40), nullable=False),
            sa.Column("contract_id", sa.String(length=120), nullable=False),
            sa.Column("record_id", sa.String(length=120), nullable=False),
            sa.Column("to_ins_code", sa.String(length=5), nullable=False),
            sa.Column("to_bce", sa.String(length=10), nullable=True),
            sa.Column("residence_change_date", sa.Date(), nullable=False),
            sa.Column("legal_end_date", sa.Date(), nullable=True),
            sa.Column("eligibility", sa.String(length=40), nullable=False),
            sa.Column("eligibility_reason", sa.Text(), nullable=False),
            sa.Column("rules", sa.String(length=200), nullable=False),
            sa.Column("state", sa.String(length=30), nullable=False),
            sa.Column("contract_json", sa.Text(), nullable=False),
            sa.Column("package_id", sa.String(length=64), nullable=True),
            sa.Column("envelope", sa.Text(), nullable=True),
            sa.Column("ack_envelope", sa.Text(), nullable=True),
            sa.Column("ack_status", sa.String(length=20), nullable=True),
            sa.Column("remote_draft_ref", sa.String(length=120), nullable=True),
            sa.Column("task_ref", sa.String(length=120), nullable=True),
            sa.Column("assessment_json", sa.Text(), nullable=True),
            sa.Column("assessment_envelope", sa.Text(), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("case_id", name=op.f("pk_transfer_case")),
            sa.UniqueConstraint(
                "cpas_id", "contract_id", "residence_change_date", name="one_case_per_move"
            ),
            sa.UniqueConstraint("package_id", name=op.f("uq_transfer_case_package_id")),
        )
        with op.batch_alter_table("transfer_case", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_transfer_case_cpas_id"), ["cpas_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_transfer_case_state"), ["state"], unique=False)

    if "transfer_event" not in existing:
        op.create_table(
            "transfer_event",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("case_id", sa.String(length=64), nullable=True),
            sa.Column("package_id", sa.String(length=64), nullable=True),
            sa.Column("from_state", sa.String(length=30), nullable=True),
            sa.Column("to_state", sa.String(length=30), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_event")),
        )
        with op.batch_alter_table("transfer_event", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_transfer_event_case_id"), ["case_id"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_transfer_event_package_id"), ["package_id"], unique=False
            )

    if "transfer_received" not in existing:
        op.create_table(
            "transfer_received",
            sa.Column("package_id", sa.String(length=64), nullable=False),
            sa.Column("cpas_id", sa.String(length=40), nullable=False),
            sa.Column("transfer_id", sa.String(length=64), nullable=False),
            sa.Column("sender_bce", sa.String(length=10), nullable=False),
            sa.Column("sender_name", sa.String(length=200), nullable=False),
            sa.Column("contract_id", sa.String(length=120), nullable=False),
            sa.Column("state", sa.String(length=30), nullable=False),
            sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
            sa.Column("envelope", sa.Text(), nullable=False),
            sa.Column("draft_json", sa.Text(), nullable=True),
            sa.Column("draft_contract_id", sa.String(length=120), nullable=True),
            sa.Column("draft_ref", sa.String(length=120), nullable=True),
            sa.Column("ack_envelope", sa.Text(), nullable=True),
            sa.Column("assessment_envelope", sa.Text(), nullable=True),
            sa.Column("assessment_ack", sa.Text(), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("package_id", name=op.f("pk_transfer_received")),
        )
        with op.batch_alter_table("transfer_received", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_transfer_received_cpas_id"), ["cpas_id"], unique=False
            )

    if "transfer_rejected" not in existing:
        op.create_table(
            "transfer_rejected",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("cpas_id", sa.String(length=40), nullable=False),
            sa.Column("claimed_sender", sa.String(length=40), nullable=True),
            sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_rejected")),
        )
        with op.batch_alter_table("transfer_rejected", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_transfer_rejected_cpas_id"), ["cpas_id"], unique=False
            )

    if "transfer_consent" not in existing:
        op.create_table(
            "transfer_consent",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("case_id", sa.String(length=64), nullable=False),
            sa.Column("consent", sa.String(length=20), nullable=False),
            sa.Column("recorded_by", sa.String(length=200), nullable=False),
            sa.Column("channel", sa.String(length=200), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["case_id"],
                ["transfer_case.case_id"],
                name=op.f("fk_transfer_consent_case_id_transfer_case"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_consent")),
        )
        with op.batch_alter_table("transfer_consent", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_transfer_consent_case_id"), ["case_id"], unique=False
            )


def downgrade() -> None:

    with op.batch_alter_table("transfer_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_consent_case_id"))

    op.drop_table("transfer_consent")
    with op.batch_alter_table("transfer_rejected", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_rejected_cpas_id"))

    op.drop_table("transfer_rejected")
    with op.batch_alter_table("transfer_received", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_received_cpas_id"))

    op.drop_table("transfer_received")
    with op.batch_alter_table("transfer_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_event_package_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_event_case_id"))

    op.drop_table("transfer_event")
    with op.batch_alter_table("transfer_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_case_state"))
        batch_op.drop_index(batch_op.f("ix_transfer_case_cpas_id"))

    op.drop_table("transfer_case")
    with op.batch_alter_table("federal_form_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_federal_form_ledger_ticket")
        batch_op.drop_index("ix_federal_form_ledger_period")
        batch_op.drop_index("ix_federal_form_ledger_dossier")
        batch_op.drop_index("ix_federal_form_ledger_cpas_status")

    op.drop_table("federal_form_ledger")
