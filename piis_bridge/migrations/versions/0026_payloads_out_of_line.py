"""payloads out of line: a form's state change no longer copies its payload or XML; two redundant indexes go

Revision ID: 0026_payloads_out_of_line
Revises: 0025_reason_text
Create Date: 2026-12-07 00:45:00

Why (issue #20, measured with the WAL of one benchmark database, ``pg_waldump`` per relation, 3,000
dossiers = 3,707 contracts, production settings: data keys set, so payloads are AES-GCM ciphertext):
every state change of a federal form (sending, sent + ticket, answered) writes a new version of the
whole row.  PostgreSQL moves values out of a row (TOAST) only when the row exceeds ~2 kB, and then
only until it is under ~2 kB again, so of a form's encrypted payload and XML (~1.6 kB each) one
stayed in the row and was copied into the heap and the WAL at every transition.

* ``toast_tuple_target``: once a row is toasted, values are moved out until it is under this size.
  1,024 bytes for the ledger (its own columns -- hashes, key, encrypted NISS -- come to ~500 bytes
  and stay inline: the look-ups read them), so both payload and XML are stored once, out of line, and
  a new row version carries two 18-byte pointers.  512 for ``sync_item`` and ``sync_effect``: their
  rows are toasted only above ~2 kB (a compile-time threshold of PostgreSQL that no setting lowers:
  an ordinary side effect, ~1 kB, stays inline), and then keep only their small columns inline.
* ``STORAGE EXTERNAL`` on the encrypted payload columns: out of line without a compression attempt;
  ciphertext does not compress, and without keys (development) the cost is disk, not CPU.
* ``ix_console_sync_item_record`` (cpas_id, record_id) is a prefix of ``ix_sync_item_cpas_record``
  (cpas_id, record_id, version) and ``ix_federal_form_ledger_cpas_status`` (cpas_id, status) of
  ``ix_console_ledger_cpas_status_id`` (cpas_id, status, id): the longer index serves every query
  the shorter one did, and every non-HOT update writes an entry into every index of its table.

Measured: WAL of the ledger (heap + TOAST) 24.5 -> 16.1 MB, of the whole database 139.2 -> 122.4 MB
(-12 %) for the same 3,707 contracts.

Rows written before the migration are moved out of line at their next update (PostgreSQL re-toasts a
row it writes); nothing is rewritten here, so the migration is instant on a large table.
"""

from __future__ import annotations

from alembic import op

revision = "0026_payloads_out_of_line"
down_revision = "0025_reason_text"
branch_labels = None
depends_on = None

# table -> (toast_tuple_target, encrypted payload columns stored out of line without compression)
OUT_OF_LINE: dict[str, tuple[int, tuple[str, ...]]] = {
    "sync_item": (512, ("payload",)),
    "sync_effect": (512, ("payload", "result")),
    "federal_form_ledger": (1024, ("payload", "xml")),
}


def upgrade() -> None:
    op.drop_index("ix_console_sync_item_record", table_name="sync_item")
    op.drop_index("ix_federal_form_ledger_cpas_status", table_name="federal_form_ledger")
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no TOAST: a row's values are stored with it whatever their size
    for table, (target, columns) in OUT_OF_LINE.items():
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = {target})")
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (_target, columns) in OUT_OF_LINE.items():
            op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
            for column in columns:
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED")
    op.create_index(
        "ix_federal_form_ledger_cpas_status", "federal_form_ledger", ["cpas_id", "status"]
    )
    op.create_index("ix_console_sync_item_record", "sync_item", ["cpas_id", "record_id"])
