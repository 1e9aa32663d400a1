"""The one writer (and the readers) of the audit log.  Every operator action goes through :func:`record`.

Why a single function: the audit row is written in the same transaction as the action it records
(a replay, a dismissal, a role change), so there is never an action without its row, nor a row for
an action that was rolled back.  The text written here never carries a NISS (``redact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from piis_bridge.console.models import AuditEntry
from piis_bridge.logging import redact
from piis_bridge.ops.queries import PAGE_SIZE, Page, page_of

__all__ = ["ACTIONS", "audit_of", "export_audit", "list_audit", "record"]

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
        "set_worker",
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


def audit_of(s: Session, target: str) -> list[AuditEntry]:
    """Every audit row about one target (``quarantine 12``), oldest first: an entry's history."""
    return list(
        s.scalars(select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id))
    )


def list_audit(
    s: Session, cpas_ids: Sequence[str], *, page: int = 1, size: int = PAGE_SIZE
) -> Page[AuditEntry]:
    """The audit log of the user's CPAS, plus the rows of no CPAS (logins, accounts), newest first."""
    cond = [or_(AuditEntry.cpas_id.in_(list(cpas_ids)), AuditEntry.cpas_id.is_(None))]
    stmt = select(AuditEntry).where(*cond).order_by(AuditEntry.id.desc())
    return page_of(s, stmt, AuditEntry.id, cond, page, size, lambda row: row[0])


def export_audit(s: Session, cpas_ids: Sequence[str], limit: int = 100_000) -> list[AuditEntry]:
    cond = [or_(AuditEntry.cpas_id.in_(list(cpas_ids)), AuditEntry.cpas_id.is_(None))]
    return list(
        s.scalars(select(AuditEntry).where(*cond).order_by(AuditEntry.id.desc()).limit(limit))
    )
