"""``piis-bridge monitor serve``: ``/metrics``, ``/healthz``, ``/readyz`` and ``/health`` on one port.

Why a small WSGI server of its own (wsgiref, one thread per request) rather than only routes on the
console: a scrape and a liveness probe must work on an installation that runs no console, and must keep
working when the console is busy.  The same functions (:mod:`.health`, :mod:`.metrics`) serve the
console's routes, so both answer alike.  Bind it to loopback (default) or behind the reverse proxy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from piis_bridge.config import Settings

__all__ = ["health_response", "monitor_app", "readiness_response", "serve"]

_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


def health_response(settings: Settings) -> tuple[int, dict[str, Any]]:
    """Full checks: 200 while ok or warning, 503 when critical (a load balancer reads the code)."""
    from piis_bridge.observability.health import Status, run_checks

    report = run_checks(settings)
    return (503 if report.status >= Status.CRITICAL else 200), report.to_json()


def readiness_response(settings: Settings) -> tuple[int, dict[str, Any]]:
    from piis_bridge.observability.health import Status, readiness

    report = readiness(settings)
    return (503 if report.status >= Status.CRITICAL else 200), report.to_json()


def monitor_app(settings: Settings) -> Callable[..., Iterable[bytes]]:
    from piis_bridge.db import make_engine
    from piis_bridge.observability.metrics import registry_for

    engine = make_engine(settings.database_url)
    registry = registry_for(settings, engine)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), *_HEADERS])
            return [b""]
        if path == "/metrics":
            body = generate_latest(registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), *_HEADERS])
            return [body]
        if path == "/healthz":  # liveness: the process answers
            return _json(start_response, 200, {"status": "ok"})
        if path == "/readyz":
            return _json(start_response, *readiness_response(settings))
        if path == "/health":
            return _json(start_response, *health_response(settings))
        return _json(
            start_response,
            404,
            {"error": "not found", "paths": ["/metrics", "/healthz", "/readyz", "/health"]},
        )

    return app


def _json(start_response: Callable[..., Any], code: int, body: dict[str, Any]) -> list[bytes]:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(code, "")
    start_response(f"{code} {reason}", [("Content-Type", "application/json"), *_HEADERS])
    return [json.dumps(body).encode()]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # scrapes every 15 s would flood the log; errors still go to stderr through log_error


def serve(
    settings: Settings, host: str, port: int, *, ready: threading.Event | None = None
) -> None:
    """Serve until interrupted."""
    server = make_server(
        host, port, monitor_app(settings), server_class=_Server, handler_class=_QuietHandler
    )
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        server.server_close()
