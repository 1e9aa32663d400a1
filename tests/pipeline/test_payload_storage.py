"""Payloads stored out of line (migration 0026): a state change of a federal form does not copy its
payload and XML into a new row version.

Why a test on the server's own storage: the gain (issue #20: the ledger's WAL 24.5 -> 16.1 MB for
3,707 contracts) exists only if PostgreSQL really moves both encrypted values to the TOAST table.
With its defaults it moves values only until the row is under ~2 kB, so one of the two stayed in
the row and was copied into the heap and the WAL at every transition (sent, ticket, answered)."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update

from piis_bridge.db import make_engine
from piis_bridge.ledger.models import FormEntry
from piis_bridge.migrations import upgrade_database

ROWS = 40


def _ciphertext_like(n: int) -> str:
    """What an encrypted payload looks like to the database: base64 of random bytes (incompressible)."""
    return base64.b64encode(os.urandom(n * 3 // 4)).decode("ascii")


def _forms_and_transitions(url: str) -> tuple[int, int]:
    """Insert ROWS ledger entries (payload and XML ~1.5 kB each), move each through its three
    transitions, and return (values in the TOAST table, heap bytes of the table)."""
    now = datetime.now(UTC)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(FormEntry),
                [
                    {
                        "key": f"00000000-0000-0000-0000-{i:012d}",
                        "cpas_id": "gent",
                        "kind": "B",
                        "niss": "x",
                        "niss_hash": "h" * 64,
                        "dossier": f"D{i}",
                        "period_key": "2026-12",
                        "version": 1,
                        "status": "built",
                        "payload": _ciphertext_like(1500),
                        "xml": _ciphertext_like(1500),
                        "payload_hash": "p" * 64,
                        "content_hash": "c" * 64,
                        "errors": [],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(ROWS)
                ],
            )
        for status in ("sending", "sent", "accepted"):
            with engine.begin() as conn:
                conn.execute(update(FormEntry).values(status=status, updated_at=now))
        with engine.connect() as conn:
            toast = conn.execute(
                text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = :t"),
                {"t": "federal_form_ledger"},
            ).scalar_one()
            # the TOAST table's name is read from pg_class just above, not given by anyone
            counted = f"SELECT count(DISTINCT chunk_id) FROM {toast}"  # noqa: S608
            values = conn.execute(text(counted)).scalar_one()
            heap = conn.execute(
                text("SELECT pg_relation_size('federal_form_ledger', 'main')")
            ).scalar_one()
        return int(values), int(heap)
    finally:
        engine.dispose()


@pytest.mark.services
def test_before_0026_one_of_payload_and_xml_stayed_in_the_row(pg_url: str) -> None:
    upgrade_database(pg_url, "0025_reason_text")
    values, _heap = _forms_and_transitions(pg_url)
    assert values == ROWS  # one of the two per row; the other copied at each of the 3 updates


@pytest.mark.services
def test_payload_and_xml_are_stored_once_out_of_line_and_updates_copy_a_pointer(
    pg_url: str,
) -> None:
    upgrade_database(pg_url)
    values, heap = _forms_and_transitions(pg_url)
    assert values == 2 * ROWS
    # 4 versions of each row (insert + 3 updates) in the heap, each well under one inline value
    assert heap / (4 * ROWS) < 1000


@pytest.mark.services
def test_the_settings_are_on_the_tables_and_columns(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            options: dict[str, list[str]] = dict(
                conn.execute(
                    text(
                        "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                        "('sync_item', 'sync_effect', 'federal_form_ledger')"
                    )
                ).all()
            )
            storage = set(
                conn.execute(
                    text(
                        "SELECT c.relname || '.' || a.attname FROM pg_attribute a "
                        "JOIN pg_class c ON c.oid = a.attrelid WHERE a.attstorage = 'e' "
                        "AND c.relname IN ('sync_item', 'sync_effect', 'federal_form_ledger')"
                    )
                ).scalars()
            )
            indexes = set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())
    finally:
        engine.dispose()
    assert options == {
        "sync_item": ["toast_tuple_target=512"],
        "sync_effect": ["toast_tuple_target=512"],
        "federal_form_ledger": ["toast_tuple_target=1024"],
    }
    assert storage == {
        "sync_item.payload",
        "sync_effect.payload",
        "sync_effect.result",
        "federal_form_ledger.payload",
        "federal_form_ledger.xml",
    }
    # the two prefix indexes are gone, the longer ones that serve their queries remain
    assert "ix_console_sync_item_record" not in indexes
    assert "ix_federal_form_ledger_cpas_status" not in indexes
    assert {"ix_sync_item_cpas_record", "ix_console_ledger_cpas_status_id"} <= indexes


def test_sqlite_upgrades_without_the_postgresql_storage_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.sqlite3"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = set(
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
            )
    finally:
        engine.dispose()
    assert "ix_console_sync_item_record" not in names
    assert "ix_sync_item_cpas_record" in names
