"""Push-back for file-based vendors: one JSON file per task in ``outbox/``, idempotent on the key.

Why files: a package that only exports nightly files usually imports them too (a "taken" import
or a shared folder the case manager watches).  The file name is derived from the idempotency key,
and the file is created with ``O_EXCL`` after being written to a temporary name, so pushing the
same key twice creates nothing the second time, even from two processes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        return self.directory / f"taak-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def put(self, key: str, task: dict[str, Any]) -> tuple[Path, bool]:
        """Write the task once; returns (path, created?)."""
        target = self.path_for(key)
        if target.exists():
            return target, False
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps({"sleutel": key, **task}, option=orjson.OPT_INDENT_2))
        try:
            os.link(tmp, target)  # atomic, fails if another writer got there first
        except FileExistsError:
            return target, False
        finally:
            tmp.unlink(missing_ok=True)
        return target, True

    def count(self, key: str) -> int:
        return int(self.path_for(key).exists())
