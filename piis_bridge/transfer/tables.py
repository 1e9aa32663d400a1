"""The transfer tables, on the application's :class:`~piis_bridge.db.Base`.

Why these four: the sending side keeps one row per (CPAS, contract, change of residence) so a move
detected every night opens one case, never several; consent is a separate, append-only record
(who, when, how), because the law turns on it and it must never be overwritten; the receiving side
keys its rows on the package id so a package delivered twice is imported once; every state change
is an event row.  Envelopes that fail verification go to their own table: their content cannot be
trusted, so they must not occupy the package id a genuine package may arrive with later.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from piis_bridge.crypto import EncryptedText
from piis_bridge.db import Base

__all__ = ["ConsentRecord", "ReceivedPackage", "RejectedEnvelope", "TransferCase", "TransferEvent"]


class TransferCase(Base):
    """Sending side: a contract that ends because the person moved, and its hand-over."""

    __tablename__ = "transfer_case"
    __table_args__ = (
        UniqueConstraint(
            "cpas_id", "contract_id", "residence_change_date", name="one_case_per_move"
        ),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cpas_id: Mapped[str] = mapped_column(String(40), index=True)
    contract_id: Mapped[str] = mapped_column(String(120))
    record_id: Mapped[str] = mapped_column(
        String(120), doc="The vendor record tasks are attached to"
    )
    to_ins_code: Mapped[str] = mapped_column(String(5))
    to_bce: Mapped[str | None] = mapped_column(String(10), nullable=True)
    residence_change_date: Mapped[date] = mapped_column(Date)
    legal_end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    eligibility: Mapped[str] = mapped_column(String(40))
    eligibility_reason: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(30), index=True)
    contract_json: Mapped[str] = mapped_column(
        EncryptedText("transfer_case.contract_json"),
        doc="The canonical contract when the move was detected",
    )
    package_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    envelope: Mapped[str | None] = mapped_column(
        EncryptedText("transfer_case.envelope"),
        nullable=True,
        doc="The signed package, resent as is",
    )
    ack_envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
    ack_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    remote_draft_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    task_ref: Mapped[str | None] = mapped_column(
        String(120), nullable=True, doc="Task pushed to the case system"
    )
    assessment_json: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="The new CPAS's review (R-TRF-06)"
    )
    assessment_envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentRecord(Base):
    """The person's answer, as recorded by a named person through a named channel (R-TRF-05)."""

    __tablename__ = "transfer_consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("transfer_case.case_id"), index=True)
    consent: Mapped[str] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class ReceivedPackage(Base):
    """Receiving side: one verified package, imported once as a draft to review."""

    __tablename__ = "transfer_received"

    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cpas_id: Mapped[str] = mapped_column(String(40), index=True)
    transfer_id: Mapped[str] = mapped_column(String(64))
    sender_bce: Mapped[str] = mapped_column(String(10))
    sender_name: Mapped[str] = mapped_column(String(200))
    contract_id: Mapped[str] = mapped_column(String(120), doc="The old CPAS's contract id")
    state: Mapped[str] = mapped_column(String(30))
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[str] = mapped_column(EncryptedText("transfer_received.envelope"))
    draft_json: Mapped[str | None] = mapped_column(
        EncryptedText("transfer_received.draft_json"),
        nullable=True,
        doc="The draft (status DRAFT), never active",
    )
    draft_contract_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    draft_ref: Mapped[str | None] = mapped_column(
        String(120), nullable=True, doc="Its id in our case system"
    )
    ack_envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
    assessment_envelope: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="Our signed review, sent back"
    )
    assessment_ack: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="The old CPAS's signed ack of it"
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RejectedEnvelope(Base):
    """An envelope that failed verification: kept for the security officer, never imported."""

    __tablename__ = "transfer_rejected"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cpas_id: Mapped[str] = mapped_column(String(40), index=True)
    claimed_sender: Mapped[str | None] = mapped_column(String(40), nullable=True)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TransferEvent(Base):
    """One state change (either side), for the audit trail and ``transfer show``."""

    __tablename__ = "transfer_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    package_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    from_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_state: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="")
