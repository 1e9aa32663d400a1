"""What the bundled case-system plugins share: a pool of HTTP clients and the settings each CPAS gives.

Why one module: the neptunus and lino plugins each had their own copy of the client cache (a dict, a
lock, a close-all) and of the start-up loop over the configured CPAS; a fix to one was missing from
the other.  The pool is one object per plugin, so its state is in that object, not in loose globals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from piis_bridge.config import Settings
from piis_bridge.mapping import Mapping, load_mapping

__all__ = ["ClientPool", "MappingCache", "configured_settings"]


class _Closeable(Protocol):
    def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closeable)


class ClientPool(Generic[_C]):
    """One client per key (CPAS, endpoint, account), made on first use and reused: connections stay
    open across hook calls.  ``close`` closes them all (tests, process shutdown)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[Hashable, _C] = {}

    def get(self, key: Hashable, make: Callable[[], _C]) -> _C:
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = make()
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


class MappingCache:
    """Mapping files loaded and validated once per version: a local file (a CPAS's ``mapping_file``) is
    reloaded when it changes on disk, so a long-lived worker picks up a fixed mapping and quarantined
    records can be replayed without a restart; the shipped file is loaded once."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, int], Mapping] = {}

    def get(self, path: str | None, shipped: Traversable) -> Mapping:
        """The mapping of the local file *path*, or of the *shipped* file when *path* is empty."""
        name = path or f"shipped:{shipped}"
        key = (name, Path(path).stat().st_mtime_ns if path else 0)
        with self._lock:
            mapping = self._loaded.get(key)
            if mapping is None:
                mapping = load_mapping(Path(path) if path else shipped, self.model)
                for old in [k for k in self._loaded if k[0] == name]:  # an older version
                    del self._loaded[old]
                self._loaded[key] = mapping
            return mapping


def configured_settings(config: Settings, plugin: str) -> Iterator[dict[str, Any]]:
    """The settings table of *plugin* for each configured CPAS (secrets resolved), for start-up checks."""
    for cpas_id in config.cpas:
        yield config.plugin_settings(cpas_id, plugin)
