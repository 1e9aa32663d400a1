"""The one writer of the audit log.  Every operator action goes through :func:`record`.

Why a single function: the audit row is written in the same transaction as the action it records
(a replay, a dismissal, a role change), so there is never an action without its row, nor a row for
an action that was rolled back.  The text written here never carries a NISS (``redact``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from piis_bridge.console.models import AuditEntry
from piis_bridge.logging import redact

__all__ = ["ACTIONS", "record"]

ACTIONS = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "replay",
        "dismiss",
        "reveal",
        "consent",
        "role_change",
        "user_add",
        "user_disable",
        "session_revoke",
        "audit_export",
    }
)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    cpas_id: str | None = None,
    target: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit row to *session* (the caller commits it together with the action)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor=actor[:120],
        action=action,
        cpas_id=cpas_id,
        target=str(redact(target))[:200],
        reason=str(redact(reason)),
        detail=redact(detail or {}),
    )
    session.add(entry)
    return entry
