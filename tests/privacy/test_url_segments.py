"""Every id put into a URL is one percent-encoded path segment: ``../``, ``%2F``, ``?``, ``#``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from piis_connectors.casesystem.client import CaseSystemClient, CaseSystemUnavailable

from piis_bridge.urls import segment

HOSTILE = [
    "../../etc/passwd-500",
    "a%2Fb",
    "x?admin=1",
    "y#frag",
    "..",
    ".",
    "GPMI-85 07 30 033 28",
    "Ω/é",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_segment_is_one_opaque_segment(value: str) -> None:
    from urllib.parse import unquote

    enc = segment(value)
    assert "/" not in enc and "?" not in enc and "#" not in enc and enc not in (".", "..")
    assert unquote(enc) == value


def test_empty_id_is_refused() -> None:
    with pytest.raises(ValueError):
        segment("")


class _Recorder(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.paths.append(self.path)  # the raw request target, as sent on the wire
        if self.path.startswith("/oauth/token"):
            body = {"access_token": "t", "expires_in": 300}
        else:
            body = {"id": 1, "nieuw": True}
        data = json.dumps(body).encode()
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    _Recorder.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("record_id", HOSTILE)
def test_casesystem_client_puts_the_id_as_one_segment(
    recorder: tuple[str, list[str]], record_id: str
) -> None:
    url, paths = recorder
    with CaseSystemClient(url, "piis-bridge", "geheim", timeout=5) as client:
        client.put_federal_status("k1", record_id, {"status": "x"})
        client.get_contract(record_id)
    put, get = paths[-2], paths[-1]
    assert put == f"/api/v1/gpmi/contracten/{segment(record_id)}/federale-status"
    assert get == f"/api/v1/gpmi/contracten/{segment(record_id)}"


def test_against_the_simulator_the_hostile_id_reaches_its_own_contract(
    casesystem_simulator,
) -> None:
    sim = casesystem_simulator
    existing = sim.state.store.ids()[0] if hasattr(sim, "state") else None
    with CaseSystemClient(sim.url, "piis-bridge", "geheim", timeout=5) as client:
        _doc, _ = client.get_contract(existing) if existing else (None, None)
        for rid in ["../../etc/passwd-500", "a%2Fb", "x?admin=1", "y#frag"]:
            from piis_connectors.casesystem.client import CaseSystemHTTPError

            with pytest.raises(CaseSystemHTTPError) as err:
                client.put_federal_status(f"k-{rid}", rid, {"status": "ACCEPTED"})
            assert (
                err.value.status == 404
            )  # that contract does not exist; no other resource was hit


def test_transport_errors_name_the_route_not_the_id() -> None:
    with CaseSystemClient(
        "http://127.0.0.1:9", "piis-bridge", "geheim", timeout=0.5, max_retries=0, backoff=0.01
    ) as client:
        client._token, client._token_expires = "t", float("inf")
        with pytest.raises(CaseSystemUnavailable) as err:
            client.get_contract("GPMI-85073003328")
    assert "85073003328" not in str(err.value) and "{id}" in str(err.value)
