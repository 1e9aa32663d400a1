"""The outbox/ledger tables of the nightly sync: the application database is the source of truth.

Why rows and not celery messages: every virtual transport (the embedded filesystem broker included)
loses prefetched and in-flight messages on ``kill -9``, and Redis/RabbitMQ redeliver or drop them in
their own ways.  Tasks therefore carry only ids; what has to happen, what happened and the
idempotency key of every side effect live here, and a sweeper re-enqueues whatever a dead worker
left behind (see :mod:`piis_bridge.pipeline.sweeper`).

Tables (all on :class:`piis_bridge.db.Base`, one alembic history):

- ``sync_run``: one nightly or manual run, its status and final counts.
- ``sync_run_cpas``: the pull of one CPAS within a run (leased, so a killed pull is resumed).
- ``sync_cursor``: the case-system cursor per CPAS, written in the same transaction as the page's
  work items (a crash between pages loses nothing; a crash inside a page replays that page only).
- ``sync_item``: one fetched source record to map, evaluate and turn into forms.
- ``sync_effect``: one side effect on a remote system (a federal form, a push-back item), with its
  idempotency key recorded *before* the call is attempted.
- ``sync_quarantine``: what could not be processed, with the reason, until replayed.
- ``sync_stage_stat``: per run and stage, how many units and how long (for the report).
- ``sync_circuit``: the circuit breaker per remote system.
- ``sync_notice_cursor`` / ``sync_notice``: the National Register notice feed per CPAS (cursor written
  with the page's notices) and one row per notice, so a notice read twice is handled once.
- ``sync_secret``: the key of the person hash (``sync_item.person_key``), created once per database.
- ``sync_statement``: the monthly statement of one CPAS in a statement run: asked until available,
  then reconciled against the form ledger, with the differences.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Mapped, mapped_column, validates
from sqlalchemy.types import TypeDecorator

from piis_bridge.crypto import EncryptedString, EncryptedText
from piis_bridge.db import Base
from piis_bridge.pipeline.states import EFFECT_TRANSITIONS, ITEM_TRANSITIONS, check_state

__all__ = [
    "CircuitState",
    "CpasLease",
    "Effect",
    "Notice",
    "NoticeCursor",
    "QuarantineEntry",
    "Secret",
    "StageStat",
    "StatementFetch",
    "SyncCursor",
    "SyncRun",
    "SyncRunCpas",
    "WorkItem",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE changed (a claim won or not).  ``Session.execute`` is typed as a
    plain ``Result``; for DML it is a ``CursorResult``, which has the count."""
    return cast("CursorResult[Any]", result).rowcount


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on SQLite too (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class SyncRun(Base):
    __tablename__ = "sync_run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))
    # 'nightly:2026-11-23' for beat-started runs: a second beat (or a restarted one) cannot start the
    # same night twice.
    schedule_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    cpas_ids: Mapped[list[str]] = mapped_column(JSON)
    dossier: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Why the run ended without finishing by itself: 'stalled' (the watchdog: no progress for
    # watchdog_seconds, with what it was waiting for) or 'abandoned' (taken over by a later run).
    reason: Mapped[str | None] = mapped_column(Text)


class CpasLease(Base):
    """The one run that may work on a CPAS now (issue #12): a second run, a beat catch-up or a replay for
    the same CPAS is refused while the row names a running run.  A row rather than an advisory lock:
    the same code on SQLite and PostgreSQL, visible to every process, and it survives a crash (the next
    run takes it over once the holder is closed as stalled or abandoned)."""

    __tablename__ = "sync_cpas_lease"

    cpas_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncRunCpas(Base):
    __tablename__ = "sync_run_cpas"

    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"), primary_key=True)
    cpas_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # pending -> pulling -> pulled | failed
    state: Mapped[str] = mapped_column(String(16), default="pending")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)  # work items stored
    # What the feed gave: every record received = stored + identical repeats + rejected before storage
    # (a record the database cannot hold, or a conflicting duplicate): nothing dropped without a trace.
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    repeats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    # National Register notices of this CPAS in this run (after the answers are collected):
    # none (not read: the federal plugin has no notice feed, or a one-dossier run) -> pending ->
    # queued (task sent) -> fetching (leased) -> done | failed.
    notices_state: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    notices_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notices_error: Mapped[str | None] = mapped_column(Text)


class SyncCursor(Base):
    __tablename__ = "sync_cursor"

    cpas_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkItem(Base):
    """One source record of one run.  States: pending -> leased -> done | quarantined."""

    __tablename__ = "sync_item"
    __table_args__ = (
        UniqueConstraint("run_id", "cpas_id", "record_id", "version", name="uq_sync_item_record"),
        Index("ix_sync_item_run_state", "run_id", "state"),
        Index("ix_sync_item_state_lease", "state", "lease_until"),
        # A National Register notice names a person, not a dossier: the person's contracts at a CPAS
        # are found by this keyed hash of the beneficiary's NISS, never by the NISS itself.
        Index("ix_sync_item_person", "cpas_id", "person_key"),
        # The pull's conflict check finds a record's earlier runs by CPAS and record id (0022).
        Index("ix_sync_item_cpas_record", "cpas_id", "record_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"))
    cpas_id: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(
        EncryptedText("sync_item.payload")
    )  # the SourceRecord as JSON
    forms: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    # HMAC of the beneficiary's NISS (piis_bridge.pipeline.persons), set when the record is mapped.
    person_key: Mapped[str | None] = mapped_column(String(64))
    # Why the last attempt failed (a transient error retried, or the worker died): quoted when the item
    # is given up after ``retry_max_attempts`` (a poison record never blocks its chunk for ever).
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @validates("state")
    def _transition(self, _key: str, new: str) -> str:
        return check_state(ITEM_TRANSITIONS, self.state, new, "record")


class Effect(Base):
    """One side effect on a remote system, keyed for idempotency before it is attempted.

    kind 'form': pending -> sending -> submitted (awaiting an asynchronous answer) -> answered,
    or quarantined.  kind 'push': pending -> sending -> done, or quarantined.
    """

    __tablename__ = "sync_effect"
    __table_args__ = (
        # The claims read a CPAS's next pending batch in id order: the scan stops after the batch (0024).
        Index("ix_sync_effect_claim", "kind", "cpas_id", "state", "id"),
        Index("ix_sync_effect_dossier", "cpas_id", "record_id", "id"),
        Index("ix_sync_effect_run_state", "run_id", "state"),
        # The per-dossier order check of the submit claim looks only at open forms.
        Index(
            "ix_sync_effect_open_dossier",
            "cpas_id",
            "record_id",
            "id",
            postgresql_where=text("kind = 'form' AND state IN ('pending', 'sending', 'submitted')"),
            sqlite_where=text("kind = 'form' AND state IN ('pending', 'sending', 'submitted')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"))
    item_id: Mapped[int | None] = mapped_column(Integer)
    cpas_id: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    payload_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(EncryptedText("sync_effect.payload"))
    ticket: Mapped[str | None] = mapped_column(String(120))
    # The key the remote answered under, when its own ledger re-keyed the form (a correction).
    remote_ref: Mapped[str | None] = mapped_column(String(120))
    answer: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[str | None] = mapped_column(EncryptedText("sync_effect.result"))
    # A deadline alert's social worker in charge (a staff id, "" when none; NULL on other effects):
    # plain because the payload is encrypted and the console's agenda filters on it (0023).
    worker_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @validates("state")
    def _transition(self, _key: str, new: str) -> str:
        return check_state(EFFECT_TRANSITIONS, self.state, new, f"{self.kind or 'side'} effect")


class QuarantineEntry(Base):
    """A record or side effect that failed permanently; the rest of the run went on."""

    __tablename__ = "sync_quarantine"
    __table_args__ = (Index("ix_sync_quarantine_record", "cpas_id", "record_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"), index=True)
    cpas_id: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(120), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # the same reason as message id + redacted values (i18n.text.text_json), said in the reader's
    # language; NULL when the reason is not one of the bridge's texts (then shown as written)
    reason_text: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    item_id: Mapped[int | None] = mapped_column(Integer)
    effect_id: Mapped[int | None] = mapped_column(Integer)
    # open -> replayed (put back in a run) | resolved (the record later went through: closed_reason says
    # in which run) | dismissed (by hand, ``quarantine dismiss ID --reason``: the reason is kept)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    replay_run_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(Text)


class StageStat(Base):
    __tablename__ = "sync_stage_stat"

    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    busy_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CircuitState(Base):
    __tablename__ = "sync_circuit"

    remote: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeCursor(Base):
    """The National Register notice cursor per CPAS, written with the page's notices."""

    __tablename__ = "sync_notice_cursor"

    cpas_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notice(Base):
    """One National Register notice of one CPAS, handled once however often the feed returns it.

    States: pending -> leased -> done | unmatched (no contract of that person here) | quarantined.
    The NISS is not stored: ``person_key`` finds the person's contracts, ``details`` keeps what the
    social worker's task says (a replacement NISS only masked).
    """

    __tablename__ = "sync_notice"
    __table_args__ = (
        UniqueConstraint("cpas_id", "reference", name="uq_sync_notice_reference"),
        Index("ix_sync_notice_state", "cpas_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cpas_id: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[date] = mapped_column(Date)
    person_key: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    run_id: Mapped[str] = mapped_column(String(32))
    contracts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Secret(Base):
    """A key the pipeline generates once per database (the person hash key)."""

    __tablename__ = "sync_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedString("sync_secret.value", 200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatementFetch(Base):
    """The federal monthly statement of one CPAS in one statement run (trigger ``statement``).

    States: waiting (to ask, at ``next_attempt_at``) -> fetching (leased) -> reconciled | failed |
    unsupported (the federal plugin has no statement).  ``differences`` are the reconciliation's
    findings (kind, form key, amounts, detail), never a NISS.
    """

    __tablename__ = "sync_statement"

    run_id: Mapped[str] = mapped_column(ForeignKey("sync_run.id"), primary_key=True)
    cpas_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lines: Mapped[int | None] = mapped_column(Integer)
    total_cents: Mapped[int | None] = mapped_column(Integer)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
