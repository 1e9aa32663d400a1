"""What happens during the contract: evaluations, versions, warnings, hearings, sanctions
(rules.md 1.9, 1.11, 1.12)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.model._base import CanonicalModel, NonEmptyStr, Percentage, field_problems
from piis_bridge.model.enums import (
    DecidingBody,
    EvaluationKind,
    EvaluationMode,
    PartyRole,
    SanctionKind,
    SursisKind,
    VersionKind,
)


class Evaluation(CanonicalModel):
    """At least 3 a year, 2 of them in person (R-EVA); formalised to count for inspection."""

    evaluation_id: NonEmptyStr
    held_on: date
    mode: EvaluationMode
    kind: EvaluationKind = EvaluationKind.PERIODIC
    participants: list[str] = Field(default_factory=list)
    progress: str | None = None
    difficulties: str | None = None
    cpas_commitments_fulfilled: bool | None = Field(
        default=None,
        description="Whether the CPAS kept its own commitments (blocks sanctions when false)",
    )
    adjustments: str | None = None
    next_date: date | None = None
    formalised: bool = True
    countersigned_by_person: bool | None = None
    resulting_version_no: int | None = None


class PartyAgreement(CanonicalModel):
    party: PartyRole
    third_party_id: str | None = None
    agreed_date: date


class ContractVersion(CanonicalModel):
    """The original contract and every annex or amendment: appended, never overwritten (R-AMD)."""

    version_no: int = Field(ge=1)
    kind: VersionKind
    requested_by: PartyRole | None = None
    reason: str | None = None
    effective_date: date
    agreements: list[PartyAgreement] = Field(default_factory=list)
    pre_signature_information_date: date | None = None
    changed_elements: list[str] = Field(default_factory=list)
    submitted_to_committee_date: date | None = None
    summary: str | None = None


class Warning(CanonicalModel):  # noqa: A001 - the legal term ("mise en demeure"), scoped to this package
    """The formal warning that must precede any sanction [002 L407]."""

    warning_id: NonEmptyStr
    sent_on: date
    channel: str = "REGISTERED_LETTER"
    breached_commitment_ids: list[str] = Field(default_factory=list)
    invitation_to_explain: bool = True


class SWOpinion(CanonicalModel):
    """The social worker's opinion before a sanction; it does not bind the CPAS [002 L411]."""

    opinion_id: NonEmptyStr
    given_on: date
    author: NonEmptyStr
    recommendation: NonEmptyStr
    warning_id: str | None = None


class Hearing(CanonicalModel):
    """The right to be heard: informed in writing, heard when asked [002 L393-395, L413]."""

    hearing_id: NonEmptyStr
    right_informed_in_writing_date: date
    requested: bool = False
    request_date: date | None = None
    held_on: date | None = None
    body: DecidingBody | None = None
    assisted_by: str | None = None


class Sursis(CanonicalModel):
    """Suspended execution of a sanction [002 L418-420]."""

    kind: SursisKind
    condition: str | None = None
    period_start: date
    period_end: date
    breach_date: date | None = None
    application_date: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Sursis:
        if self.period_end < self.period_start:
            raise field_problems([("period_end", "is before period_start")])
        return self


class SanctionDecision(CanonicalModel):
    """Suspension of the RI for breach of the PIIS (R-SAN) [002 L405-424]."""

    sanction_id: NonEmptyStr
    decision_date: date
    body: DecidingBody = DecidingBody.SPECIAL_COMMITTEE
    breach_facts: NonEmptyStr
    warning_id: str | None = None
    opinion_id: str | None = None
    hearing_id: str | None = None
    legitimate_reason_found: bool = False
    cpas_failure_found: bool = False
    kind: SanctionKind
    percentage: Percentage = 100
    start_date: date
    end_date: date
    is_recidivism: bool = False
    previous_sanction_id: str | None = None
    notification_date: date | None = None
    notification_received_date: date | None = Field(
        default=None,
        description="When the person received the decision: the appeal deadline runs from it (R-DL-07, "
        "R-SAN-13). None: the notification date stands in for it",
    )
    breach_date: date | None = Field(
        default=None,
        description="When the sanctioned breach happened: the obligation must have been agreed in the signed "
        "PIIS before it (R-SAN-01, REQ-10) and the warning must follow it (R-SAN-03)",
    )
    appeal_information_given: bool | None = Field(
        default=None,
        description="The decision letter states the appeal to the labour court within 3 months (R-SAN-13). "
        "None = not recorded",
    )
    executing_cpas_ins: str | None = None
    sursis: Sursis | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SanctionDecision:
        if self.end_date < self.start_date:
            raise field_problems([("end_date", "is before start_date")])
        if self.is_recidivism and not self.previous_sanction_id:
            raise field_problems(
                [("previous_sanction_id", "is required when is_recidivism is true")]
            )
        problems = []
        if self.notification_received_date is not None:
            if self.notification_received_date < self.decision_date:
                problems.append(("notification_received_date", "is before decision_date"))
            elif (
                self.notification_date is not None
                and self.notification_received_date < self.notification_date
            ):
                problems.append(("notification_received_date", "is before notification_date"))
        if self.breach_date is not None and self.breach_date > self.decision_date:
            problems.append(("breach_date", "is after decision_date"))
        if problems:
            raise field_problems(problems)
        return self


class Appeal(CanonicalModel):
    court: str = "tribunal du travail"
    decision_received_date: date
    filed_date: date | None = None
