"""The federal form ledger: idempotency keys, payload hashes, statuses, versions (issue #5)."""

from piis_bridge.ledger.models import FormEntry, IntegrationEntry
from piis_bridge.ledger.service import Ledger, payload_hash
from piis_bridge.ledger.state import ALLOWED, InvalidTransition, check_transition

__all__ = [
    "ALLOWED",
    "FormEntry",
    "IntegrationEntry",
    "InvalidTransition",
    "Ledger",
    "check_transition",
    "payload_hash",
]
