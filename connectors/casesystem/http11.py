"""A small HTTP/1.1 keep-alive client: the case-system connector's transport.

Why not urllib3 (or http.client under it): the nightly push sends one request per pushed item (the vendor
API has no bulk endpoint), 16,148 requests for 12,327 contracts, so the client's own CPU per request is
most of the push's CPU.  Measured on loopback against the simulator, one thread, keep-alive, the same
PUT of a federal status (client CPU per request, shared 2-core machine at load ~7): urllib3 2.8
294-298 us, http.client alone 151-152 us, this module's way (the request written in one ``sendall``, the
reply read with a buffered reader and parsed here) 31-34 us.  Most of the difference is pure Python
bookkeeping: header objects, ``email.parser`` for every reply's headers, response wrappers.

What it does, and nothing more: one request at a time per connection (no pipelining); the request's
head and body in one write; ``Host``, ``Accept-Encoding: identity`` and ``Content-Length`` like
http.client; replies with ``Content-Length``, ``Transfer-Encoding: chunked`` or read until close,
interim 1xx skipped, no body for HEAD/204/304; ``Connection: close`` (or HTTP/1.0 without keep-alive)
closes the connection after the reply; TLS with the default context (system CAs, host name checked,
TLS 1.2 or later); connect and read timeouts; bounded header lines and header count.  Idle connections
are kept (at most ``maxsize``, the extra ones are closed, like urllib3's ``block=False``), and one that
the server closed while idle is dropped before reuse (a readable idle socket), as urllib3 does.  No
retries, no redirects, no proxies (the connector's own rules decide; urllib3's pool had none either).
Every failure of the exchange raises :class:`TransportError`; the connection is then discarded.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ConnectionPool", "Headers", "Response", "TransportError"]

_MAX_LINE = 65536
_MAX_HEADERS = 100


class TransportError(Exception):
    """The exchange failed (connect, send, receive, or a reply that is not HTTP/1.x)."""


class Headers(dict[str, str]):
    """Reply headers, names looked up case-insensitively (stored lower-case; repeated ones joined
    with ", " as urllib3's ``HTTPHeaderDict.get`` does)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class Response:
    __slots__ = ("data", "headers", "status")

    def __init__(self, status: int, headers: Headers, data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data


class _Connection:
    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def dropped(self) -> bool:
        """An idle keep-alive connection is readable only if the server closed it (or sent garbage)."""
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.sock.close()


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\x00]")


class ConnectionPool:
    """Keep-alive connections to one origin (``http://host[:port][/prefix]`` or https), shareable by threads."""

    def __init__(
        self,
        base_url: str,
        *,
        maxsize: int = 10,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported base URL scheme or host: {parts.scheme!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        self._host_header = name if self.port == default else f"{name}:{self.port}"
        self.maxsize = maxsize
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        if self.scheme == "https" and ssl_context is None:
            ssl_context = ssl.create_default_context()
            ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._ssl = ssl_context
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------------

    def _new(self) -> _Connection:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.read_timeout)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _get(self) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new()
            if not conn.dropped():
                return conn
            conn.close()

    def _put(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # -- one exchange --------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str]
    ) -> Response:
        """Send one request and read its whole reply; the connection goes back to the pool."""
        if not path.startswith("/") or _CONTROL_OR_SPACE.search(path):
            raise ValueError(
                "the request path must start with / and hold no space or control character"
            )
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}"]
        if not any(name.lower() == "accept-encoding" for name in headers):
            lines.append("Accept-Encoding: identity")
        if _LINE_BREAK.search("".join((*headers, *headers.values()))) or any(
            ":" in name for name in headers
        ):
            raise ValueError("a header name or value holds a line break (or a name a colon)")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            conn = self._get()
        except OSError as exc:
            raise TransportError(f"could not connect: {type(exc).__name__}") from exc
        # A reader per exchange, as http.client does: nothing a reply left unread can be taken for the
        # next request's reply.
        reader = conn.sock.makefile("rb")
        try:
            conn.sock.sendall(head + body if body else head)
            response, keep = _read_response(reader, method)
        except (OSError, ValueError, TransportError) as exc:
            conn.close()
            if isinstance(exc, TransportError):
                raise
            raise TransportError(f"exchange failed: {type(exc).__name__}") from exc
        except BaseException:
            conn.close()
            raise
        finally:
            reader.close()
        if keep:
            self._put(conn)
        else:
            conn.close()
        return response


def _line(reader: Any) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise TransportError("reply line too long")
    return line


def _read_response(reader: Any, method: str) -> tuple[Response, bool]:
    """(the reply, whether the connection may carry another request)."""
    while True:
        line = _line(reader)
        if not line:
            raise TransportError("the server closed the connection without a reply")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise TransportError("the reply is not HTTP/1.x")
        version, status = parts[0], int(parts[1])
        if not 100 <= status <= 999:
            raise TransportError("the reply's status code is out of range")
        headers = Headers()
        for _ in range(_MAX_HEADERS + 1):
            raw = _line(reader)
            if raw in (b"\r\n", b"\n"):
                break
            if not raw:
                raise TransportError("the server closed the connection inside the reply's headers")
            name, sep, value = raw.partition(b":")
            if not sep:
                raise TransportError("malformed reply header")
            key = name.strip().lower().decode("latin-1")
            text = value.strip().decode("latin-1")
            previous = dict.get(headers, key)
            dict.__setitem__(headers, key, text if previous is None else f"{previous}, {text}")
        else:
            raise TransportError("too many reply headers")
        if 100 <= status < 200 and status != 101:
            continue  # interim reply (100 Continue, 103 Early Hints): the real one follows
        break
    tokens = {t.strip().lower() for t in dict.get(headers, "connection", "").split(",")}
    keep = "close" not in tokens and (version != b"HTTP/1.0" or "keep-alive" in tokens)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), keep
    if "chunked" in dict.get(headers, "transfer-encoding", "").lower():
        return Response(status, headers, _read_chunked(reader)), keep
    length = dict.get(headers, "content-length")
    if length is not None:
        values = {v.strip() for v in length.split(",")}
        if len(values) != 1 or not (size := values.pop()).isdigit():
            raise TransportError("invalid Content-Length in the reply")
        data = reader.read(int(size))
        if len(data) < int(size):
            raise TransportError("the reply's body is shorter than its Content-Length")
        return Response(status, headers, data), keep
    return Response(status, headers, reader.read()), False  # delimited by the end of the connection


def _read_chunked(reader: Any) -> bytes:
    parts = []
    while True:
        size_line = _line(reader).split(b";", 1)[0].strip()
        if not size_line or size_line.strip(b"0123456789abcdefABCDEF"):
            raise TransportError("invalid chunk size in the reply")
        size = int(size_line, 16)
        if size == 0:
            break
        chunk = reader.read(size)
        if len(chunk) < size or _line(reader) not in (b"\r\n", b"\n"):
            raise TransportError("truncated chunk in the reply")
        parts.append(chunk)
    for _ in range(_MAX_HEADERS + 1):  # trailers, up to the empty line
        trailer = _line(reader)
        if trailer in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not trailer:
            raise TransportError("the server closed the connection inside the reply's trailers")
    raise TransportError("too many reply trailers")
