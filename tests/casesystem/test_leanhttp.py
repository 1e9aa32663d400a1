"""The simulators' lean request handler reads every request as ``http.server`` does, and answers the same.

Each raw request is fed to a ``BaseHTTPRequestHandler`` and to a ``LeanRequestHandler`` (same do_*
methods) over an in-memory socket; the parsed request and every byte answered must be the same
(the ``Date`` header is pinned: it is the only part that depends on the clock).
"""

from __future__ import annotations

import io
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from piis_connectors.leanhttp import LeanRequestHandler


class _Socket:
    """Just enough of a socket for StreamRequestHandler: reads from bytes, collects what is sent."""

    def __init__(self, data: bytes) -> None:
        self._in = io.BytesIO(data)
        self.sent = bytearray()

    def makefile(self, mode: str, buffering: int = -1) -> Any:
        if "r" in mode:
            return self._in
        raise AssertionError("the writer is built by StreamRequestHandler")

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def settimeout(self, _value: object) -> None:
        pass

    def setsockopt(self, *_args: object) -> None:
        pass


def _serve(base: type[BaseHTTPRequestHandler], data: bytes) -> dict[str, Any]:
    seen: dict[str, Any] = {"requests": []}

    class Handler(base):  # type: ignore[misc, valid-type]
        protocol_version = "HTTP/1.1"
        server_version = "Sim/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            return "Sun, 06 Dec 2026 21:00:00 GMT"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen["requests"].append(
                (
                    self.command,
                    self.path,
                    self.request_version,
                    self.close_connection,
                    list(self.headers.items()),
                    body,
                )
            )
            payload = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _any

    sock = _Socket(data)
    Handler(sock, ("127.0.0.1", 1234), None)  # handles every request on the "connection"
    seen["sent"] = bytes(sock.sent)
    return seen


_REQUESTS = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
    b"PUT /api/v1/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nIdempotency-Key: k1\r\n\r\nhello"
    b"GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"GET /c HTTP/1.0\r\nHost: h\r\n\r\n",
    b"GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /d HTTP/1.1\r\n\r\n",
    b"GET //evil.example/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"GET /folded HTTP/1.1\r\nX-Long: one\r\n  two\r\n\tthree\r\nConnection: close\r\n\r\n",
    b"GET /dup HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n",
    b"GET /blanks HTTP/1.1\r\nX-A:   spaced  \r\nX-B:\r\nX-C:\t\ttab\r\nConnection: close\r\n\r\n",
    b"GET /lf HTTP/1.1\nX-A: 1\nConnection: close\n\n",
    b"GET /latin HTTP/1.1\r\nX-A: caf\xe9\r\nConnection: close\r\n\r\n",
    b"GET /nocolon HTTP/1.1\r\nX-A: 1\r\nnot a header\r\nX-B: 2\r\nConnection: close\r\n\r\n",
    b"GET /cont-first HTTP/1.1\r\n  lonely\r\nX-A: 1\r\nConnection: close\r\n\r\n",
    b"GET /from HTTP/1.1\r\nFrom someone\r\nX-A: 1\r\n more\r\nConnection: close\r\n\r\n",
    b"GET /from2 HTTP/1.1\r\nX-A: 1\r\nFrom someone\r\n more\r\nConnection: close\r\n\r\n",
    b"GET /colon HTTP/1.1\r\n: no name\r\n cont\r\nX-A: 1\r\nConnection: close\r\n\r\n",
    b"GET /cr HTTP/1.1\r\nX-A: 1\rX-B: 2\r\nConnection: close\r\n\r\n",
    b"GET /cr2 HTTP/1.1\r\nX-A: 1\rnope\r\nX-C: 3\r\nConnection: close\r\n\r\n",
    b"GET /sp HTTP/1.1\r\nX A: 1\r\nConnection: close\r\n\r\n",
    b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    b"GET /old HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
    b"GET /zero\r\n",
    b"POST /zero\r\n",
    b"GET\r\n",
    b"\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n",
    b"GET / HTTPS/1.1\r\n\r\n",
    b"GET / HTTP/1\r\n\r\n",
    b"GET / HTTP/1.1.1\r\n\r\n",
    b"GET / HTTP/a.1\r\n\r\n",
    b"GET / HTTP/1.\xb2\r\n\r\n",
    b"GET / HTTP/12345678901.1\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/0.9\r\n\r\n",
    b"BREW /pot HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET /long HTTP/1.1\r\nX-A: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET /many HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n",
    b"GET /ninety-nine HTTP/1.1\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(98))
    + b"Connection: close\r\n\r\n",
]


@pytest.mark.parametrize("raw", _REQUESTS, ids=range(len(_REQUESTS)))
def test_the_lean_handler_reads_and_answers_like_http_server(raw: bytes) -> None:
    assert _serve(LeanRequestHandler, raw) == _serve(BaseHTTPRequestHandler, raw)


def test_send_whole_sends_the_same_bytes_in_one_write() -> None:
    writes: list[bytes] = []

    class Handler(LeanRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.wfile.write = lambda data: writes.append(bytes(data)) or len(data)  # type: ignore[method-assign]
            self.send_whole(201, [("Content-Type", "text/plain"), ("Content-Length", "2")], b"ok")

    sock = _Socket(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    Handler(sock, ("127.0.0.1", 1234), None)
    assert len(writes) == 1
    head, _, body = writes[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 201 Created" and body == b"ok"
    assert [line.split(b":")[0] for line in lines[1:]] == [
        b"Server",
        b"Date",
        b"Content-Type",
        b"Content-Length",
    ]


def test_the_date_header_is_the_current_second() -> None:
    from email.utils import parsedate_to_datetime
    from time import time

    class Handler(LeanRequestHandler):
        pass

    text = Handler.date_time_string(Handler.__new__(Handler))
    assert abs(parsedate_to_datetime(text).timestamp() - time()) < 2
    assert text.endswith(" GMT")
