"""The console's own tables: accounts, sessions, login attempts and the append-only audit log.

Why in the application database: the console reads the pipeline's tables there, and an operator's
action (a replay, a dismissal) must be recorded in the same database as the state it changes, so an
auditor finds both together.  The audit table refuses UPDATE and DELETE at the database itself (a
trigger on SQLite and PostgreSQL, migration ``0017_console_audit``), not only in this code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from piis_bridge.db import Base
from piis_bridge.ledger.models import FormEntry
from piis_bridge.pipeline.models import Effect, QuarantineEntry, UTCDateTime, WorkItem, utcnow

__all__ = [
    "AGENDA_DUE_SQL",
    "ALL_CPAS",
    "ROLES",
    "AuditEntry",
    "ConsoleSession",
    "ConsoleUser",
    "LoginAttempt",
]

ROLES = ("admin", "operator", "viewer")
ALL_CPAS = "*"  # a user scoped to every configured CPAS (an IT partner's administrator)
AGENDA_DUE_SQL = (
    'substr("key", length("key") - 9, 10)'  # a deadline alert's due date, the end of its key
)


class ConsoleUser(Base):
    """A person who may open the console: one role, scoped to a list of CPAS ids (or ``*``)."""

    __tablename__ = "console_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # argon2id hash (argon2-cffi); NULL for an account that only logs in through OpenID Connect.
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    cpas_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    # the social worker id this account is, in the case system (``users set-worker``): the agenda's
    # "mine"; NULL for IT staff, who are nobody's social worker
    worker_id: Mapped[str | None] = mapped_column(String(120))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsoleSession(Base):
    """A server-side session.  Only the SHA-256 of the cookie's token is stored; revoking = a timestamp."""

    __tablename__ = "console_session"
    __table_args__ = (Index("ix_console_session_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token) hex
    user_id: Mapped[int] = mapped_column(ForeignKey("console_user.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """One login attempt, for rate limiting across every console process (not a per-process counter)."""

    __tablename__ = "console_login_attempt"
    __table_args__ = (
        Index("ix_console_login_attempt_user_at", "username", "at"),
        Index("ix_console_login_attempt_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120))
    client: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Who did what, when, to what, and why.  Rows are only ever inserted (triggers refuse the rest)."""

    __tablename__ = "console_audit"
    __table_args__ = (
        Index("ix_console_audit_at", "at"),
        Index("ix_console_audit_cpas_at", "cpas_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    cpas_id: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# Indexes only the console's pages need (migration 0018), on the pipeline's and the ledger's tables:
# the pipeline's own indexes lead with the run or the claim, the console asks per CPAS.  Measured by
# benchmarks/bench_console.py (docs/console.md); each costs the pipeline one more index write per row.
# A dossier's history is read through the pipeline's ix_sync_item_cpas_record (cpas_id, record_id,
# version); its own (cpas_id, record_id) index was a prefix of that one (dropped by 0026).
Index(
    "ix_console_sync_item_run_cpas", WorkItem.run_id, WorkItem.cpas_id, WorkItem.state
)  # overview, run page
Index(
    "ix_console_sync_effect_run_cpas",
    Effect.run_id,
    Effect.cpas_id,
    Effect.kind,
    Effect.state,
    Effect.answer,
)
# the agenda in due-date order: a deadline alert's key ends with its due date (push:<cpas>:alert:...:<date>)
Index("ix_console_sync_effect_due", Effect.kind, text(AGENDA_DUE_SQL))
# one social worker's agenda in due-date order (0023): deadline alerts only (worker_id NOT NULL)
Index(
    "ix_console_sync_effect_worker_due",
    Effect.cpas_id,
    Effect.worker_id,
    text(AGENDA_DUE_SQL),
    postgresql_where=text("worker_id IS NOT NULL"),
    sqlite_where=text("worker_id IS NOT NULL"),
)
Index(
    "ix_console_quarantine_cpas_status",
    QuarantineEntry.cpas_id,
    QuarantineEntry.status,
    QuarantineEntry.id,
)
Index("ix_console_ledger_cpas_created", FormEntry.cpas_id, FormEntry.created_at, FormEntry.kind)
# a status (and federal code) filter, newest first, without sorting every refused form of the CPAS
Index("ix_console_ledger_cpas_status_id", FormEntry.cpas_id, FormEntry.status, FormEntry.id)
# the federal code filter, newest first (migration 0021_console_answer_code)
Index("ix_console_ledger_cpas_code_id", FormEntry.cpas_id, FormEntry.answer_code, FormEntry.id)
