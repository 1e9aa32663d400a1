"""The case-system connector's HTTP/1.1 transport against a scripted server (raw bytes on a socket)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from piis_connectors.casesystem.http11 import ConnectionPool, TransportError

Script = Callable[
    [socket.socket, bytes], bool
]  # (connection, request bytes) -> keep the connection


class _Server:
    """Accepts connections; for each request read (head + Content-Length body), calls the script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                request, buf = head + b"\r\n\r\n" + rest[:length], rest[length:]
                self.requests.append(request)
                if not self.script(conn, request):
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], tuple[_Server, ConnectionPool]]]:
    made: list[tuple[_Server, ConnectionPool]] = []

    def make(script: Script) -> tuple[_Server, ConnectionPool]:
        server = _Server(script)
        pool = ConnectionPool(f"http://127.0.0.1:{server.port}", maxsize=2, read_timeout=5)
        made.append((server, pool))
        return server, pool

    yield make
    for server, pool in made:
        pool.close()
        server.close()


def _reply(raw: bytes, keep: bool = True) -> Script:
    def script(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(raw)
        return keep

    return script


def test_one_write_per_request_with_host_length_and_headers(serve) -> None:
    server, pool = serve(
        _reply(b'HTTP/1.1 201 Created\r\nContent-Length: 2\r\nETag: "v1"\r\n\r\n{}')
    )
    r = pool.request("PUT", "/a/b?x=1", body=b'{"k":1}', headers={"Idempotency-Key": "k1"})
    assert (r.status, r.data, r.headers.get("etag"), r.headers["ETAG"]) == (
        201,
        b"{}",
        '"v1"',
        '"v1"',
    )
    assert "Etag" in r.headers and "Retry-After" not in r.headers
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"PUT /a/b?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"Content-Length: 7" in lines and b"Idempotency-Key: k1" in lines
    assert body == b'{"k":1}'


def test_connection_is_reused_until_the_server_says_close(serve) -> None:
    replies = iter(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd",
        ]
    )

    def script(conn: socket.socket, request: bytes) -> bool:
        raw = next(replies)
        conn.sendall(raw)
        return b"close" not in raw

    server, pool = serve(script)
    assert [pool.request("GET", "/", headers={}).data for _ in range(4)] == [b"a", b"b", b"c", b"d"]
    assert server.connections == 2


def test_chunked_and_close_delimited_bodies(serve) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\nT: 1\r\n\r\n"
    _, pool = serve(_reply(chunked))
    assert pool.request("GET", "/", headers={}).data == b"abcdef"
    assert (
        pool.request("GET", "/", headers={}).data == b"abcdef"
    )  # same connection, nothing left over
    _, pool = serve(_reply(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", keep=False))
    assert pool.request("GET", "/", headers={}).data == b"until the end"


def test_interim_replies_and_bodiless_statuses(serve) -> None:
    _, pool = serve(
        _reply(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n")
    )
    r = pool.request("GET", "/", headers={"If-None-Match": "x"})
    assert (r.status, r.data) == (304, b"")
    assert pool.request("GET", "/", headers={}).status == 304


def test_a_connection_the_server_closed_while_idle_is_not_reused(serve) -> None:
    server, pool = serve(_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False))
    assert pool.request("GET", "/", headers={}).data == b"ok"
    time.sleep(0.1)  # the server has closed the kept connection by now
    assert pool.request("GET", "/", headers={}).data == b"ok"
    assert server.connections == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # closed without a reply
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
def test_a_broken_reply_is_a_transport_error_and_the_connection_is_dropped(serve, raw) -> None:
    _, pool = serve(_reply(raw, keep=False))
    with pytest.raises(TransportError):
        pool.request("GET", "/", headers={})
    assert pool._idle == []


def test_read_timeout_and_refused_connection_are_transport_errors(serve) -> None:
    def silent(conn: socket.socket, request: bytes) -> bool:
        threading.Event().wait(2)
        return False

    server, _ = serve(silent)
    pool = ConnectionPool(f"http://127.0.0.1:{server.port}", read_timeout=0.2)
    with pytest.raises(TransportError):
        pool.request("GET", "/", headers={})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError):
        ConnectionPool(f"http://127.0.0.1:{port}").request("GET", "/", headers={})


def test_header_injection_and_bad_paths_are_refused_before_sending(serve) -> None:
    server, pool = serve(_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    for headers, path in (({"Idempotency-Key": "a\r\nX-Evil: 1"}, "/"), ({}, "/a b"), ({}, "a")):
        with pytest.raises(ValueError):
            pool.request("GET", path, headers=headers)
    assert server.requests == []


def test_idle_connections_are_capped(serve) -> None:
    _, pool = serve(_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    conns = [pool._new() for _ in range(4)]
    for conn in conns:
        pool._put(conn)
    assert len(pool._idle) == pool.maxsize == 2
