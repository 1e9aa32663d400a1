"""The bridge-to-bridge transport over real HTTP on loopback: mutual TLS, retries, answers."""

from __future__ import annotations

import httpx
import pytest
from piis_connectors.transfer import (
    DeliveryError,
    HandlerResult,
    TransferClient,
    TransferEndpoint,
    client_tls_context,
    server_tls_context,
)

from tests.transfer._pki import TestCA


def _echo(body: bytes, peer: dict) -> HandlerResult:
    if body == b"bad":
        return HandlerResult("rejected", "signed-rejection")
    return HandlerResult("accepted", "signed-ack:" + body.decode())


@pytest.fixture
def pki(tmp_path):
    ca = TestCA(tmp_path / "pki")
    return {
        "ca": ca,
        "server": ca.issue("liege-server", "bridge.liege.test", server=True),
        "client": ca.issue("charleroi-client", "bridge.charleroi.test", server=False),
        "rogue": TestCA(tmp_path / "rogue", "rogue-ca").issue(
            "rogue-client", "rogue", server=False
        ),
    }


@pytest.fixture
def mtls_endpoint(pki):
    tls = server_tls_context(
        pki["server"].cert, pki["server"].key, client_ca_path=pki["ca"].pem.cert
    )
    with TransferEndpoint(_echo, tls=tls) as endpoint:
        yield endpoint


def test_mutual_tls_round_trip(mtls_endpoint, pki):
    tls = client_tls_context(pki["ca"].pem.cert, pki["client"].cert, pki["client"].key)
    with TransferClient(mtls_endpoint.url, tls=tls, backoff=0.01) as client:
        result = client.send("abc")
    assert mtls_endpoint.url.startswith("https://127.0.0.1:")
    assert (result.http_status, result.ack, result.attempts) == (200, "signed-ack:abc", 1)


def test_client_without_certificate_is_refused(mtls_endpoint, pki):
    tls = client_tls_context(pki["ca"].pem.cert)
    with (
        TransferClient(mtls_endpoint.url, tls=tls, retries=1, backoff=0.01) as client,
        pytest.raises(DeliveryError) as info,
    ):
        client.send("abc")
    assert not info.value.permanent and info.value.attempts == 2
    assert mtls_endpoint.requests == 0  # refused during the handshake, before HTTP


def test_client_certificate_from_another_ca_is_refused(mtls_endpoint, pki):
    tls = client_tls_context(pki["ca"].pem.cert, pki["rogue"].cert, pki["rogue"].key)
    with (
        TransferClient(mtls_endpoint.url, tls=tls, retries=0) as client,
        pytest.raises(DeliveryError),
    ):
        client.send("abc")
    assert mtls_endpoint.requests == 0


def test_server_not_signed_by_the_trusted_ca_is_refused(mtls_endpoint, pki, tmp_path):
    other = TestCA(tmp_path / "other", "other-ca")
    tls = client_tls_context(other.pem.cert, pki["client"].cert, pki["client"].key)
    with (
        TransferClient(mtls_endpoint.url, tls=tls, retries=0) as client,
        pytest.raises(DeliveryError, match="ConnectError"),
    ):
        client.send("abc")


def test_retries_on_5xx_and_429_then_delivers():
    waits = []
    with TransferEndpoint(_echo) as endpoint:
        endpoint.inject(503, 429, 500)
        client = TransferClient(endpoint.url, retries=4, backoff=0.25, sleep=waits.append)
        result = client.send("x")
        client.close()
    assert (result.http_status, result.attempts) == (200, 4)
    assert waits == [0.25, 0.5, 1.0]
    assert endpoint.requests == 4


def test_gives_up_after_the_retries_and_says_it_is_temporary():
    with TransferEndpoint(_echo) as endpoint:
        endpoint.inject(503, 503, 503)
        client = TransferClient(endpoint.url, retries=2, sleep=lambda s: None)
        with pytest.raises(DeliveryError, match="no answer after 3 attempts") as info:
            client.send("x")
        client.close()
    assert not info.value.permanent


def test_rejection_is_an_answer_not_retried():
    with (
        TransferEndpoint(_echo) as endpoint,
        TransferClient(endpoint.url, sleep=lambda s: pytest.fail("retried")) as client,
    ):
        result = client.send("bad")
    assert (result.http_status, result.ack) == (422, "signed-rejection")
    assert endpoint.requests == 1


def test_unreachable_endpoint_is_retried_then_temporary():
    with TransferEndpoint(_echo) as endpoint:
        url = endpoint.url
    with (
        TransferClient(url, retries=1, sleep=lambda s: None) as client,
        pytest.raises(DeliveryError) as info,
    ):
        client.send("x")
    assert not info.value.permanent and info.value.attempts == 2


def test_handler_crash_is_503_and_other_paths_404():
    def boom(body, peer):
        raise RuntimeError("db locked")

    with TransferEndpoint(boom) as endpoint:
        assert (
            httpx.post(endpoint.url + "/piis-transfer/v1/packages", content=b"x").status_code == 503
        )
        assert httpx.post(endpoint.url + "/other", content=b"x").status_code == 404
        assert httpx.get(endpoint.url + "/piis-transfer/v1/health").json() == {"ok": True}
        client = TransferClient(endpoint.url, retries=1, sleep=lambda s: None)
        with pytest.raises(DeliveryError):
            client.send("x")
        client.close()


def test_body_over_the_limit_is_refused(monkeypatch):
    from piis_connectors.transfer import server

    monkeypatch.setattr(server, "MAX_BODY", 10)
    with (
        TransferEndpoint(_echo) as endpoint,
        TransferClient(endpoint.url, retries=0) as client,
        pytest.raises(DeliveryError, match="HTTP 413") as info,
    ):
        client.send("x" * 11)
    assert info.value.permanent
