"""The lino plugin's own persistent state: the content hash of every contract version handed over.

Why hashes: Lino's contracts carry no modification time and saves made through Lino's ORM (scripts,
imports, the demo fixtures) never reach its change log.  A periodic full scan therefore compares
each contract's content hash with the one last handed to the pipeline and hands over only what
differs; the change log (incremental runs) uses the same hashes so that a change that does not touch
what piis-bridge reads is not handed over again.

Why "pending until the next cursor": the core persists a page's cursor only *after* processing the
page, and a crash replays the page from the previous cursor, which must give the same page.  So the
hashes of a page are kept pending under the cursor that ends the page and committed only when the
core comes back with exactly that cursor (proof that the page was processed).  A replay with the
older cursor drops them.  One JSON file per CPAS in the plugin's state directory, written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

__all__ = ["HashStore"]


class HashStore:
    """``record id -> content hash`` of what the pipeline has processed, with per-cursor pending pages."""

    FILE = "lino-hashes.json"

    def __init__(self, state_dir: Path, lock: threading.Lock) -> None:
        """*lock* guards the file: every store of one file in a process gets the same one (the plugin
        object keeps one per file), so two threads never interleave a read-modify-write."""
        self.path = Path(state_dir) / self.FILE
        self._lock = lock

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"committed": {}, "pending": {}}
        return {
            "committed": dict(data.get("committed") or {}),
            "pending": dict(data.get("pending") or {}),
        }

    def _save(self, data: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".lino-hashes-", dir=self.path.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, sort_keys=True)
        os.replace(tmp, self.path)

    def advance(self, cursor: str | None) -> dict[str, str]:
        """The core came back with *cursor*: commit the page it ended (if ours), drop other pending pages;
        the committed hashes."""
        with self._lock:
            data = self._load()
            page = data["pending"].get(cursor) if cursor is not None else None
            if page is not None:
                data["committed"].update(page)
            if page is not None or data["pending"]:
                data["pending"] = {}
                self._save(data)
            return data["committed"]

    def stage(self, cursor: str, hashes: dict[str, str]) -> None:
        """Hashes of the page that *cursor* ends, committed when the core hands that cursor back."""
        with self._lock:
            data = self._load()
            data["pending"][cursor] = hashes
            self._save(data)

    def committed(self) -> dict[str, str]:
        with self._lock:
            return self._load()["committed"]
