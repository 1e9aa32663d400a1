"""HTTPS with a client certificate (mutual TLS), configured, not coded: the simulator demands a client
certificate signed by its CA; the client presents one (``cert``) and checks the server against the CA
(``verify``)."""

from __future__ import annotations

import ssl
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from .conftest import CLOCK, INS, KBO, niss


def _certs(tmp: Path) -> dict[str, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def write(name: str, k, cert) -> None:
        (tmp / f"{name}.key").write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (tmp / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key = key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    write("ca", ca_key, ca)
    for name, serial, san in (
        ("server", 2, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        ("client", 3, [x509.DNSName("cpas.example")]),
    ):
        k = key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(k.public_key())
            .serial_number(serial)
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write(name, k, cert)
    return {n: tmp / n for n in ("ca", "server", "client")}


@pytest.fixture
def tls_sim(tmp_path):
    pytest.importorskip("cryptography")
    from piis_connectors.federal.simulator.server import start_simulator

    certs = _certs(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(f"{certs['server']}.crt", f"{certs['server']}.key")
    ctx.load_verify_locations(f"{certs['ca']}.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    server = start_simulator(tmp_path / "sim.db", ssl_context=ctx)
    server.app.admin("POST", "cpas", {"kbo": KBO, "ins": INS})
    server.app.admin("POST", "clock", {"now": CLOCK.isoformat()})
    yield server, certs
    server.stop()


def test_mutual_tls_with_a_client_certificate(tls_sim) -> None:
    from piis_connectors.federal.client import ClientConfig, FederalClient
    from piis_connectors.federal.envelope import AuthorizedUser

    server, certs = tls_sim
    assert server.endpoint.startswith("https://127.0.0.1:")
    user = AuthorizedUser("00000000097", "it@cpas.be", KBO)
    client = FederalClient(
        ClientConfig(
            endpoint=server.endpoint,
            user=user,
            verify=f"{certs['ca']}.crt",
            cert=(f"{certs['client']}.crt", f"{certs['client']}.key"),
        )
    )
    assert client.manage_access(niss(), "REGISTER", date(2020, 1, 1))[0]["purpose"] == "2"
    client.close()
    # without a client certificate the TLS handshake is refused: nothing reached the service
    anonymous = FederalClient(
        ClientConfig(endpoint=server.endpoint, user=user, verify=f"{certs['ca']}.crt", retries=0)
    )
    with pytest.raises(Exception) as info:
        anonymous.manage_access(niss(), "LIST", date(2020, 1, 1))
    assert not isinstance(info.value, AssertionError)
    anonymous.close()
