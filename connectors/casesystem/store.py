"""The simulator's own state: a SQLite file holding contracts, tasks, federal statuses and draft contracts.

Why SQLite and why this ordering: the simulator must hold 50,000+ dossiers and serve a change feed
that never skips a record modified while a client pages through it.  Every write runs under one
lock inside ``BEGIN IMMEDIATE`` and stamps the row with ``gewijzigd`` = max(now, last stamp + 1)
microseconds, so stamps are unique, strictly increasing *in commit order*.  The feed is ordered by
``(gewijzigd, id)`` and paged with a keyset cursor ``(gewijzigd, id) > (last_gewijzigd, last_id)``:
a record modified during paging gets a stamp greater than any cursor already handed out, so it
shows up again further on (its new version) and is never skipped.  An index on the key makes an
incremental pull cost O(changes), not O(size of the case system).

Draft contracts (``ontwerpen``) live in a table of their own, outside ``contracten``: the change
feed reads ``contracten`` only, so a draft is never served as a contract.  Activating a draft
inserts it into ``contracten`` (with a fresh stamp, so the feed serves it next) and closes the
draft, in one transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from piis_connectors.casesystem.seed import SeedContract

__all__ = ["DraftConflict", "FeedRow", "Store"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS contracten (
    id TEXT PRIMARY KEY,
    dossier TEXT NOT NULL,
    ocmw TEXT NOT NULL,
    gewijzigd INTEGER NOT NULL,
    versie INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_feed ON contracten (gewijzigd, id);
CREATE INDEX IF NOT EXISTS ix_feed_ocmw ON contracten (ocmw, gewijzigd, id);
CREATE TABLE IF NOT EXISTS taken (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sleutel TEXT NOT NULL UNIQUE,
    contract TEXT NOT NULL,
    data BLOB NOT NULL,
    aangemaakt INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS statussen (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sleutel TEXT NOT NULL UNIQUE,
    contract TEXT NOT NULL,
    data BLOB NOT NULL,
    aangemaakt INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ontwerpen (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sleutel TEXT NOT NULL UNIQUE,
    contract TEXT NOT NULL,
    ocmw TEXT NOT NULL,
    status TEXT NOT NULL,
    data BLOB NOT NULL,
    aangemaakt INTEGER NOT NULL,
    gewijzigd INTEGER NOT NULL,
    reden TEXT
);
CREATE INDEX IF NOT EXISTS ix_ontwerpen_contract ON ontwerpen (contract, status);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
"""


class DraftConflict(Exception):
    """A draft cannot be created, activated or discarded in its current state (answered 409)."""


FeedRow = tuple[int, str, int, bytes]  # (gewijzigd, id, versie, data)


def etag_of(contract_id: str, versie: int) -> str:
    return '"' + hashlib.sha1(f"{contract_id}:{versie}".encode()).hexdigest()[:20] + '"'


