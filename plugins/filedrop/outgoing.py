"""Draft contracts for a file-drop case system: one JSON file per hand-over in ``outgoing/``.

What a file drop can honestly do with a received draft: it has no API, so nothing can *create* a
draft in the vendor package from here.  What it can do is what it already does for tasks (the
``outbox/``): leave a file the package imports.  A draft file is written once per idempotency key,
complete or not at all (temporary name, ``fsync``, then an atomic ``link`` that fails if the name
exists), so the package never reads half a file and a second delivery of the same package creates
nothing.  Whether the package imports ``outgoing/`` is a fact of the deployment the bridge cannot
check, so the plugin writes drafts only when the CPAS says so (``outgoing_drafts = true``); otherwise
it answers ``failed`` and the review task goes to ``outbox/`` as before.

File: ``outgoing/ontwerp-<sha256(key)[:32]>.json``::

    {"format": "piis-bridge/draft-contract", "version": 1, "sleutel": key, "contractnr": draft id,
     "titel": ..., "omschrijving": ...,
     "contract": {canonical contract, status DRAFT: the JSON Schema of `piis-bridge schema`},
     "overdracht": {package_id, sender, previous_contract_id, residence_change_date, legal_end_date,
                    continuing_sanctions, subsidies, contacts}}
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import orjson

__all__ = ["DRAFT_FORMAT", "draft_path", "write_draft_once"]

DRAFT_FORMAT = "piis-bridge/draft-contract"


def draft_path(directory: Path, key: str) -> Path:
    return Path(directory) / f"ontwerp-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def write_draft_once(directory: Path, key: str, document: dict[str, Any]) -> tuple[Path, bool]:
    """Write the draft file for *key* unless it exists; returns (path, created?).  Atomic, durable."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = draft_path(directory, key)
    if target.exists():
        return target, False
    tmp = directory / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(
                orjson.dumps(
                    {"format": DRAFT_FORMAT, "version": 1, "sleutel": key, **document},
                    option=orjson.OPT_INDENT_2,
                )
            )
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)  # atomic, and fails if another writer got there first
        except FileExistsError:
            return target, False
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the new name survives a crash too
    finally:
        os.close(dir_fd)
    return target, True
