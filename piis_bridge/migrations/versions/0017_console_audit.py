"""console audit log, append-only at the database (triggers refuse UPDATE and DELETE)

Revision ID: 0017_console_audit
Revises: 0016_console_users
Create Date: 2026-12-06 12:00:01

Why triggers and not only code: the audit log must hold even against a script or a console bug
that would rewrite it; on PostgreSQL the trigger raises for every role short of one that drops
the trigger itself (which is then a schema change, visible in the migration history).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_console_audit"
down_revision = "0016_console_users"
branch_labels = None
depends_on = None

MESSAGE = "console_audit is append-only"


def upgrade() -> None:
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("cpas_id", sa.String(length=40), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_audit")),
    )
    op.create_index("ix_console_audit_at", "console_audit", ["at"])
    op.create_index("ix_console_audit_cpas_at", "console_audit", ["cpas_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION console_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""")
        op.execute("""CREATE TRIGGER console_audit_no_change BEFORE UPDATE OR DELETE ON console_audit
                      FOR EACH ROW EXECUTE FUNCTION console_audit_refuse()""")
        op.execute("""CREATE TRIGGER console_audit_no_truncate BEFORE TRUNCATE ON console_audit
                      FOR EACH STATEMENT EXECUTE FUNCTION console_audit_refuse()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER console_audit_no_{verb.lower()} BEFORE {verb} ON console_audit
                           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS console_audit_no_truncate ON console_audit")
        op.execute("DROP TRIGGER IF EXISTS console_audit_no_change ON console_audit")
        op.execute("DROP FUNCTION IF EXISTS console_audit_refuse()")
    op.drop_index("ix_console_audit_cpas_at", table_name="console_audit")
    op.drop_index("ix_console_audit_at", table_name="console_audit")
    op.drop_table("console_audit")
