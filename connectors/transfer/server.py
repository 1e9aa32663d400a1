"""The receiving endpoint: ``POST /piis-transfer/v1/packages`` (a signed package) and
``POST /piis-transfer/v1/assessments`` (the new CPAS's signed review), a compact JWS as the body.

Why :mod:`http.server`: the endpoint takes a few requests a day per CPAS; a threaded standard-
library server with a TLS context is enough, has no dependency, and behaves like the other local
services of the project.  Each connection's TLS handshake runs in its own thread, so one slow or
hostile client cannot stall the others.

Answers: ``200`` with the signed acknowledgement (accepted or duplicate), ``422`` with a signed
rejection (the sender must not retry the same bytes), ``413`` for a body over the limit, ``503``
when the handler failed (the sender retries later).  The handler is a callback; the endpoint
decides nothing.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from piis_connectors.threadserver import ServerThread

from piis_bridge.logging import get_logger

__all__ = [
    "ASSESSMENTS_PATH",
    "HEALTH_PATH",
    "MAX_BODY",
    "PACKAGES_PATH",
    "HandlerResult",
    "TransferEndpoint",
]

PACKAGES_PATH = "/piis-transfer/v1/packages"
ASSESSMENTS_PATH = "/piis-transfer/v1/assessments"
HEALTH_PATH = "/piis-transfer/v1/health"
MAX_BODY = 5 * 1024 * 1024
_log = get_logger("piis_connectors.transfer")


@dataclass(frozen=True)
class HandlerResult:
    """What the callback answers: ``status`` is ``accepted``, ``duplicate`` or ``rejected``."""

    status: str
    ack: str


PackageHandler = Callable[[bytes, dict[str, Any]], HandlerResult]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        tls: ssl.SSLContext | None,
    ) -> None:
        self.tls = tls
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                _log.warning(
                    "transfer endpoint: TLS handshake refused",
                    peer=client_address[0],
                    error=type(exc).__name__,
                )
                with contextlib.suppress(OSError):
                    request.close()
                return
        super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    endpoint: TransferEndpoint

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        return  # requests are logged by the endpoint without bodies

    def _reply(self, code: int, body: bytes, content_type: str = "application/jose") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == HEALTH_PATH:
            self._reply(200, b'{"ok":true}', "application/json")
        else:
            self._reply(404, b'{"error":"not found"}', "application/json")

    def do_POST(self) -> None:  # noqa: N802
        ep = self.endpoint
        handler = {PACKAGES_PATH: ep.handler, ASSESSMENTS_PATH: ep.assessment_handler}.get(
            self.path
        )
        if handler is None:
            self._reply(404, b'{"error":"not found"}', "application/json")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._reply(413, b'{"error":"body too large or without length"}', "application/json")
            return
        body = self.rfile.read(length)
        with ep.lock:
            ep.requests += 1
            fault = ep.faults.pop(0) if ep.faults else None
        if fault is not None:
            self._reply(fault, b'{"error":"injected"}', "application/json")
            return
        peer: dict[str, Any] = {"address": self.client_address[0]}
        if isinstance(self.connection, ssl.SSLSocket):
            peer["certificate"] = self.connection.getpeercert()
        try:
            result = handler(body, peer)
        except Exception as exc:  # noqa: BLE001 - the sender retries; we log the type only
            _log.error("transfer endpoint: handler failed", error=type(exc).__name__)
            self._reply(503, b'{"error":"try again later"}', "application/json")
            return
        code = 422 if result.status == "rejected" else 200
        _log.info("transfer endpoint: answered", path=self.path, status=result.status, http=code)
        self._reply(code, result.ack.encode("ascii"))


class TransferEndpoint:
    """Serve the endpoint on *host*:*port* (port 0: a free port) in a background thread or the foreground.

    ``inject(*statuses)`` makes the next requests answer those HTTP statuses (tests of retries).
    """

    def __init__(
        self,
        handler: PackageHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        assessment_handler: PackageHandler | None = None,
    ) -> None:
        self.handler = handler
        self.assessment_handler = assessment_handler
        self.lock = threading.Lock()
        self.faults: list[int] = []
        self.requests = 0
        handler_cls = type("TransferHandler", (_Handler,), {"endpoint": self})
        self.httpd = _Server((host, port), handler_cls, tls)
        self.tls = tls
        self._server = ServerThread(self.httpd, name="piis-transfer-endpoint")

    @property
    def url(self) -> str:
        return self._server.url("https" if self.tls else "http")

    def inject(self, *statuses: int) -> None:
        with self.lock:
            self.faults.extend(statuses)

    def start(self) -> TransferEndpoint:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TransferEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
