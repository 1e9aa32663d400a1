"""WS-Security signatures required by the simulator (federal.md 7.3, issue brief: verify when configured to
require them): the signed client is served; unsigned, untrusted, weak, tampered or wrapped requests are
refused with the WS-Security SOAP faults and nothing is processed.  Over real HTTP."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree
from piis_connectors.federal.client import PermanentError, make_signature

from .conftest import CLOCK, INS, KBO, make_client, niss

xmlsec = pytest.importorskip("xmlsec")

SSIN = niss()
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


def _key_pair(folder: Path, name: str, *, days: int = 1) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


@pytest.fixture
def signed_world(tmp_path):
    from piis_connectors.federal.testing import start_running_simulator

    trusted = _key_pair(tmp_path, "cpas")
    running = start_running_simulator(tmp_path / "sim.sqlite3", require_signature=[trusted[1]])
    running.admin.register_cpas(KBO, INS, "Liège", 6500)
    running.admin.set_clock(CLOCK)
    try:
        yield running, trusted, tmp_path
    finally:
        running.stop()


def _signed_envelope(client, wsse, text: str = "<x/>") -> etree._Element:
    envelope = client._zeep.create_message(client._service, "sendXML", text)
    signed, _ = wsse.apply(envelope, {})
    return signed


def _post(sim, envelope: etree._Element) -> httpx.Response:
    return httpx.post(
        sim.endpoint, content=etree.tostring(envelope), headers={"Content-Type": "text/xml"}
    )


def _fault_code(response: httpx.Response) -> str:
    return (
        etree.fromstring(response.content).findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultcode")
        or ""
    )


def _fault_string(response: httpx.Response) -> str:
    return (
        etree.fromstring(response.content).findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultstring")
        or ""
    )


def test_a_request_signed_by_a_trusted_certificate_is_served(signed_world) -> None:
    sim, (key, cert), _ = signed_world
    client = make_client(sim, wsse=make_signature(key, cert))
    assert client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))[0]["purpose"] == "2"
    assert sim.admin.stats()["integrations"] == 1
    client.close()


def test_unsigned_and_untrusted_requests_are_refused_and_have_no_effect(signed_world) -> None:
    sim, _, folder = signed_world
    unsigned = make_client(sim)
    with pytest.raises(PermanentError, match="no wsse:Security header"):
        unsigned.manage_access(SSIN, "REGISTER", date(2010, 1, 1))
    stranger = make_client(sim, wsse=make_signature(*_key_pair(folder, "stranger")))
    with pytest.raises(PermanentError, match="not trusted"):
        stranger.manage_access(SSIN, "REGISTER", date(2010, 1, 1))
    assert sim.admin.stats()["integrations"] == 0 and sim.admin.stats()["calls"] == {}
    unsigned.close()
    stranger.close()


def test_fault_codes_of_ws_security(signed_world) -> None:
    sim, (key, cert), _ = signed_world
    client = make_client(sim)
    good = _signed_envelope(client, make_signature(key, cert))
    assert _post(sim, good).status_code == 200  # the raw signed envelope is accepted

    tampered = copy.deepcopy(good)
    tampered.find(f"{{{SOAP}}}Body")[0].text = "<y/>"
    response = _post(sim, tampered)
    assert response.status_code == 500 and _fault_code(response) == "wsse:FailedCheck"
    assert _fault_string(response) == "the signature does not verify"

    # signature wrapping: the signed Body moved into the header, another Body put in its place
    wrapped = copy.deepcopy(good)
    body = wrapped.find(f"{{{SOAP}}}Body")
    wrapped.find(f"{{{SOAP}}}Header").append(body)
    evil = etree.SubElement(wrapped, f"{{{SOAP}}}Body")
    evil.append(copy.deepcopy(body[0]))
    evil[0].text = "<evil/>"
    response = _post(sim, wrapped)
    assert _fault_code(response) == "wsse:FailedCheck"
    assert _fault_string(response) == "the signature does not cover the SOAP Body"

    from zeep.wsse.signature import BinarySignature

    weak = _signed_envelope(client, BinarySignature(key, cert))  # zeep's default: RSA-SHA1 / SHA1
    assert _fault_code(_post(sim, weak)) == "wsse:UnsupportedAlgorithm"

    unsigned = client._zeep.create_message(client._service, "sendXML", "<x/>")
    assert _fault_code(_post(sim, unsigned)) == "wsse:InvalidSecurity"
    client.close()


def test_an_expired_trusted_certificate_is_refused(tmp_path) -> None:
    from piis_connectors.federal.testing import start_running_simulator

    key, cert = _key_pair(tmp_path, "old", days=-1)
    running = start_running_simulator(tmp_path / "sim.sqlite3", require_signature=[cert])
    try:
        running.admin.register_cpas(KBO, INS, "Liège", 6500)
        client = make_client(running, wsse=make_signature(key, cert))
        with pytest.raises(PermanentError, match="not valid now"):
            client.manage_access(SSIN, "LIST", date(2010, 1, 1))
        client.close()
    finally:
        running.stop()


def test_without_the_setting_signatures_are_not_required(sim) -> None:
    client = make_client(sim)
    assert client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))[0]["purpose"] == "2"
    client.close()
