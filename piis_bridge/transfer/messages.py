"""The values the transfer hooks exchange (``piis_transfer_export`` / ``_send`` / ``_import``).

Why in the core: the CLI, the pipeline and third-party transfer plugins all pass these across the
hooks, and none of them may import another's module.
"""

from __future__ import annotations

from dataclasses import dataclass

from piis_bridge.transfer.package import PackageParty
from piis_bridge.transfer.service import DraftSink

__all__ = ["DeliveryReceipt", "Destination", "ExportedPackage", "IncomingPackage"]


@dataclass(frozen=True)
class Destination:
    """The receiving CPAS and where its bridge listens."""

    party: PackageParty
    url: str


@dataclass(frozen=True)
class ExportedPackage:
    """What ``piis_transfer_export`` returns: the signed envelope of one case, ready to send."""

    case_id: str
    package_id: str
    envelope: str
    destination: Destination


@dataclass(frozen=True)
class DeliveryReceipt:
    """What ``piis_transfer_send`` returns.  ``status``: accepted, duplicate, rejected or failed."""

    case_id: str
    package_id: str
    status: str
    state: str
    attempts: int
    detail: str = ""
    draft_ref: str | None = None


@dataclass(frozen=True)
class IncomingPackage:
    """What ``piis_transfer_import`` receives: the raw envelope, and how to reach the case system."""

    envelope: bytes
    deliver_draft: DraftSink | None = None
    #: Set when the package came over mutual TLS: the BCE number the client certificate names
    #: ("" when the certificate names none).  None = no TLS client identity (local import).
    tls_peer_bce: str | None = None
