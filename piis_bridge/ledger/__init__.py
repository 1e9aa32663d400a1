"""The federal form ledger: idempotency keys, payload hashes, statuses, versions (issue #5)."""

from piis_bridge.ledger.models import FormEntry, IntegrationEntry
from piis_bridge.ledger.service import (
    NISS_HASH_PURPOSE,
    Ledger,
    niss_hash,
    payload_hash,
    rehash_niss,
)
from piis_bridge.ledger.state import ALLOWED, InvalidTransition, check_transition

__all__ = [
    "ALLOWED",
    "NISS_HASH_PURPOSE",
    "FormEntry",
    "IntegrationEntry",
    "InvalidTransition",
    "Ledger",
    "check_transition",
    "niss_hash",
    "payload_hash",
    "rehash_niss",
]
