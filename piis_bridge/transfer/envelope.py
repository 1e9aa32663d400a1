"""The signed envelope: a JWS (RFC 7515, compact serialisation) over the canonical JSON package.

Why JWS with ``joserfc``: the package is JSON, so a JSON signature format needs no XML
canonicalisation; JWS signs the exact bytes, so "nothing changed" means "the same bytes", and a
receiver in any language can check it.  ``joserfc`` is a maintained, typed implementation.

Who sent it: the protected header's ``kid`` is the sender's BCE number.  The receiver looks the
BCE up in its :class:`TrustList` (the other CPAS's public keys or certificates, configured by
hand after an out-of-band exchange) and checks the signature with that key only; the BCE inside
the payload must equal the ``kid``, and the receiver BCE must be our own, so a package signed by
CPAS X cannot claim to come from CPAS Y nor be replayed to CPAS Z.

Algorithms are fixed per key type (ES256 for EC P-256, PS256 for RSA): the ``alg`` header is
never trusted to choose one.  Acknowledgements use the same envelope with another ``typ``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from piis_bridge.identifiers import validate_bce
from piis_bridge.model import TransferAssessment
from piis_bridge.transfer.package import TransferPackage, package_bytes

__all__ = [
    "ACK_TYP",
    "ASSESSMENT_TYP",
    "MAX_ENVELOPE_BYTES",
    "PACKAGE_TYP",
    "Ack",
    "AckStatus",
    "AssessmentMessage",
    "EnvelopeError",
    "SigningKey",
    "TrustList",
    "open_ack",
    "open_assessment",
    "open_package",
    "peek_header",
    "sign_ack",
    "sign_assessment",
    "sign_package",
]

PACKAGE_TYP = "piis-transfer-package+jws"
ACK_TYP = "piis-transfer-ack+jws"
ASSESSMENT_TYP = "piis-transfer-assessment+jws"
MAX_ENVELOPE_BYTES = 5 * 1024 * 1024
AckStatus = Literal["accepted", "duplicate", "rejected"]


class EnvelopeError(ValueError):
    """The envelope cannot be trusted; the message says why (never the content)."""


def _alg_for(key: Any) -> str:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name != "secp256r1":
            raise EnvelopeError(f"EC keys must use P-256 (got {key.curve.name})")
        return "ES256"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise EnvelopeError("RSA keys must have at least 2048 bits")
        return "PS256"
    raise EnvelopeError(f"unsupported key type {type(key).__name__} (use EC P-256 or RSA >= 2048)")


def _jwk(key: Any) -> ECKey | RSAKey:
    return (
        ECKey.import_key(key)
        if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey))
        else RSAKey.import_key(key)
    )


@dataclass(frozen=True)
class SigningKey:
    """This CPAS's private key, named by its BCE number."""

    bce: str
    key: Any

    @classmethod
    def from_pem(cls, bce: str, pem: bytes | str, password: bytes | None = None) -> SigningKey:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise EnvelopeError(
                f"signing key for BCE {bce} is not a readable PEM private key: {exc}"
            ) from None
        _alg_for(key)
        return cls(bce=validate_bce(bce), key=key)

    @classmethod
    def from_file(cls, bce: str, path: str | Path) -> SigningKey:
        return cls.from_pem(bce, Path(path).read_bytes())

    @property
    def alg(self) -> str:
        return _alg_for(self.key)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _public_key_from_pem(data: bytes) -> Any:
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


class TrustList:
    """The public keys (or certificates) of the CPAS we accept packages and acknowledgements from.

    Several keys per BCE are allowed so a CPAS can rotate its key: the receiver adds the new key,
    the sender switches, the receiver drops the old one.  A signature is accepted if any trusted key
    of the ``kid`` BCE (with the algorithm of its type) verifies it.
    """

    def __init__(self, keys: Mapping[str, Any] | None = None) -> None:
        self._keys: dict[str, list[Any]] = {}
        for bce, key in (keys or {}).items():
            for one in key if isinstance(key, (list, tuple)) else [key]:
                self.add(bce, one)

    def add(self, bce: str, key: Any) -> None:
        """Trust *key* (a public key object, or PEM bytes of a public key or certificate) for *bce*."""
        if isinstance(key, (bytes, str)):
            raw = key.encode() if isinstance(key, str) else key
            try:
                key = _public_key_from_pem(raw)
            except ValueError as exc:
                raise EnvelopeError(
                    f"trust list entry for BCE {bce} is not a PEM key/certificate: {exc}"
                ) from None
        _alg_for(key)
        self._keys.setdefault(validate_bce(bce), []).append(key)

    @classmethod
    def from_files(cls, entries: Mapping[str, str | Path | Sequence[str | Path]]) -> TrustList:
        trust = cls()
        for bce, paths in entries.items():
            for path in [paths] if isinstance(paths, (str, Path)) else paths:
                trust.add(bce, Path(path).read_bytes())
        return trust

    def keys_for(self, bce: str) -> list[Any]:
        try:
            return list(self._keys[bce])
        except KeyError:
            raise EnvelopeError(f"sender BCE {bce} is not in the trust list") from None

    def __contains__(self, bce: object) -> bool:
        return bce in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def sign_compact(payload: bytes, key: SigningKey, typ: str) -> str:
    """A compact JWS of *payload* with *key*, typed *typ*: the one signing step of every envelope
    (public so that tests can sign a payload the way a peer bridge would)."""
    header = {"alg": key.alg, "kid": key.bce, "typ": typ, "cty": "json"}
    return jws.serialize_compact(header, payload, _jwk(key.key), algorithms=[key.alg])


def peek_header(envelope: str | bytes) -> dict[str, Any]:
    """The protected header, NOT verified (only to pick the key and to name the sender in a rejection)."""
    text = envelope.decode("ascii", "replace") if isinstance(envelope, bytes) else envelope
    try:
        return dict(jws.extract_compact(text.strip().encode("ascii")).headers())
    except (JoseError, ValueError, UnicodeError) as exc:
        raise EnvelopeError(f"not a compact JWS: {type(exc).__name__}") from None


def _verify(envelope: str | bytes, trust: TrustList, typ: str) -> tuple[str, bytes]:
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"envelope larger than {MAX_ENVELOPE_BYTES} bytes")
    text = envelope.decode("ascii", "replace") if isinstance(envelope, bytes) else envelope
    header = peek_header(text)
    if header.get("typ") != typ:
        raise EnvelopeError(f"unexpected envelope type {header.get('typ')!r} (expected {typ!r})")
    kid = str(header.get("kid") or "")
    candidates = [key for key in trust.keys_for(kid) if _alg_for(key) == header.get("alg")]
    if not candidates:
        raise EnvelopeError(
            f"algorithm {header.get('alg')!r} does not match the trusted key of BCE {kid}"
        )
    error = ""
    for key in candidates:
        try:
            token = jws.deserialize_compact(text.strip(), _jwk(key), algorithms=[_alg_for(key)])
        except JoseError as exc:
            error = exc.error
            continue
        return kid, token.payload
    raise EnvelopeError(f"signature check failed for sender BCE {kid}: {error}")


def sign_package(package: TransferPackage, key: SigningKey) -> str:
    if package.sender.bce != key.bce:
        raise EnvelopeError(
            f"package sender BCE {package.sender.bce} is not the signing key's BCE {key.bce}"
        )
    return sign_compact(package_bytes(package), key, PACKAGE_TYP)


def open_package(envelope: str | bytes, trust: TrustList, *, own_bce: str) -> TransferPackage:
    """Verify the signature, then parse; the sender and receiver named inside must match."""
    kid, payload = _verify(envelope, trust, PACKAGE_TYP)
    try:
        package = TransferPackage.model_validate_json(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(package)" for e in exc.errors()})[
            :10
        ]
        raise EnvelopeError(
            f"signed package from BCE {kid} is not a valid transfer package: {', '.join(fields)}"
        ) from None
    if package.sender.bce != kid:
        raise EnvelopeError(
            f"package claims sender BCE {package.sender.bce} but is signed by BCE {kid}"
        )
    if package.receiver.bce != own_bce:
        raise EnvelopeError(
            f"package {package.package_id} is addressed to BCE {package.receiver.bce}, not to us"
        )
    return package


class Ack(BaseModel):
    """The receiver's signed answer to a package (and the sender's proof of delivery)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    format: Literal["piis-bridge/transfer-ack"] = "piis-bridge/transfer-ack"
    package_id: str | None
    transfer_id: str | None = None
    status: AckStatus
    reason: str = ""
    receiver_bce: str
    sender_bce: str | None = None
    acked_at: AwareDatetime
    draft_ref: str | None = Field(
        default=None, description="The draft's id in the receiver's case system"
    )


def sign_ack(ack: Ack, key: SigningKey) -> str:
    if ack.receiver_bce != key.bce:
        raise EnvelopeError("an acknowledgement is signed by the receiver")
    return sign_compact(
        orjson.dumps(ack.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS), key, ACK_TYP
    )


def open_ack(envelope: str | bytes, trust: TrustList, *, expected_receiver_bce: str) -> Ack:
    kid, payload = _verify(envelope, trust, ACK_TYP)
    try:
        ack = Ack.model_validate_json(payload)
    except ValidationError:
        raise EnvelopeError(f"acknowledgement signed by BCE {kid} is malformed") from None
    if ack.receiver_bce != kid or kid != expected_receiver_bce:
        raise EnvelopeError(
            f"acknowledgement signed by BCE {kid}, expected BCE {expected_receiver_bce}"
        )
    return ack


class AssessmentMessage(BaseModel):
    """The new CPAS's answer after reviewing the draft (R-TRF-06): which commitments it takes over.

    Signed by the new CPAS (``assessor_bce`` = ``kid``) and addressed to the old one, which checks it
    against its trust list and answers with its own signed :class:`Ack`: acknowledgements both ways.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    format: Literal["piis-bridge/transfer-assessment"] = "piis-bridge/transfer-assessment"
    package_id: str = Field(min_length=1)
    transfer_id: str = Field(min_length=1)
    assessor_bce: str
    addressee_bce: str
    assessed_by: str = Field(min_length=1)
    created_at: AwareDatetime
    assessment: TransferAssessment


def sign_assessment(message: AssessmentMessage, key: SigningKey) -> str:
    if message.assessor_bce != key.bce:
        raise EnvelopeError("an assessment is signed by the CPAS that assessed")
    return sign_compact(
        orjson.dumps(message.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS),
        key,
        ASSESSMENT_TYP,
    )


def open_assessment(envelope: str | bytes, trust: TrustList, *, own_bce: str) -> AssessmentMessage:
    kid, payload = _verify(envelope, trust, ASSESSMENT_TYP)
    try:
        message = AssessmentMessage.model_validate_json(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(message)" for e in exc.errors()})[
            :10
        ]
        raise EnvelopeError(
            f"assessment signed by BCE {kid} is malformed: {', '.join(fields)}"
        ) from None
    if message.assessor_bce != kid:
        raise EnvelopeError(
            f"assessment claims BCE {message.assessor_bce} but is signed by BCE {kid}"
        )
    if message.addressee_bce != own_bce:
        raise EnvelopeError(
            f"assessment of package {message.package_id} is addressed to BCE "
            f"{message.addressee_bce}, not to us"
        )
    return message
