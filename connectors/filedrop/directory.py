"""A drop directory for nightly export files: claim atomically, never read half-written files.

Layout under the drop root::

    incoming/     the vendor (or an SFTP job) drops files here
    processing/   claimed files, being read (moved here by an atomic rename)
    done/         fully processed files (+ <name>.report.json when rows were quarantined)
    failed/       unreadable files + <name>.report.json saying why
    .filedrop.sqlite   content hashes of processed files (re-dropping the same bytes changes nothing)

Conventions for the writer (documented in docs/casesystem.md):

* write to ``<name>.part`` (or ``.tmp``) and rename when complete - files with those suffixes, and
  hidden files (leading dot), are never taken;
* or write in place: a file is only taken once its size and modification time have not changed
  for ``settle_seconds`` (default 5 s), so a slow copy is not read half-way.

Why a rename to claim: ``os.rename`` within one file system is atomic, so two workers can never
both claim a file (the loser gets ``FileNotFoundError`` and moves on), and a crash leaves the file
in ``processing/`` where the next run finds it again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["IGNORED_SUFFIXES", "ClaimedFile", "DropDirectory"]

IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", ".swp")
_HASHES: dict[tuple[str, int, int, int], str] = {}


@dataclass(frozen=True)
class ClaimedFile:
    """A file in ``processing/``: its path, content hash and the name it was dropped under."""

    path: Path
    sha256: str
    name: str
    modified_at: datetime


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name.1``, ``name.2``... if taken (never overwrite a kept file)."""
    target = directory / name
    n = 0
    while target.exists() or target.with_name(target.name + ".report.json").exists():
        n += 1
        target = directory / f"{name}.{n}"
    return target


class DropDirectory:
    def __init__(
        self, root: Path, settle_seconds: float = 5.0, suffixes: Iterable[str] | None = None
    ) -> None:
        self.root = Path(root)
        self.settle_seconds = settle_seconds
        self.suffixes = tuple(s.lower() for s in suffixes) if suffixes else None
        self.incoming, self.processing = self.root / "incoming", self.root / "processing"
        self.done, self.failed = self.root / "done", self.root / "failed"
        for d in (self.incoming, self.processing, self.done, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        self._db_path = self.root / ".filedrop.sqlite"
        with self._db() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS processed (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, "
                "done_as TEXT NOT NULL, processed_at TEXT NOT NULL)"
            )

    def _db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._db_path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    # -- scanning -------------------------------------------------------------------------------

    def _eligible(self, path: Path) -> bool:
        name = path.name.lower()
        if name.startswith(".") or name.endswith(IGNORED_SUFFIXES) or name.endswith(".report.json"):
            return False
        return self.suffixes is None or name.endswith(self.suffixes)

    def ready(self, now: float | None = None) -> list[Path]:
        """Files in ``incoming/`` that are complete: eligible name, unchanged for ``settle_seconds``.

        Ordered by (modification time, name): exports are processed in the order they were made.
        """
        now = time.time() if now is None else now
        found: list[tuple[float, str, Path]] = []
        for entry in os.scandir(self.incoming):
            if not entry.is_file(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if not self._eligible(path):
                continue
            st = entry.stat()
            if now - st.st_mtime < self.settle_seconds:
                continue  # still being written (or just copied): look again next time
            found.append((st.st_mtime, entry.name, path))
        return [p for _, _, p in sorted(found)]

    def orphans(self) -> list[Path]:
        """Files left in ``processing/`` by a crash (claimed, never finished), oldest claim first."""
        items = [
            Path(e.path)
            for e in os.scandir(self.processing)
            if e.is_file() and self._eligible(Path(e.path))
        ]
        return sorted(items, key=lambda p: (p.stat().st_mtime, p.name))

    # -- state changes ----------------------------------------------------------------------------

    def _describe(self, path: Path) -> ClaimedFile:
        st = path.stat()
        # A claimed file is described once per page; hash it once (same inode, size and mtime).
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        sha = _HASHES.get(key)
        if sha is None:
            sha = _sha256(path)
            if len(_HASHES) > 256:
                _HASHES.clear()
            _HASHES[key] = sha
        return ClaimedFile(
            path=path,
            sha256=sha,
            name=path.name,
            modified_at=datetime.fromtimestamp(st.st_mtime, tz=UTC),
        )

    def claim(self, path: Path) -> ClaimedFile | None:
        """Move *path* from incoming/ to processing/ atomically; None if someone else was faster."""
        target = _free_name(self.processing, path.name)
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        return self._describe(target)

    def adopt(self, path: Path) -> ClaimedFile:
        """Describe a file already in processing/ (an orphan of a crashed run)."""
        return self._describe(path)

    def is_processed(self, sha256: str) -> str | None:
        with self._db() as conn:
            row = conn.execute(
                "SELECT done_as FROM processed WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return None if row is None else str(row[0])

    def finish(self, claimed: ClaimedFile, report: dict[str, Any] | None = None) -> Path | None:
        """processing/ -> done/ and remember the content hash.  Idempotent (already moved: no-op)."""
        if not claimed.path.exists():
            return None
        target = _free_name(self.done, claimed.name)
        if report:
            self._write_report(target, report)
        os.rename(claimed.path, target)
        with self._db() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO processed VALUES (?, ?, ?, ?)",
                (claimed.sha256, claimed.name, target.name, datetime.now(UTC).isoformat()),
            )
        return target

    def skip_duplicate(self, claimed: ClaimedFile, first: str) -> Path:
        """The same bytes were processed before: move to done/ untouched, with a note."""
        target = _free_name(self.done, claimed.name)
        self._write_report(
            target,
            {
                "file": claimed.name,
                "status": "duplicate",
                "sha256": claimed.sha256,
                "duplicate_of": first,
                "records": 0,
            },
        )
        os.rename(claimed.path, target)
        return target

    def fail(self, claimed: ClaimedFile, report: dict[str, Any]) -> Path:
        """processing/ -> failed/ with ``<name>.report.json`` beside it."""
        target = _free_name(self.failed, claimed.name)
        self._write_report(
            target, {"file": claimed.name, "status": "failed", "sha256": claimed.sha256, **report}
        )
        os.rename(claimed.path, target)
        return target

    @staticmethod
    def _write_report(target: Path, report: dict[str, Any]) -> None:
        path = target.with_name(target.name + ".report.json")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        os.replace(tmp, path)
