"""The signed envelope: who sent it, that nothing changed, and that it is meant for us."""

from __future__ import annotations

import base64
import json
from datetime import UTC

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from piis_bridge.identifiers import is_valid_niss
from piis_bridge.transfer.envelope import (
    Ack,
    EnvelopeError,
    SigningKey,
    TrustList,
    open_ack,
    open_package,
    sign_ack,
    sign_package,
)
from piis_bridge.transfer.package import TransferPackage, build_package  # noqa: F401
from tests.transfer._support import (
    CHARLEROI,
    GENT,
    LIEGE,
    MOVE_DATE,
    consent,
    example,
    moved,
    new_key,
)


@pytest.fixture(scope="module")
def package() -> TransferPackage:
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    return build_package(
        contract,
        transfer_id="trf-1",
        sender=CHARLEROI,
        receiver=LIEGE,
        residence_change_date=MOVE_DATE,
        legal_end_date=MOVE_DATE,
        consent=consent(),
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {p.bce: new_key(p.bce) for p in (CHARLEROI, LIEGE, GENT)}


def _trust(keys: dict[str, SigningKey], *bces: str) -> TrustList:
    return TrustList({bce: keys[bce].public_pem() for bce in bces})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_round_trip_gives_back_the_same_package(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    assert open_package(envelope, _trust(keys, CHARLEROI.bce), own_bce=LIEGE.bce) == package


def test_tampered_payload_is_rejected(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    header, payload, signature = envelope.split(".")
    data = json.loads(_unb64(payload))
    data["continuing_sanctions"][0]["remaining_days"] = 1  # shorten the sanction in transit
    forged = ".".join([header, _b64(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)), signature])
    with pytest.raises(EnvelopeError, match="signature check failed for sender BCE 0212456724"):
        open_package(forged, _trust(keys, CHARLEROI.bce), own_bce=LIEGE.bce)


def test_one_flipped_signature_byte_is_rejected(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    flipped = envelope[:-3] + ("A" if envelope[-3] != "A" else "B") + envelope[-2:]
    with pytest.raises(EnvelopeError, match="signature check failed"):
        open_package(flipped, _trust(keys, CHARLEROI.bce), own_bce=LIEGE.bce)


def test_sender_not_in_trust_list_is_rejected(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    with pytest.raises(EnvelopeError, match="sender BCE 0212456724 is not in the trust list"):
        open_package(envelope, _trust(keys, GENT.bce), own_bce=LIEGE.bce)


def test_signed_by_another_trusted_cpas_claiming_to_be_the_sender_is_rejected(package, keys):
    # Gent is trusted, but may not sign a package that says it comes from Charleroi.
    impostor = SigningKey(bce=CHARLEROI.bce, key=keys[GENT.bce].key)
    envelope = sign_package(package, impostor)
    with pytest.raises(EnvelopeError, match="signature check failed"):
        open_package(envelope, _trust(keys, CHARLEROI.bce, GENT.bce), own_bce=LIEGE.bce)


def test_payload_sender_must_match_the_signing_bce(package, keys):
    with pytest.raises(EnvelopeError, match="is not the signing key's BCE"):
        sign_package(package, keys[GENT.bce])
    # Gent signs with its own kid a payload that claims Charleroi as sender.
    forged = sign_package_raw(
        orjson.dumps(package.model_dump(mode="json")), SigningKey(GENT.bce, keys[GENT.bce].key)
    )
    with pytest.raises(
        EnvelopeError, match="claims sender BCE 0212456724 but is signed by BCE 0207567726"
    ):
        open_package(forged, _trust(keys, GENT.bce), own_bce=LIEGE.bce)


def test_package_for_another_cpas_is_rejected(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    with pytest.raises(EnvelopeError, match="addressed to BCE 0212045562, not to us"):
        open_package(envelope, _trust(keys, CHARLEROI.bce), own_bce=GENT.bce)


def test_alg_header_cannot_choose_the_algorithm(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    header, payload, _signature = envelope.split(".")
    head = json.loads(_unb64(header))
    head["alg"] = "none"
    with pytest.raises(EnvelopeError, match="algorithm 'none' does not match"):
        open_package(
            ".".join([_b64(json.dumps(head).encode()), payload, ""]),
            _trust(keys, CHARLEROI.bce),
            own_bce=LIEGE.bce,
        )


def test_rsa_keys_and_certificates_are_accepted(package):
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = SigningKey.from_pem(CHARLEROI.bce, pem)
    assert key.alg == "PS256"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CPAS de Charleroi")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    trust = TrustList({CHARLEROI.bce: cert.public_bytes(serialization.Encoding.PEM)})
    assert open_package(sign_package(package, key), trust, own_bce=LIEGE.bce) == package


def test_weak_keys_are_refused():
    small = ec.generate_private_key(ec.SECP192R1()) if hasattr(ec, "SECP192R1") else None
    if small is not None:
        with pytest.raises(EnvelopeError, match="P-256"):
            SigningKey(bce=CHARLEROI.bce, key=small).alg  # noqa: B018
    with pytest.raises(EnvelopeError, match="not a readable PEM private key"):
        SigningKey.from_pem(
            CHARLEROI.bce, b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
        )


def test_ack_round_trip_and_wrong_signer(keys):
    from datetime import datetime

    ack = Ack(
        package_id="p1",
        status="accepted",
        receiver_bce=LIEGE.bce,
        sender_bce=CHARLEROI.bce,
        acked_at=datetime.now(UTC),
        draft_ref="42",
    )
    envelope = sign_ack(ack, keys[LIEGE.bce])
    assert open_ack(envelope, _trust(keys, LIEGE.bce), expected_receiver_bce=LIEGE.bce) == ack
    with pytest.raises(EnvelopeError, match="expected BCE 0207567726"):
        open_ack(envelope, _trust(keys, LIEGE.bce), expected_receiver_bce=GENT.bce)
    with pytest.raises(EnvelopeError, match="unexpected envelope type"):
        open_package(envelope, _trust(keys, LIEGE.bce), own_bce=LIEGE.bce)


def test_errors_never_carry_the_niss(package, keys):
    envelope = sign_package(package, keys[CHARLEROI.bce])
    _header, payload, _signature = envelope.split(".")
    data = json.loads(_unb64(payload))
    niss = data["contract"]["beneficiary"]["niss"]
    assert is_valid_niss(niss)
    data["contract"]["beneficiary"]["birth_date"] = "1999-01-01"
    bad = sign_package_raw(orjson.dumps(data), keys[CHARLEROI.bce])
    with pytest.raises(EnvelopeError) as info:
        open_package(bad, _trust(keys, CHARLEROI.bce), own_bce=LIEGE.bce)
    assert "contract.beneficiary" in str(info.value)
    assert niss not in str(info.value)


def sign_package_raw(payload: bytes, key: SigningKey) -> str:
    from piis_bridge.transfer.envelope import PACKAGE_TYP, sign_compact

    return sign_compact(payload, key, PACKAGE_TYP)


def test_key_rotation_old_and_new_key_both_trusted(package, keys):
    old, new = keys[CHARLEROI.bce], new_key(CHARLEROI.bce)
    trust = TrustList({CHARLEROI.bce: [old.public_pem(), new.public_pem()]})
    assert open_package(sign_package(package, old), trust, own_bce=LIEGE.bce) == package
    assert open_package(sign_package(package, new), trust, own_bce=LIEGE.bce) == package
    with pytest.raises(EnvelopeError, match="signature check failed"):
        open_package(sign_package(package, new), _trust(keys, CHARLEROI.bce), own_bce=LIEGE.bce)
