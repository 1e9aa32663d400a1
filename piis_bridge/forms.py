"""Types that cross the federal hooks: forms B/C/D, contract events, submission outcomes, statements.

Why in the core: ``piis_federal_*`` hooks pass these between the pipeline, the ledger and whichever
plugin talks to the federal service, so none of them may live in a plugin.  They carry no transport
detail: a :class:`FederalForm` is the content of a form (rubrics by their DIS element name, see
``mappings/federal/rubrics.yaml``), never its XML.  Rules: federal.md sections 2-5.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from piis_bridge.identifiers import Bce, InsCode, Niss

__all__ = [
    "FORM_KEY_NAMESPACE",
    "TERMINAL_STATUSES",
    "ContractEvent",
    "DifferenceKind",
    "Evaluation",
    "EventKind",
    "FederalForm",
    "FormIssue",
    "FormKind",
    "FormStatus",
    "MonthlyStatement",
    "ReconciliationDifference",
    "RecoveryInfo",
    "StatementLine",
    "StatementNotice",
    "SubmissionOutcome",
    "event_for_contract",
    "status_for_evaluation",
]

FORM_KEY_NAMESPACE = uuid.UUID("3f0e7c3a-5d5b-4e43-9a55-6c1c3f0b7d21")
_NOT_CONTENT: set[str] = {"client_reference", "supersedes", "correction"}  # never mutated


class _Model(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")


class FormKind(StrEnum):
    B = "B"  # grant of RI (federal.md 2)
    C = "C"  # refusal / withdrawal, ends a B (2.5)
    D = "D"  # recovery from the beneficiary (4)


class FormStatus(StrEnum):
    """Ledger state of one form version (issue #5)."""

    BUILT = "built"
    SENT = "sent"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    PARTIALLY_ACCEPTED = "partially_accepted"
    BLOCKED = "blocked"
    SUPERSEDED = "superseded"


TERMINAL_STATUSES = frozenset(
    {
        FormStatus.ACCEPTED,
        FormStatus.REFUSED,
        FormStatus.PARTIALLY_ACCEPTED,
        FormStatus.BLOCKED,
        FormStatus.SUPERSEDED,
    }
)


class Evaluation(StrEnum):
    """NovaPrima's evaluation (loi 65 shape + BLOCKED for double claims); PENDING = not answered yet."""

    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    PARTIALLYACCEPTED = "PARTIALLYACCEPTED"
    BLOCKED = "BLOCKED"
    PENDING = "PENDING"


_EVALUATION_STATUS = {
    Evaluation.ACCEPTED: FormStatus.ACCEPTED,
    Evaluation.REFUSED: FormStatus.REFUSED,
    Evaluation.PARTIALLYACCEPTED: FormStatus.PARTIALLY_ACCEPTED,
    Evaluation.BLOCKED: FormStatus.BLOCKED,
    Evaluation.PENDING: FormStatus.SENT,
}


def status_for_evaluation(evaluation: Evaluation | str) -> FormStatus:
    return _EVALUATION_STATUS[Evaluation(evaluation)]


class EventKind(StrEnum):
    GRANT = "grant"  # a B at the RI start date (first request or unchanged resend)
    CHANGE = "change"  # a B at a later effective date, all data repeated (modification, 2.1)
    END = "end"  # a C (refusal 1 / withdrawal 2)
    RECOVERY = "recovery"  # a D


class RecoveryInfo(_Model):
    """What a form D needs and the canonical contract does not hold (recoveries are bookkeeping)."""

    month: date = Field(
        description="First day of the month in which the receipts were booked (rubric 4)."
    )
    recovery_type: str = Field(
        pattern=r"^[0-9]{2}$", description="Type de récupération (rubric 11), e.g. '01'."
    )
    period_start: date
    period_end: date
    amount_cents: int = Field(ge=0, le=99_999_999)


class ContractEvent(_Model):
    """What happened to a contract that the federal service must be told."""

    kind: EventKind
    effective_date: date | None = Field(default=None, description="EntryDate of a B (change) or C.")
    decision_date: date | None = None
    end_nature: str = Field(
        default="2", pattern=r"^[12]$", description="C: 1 refusal, 2 withdrawal."
    )
    recovery: RecoveryInfo | None = None

    @classmethod
    def from_contract(cls, contract: Any) -> ContractEvent:
        return event_for_contract(contract)


def event_for_contract(contract: Any) -> ContractEvent:
    """The event a synced contract implies: an ended RI/contract is a C, otherwise its B."""
    decision = contract.decision
    termination = getattr(contract, "termination", None)
    if decision.ri_end_date is not None:
        return ContractEvent(
            kind=EventKind.END,
            effective_date=decision.ri_end_date + timedelta(days=1),
            decision_date=decision.decision_date,
        )
    if termination is not None and str(getattr(termination, "reason", "")) == "RI_ENDED":
        return ContractEvent(
            kind=EventKind.END,
            effective_date=termination.ended_on + timedelta(days=1),
            decision_date=decision.decision_date,
        )
    return ContractEvent(
        kind=EventKind.GRANT,
        effective_date=decision.ri_start_date,
        decision_date=decision.decision_date,
    )


class FederalForm(_Model):
    """The content of one form B, C or D (rubrics keyed by DIS element name, values in lexical form)."""

    kind: FormKind
    client_reference: str | None = Field(
        default=None,
        max_length=36,
        description="Idempotency key; derived from the content when None.",
    )
    cpas_id: str = Field(min_length=1)
    cpas_name: str
    cpas_ins: InsCode
    cpas_bce: Bce
    niss: Niss
    dossier: str = Field(min_length=1, max_length=20)
    record_id: str | None = Field(
        default=None, description="The source record (contract id) it was built from."
    )
    entry_date: date | None = Field(default=None, description="Rubric 4 of B and C.")
    recovery_month: date | None = Field(
        default=None, description="Rubric 4 of D (first day of month)."
    )
    sequence_number: int | None = Field(
        default=None, ge=1, le=99, description="Rubric 4 of D (numéro d'ordre)."
    )
    correction: bool = Field(
        default=False, description="B: statut de l'avis 1; D: correction of the same sequence."
    )
    supersedes: str | None = Field(
        default=None, description="client_reference of the version this one replaces."
    )
    rubrics: dict[str, Any] = Field(
        default_factory=dict, description="Form-specific rubrics by DIS element name."
    )

    @property
    def period_key(self) -> str:
        if self.kind is FormKind.D:
            month = self.recovery_month.isoformat()[:7] if self.recovery_month else "?"
            return f"{month}/{self.sequence_number or 0}"
        return self.entry_date.isoformat() if self.entry_date else "?"

    _hash: str | None = PrivateAttr(default=None)

    # The cached hash lives in pydantic's private-attribute dict, read and written directly: going through
    # attribute access costs more than the hash itself on the 100,000-form batch path.

    def _private(self) -> dict[str, Any]:
        # Always a dict here: the model declares a private attribute (pydantic types it Optional).
        private = self.__pydantic_private__
        assert private is not None
        return private

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._private()["_hash"] = None  # the cached content hash would describe the original
        return copy

    def content_hash(self) -> str:
        """Hash of what the form says (not of its key), to detect a changed rebuild."""
        private = self._private()
        cached = private.get("_hash")
        if cached is None:
            data = self.model_dump_json(exclude=_NOT_CONTENT)
            cached = private["_hash"] = hashlib.sha256(data.encode()).hexdigest()
        return cached

    @property
    def key(self) -> str:
        """The client reference of a keyed form (:meth:`with_key`); a form not keyed yet is a bug."""
        if self.client_reference is None:
            raise ValueError(f"form {self.kind} of {self.record_id} has no client_reference yet")
        return self.client_reference

    def derived_key(self) -> str:
        return str(
            uuid.uuid5(
                FORM_KEY_NAMESPACE,
                f"{self.cpas_id}|{self.kind}|{self.period_key}|{self.correction}|"
                f"{self.content_hash()}",
            )
        )

    def with_key(self) -> FederalForm:
        if self.client_reference:
            return self
        digest = self.content_hash()
        # pydantic's model_copy(update=...) for one field, without its generic update path: with_key
        # 9.1 -> 8.1 us a call (content hash cached, alternating A/B in one process), ~1 us of the
        # ~45 us a form of bench_federal's batch build; same fields, same fields_set.
        copy = self.__copy__()
        copy.__dict__["client_reference"] = self.derived_key()
        copy.__pydantic_fields_set__.add("client_reference")
        copy._private()["_hash"] = digest  # the key is not part of the content
        return copy


class FormIssue(_Model):
    """One control result (NovaPrima error/warning) or one local schema violation, with its rubric."""

    code: str
    severity: str = "ERROR"
    field: str | None = None
    rubric: str | None = Field(
        default=None, description="Rubric number and label, e.g. '11 Catégorie'."
    )
    message: str = ""


class SubmissionOutcome(_Model):
    client_reference: str
    kind: FormKind
    status: FormStatus
    evaluation: Evaluation = Evaluation.PENDING
    ticket: str | None = None
    reference: str | None = Field(default=None, description="ReferenceSPP_POD (10 chars).")
    attestation_id: str | None = None
    percentage: int | None = Field(
        default=None, description="State share in hundredths of a percent."
    )
    accepted_amount: int | None = None
    received_at: datetime | None = None
    issues: list[FormIssue] = Field(default_factory=list)


class StatementLine(_Model):
    """One record of the monthly statement (federal.md 5.4 layout)."""

    legislation: str = "1"
    ins_code: str
    dossier: str
    niss: str
    reference: str
    client_reference: str | None = None
    amount_type: int = Field(description="1 grant, 2 arrears, 3 recovery, 4/5/6 regularisations.")
    first_day: date
    last_day: date
    budget_article: str
    sign: str = Field(pattern=r"^[+-]$")
    amount_cents: int = Field(ge=0)
    percentage: int
    category: str = ""

    @property
    def signed_cents(self) -> int:
        return -self.amount_cents if self.sign == "-" else self.amount_cents


class StatementNotice(_Model):
    code: str
    client_reference: str | None = None
    text: str


class MonthlyStatement(_Model):
    cpas_bce: str
    month: date
    lines: list[StatementLine] = Field(default_factory=list)
    notices: list[StatementNotice] = Field(default_factory=list)


class DifferenceKind(StrEnum):
    MISSING_IN_STATEMENT = (
        "missing_in_statement"  # accepted in the ledger, absent from the statement
    )
    UNKNOWN_IN_LEDGER = "unknown_in_ledger"  # a statement line for a form we never sent
    STATUS_MISMATCH = (
        "status_mismatch"  # a line for a form the ledger holds as refused/superseded/pending
    )
    AMOUNT_MISMATCH = "amount_mismatch"  # stated amount differs from what the ledger expects
    NOTICE = "notice"  # a-posteriori control, double claim, ... to follow up


class ReconciliationDifference(_Model):
    kind: DifferenceKind
    client_reference: str | None = None
    reference: str | None = None
    expected_cents: int | None = None
    stated_cents: int | None = None
    detail: str = ""
