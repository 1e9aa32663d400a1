"""The federal client: a total deadline per call (connect + send + receive) against a slow-drip
loopback server, every transport failure classified, unexpected reply shapes outcome-unknown."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from piis_connectors.federal.client import (
    ClientConfig,
    DeadlineExceeded,
    FederalClient,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from piis_connectors.federal.envelope import AuthorizedUser

KBO = "0207916035"
SSIN = "85073003328"


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


class _Server:
    """A loopback server answering each connection with *behaviour(conn)*."""

    def __init__(self, behaviour) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/x"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            _read_request(conn)
            self.behaviour(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def server_factory() -> Iterator:
    made: list[_Server] = []

    def make(behaviour) -> _Server:
        made.append(_Server(behaviour))
        return made[-1]

    yield make
    for s in made:
        s.close()


def _client(endpoint: str, **kw) -> FederalClient:
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0.01)
    return FederalClient(
        ClientConfig(endpoint=endpoint, user=AuthorizedUser("00000000097", "it@cpas.be", KBO), **kw)
    )


def _drip_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<")
    while not stop.is_set():
        time.sleep(0.5)
        conn.sendall(b" ")


def _drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n":
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


@pytest.mark.parametrize("behaviour", [_drip_body, _drip_headers], ids=["body", "headers"])
def test_slow_drip_server_is_abandoned_within_the_deadline(server_factory, behaviour) -> None:
    server = server_factory(behaviour)
    client = _client(
        server.endpoint, connect_timeout=1.0, operation_timeout=10.0, total_timeout=2.0
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        client.manage_access(SSIN, "REGISTER", date(2020, 1, 1))
    elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 1.0, elapsed
    assert isinstance(info.value, OutcomeUnknown)  # the message may have been processed


def test_the_default_deadline_is_connect_plus_operation_timeout(server_factory) -> None:
    server = server_factory(_drip_body)
    client = _client(server.endpoint, connect_timeout=0.5, operation_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        client.manage_access(SSIN, "REGISTER", date(2020, 1, 1))
    assert time.monotonic() - started < 2.0 + 1.0


def _reply(body: bytes):
    def behaviour(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )

    return behaviour


SOAP = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soap:Body>%s</soap:Body></soap:Envelope>"
)
WSC = b'xmlns:tns="http://ksz-bcss.fgov.be/connectors/WebServiceConnector"'


@pytest.mark.parametrize(
    "body",
    [
        SOAP
        % (
            b"<tns:xmlString "
            + WSC
            + b">&lt;x/&gt;</tns:xmlString><tns:extra "
            + WSC
            + b">1</tns:extra>"
        ),
        SOAP
        % (
            b"<tns:sendXMLResponse "
            + WSC
            + b"><tns:xmlString>&lt;x/&gt;</tns:xmlString><tns:other>1</tns:other>"
            b"</tns:sendXMLResponse>"
        ),
        SOAP % b"<unexpected/>",
        SOAP % b"",
        b"<notsoap/>",
    ],
    ids=[
        "extra-next-to-xmlString",
        "extra-in-response",
        "unknown-element",
        "empty-body",
        "not-soap",
    ],
)
def test_unexpected_reply_shapes_are_outcome_unknown(server_factory, body: bytes) -> None:
    server = server_factory(_reply(body))
    client = _client(server.endpoint, connect_timeout=1.0, operation_timeout=5.0)
    with pytest.raises(OutcomeUnknown):
        client.manage_access(SSIN, "REGISTER", date(2020, 1, 1))


def test_reply_cut_in_the_middle_is_outcome_unknown(server_factory) -> None:
    def cut(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<soap:Envelope"
        )

    server = server_factory(cut)
    with pytest.raises(OutcomeUnknown):
        _client(server.endpoint, connect_timeout=1.0, operation_timeout=5.0).manage_access(
            SSIN, "REGISTER", date(2020, 1, 1)
        )


def test_chunked_encoding_broken_is_outcome_unknown(server_factory) -> None:
    def broken(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx"
        )

    server = server_factory(broken)
    with pytest.raises(OutcomeUnknown):
        _client(server.endpoint, connect_timeout=1.0, operation_timeout=5.0).manage_access(
            SSIN, "REGISTER", date(2020, 1, 1)
        )


def test_connection_refused_is_transient_and_bad_endpoint_permanent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError):
        _client(f"http://127.0.0.1:{port}/x").manage_access(SSIN, "LIST", date(2010, 1, 1))
    with pytest.raises(PermanentError):
        _client("htp:/nowhere").manage_access(SSIN, "LIST", date(2010, 1, 1))
