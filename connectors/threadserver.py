"""An ``http.server`` served from a background thread: the one start/stop/url helper of the connectors.

Why one helper: the case-system simulator, the federal simulator and the transfer endpoint each
serve a ``ThreadingHTTPServer`` in a daemon thread for tests and demos, and each had its own copy of
the start/stop code; a fix to one (joining the thread, closing the socket after ``shutdown``) was
missing from the others.  The servers keep their own handler and socket setup (TLS, fault
injection); only the thread's life cycle lives here.
"""

from __future__ import annotations

import threading
from socketserver import BaseServer

__all__ = ["ServerThread"]


class ServerThread:
    """Serve *server* from a daemon thread named *name*; ``stop`` shuts it down and closes it.

    :param poll_interval: how often ``serve_forever`` checks for ``shutdown`` (seconds); short in
        tests so that ``stop`` returns at once.
    """

    def __init__(self, server: BaseServer, *, name: str, poll_interval: float = 0.05) -> None:
        self.server = server
        self.name = name
        self.poll_interval = poll_interval
        self._thread: threading.Thread | None = None

    def _address(self) -> tuple[str, int]:
        address = self.server.server_address
        if not isinstance(address, tuple):  # a Unix socket: no host and port to name
            raise TypeError(f"{self.name} does not listen on an IP address")
        return str(address[0]), int(address[1])

    @property
    def host(self) -> str:
        return self._address()[0]

    @property
    def port(self) -> int:
        return self._address()[1]

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=self.name,
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread (a CLI command in the foreground) until interrupted."""
        self.server.serve_forever(poll_interval=self.poll_interval)

    def stop(self, timeout: float = 5) -> None:
        """Stop the thread (if started) and close the listening socket; safe to call twice."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=timeout)
            self._thread = None
        self.server.server_close()
