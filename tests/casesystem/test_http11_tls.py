"""The case-system transport over TLS, against a real TLS server (the standard library's HTTP
server behind ``ssl``) and a throw-away PKI: the system's trusted CAs decide (here the test CA, named
by ``SSL_CERT_FILE`` as an operator would add a private CA), the host name is checked, and neither an
untrusted certificate nor one for another name gets a request through."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from piis_connectors.casesystem.http11 import ConnectionPool, TransportError

from tests.transfer._pki import TestCA


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = b'{"hello": "tls"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, TestCA]]:
    ca = TestCA(tmp_path / "pki")
    pem = ca.issue("server", "127.0.0.1", server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pem.cert, pem.key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], ca
    server.shutdown()
    server.server_close()


def test_a_server_the_trusted_ca_vouches_for_is_reached_and_kept_alive(
    tls_server: tuple[int, TestCA], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.pem.cert))
    pool = ConnectionPool(f"https://127.0.0.1:{port}", maxsize=1)
    try:
        for _ in range(3):
            reply = pool.request("GET", "/x", headers={})
            assert reply.status == 200 and reply.data == b'{"hello": "tls"}'
    finally:
        pool.close()


def test_an_untrusted_certificate_gets_no_request_through(
    tls_server: tuple[int, TestCA], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ca = tls_server
    other = TestCA(tmp_path / "other", name="another-ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(other.pem.cert))
    pool = ConnectionPool(f"https://127.0.0.1:{port}", maxsize=1)
    try:
        with pytest.raises(TransportError):
            pool.request("GET", "/x", headers={})
    finally:
        pool.close()


def test_a_certificate_for_another_name_gets_no_request_through(
    tls_server: tuple[int, TestCA], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.pem.cert))
    # the certificate names 127.0.0.1 only; "localhost" reaches the same server under another name
    pool = ConnectionPool(f"https://localhost:{port}", maxsize=1)
    try:
        with pytest.raises(TransportError):
            pool.request("GET", "/x", headers={})
    finally:
        pool.close()
