"""The form ledger table (declared on the shared ``Base`` so alembic and ``create_all`` see it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from piis_bridge.crypto import EncryptedText, keyed_hash
from piis_bridge.db import Base

__all__ = ["ANSWER_CODE_SQL", "NISS_HASH_PURPOSE", "FormEntry", "IntegrationEntry", "niss_hash"]

# One purpose for both ledger tables: a form's hash finds its NISS's integration (-300020 makes the
# bridge forget it) without decrypting anything.  Distinct from every other keyed hash's purpose.
NISS_HASH_PURPOSE = "federal-ledger/niss"


def niss_hash(niss: str, key: bytes | None = None) -> str:
    """The look-up key of a NISS in the ledger tables: HMAC-SHA256 under the stable hash key.

    Why not the NISS: a database dump must not hand out the NISS of every beneficiary; why not the
    data key: its rotation would change every look-up key.  *key*: another hash key, only to
    recompute the hashes after a change of hash key (:func:`piis_bridge.ledger.rehash_niss`)."""
    return keyed_hash(niss, NISS_HASH_PURPOSE, key)


# The federal answer's first code, computed by the database from ``errors`` (SQLite >= 3.38 and
# PostgreSQL read the same JSON operators); the console's code filter reads it through an index.
ANSWER_CODE_SQL = "errors -> 0 ->> 'code'"


class FormEntry(Base):
    """One version of one federal form.  ``key`` is the ClientReference the federal service deduplicates on.

    The NISS is kept twice, never in clear: ``niss_hash`` (keyed hash, :func:`piis_bridge.ledger.niss_hash`)
    is what look-ups compare, ``niss`` (AES-GCM, read back decrypted) is what a resend or the audited
    reveal needs.  Comparing ``niss`` in a query finds nothing (each encryption differs): use the hash."""

    __tablename__ = "federal_form_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    cpas_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(1), nullable=False)
    niss: Mapped[str] = mapped_column(EncryptedText("federal_form_ledger.niss"), nullable=False)
    niss_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    dossier: Mapped[str] = mapped_column(String(20), nullable=False)
    period_key: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("federal_form_ledger.id"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    payload: Mapped[str] = mapped_column(
        EncryptedText("federal_form_ledger.payload"), nullable=False
    )  # FederalForm JSON
    xml: Mapped[str] = mapped_column(
        EncryptedText("federal_form_ledger.xml"), nullable=False
    )  # DIS element sent
    payload_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    ticket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(16), nullable=True)
    percentage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accepted_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    errors: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # console (issue #15, migration 0021_console_answer_code): a generated column, so the database
    # fills it whenever an answer is recorded, whichever code path writes ``errors``
    answer_code: Mapped[str | None] = mapped_column(
        String(), Computed(ANSWER_CODE_SQL, persisted=True), nullable=True
    )
    received_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    @validates("niss")
    def _hash_niss(self, _key: str, value: str) -> str:
        # an entry made through the ORM gets its look-up hash with its NISS (the bulk paths set both)
        self.niss_hash = niss_hash(value)
        return value

    __table_args__ = (
        # (cpas_id, status) look-ups use the console's ix_console_ledger_cpas_status_id (0026).
        Index("ix_federal_form_ledger_period", "cpas_id", "kind", "niss_hash", "period_key"),
        Index("ix_federal_form_ledger_dossier", "cpas_id", "dossier"),
        Index("ix_federal_form_ledger_ticket", "ticket"),
    )


class IntegrationEntry(Base):
    """The integration of one NISS in the CPAS's BCSS repertoire (OCMWCPASManageAccess REGISTER, federal.md 5.1).

    Why a table: the BCSS refuses every form for a NISS not integrated with quality code 2 (-300020), and a
    REGISTER is a side effect at the BCSS.  The row is written *pending* before the call and *done* once the
    BCSS confirmed it (or a LIST showed it), so a NISS is integrated once per CPAS and a crash or timeout is
    resolved by asking (LIST) rather than by registering again.  ``start`` is the first day the integration
    covers: a later form dated before it extends it (a new REGISTER with the earlier start).  Only the NISS's
    keyed hash is stored: every caller already holds the NISS it asks about, none needs it back."""

    __tablename__ = "federal_niss_integration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cpas_id: Mapped[str] = mapped_column(String(64), nullable=False)
    niss_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    purpose: Mapped[int] = mapped_column(
        Integer, nullable=False
    )  # BCSS quality code (2: revenu d'intégration)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending | done
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("cpas_id", "niss_hash"),
    )  # uq_federal_niss_integration_cpas_id
