"""A small threaded HTTP/1.1 host for the simulator's WSGI app.

Why not ``wsgiref.simple_server``: it closes the connection after every request (HTTP/1.0), so the
client's connection reuse could not be exercised or measured.  ``http.server`` with
``protocol_version = "HTTP/1.1"`` keeps connections alive; the app itself stays plain WSGI.
Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from piis_connectors.federal.simulator.app import PORT_PATH, SimulatorApp
from piis_connectors.leanhttp import LeanRequestHandler
from piis_connectors.threadserver import ServerThread

__all__ = ["SimulatorServer", "start_simulator"]


class _BoundedInput:
    """wsgi.input that never reads past the declared Content-Length (nothing when it is absent,
    negative or not a number)."""

    def __init__(self, rfile: Any, declared: str | None) -> None:
        self._rfile = rfile
        try:
            self.left = max(0, int(declared)) if declared else 0
        except ValueError:
            self.left = 0

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self._rfile.read(size)
        self.left -= len(data)
        return data


class _Handler(LeanRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NovaPrimaSim/1.0"
    # Headers and body leave in one write (send_whole); an error answer of http.server (send_error) still
    # takes two: without TCP_NODELAY, Nagle would hold its body until the client's delayed ACK (~40 ms),
    # which every online call paid when every answer took two (issue #20).  socketserver sets the option.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        return  # request lines would carry nothing useful

    def _run(self) -> None:
        path, _, query = self.path.partition("?")
        # The body is not read here: the app reads it through a reader bounded by the declared
        # length, after checking that length (a limit is enforced before reading, not after).
        declared = self.headers.get("Content-Length")
        body = _BoundedInput(self.rfile, declared)
        address = self.server.server_address
        assert isinstance(address, tuple)  # an IP server (the simulator listens on loopback only)
        environ = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": declared or "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "SERVER_NAME": str(address[0]),
            "SERVER_PORT": str(address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": getattr(self.server, "scheme", "http"),
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        status_headers: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            status_headers[:] = [status, headers]

        chunks = self.server.app(environ, start_response)  # type: ignore[attr-defined]
        data = b"".join(chunks)
        if environ.get("piis.close_connection") or body.left:
            self.close_connection = True  # an unread body would be parsed as the next request
        status, headers = status_headers
        code, _, phrase = status.partition(" ")
        fields = [(key, value) for key, value in headers if key.lower() != "content-length"]
        fields.append(("Content-Length", str(len(data))))
        try:
            self.send_whole(int(code), fields, data, phrase)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout tests)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = _run


class SimulatorServer:
    """The simulator listening on 127.0.0.1:<port> in a background thread (port 0 = pick a free one)."""

    def __init__(
        self,
        db_path: Path | str,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        ssl_context: Any | None = None,
        **app_kwargs: Any,
    ) -> None:
        """``ssl_context``: an ``ssl.SSLContext`` (server side) to serve HTTPS, e.g. with
        ``verify_mode = CERT_REQUIRED`` to demand a client certificate (mutual TLS)."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the simulator only listens on the loopback interface")
        self.app = SimulatorApp(db_path, **app_kwargs)
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.httpd.daemon_threads = True
        self.httpd.app = self.app  # type: ignore[attr-defined]
        self.httpd.scheme = self.scheme  # type: ignore[attr-defined]
        self._server = ServerThread(self.httpd, name="novaprima-http", poll_interval=0.1)

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.base_url + PORT_PATH

    @property
    def wsdl_url(self) -> str:
        return self.endpoint + "?wsdl"

    def start(self) -> SimulatorServer:
        self.app.start_worker()
        self._server.start()
        return self

    def serve_forever(self) -> None:
        self.app.start_worker()
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()
        self.app.close()


def start_simulator(db_path: Path | str, port: int = 0, **kwargs: Any) -> SimulatorServer:
    return SimulatorServer(db_path, port, **kwargs).start()


def main(argv: list[str] | None = None) -> None:
    """``python -m piis_connectors.federal.simulator.server --port N --db PATH`` (light, for load tests)."""
    import argparse

    parser = argparse.ArgumentParser(description="NovaPrima / BCSS simulator")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="var/novaprima-sim.sqlite3")
    parser.add_argument(
        "--require-signature",
        action="append",
        metavar="CERT.pem",
        help="accept only requests signed (WS-Security) by this certificate; repeatable",
    )
    args = parser.parse_args(argv)
    server = SimulatorServer(args.db, args.port, require_signature=args.require_signature)
    print(f"ready {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.app.close()


if __name__ == "__main__":  # pragma: no cover
    main()
