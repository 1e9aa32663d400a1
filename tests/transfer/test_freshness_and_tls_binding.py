"""A package must be fresh (a validly signed package from long ago, never delivered, is refused) and,
over mutual TLS, come over its sender's own certificate (the TLS identity is bound to the BCE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from piis_bridge.transfer.envelope import sign_package
from piis_bridge.transfer.package import build_package
from piis_bridge.transfer.service import bce_of_certificate
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, consent, example, moved


def _package(cpas_keys, *, created: datetime, package_id: str = "b" * 32) -> str:
    contract = example("sanction-history")
    contract = contract.model_copy(
        update={
            "cpas": contract.cpas.model_copy(
                update={
                    "name": CHARLEROI.name,
                    "ins_code": CHARLEROI.ins_code,
                    "bce": CHARLEROI.bce,
                }
            )
        }
    )
    package = build_package(
        moved(contract, LIEGE, MOVE_DATE),
        transfer_id="trf-9",
        sender=CHARLEROI,
        receiver=LIEGE,
        residence_change_date=MOVE_DATE,
        legal_end_date=MOVE_DATE,
        consent=consent(),
        package_id=package_id,
        now=created,
    )
    return sign_package(package, cpas_keys[CHARLEROI.bce])


def test_an_old_package_never_delivered_is_refused_with_the_reason(liege, cpas_keys) -> None:
    now = datetime.now(UTC)
    old = _package(cpas_keys, created=now - timedelta(days=400))
    outcome = liege.receive(old)
    assert outcome.status == "rejected"
    assert "more than 30 days ago" in outcome.reason and "max_package_age_days" in outcome.reason
    assert liege.received("b" * 32) is None
    fresh = _package(cpas_keys, created=now - timedelta(days=29), package_id="c" * 32)
    assert liege.receive(fresh).status == "accepted"


def test_the_window_is_a_setting(liege, cpas_keys) -> None:
    envelope = _package(cpas_keys, created=datetime.now(UTC) - timedelta(days=3))
    liege.max_package_age = timedelta(days=2)
    assert liege.receive(envelope).status == "rejected"
    liege.max_package_age = timedelta(days=5)
    assert liege.receive(envelope).status == "accepted"
    from piis_plugins.transfer.settings import TransferSettings

    assert TransferSettings().max_package_age_days == 30
    assert TransferSettings(max_package_age_days=2).max_package_age_days == 2


def test_a_package_from_the_future_is_refused(liege, cpas_keys) -> None:
    envelope = _package(cpas_keys, created=datetime.now(UTC) + timedelta(days=1))
    outcome = liege.receive(envelope)
    assert outcome.status == "rejected" and "in the future" in outcome.reason


def test_a_redelivery_of_a_package_received_in_time_is_still_a_duplicate(liege, cpas_keys) -> None:
    envelope = _package(cpas_keys, created=datetime.now(UTC) - timedelta(days=1))
    assert liege.receive(envelope).status == "accepted"
    liege.max_package_age = timedelta(
        seconds=1
    )  # time passed; the sender retries an unacknowledged send
    assert liege.receive(envelope).status == "duplicate"


def test_tls_identity_must_be_the_signer(liege, cpas_keys) -> None:
    envelope = _package(cpas_keys, created=datetime.now(UTC))
    relayed = liege.receive(
        envelope, tls_peer_bce=LIEGE.bce
    )  # a genuine package over another CPAS's cert
    assert relayed.status == "rejected"
    assert (
        f"certificate is for BCE {LIEGE.bce}" in relayed.reason and CHARLEROI.bce in relayed.reason
    )
    nameless = liege.receive(envelope, tls_peer_bce="")
    assert nameless.status == "rejected" and "names no BCE number" in nameless.reason
    assert liege.receive(envelope, tls_peer_bce=CHARLEROI.bce).status == "accepted"


@pytest.mark.parametrize(
    ("subject", "bce"),
    [
        ((("organizationIdentifier", "NTRBE-0212456724"),), "0212456724"),
        ((("serialNumber", "0212.456.724"),), "0212456724"),
        ((("commonName", "BE0212456724"),), "0212456724"),
        ((("commonName", "bridge.charleroi.test"),), ""),
    ],
)
def test_bce_of_certificate(subject, bce) -> None:
    assert bce_of_certificate({"subject": (subject,)}) == bce
    assert bce_of_certificate(None) is None


def test_over_real_mutual_tls_a_relayed_package_is_refused(tmp_path, liege, cpas_keys) -> None:
    """The real endpoint with a real TLS handshake: the same genuine package is accepted over
    Charleroi's certificate and refused over Gent's (a CPAS the CA also certifies)."""
    from piis_connectors.transfer import HandlerResult, TransferEndpoint, server_tls_context
    from piis_connectors.transfer.client import TransferClient
    from piis_connectors.transfer.tls import client_tls_context

    from tests.transfer._pki import TestCA
    from tests.transfer._support import GENT

    ca = TestCA(tmp_path / "pki")
    server = ca.issue("liege", "bridge.liege.test", server=True, bce=LIEGE.bce)
    charleroi_cert = ca.issue("charleroi", "bridge.charleroi.test", server=False, bce=CHARLEROI.bce)
    gent_cert = ca.issue("gent", "bridge.gent.test", server=False, bce=GENT.bce)

    def handle(body: bytes, peer: dict) -> HandlerResult:
        outcome = liege.receive(body, tls_peer_bce=bce_of_certificate(peer.get("certificate")))
        return HandlerResult(outcome.status, outcome.ack_envelope)

    endpoint = TransferEndpoint(
        handle, port=0, tls=server_tls_context(server.cert, server.key, ca.pem.cert)
    ).start()
    try:
        envelope = _package(cpas_keys, created=datetime.now(UTC))
        results = {}
        for name, cert in (("gent", gent_cert), ("charleroi", charleroi_cert)):
            client = TransferClient(
                endpoint.url,
                tls=client_tls_context(ca.pem.cert, cert.cert, cert.key),
                retries=0,
                backoff=0.01,
            )
            try:
                results[name] = client.send(envelope).http_status
            finally:
                client.close()
    finally:
        endpoint.stop()
    assert results == {"gent": 422, "charleroi": 200}
    assert liege.received("b" * 32) is not None
    assert [r.reason for r in liege.rejected()][-1].startswith(
        f"the TLS client certificate is for BCE {GENT.bce}"
    )


def test_the_plugin_setting_reaches_the_service(tmp_path) -> None:
    import piis_plugins.transfer
    from piis_plugins.transfer.plugin import service_for

    from piis_bridge.config import Settings
    from piis_bridge.hooks.manager import PluginHost

    cpas = {
        "liege": {
            "name": LIEGE.name,
            "ins_code": LIEGE.ins_code,
            "bce": LIEGE.bce,
            "case_system": None,
            "federal": None,
            "transfer": "transfer",
            "plugins": {
                "transfer": {
                    "database_url": f"sqlite:///{tmp_path}/t.sqlite3",
                    "max_package_age_days": 2,
                }
            },
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("transfer", piis_plugins.transfer)],
        load_entrypoints=False,
        strict=True,
    )
    host.startup()
    assert service_for(host, "liege").max_package_age == timedelta(days=2)
