"""SQLite state of the simulator, so that it survives a restart (issue #5).

Why the stdlib ``sqlite3`` and not SQLAlchemy: the simulator is a stand-alone fake of a remote system,
and its hot path (thousands of forms per second in batch) is a handful of indexed look-ups per form.
One connection guarded by a lock: SQLite serialises writers anyway, and the simulator's WSGI threads
and its batch worker then never see each other's half-done transactions.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cpas (
    kbo TEXT PRIMARY KEY, ins TEXT NOT NULL, name TEXT NOT NULL, rate INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cpas_rates (kbo TEXT NOT NULL, since TEXT NOT NULL, rate INTEGER NOT NULL,
    source TEXT, PRIMARY KEY (kbo, since));
CREATE TABLE IF NOT EXISTS cpas_beneficiaries (kbo TEXT NOT NULL, year INTEGER NOT NULL, average REAL NOT NULL,
    PRIMARY KEY (kbo, year));
CREATE TABLE IF NOT EXISTS integrations (
    kbo TEXT NOT NULL, ssin TEXT NOT NULL, purpose INTEGER NOT NULL, start TEXT NOT NULL, end TEXT,
    PRIMARY KEY (kbo, ssin, purpose, start)
);
CREATE TABLE IF NOT EXISTS forms (
    id INTEGER PRIMARY KEY, kbo TEXT NOT NULL, client_ref TEXT NOT NULL, kind TEXT NOT NULL,
    ssin TEXT NOT NULL, dossier TEXT NOT NULL, entry_date TEXT, recovery_month TEXT, seq INTEGER,
    period_start TEXT, period_end TEXT, category INTEGER, amount INTEGER, accepted_amount INTEGER,
    piis INTEGER, pct INTEGER, status_code INTEGER, nature TEXT, end_date TEXT, regime TEXT,
    state TEXT NOT NULL, evaluation TEXT, superseded_by INTEGER, cancelled INTEGER NOT NULL DEFAULT 0,
    nr_end TEXT, received_at TEXT NOT NULL, ticket TEXT, payload BLOB, result BLOB, reference TEXT,
    available_on TEXT, UNIQUE (kbo, client_ref)
);
CREATE INDEX IF NOT EXISTS ix_forms_who ON forms (ssin, kind, kbo, entry_date);
CREATE INDEX IF NOT EXISTS ix_forms_dossier ON forms (kbo, dossier, state);
CREATE INDEX IF NOT EXISTS ix_forms_ticket ON forms (ticket);
CREATE INDEX IF NOT EXISTS ix_forms_received ON forms (kbo, received_at);
CREATE TABLE IF NOT EXISTS batches (
    ticket TEXT PRIMARY KEY, kbo TEXT NOT NULL, due REAL NOT NULL, count INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
-- the batch worker's look-ups (pending batches, the next one due) read the few open batches, not all
CREATE INDEX IF NOT EXISTS ix_batches_open ON batches (due) WHERE done=0;
CREATE TABLE IF NOT EXISTS batch_dups (ticket TEXT NOT NULL, kbo TEXT NOT NULL, client_ref TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, remaining INTEGER NOT NULL,
    delay REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS mutations (id INTEGER PRIMARY KEY, ssin TEXT NOT NULL, kind TEXT NOT NULL,
    date TEXT NOT NULL, new_ssin TEXT, recorded_at TEXT NOT NULL, new_ins TEXT, new_municipality TEXT);
CREATE INDEX IF NOT EXISTS ix_mutations ON mutations (ssin, kind);
CREATE TABLE IF NOT EXISTS nr_notices (id INTEGER PRIMARY KEY, kbo TEXT NOT NULL, mutation_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_nr_notices ON nr_notices (kbo, id);
CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY, kbo TEXT NOT NULL, code TEXT NOT NULL,
    client_ref TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stated (kbo TEXT NOT NULL, ssin TEXT NOT NULL, period TEXT NOT NULL,
    form_id INTEGER NOT NULL, amount INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_stated ON stated (kbo, ssin, period);
CREATE TABLE IF NOT EXISTS statements (kbo TEXT NOT NULL, month TEXT NOT NULL, generated_at TEXT NOT NULL,
    PRIMARY KEY (kbo, month));
CREATE TABLE IF NOT EXISTS statement_lines (kbo TEXT NOT NULL, month TEXT NOT NULL, line INTEGER NOT NULL,
    form_id INTEGER NOT NULL, amount_type INTEGER NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL,
    article TEXT NOT NULL, sign TEXT NOT NULL, amount INTEGER NOT NULL, pct INTEGER NOT NULL,
    PRIMARY KEY (kbo, month, line));
"""


_ADDED_COLUMNS = [
    ("mutations", "new_ins", "TEXT"),
    ("mutations", "new_municipality", "TEXT"),
    ("cpas_rates", "source", "TEXT"),
    ("forms", "available_on", "TEXT"),
]


class Store:
    """The connection and its lock; callers hold ``store.lock`` around a unit of work."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # Page cache of up to 64 MiB instead of SQLite's 2 MiB: every form inserts into and looks up five
        # indexes keyed at random (NISS, dossier, reference); at 100,000 dossiers they outgrow 2 MiB and each
        # look-up re-read its pages from the file (issue #20: CPU per form grew with the state's size).
        # Memory only: what is written and when it is synced are unchanged.
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.executescript(_SCHEMA)
        self._upgrade()
        # settings (clock, config) are read several times per form and written only through set_setting
        self._settings: dict[str, str | None] = {}

    def _upgrade(self) -> None:
        """Columns added since a state file may have been created (the state survives restarts and upgrades)."""
        for table, column, kind in _ADDED_COLUMNS:
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})").fetchall()}
            if column not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        # one index (ssin, kind, kbo, entry_date) serves every look-up by person: one B-tree less per form
        for index in ("ix_forms_ssin", "ix_forms_person"):
            self.db.execute(f"DROP INDEX IF EXISTS {index}")

    def setting(self, key: str, default: str | None = None) -> str | None:
        if key not in self._settings:
            row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
            self._settings[key] = None if row is None else row[0]
        value = self._settings[key]
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )
        self._settings[key] = value

    def close(self) -> None:
        with self.lock:
            self.db.close()
