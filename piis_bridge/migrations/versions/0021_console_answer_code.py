"""console: the federal answer's first code as an indexed column of the form ledger

Revision ID: 0021_console_answer_code
Revises: 0019_alert_state
Create Date: 2026-12-06 15:30:00

Why a generated column: the answer is recorded by the ledger's bulk update (driver SQL), the
single-form path and the tests' inserts alike; the database computes ``answer_code`` from
``errors`` at every write, so no writer can forget it, and existing rows get it at once.
PostgreSQL stores it (its generated columns are STORED: adding it rewrites the table once);
SQLite adds it VIRTUAL (``ALTER TABLE`` cannot add a STORED one) and indexes it all the same.

PostgreSQL also gets extended statistics over (cpas_id, status, answer_code): without them the
planner multiplies the three selectivities as if independent, expects refused forms with that code
in every CPAS, and reads the ledger backwards by id to find them, the whole table for a CPAS that
has none (the 310-376 ms p95 of the code filter was that plan).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_console_answer_code"
down_revision = "0020_ledger_niss_keyed_hash"
branch_labels = None
depends_on = None

EXPRESSION = "errors -> 0 ->> 'code'"  # piis_bridge.ledger.models.ANSWER_CODE_SQL when written


def upgrade() -> None:
    stored = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "federal_form_ledger",
        sa.Column("answer_code", sa.String(), sa.Computed(EXPRESSION, persisted=stored)),
    )
    op.create_index(
        "ix_console_ledger_cpas_code_id", "federal_form_ledger", ["cpas_id", "answer_code", "id"]
    )
    if stored:
        op.execute(
            "CREATE STATISTICS st_console_ledger_cpas_status_code (dependencies, mcv) "
            "ON cpas_id, status, answer_code FROM federal_form_ledger"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP STATISTICS IF EXISTS st_console_ledger_cpas_status_code")
    op.drop_index("ix_console_ledger_cpas_code_id", table_name="federal_form_ledger")
    with op.batch_alter_table("federal_form_ledger") as batch:
        batch.drop_column("answer_code")
