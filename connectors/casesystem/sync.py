"""Resumable incremental pull: a cursor persisted after each processed page.

Why: the nightly job may be killed at any moment.  The cursor is the keyset position of the last
record of the last *fully processed* page and is written atomically (temp file + ``os.replace``), so
a crash between pages loses nothing and a crash inside a page replays that page only (the handler
is idempotent on ``(contractnummer, versie)``).  A record modified while the pull is paging gets a
newer stamp than every cursor already handed out, so it is delivered again later, never skipped.

The core pipeline persists cursors in its own ledger through the ``piis_case_fetch_changes`` hook;
this module is the connector-level equivalent used by the benchmark, the tests and ad-hoc scripts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from piis_connectors.casesystem.client import CaseSystemClient

__all__ = ["FileCursorStore", "PullResult", "pull"]


class FileCursorStore:
    """The cursor in a small file, replaced atomically (never half-written)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return text or None

    def save(self, cursor: str | None) -> None:
        if cursor is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(cursor)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


@dataclass
class PullResult:
    pages: int = 0
    records: int = 0
    cursor: str | None = None


def pull(
    client: CaseSystemClient,
    store: FileCursorStore,
    handle: Callable[[dict[str, Any]], None],
    page_size: int = 500,
    ocmw: str | None = None,
    max_pages: int | None = None,
) -> PullResult:
    """Pull every change after the stored cursor, calling *handle* per record, saving per page."""
    result = PullResult(cursor=store.load())
    while max_pages is None or result.pages < max_pages:
        page = client.fetch_changes(result.cursor, page_size, ocmw=ocmw)
        for item in page.items:
            handle(item)
        result.records += len(page.items)
        result.pages += 1
        if page.cursor != result.cursor:
            store.save(page.cursor)
            result.cursor = page.cursor
        if not page.has_more:
            break
    return result
