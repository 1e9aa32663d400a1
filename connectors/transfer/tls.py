"""TLS contexts for the transfer endpoint and client: TLS 1.2+, and mutual TLS when a CA is given.

Why the standard library's :mod:`ssl`: both sides need nothing more than a certificate chain and a
CA bundle; a deployment puts its CPAS certificates (or its internal PKI) in files and names them
in the configuration.  With ``client_ca_path`` set, the endpoint refuses any client without a
certificate signed by that CA, before a single byte of HTTP is read.
"""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["client_tls_context", "server_tls_context"]


def server_tls_context(
    cert_path: str | Path, key_path: str | Path, client_ca_path: str | Path | None = None
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert_path), str(key_path))
    if client_ca_path is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(client_ca_path))
    return ctx


def client_tls_context(
    ca_path: str | Path | None = None,
    cert_path: str | Path | None = None,
    key_path: str | Path | None = None,
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_path) if ca_path else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_path is not None:
        ctx.load_cert_chain(str(cert_path), str(key_path) if key_path else None)
    return ctx
