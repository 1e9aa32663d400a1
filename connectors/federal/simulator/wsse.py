"""WS-Security X.509 signatures checked by the simulator when it is configured to require them (federal.md 7.3).

Why: the client can sign every request (``make_signature``: RSA-SHA256 over the SOAP Body, certificate in a
``wsse:BinarySecurityToken``, the zeep / OASIS X.509 token profile layout).  A simulator that accepts any
signature would let a broken or missing signature pass every test; configured with the certificates it trusts
it now refuses, with the SOAP 1.1 faults of WS-Security 1.0 (section 12):

* ``wsse:InvalidSecurity``        no ``wsse:Security`` header / no signature, or a malformed one;
* ``wsse:UnsupportedAlgorithm``   a signature or digest method weaker than SHA-256;
* ``wsse:FailedAuthentication``   a certificate that is not one of the trusted ones, or is not valid now;
* ``wsse:FailedCheck``            a signature value or digest that does not verify, or a signature that does
                                  not cover the envelope's own Body (signature wrapping).

Verification uses xmlsec (the ``xmlsec`` extra); every referenced element must be found exactly once.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["WSSE_NS", "SignatureCheck", "WsseFault"]

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_X509_TOKEN = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
)
_STRONG_SIGNATURES = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
}
_STRONG_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}


class WsseFault(Exception):
    """A request refused for its WS-Security header; ``code`` is the local name of the wsse fault code."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class SignatureCheck:
    """The certificates whose signatures the simulator accepts (PEM files or PEM bytes)."""

    def __init__(self, trusted: Iterable[Path | str | bytes]) -> None:
        from cryptography import x509

        self._trusted: dict[str, Any] = {}
        for item in trusted:
            data = item if isinstance(item, bytes) else Path(item).read_bytes()
            cert = x509.load_pem_x509_certificate(data)
            self._trusted[_fingerprint(cert.public_bytes(_der()))] = cert
        if not self._trusted:
            raise ValueError("requiring signatures needs at least one trusted certificate")

    def verify(self, envelope: etree._Element) -> None:
        """Raise :class:`WsseFault` unless the envelope's Body is signed by a trusted certificate."""
        import xmlsec

        body = envelope.find(f"{{{SOAP_NS}}}Body")
        security = envelope.find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security")
        if body is None or security is None:
            raise WsseFault("InvalidSecurity", "the request carries no wsse:Security header")
        signatures = security.findall(f"{{{DS_NS}}}Signature")
        if len(signatures) != 1:
            raise WsseFault(
                "InvalidSecurity", "the wsse:Security header must hold exactly one ds:Signature"
            )
        signature = signatures[0]
        method = signature.find(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
        if method is None or method.get("Algorithm") not in _STRONG_SIGNATURES:
            raise WsseFault(
                "UnsupportedAlgorithm", "signature method must be RSA with SHA-256 or stronger"
            )
        references = signature.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
        if not references:
            raise WsseFault("InvalidSecurity", "the signature references nothing")
        cert = self._certificate(security, signature)
        ctx = xmlsec.SignatureContext()
        covered = False
        for ref in references:
            digest = ref.find(f"{{{DS_NS}}}DigestMethod")
            if digest is None or digest.get("Algorithm") not in _STRONG_DIGESTS:
                raise WsseFault("UnsupportedAlgorithm", "digest method must be SHA-256 or stronger")
            uri = ref.get("URI") or ""
            if not uri.startswith("#") or len(uri) < 2:
                raise WsseFault(
                    "InvalidSecurity",
                    "a signature reference must point to an element of the message",
                )
            found = envelope.xpath("//*[@wsu:Id=$id]", namespaces={"wsu": WSU_NS}, id=uri[1:])
            if len(found) != 1:
                raise WsseFault(
                    "FailedCheck", "a signed element is missing or not unique in the message"
                )
            ctx.register_id(found[0], "Id", WSU_NS)
            covered = covered or found[0] is body
        if not covered:
            raise WsseFault("FailedCheck", "the signature does not cover the SOAP Body")
        ctx.key = xmlsec.Key.from_memory(
            cert.public_bytes(_pem()), xmlsec.constants.KeyDataFormatCertPem
        )
        try:
            ctx.verify(signature)
        except xmlsec.Error:
            raise WsseFault("FailedCheck", "the signature does not verify") from None

    def _certificate(self, security: etree._Element, signature: etree._Element) -> Any:
        from cryptography import x509

        token = security.find(f"{{{WSSE_NS}}}BinarySecurityToken")
        text = None
        if token is not None and token.get("ValueType") == _X509_TOKEN:
            text = token.text
        else:  # the certificate inline in KeyInfo (zeep's Signature without a binary token)
            inline = signature.find(f".//{{{DS_NS}}}X509Certificate")
            text = None if inline is None else inline.text
        if not text:
            raise WsseFault("InvalidSecurity", "no X.509 certificate in the security header")
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            raise WsseFault("InvalidSecurity", "the X.509 certificate cannot be read") from None
        trusted = self._trusted.get(_fingerprint(der))
        if trusted is None:
            raise WsseFault("FailedAuthentication", "the signing certificate is not trusted")
        now = datetime.now(UTC)
        if not (trusted.not_valid_before_utc <= now <= trusted.not_valid_after_utc):
            raise WsseFault("FailedAuthentication", "the signing certificate is not valid now")
        return cert


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _pem() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM
