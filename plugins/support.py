"""What the bundled case-system plugins share: a pool of HTTP clients and the settings each CPAS gives.

Why one module: the neptunus and lino plugins each had their own copy of the client cache (a dict, a
lock, a close-all) and of the start-up loop over the configured CPAS; a fix to one was missing from
the other.  The pool is one object per plugin, so its state is in that object, not in loose globals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from piis_bridge.config import Settings

__all__ = ["ClientPool", "configured_settings"]


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


def configured_settings(config: Settings, plugin: str) -> Iterator[dict[str, Any]]:
    """The settings table of *plugin* for each configured CPAS (secrets resolved), for start-up checks."""
    for cpas_id in config.cpas:
        yield config.plugin_settings(cpas_id, plugin)
