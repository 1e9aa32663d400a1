"""Bridge-to-bridge transport for contract hand-overs: an HTTP(S) endpoint that receives signed
packages and answers with signed acknowledgements, and a client that delivers them with retries.

Knows nothing of plugins or of the transfer rules: the endpoint passes the raw envelope to a
callback and returns what the callback answers; the client moves bytes.  TLS with client
certificates (mutual TLS) is configured with :func:`server_tls_context` / :func:`client_tls_context`.
"""

from piis_connectors.transfer.client import DeliveryError, DeliveryResult, TransferClient
from piis_connectors.transfer.server import (
    ASSESSMENTS_PATH,
    PACKAGES_PATH,
    HandlerResult,
    TransferEndpoint,
)
from piis_connectors.transfer.tls import client_tls_context, server_tls_context

__all__ = [
    "ASSESSMENTS_PATH",
    "PACKAGES_PATH",
    "DeliveryError",
    "DeliveryResult",
    "HandlerResult",
    "TransferClient",
    "TransferEndpoint",
    "client_tls_context",
    "server_tls_context",
]