class Store:
    """Thread-safe access to the SQLite file: one connection, one lock around every use of it.

    Why one connection and not one per thread (measured, issue #20): the simulator serves each HTTP
    connection from its own thread, and in WAL mode a connection drops its whole page cache when
    another connection has written since its last transaction.  With one connection per thread every
    request after another thread's write re-read its B-tree pages (12 ``pread`` and 8 ``fcntl`` per
    request at 4 concurrent clients); one connection keeps its cache.  The lock also keeps a read
    from seeing another thread's write transaction half done (they share the connection).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        with self._lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta (k, v) VALUES ('laatste_stempel', 0)")

    def _conn(self) -> sqlite3.Connection:
        """The connection (opened again after :meth:`close`, as the per-thread ones were); hold ``_lock``."""
        if self._db is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # up to 32 MiB of page cache (SQLite's default: 2 MiB): the idempotency keys' index of the
            # pushed statuses grows by one random key per contract, 7 MiB at 100,000 dossiers; memory only
            conn.execute("PRAGMA cache_size=-32768")
            self._db = conn
        return self._db

    # -- writes -------------------------------------------------------------------------------

    def _stamp(self, conn: sqlite3.Connection, at: int | None = None) -> int:
        last = conn.execute("SELECT v FROM meta WHERE k = 'laatste_stempel'").fetchone()[0]
        stamp = max(at if at is not None else time.time_ns() // 1000, last + 1)
        conn.execute("UPDATE meta SET v = ? WHERE k = 'laatste_stempel'", (stamp,))
        return stamp

    def seed(
        self, contracts: Iterable[SeedContract], base_stamp: int = 1_767_225_600_000_000
    ) -> int:
        """Insert seeded contracts with deterministic stamps (1 ms apart from *base_stamp*)."""
        count = 0
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                last = conn.execute("SELECT v FROM meta WHERE k = 'laatste_stempel'").fetchone()[0]
                stamp = max(base_stamp, last + 1)
                batch: list[tuple[Any, ...]] = []
                for c in contracts:
                    stamp += 1000
                    batch.append((c.id, c.dossier, c.ocmw, stamp, 1, orjson.dumps(c.data)))
                    if len(batch) >= 5000:
                        conn.executemany(
                            "INSERT OR REPLACE INTO contracten VALUES (?, ?, ?, ?, ?, ?)", batch
                        )
                        count += len(batch)
                        batch.clear()
                if batch:
                    conn.executemany(
                        "INSERT OR REPLACE INTO contracten VALUES (?, ?, ?, ?, ?, ?)", batch
                    )
                    count += len(batch)
                conn.execute("UPDATE meta SET v = ? WHERE k = 'laatste_stempel'", (stamp,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return count

    def _insert_contract(
        self,
        conn: sqlite3.Connection,
        contract_id: str,
        data: dict[str, Any],
        dossier: str | None,
        ocmw: str | None,
    ) -> tuple[int, int]:
        """Insert or replace one contract inside the caller's write transaction."""
        row = conn.execute(
            "SELECT versie, dossier, ocmw FROM contracten WHERE id = ?", (contract_id,)
        ).fetchone()
        versie = (row[0] + 1) if row else 1
        dossier = dossier or (row[1] if row else str(data.get("dossiernummer") or "?"))
        ocmw = ocmw or (row[2] if row else str((data.get("ocmw") or {}).get("kbo") or "?"))
        stamp = self._stamp(conn)
        conn.execute(
            "INSERT OR REPLACE INTO contracten VALUES (?, ?, ?, ?, ?, ?)",
            (contract_id, dossier, ocmw, stamp, versie, orjson.dumps(data)),
        )
        return stamp, versie

    def put(
        self,
        contract_id: str,
        data: dict[str, Any],
        dossier: str | None = None,
        ocmw: str | None = None,
    ) -> tuple[int, int]:
        """Insert or replace one contract document; returns (stamp, version)."""
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                stamp, versie = self._insert_contract(conn, contract_id, data, dossier, ocmw)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return stamp, versie

    def touch(self, ids: list[str], mutate: Any = None) -> int:
        """Modify the given contracts (one write transaction each, like a user saving a screen)."""
        n = 0
        for cid in ids:
            doc = self.get(cid)
            if doc is None:
                continue
            data = doc[3]
            if mutate is not None:
                mutate(data)
            self.put(cid, data)
            n += 1
        return n

    def add_unique(
        self, table: str, key: str, contract_id: str, data: dict[str, Any]
    ) -> tuple[int, bool]:
        """Insert a task/status once per idempotency key; returns (row id, created?)."""
        assert table in ("taken", "statussen")
        with self._lock:
            conn = self._conn()
            row = conn.execute(f"SELECT id FROM {table} WHERE sleutel = ?", (key,)).fetchone()  # noqa: S608
            if row:
                return row[0], False
            cur = conn.execute(
                f"INSERT INTO {table} (sleutel, contract, data, aangemaakt) VALUES (?, ?, ?, ?)",  # noqa: S608
                (key, contract_id, orjson.dumps(data), time.time_ns() // 1000),
            )
            return int(cur.lastrowid or 0), True

    # -- draft contracts ----------------------------------------------------------------------

    def add_draft(
        self, key: str, contract_id: str, ocmw: str, data: dict[str, Any]
    ) -> tuple[int, bool]:
        """Store a draft once per idempotency key; returns (draft id, created?).

        Raises :class:`DraftConflict` when the contract number is already a contract, or already the
        number of another open draft (a second hand-over of the same contract under another key).
        """
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT id FROM ontwerpen WHERE sleutel = ?", (key,)).fetchone()
                if row:
                    conn.execute("COMMIT")
                    return int(row[0]), False
                if conn.execute("SELECT 1 FROM contracten WHERE id = ?", (contract_id,)).fetchone():
                    raise DraftConflict(f"contractnummer {contract_id} bestaat al als contract")
                if conn.execute(
                    "SELECT 1 FROM ontwerpen WHERE contract = ? AND status = 'OPEN'", (contract_id,)
                ).fetchone():
                    raise DraftConflict(
                        f"er is al een open ontwerp met contractnummer {contract_id}"
                    )
                now = time.time_ns() // 1000
                cur = conn.execute(
                    "INSERT INTO ontwerpen (sleutel, contract, ocmw, status, data, aangemaakt, gewijzigd) "
                    "VALUES (?, ?, ?, 'OPEN', ?, ?, ?)",
                    (key, contract_id, ocmw, orjson.dumps(data), now, now),
                )
                conn.execute("COMMIT")
                return int(cur.lastrowid or 0), True
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def get_draft(self, draft_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT id, sleutel, contract, ocmw, status, data, reden FROM ontwerpen WHERE id = ?",
                    (draft_id,),
                )
                .fetchone()
            )
        return None if row is None else self._draft(row)

    def list_drafts(
        self, status: str | None = None, contract_id: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT id, sleutel, contract, ocmw, status, data, reden FROM ontwerpen"
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if contract_id:
            where.append("contract = ?")
            args.append(contract_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._conn().execute(sql + " ORDER BY id", args).fetchall()
        return [self._draft(r) for r in rows]

    @staticmethod
    def _draft(row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "id": row[0],
            "sleutel": row[1],
            "contractnummer": row[2],
            "ocmw": row[3],
            "status": row[4],
            "ontwerp": orjson.loads(row[5]),
            "reden": row[6],
        }

    def activate_draft(
        self, draft_id: int, status: str, patch: dict[str, Any] | None = None
    ) -> tuple[str, int, int]:
        """The social worker activates an open draft: it becomes a contract of the feed.

        One transaction: the contract is inserted with a fresh stamp (the feed serves it next) and
        the draft is closed.  Returns (contract number, stamp, version).
        """
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT contract, ocmw, status, data FROM ontwerpen WHERE id = ?", (draft_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(draft_id)
                contract_id, ocmw, current, raw = row
                if current != "OPEN":
                    raise DraftConflict(f"ontwerp {draft_id} is niet open (status {current})")
                if conn.execute("SELECT 1 FROM contracten WHERE id = ?", (contract_id,)).fetchone():
                    raise DraftConflict(f"contractnummer {contract_id} bestaat al als contract")
                doc = orjson.loads(raw)
                doc.update(patch or {})
                doc["status"] = status
                dossier = str(doc.get("dossiernummer") or f"ONT-{draft_id}")
                stamp, versie = self._insert_contract(conn, contract_id, doc, dossier, ocmw)
                conn.execute(
                    "UPDATE ontwerpen SET status = 'GEACT', gewijzigd = ? WHERE id = ?",
                    (time.time_ns() // 1000, draft_id),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return contract_id, stamp, versie

    def discard_draft(self, draft_id: int, reason: str) -> None:
        """The social worker discards an open draft: it never becomes a contract."""
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT status FROM ontwerpen WHERE id = ?", (draft_id,)
                ).fetchone()
                if row is None:
                    raise KeyError(draft_id)
                if row[0] != "OPEN":
                    raise DraftConflict(f"ontwerp {draft_id} is niet open (status {row[0]})")
                conn.execute(
                    "UPDATE ontwerpen SET status = 'VERW', reden = ?, gewijzigd = ? WHERE id = ?",
                    (reason, time.time_ns() // 1000, draft_id),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- reads --------------------------------------------------------------------------------

    def get(self, contract_id: str) -> tuple[int, int, str, dict[str, Any]] | None:
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT gewijzigd, versie, ocmw, data FROM contracten WHERE id = ?",
                    (contract_id,),
                )
                .fetchone()
            )
        if row is None:
            return None
        return row[0], row[1], row[2], orjson.loads(row[3])

    def version(self, contract_id: str) -> int | None:
        """The contract's version (None: no such contract), without reading its document."""
        with self._lock:
            row = (
                self._conn()
                .execute("SELECT versie FROM contracten WHERE id = ?", (contract_id,))
                .fetchone()
            )
        return None if row is None else int(row[0])

    def feed(
        self, after: tuple[int, str] | None, since: int | None, ocmw: str | None, limit: int
    ) -> list[FeedRow]:
        """Rows strictly after the keyset position *after*, with gewijzigd >= *since*."""
        where, args = [], []
        if after is not None:
            where.append("(gewijzigd > ? OR (gewijzigd = ? AND id > ?))")
            args += [after[0], after[0], after[1]]
        if since is not None:
            where.append("gewijzigd >= ?")
            args.append(since)
        if ocmw is not None:
            where.append("ocmw = ?")
            args.append(ocmw)
        sql = "SELECT gewijzigd, id, versie, data FROM contracten"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY gewijzigd, id LIMIT ?"
        args.append(limit)
        with self._lock:
            return self._conn().execute(sql, args).fetchall()

    def list_rows(self, table: str, contract_id: str | None) -> list[dict[str, Any]]:
        assert table in ("taken", "statussen")
        sql = f"SELECT id, sleutel, contract, data FROM {table}"  # noqa: S608
        args: list[Any] = []
        if contract_id:
            sql += " WHERE contract = ?"
            args.append(contract_id)
        with self._lock:
            rows = self._conn().execute(sql + " ORDER BY id", args).fetchall()
        return [
            {"id": r[0], "sleutel": r[1], "contractnummer": r[2], **orjson.loads(r[3])}
            for r in rows
        ]

    def count_key(self, key: str) -> int:
        """How many tasks, federal statuses and drafts carry this idempotency key (0 or 1 when idempotent)."""
        sql = "SELECT COUNT(*) FROM {} WHERE sleutel = ?"
        with self._lock:
            conn = self._conn()
            return sum(
                int(conn.execute(sql.format(t), (key,)).fetchone()[0])
                for t in ("taken", "statussen", "ontwerpen")
            )

    def ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn().execute("SELECT id FROM contracten ORDER BY id")]

    def count(self) -> int:
        with self._lock:
            return int(self._conn().execute("SELECT COUNT(*) FROM contracten").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
