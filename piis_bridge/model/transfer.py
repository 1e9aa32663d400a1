"""End of the contract and hand-over to another CPAS (rules.md 1.13)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from piis_bridge.identifiers import InsCode
from piis_bridge.model._base import CanonicalModel, NonEmptyStr
from piis_bridge.model.enums import Consent, RequestedBy, TerminationReason


class Termination(CanonicalModel):
    ended_on: date
    reason: TerminationReason
    note: str | None = None


class TransferAssessment(CanonicalModel):
    """The new CPAS's check: which commitments it takes over, and why not the others [002 L230]."""

    assessed_on: date
    commitments_taken_over: list[str] = Field(default_factory=list)
    commitments_not_taken_over: dict[str, str] = Field(
        default_factory=dict, description="id -> reason"
    )
    new_contract_ref: str | None = None


class TransferRequest(CanonicalModel):
    """A move to another municipality: the contract ends and may be handed over (R-TRF)."""

    transfer_id: NonEmptyStr
    residence_change_date: date
    from_cpas_ins: InsCode
    to_cpas_ins: InsCode
    requested_by: RequestedBy = RequestedBy.PERSON
    consent: Consent = Consent.NOT_EXPRESSED
    consent_recorded_on: date | None = None
    consent_recorded_by: str | None = None
    consent_channel: str | None = None
    agreement_old_cpas: bool | None = None
    agreement_new_cpas: bool | None = None
    assessment: TransferAssessment | None = None
