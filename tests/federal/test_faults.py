"""Fault injection and hostile replies: the client retries only what is safe, and resolves unknown outcomes
by asking for the status before any resend (no double claim)."""

from __future__ import annotations

import socket
from datetime import UTC, date

import pytest
from piis_connectors.federal import dis
from piis_connectors.federal.client import (
    OutcomeUnknown,
    PermanentError,
    ReplyTooLarge,
    TransientError,
)
from piis_connectors.federal.testing import start_running_simulator

from .conftest import CLOCK, INS, KBO, b_fields, make_client, niss

SSIN = niss()


@pytest.fixture
def ready(sim, client):
    client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))
    return client


def _submit(client, ref="b-1"):
    return client.submit_online("B", [dis.build_form("B", b_fields(ref, SSIN))])


def _count(sim, ref="b-1") -> int:
    return len([f for f in sim.admin.forms() if f["client_ref"] == ref])


@pytest.mark.parametrize("kind", ["unavailable", "http503"])
def test_transient_failures_are_retried(sim, ready, kind) -> None:
    sim.admin.inject_fault(kind, count=2)
    [result] = _submit(ready)
    assert result.evaluation == "ACCEPTED" and _count(sim) == 1
    assert sim.admin._get("faults") == []


def test_transient_failures_give_up_after_the_configured_retries(sim) -> None:
    client = make_client(sim, retries=1)
    sim.admin.inject_fault("unavailable", count=5)
    with pytest.raises(TransientError):
        client.manage_access(SSIN, "LIST", date(2010, 1, 1))
    assert sim.admin._get("faults")[0]["remaining"] == 3  # first try + one retry
    client.close()


def test_soap_client_fault_is_permanent_and_not_retried(sim, ready) -> None:
    sim.admin.inject_fault("soap_fault", count=3)
    with pytest.raises(PermanentError, match="-000050"):
        _submit(ready)
    assert sim.admin._get("faults")[0]["remaining"] == 2


@pytest.mark.parametrize(
    "kind, delay, error",
    [
        ("timeout", 1.5, OutcomeUnknown),
        ("malformed", 0, OutcomeUnknown),
        ("hostile", 0, OutcomeUnknown),
        ("huge", 300_000, ReplyTooLarge),
    ],
)
def test_unusable_reply_after_sending_is_resolved_by_status_not_by_resend(
    sim, kind, delay, error
) -> None:
    client = make_client(sim, operation_timeout=0.4, max_reply_bytes=100_000)
    client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))
    sim.admin.inject_fault(kind, delay=delay)
    with pytest.raises(error):
        _submit(client)
    state, result = client.status(["b-1"])["b-1"]
    assert state == "PROCESSED" and result.evaluation == "ACCEPTED"
    assert _count(sim) == 1
    client.close()


def test_duplicated_reply_is_counted_once(sim, ready) -> None:
    sim.admin.inject_fault("duplicate")
    results = ready.submit_online(
        "B",
        [
            dis.build_form("B", b_fields("b-1", SSIN)),
            dis.build_form("B", b_fields("b-2", niss(counter=35), dossier="X2")),
        ],
    )
    assert [r.client_reference for r in results] == ["b-1", "b-2"]


def test_stale_reply_of_another_message_is_not_trusted(sim, ready) -> None:
    _submit(ready, "b-1")
    sim.admin.inject_fault("stale")
    with pytest.raises(OutcomeUnknown, match="another message"):
        ready.submit_online(
            "C",
            [
                dis.build_form(
                    "C",
                    {
                        "ClientReference": "c-1",
                        "CpasName": "Liège",
                        "InsCode": INS,
                        "KBOBCE": KBO,
                        "SSIN": SSIN,
                        "Dossier": "D-0001",
                        "EntryDate": date(2025, 4, 1),
                        "DecisionDate": date(2025, 4, 1),
                        "DecisionNature": "2",
                        "Regularisation": "0",
                    },
                )
            ],
        )
    assert ready.status(["c-1"])["c-1"][0] == "PROCESSED"


def test_out_of_order_batch_results_are_matched_by_reference(sim, ready) -> None:
    refs = [f"b-{i}" for i in range(6)]
    forms = [
        dis.build_form("B", b_fields(ref, niss(counter=40 + i), dossier=f"X{i}"))
        for i, ref in enumerate(refs)
    ]
    for i in range(6):
        ready.manage_access(niss(counter=40 + i), "REGISTER", date(2010, 1, 1))
    ticket = ready.submit_batch(forms)
    ready.wait_batch(ticket)
    sim.admin.inject_fault("shuffle")
    status, results = ready.batch_result(ticket)
    assert status == "DONE" and sorted(r.client_reference for r in results) == refs
    assert all(r.ssin == niss(counter=40 + int(r.client_reference[2:])) for r in results)


def test_connection_refused_is_transient(sim) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from piis_connectors.federal.client import ClientConfig, FederalClient
    from piis_connectors.federal.envelope import AuthorizedUser

    client = FederalClient(
        ClientConfig(
            endpoint=f"http://127.0.0.1:{port}/x",
            retries=1,
            backoff=0.01,
            user=AuthorizedUser("00000000097", "it@cpas.be", KBO),
        )
    )
    with pytest.raises(TransientError):
        client.manage_access(SSIN, "LIST", date(2010, 1, 1))


def test_outgoing_document_that_fails_validation_never_leaves(sim, ready) -> None:
    from piis_connectors.federal.client import OutgoingInvalid

    with pytest.raises(OutgoingInvalid) as info:
        ready.submit_online("B", [dis.build_form("B", b_fields("b-1", SSIN, Category="x"))])
    assert info.value.issues[0].field == "Category"
    assert _count(sim) == 0


def test_basic_auth_when_configured(tmp_path) -> None:
    running = start_running_simulator(tmp_path / "s.db", basic_auth=("cpas", "secret"))
    try:
        running.admin.register_cpas(KBO, INS)
        running.admin.set_clock(CLOCK)
        with pytest.raises(PermanentError, match="401"):
            make_client(running).manage_access(SSIN, "LIST", date(2010, 1, 1))
        assert (
            make_client(running, basic_auth=("cpas", "secret")).manage_access(
                SSIN, "LIST", date(2010, 1, 1)
            )
            == []
        )
    finally:
        running.stop()


def test_ws_security_signature_is_optional_and_signs_the_body(sim, tmp_path) -> None:
    pytest.importorskip("xmlsec")
    from datetime import datetime as dt
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from piis_connectors.federal.client import make_signature

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cpas-test")])
    now = dt.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    wsse = make_signature(str(tmp_path / "k.pem"), str(tmp_path / "c.pem"))
    client = make_client(sim, wsse=wsse)
    assert client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))[0]["purpose"] == "2"
    envelope = client._zeep.create_message(client._service, "sendXML", "<x/>")
    signed, _ = wsse.apply(envelope, {})
    from lxml import etree

    text = etree.tostring(signed).decode()
    assert "rsa-sha256" in text and "xmlenc#sha256" in text and "BinarySecurityToken" in text
    client.close()
