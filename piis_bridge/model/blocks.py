"""The parts of a PIIS contract (rules.md 1.5-1.9)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.model._base import CanonicalModel, Cents, NonEmptyStr, field_problems
from piis_bridge.model.enums import (
    AcademicOutcome,
    ActionDomain,
    CommitmentNature,
    CostCategory,
    EvaluationMode,
    InformationTopic,
    Language,
    PartyRole,
    RequestedBy,
)


class Objective(CanonicalModel):
    objective_id: NonEmptyStr
    text: NonEmptyStr
    domain: ActionDomain | None = None
    target_date: date | None = None
    priority: int | None = None
    status: str | None = None


class Commitment(CanonicalModel):
    """One party's commitment, linked to the objectives it serves [002 L187-189]."""

    commitment_id: NonEmptyStr
    party: PartyRole
    third_party_id: str | None = Field(default=None, description="Set when party is THIRD_PARTY")
    text: NonEmptyStr
    objective_ids: list[str] = Field(default_factory=list)
    due_date: date | None = None
    frequency: str | None = None
    nature: CommitmentNature | None = None

    @model_validator(mode="after")
    def _third_party_named(self) -> Commitment:
        if self.party is PartyRole.THIRD_PARTY and not self.third_party_id:
            raise field_problems([("third_party_id", "is required when party is THIRD_PARTY")])
        return self


class EvaluationArrangement(CanonicalModel):
    """How and when the contract is evaluated; part of the contract itself [002 L218]."""

    method: NonEmptyStr
    evaluations_per_year: int = Field(default=3, ge=0)
    in_person_per_year: int = Field(default=2, ge=0)
    planned_dates: list[date] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)
    template: str | None = None


class EncouragementPremium(CanonicalModel):
    amount_cents: Cents
    frequency: str | None = None
    payment_date: date | None = None
    conditions: NonEmptyStr


class CostCoverage(CanonicalModel):
    """Costs owed by the CPAS for training or work experience unless a third party pays [002 L194]."""

    category: CostCategory
    amount_cents: Cents | None = None
    payer: PartyRole = PartyRole.CPAS
    third_party_id: str | None = None


class HostOrganisation(CanonicalModel):
    name: NonEmptyStr
    legal_form: str | None = None
    non_profit: bool
    uses_volunteers: bool


class CommunityServiceBlock(CanonicalModel):
    """Community service inside a PIIS (R-CS); it can never be imposed [000 L129]."""

    nature: NonEmptyStr
    host: HostOrganisation
    schedule: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    volunteer_allowance_cents: Cents | None = Field(default=None, description="Per month; None = unpaid")
    effect_on_ri_explained: bool = False
    insurance_verified: bool = False
    insurance_policy_ref: str | None = None
    insurance_verified_date: date | None = None
    not_regular_paid_task_confirmed: bool = False
    not_trial_or_employment_test: bool = False
    agreed_by_person: bool = False
    agreed_by_cpas: bool = False
    ended_by_person_date: date | None = None


class AcademicYearEvaluation(CanonicalModel):
    academic_year: NonEmptyStr = Field(description="e.g. 2025-2026")
    results_available_date: date
    results_communicated_date: date | None = None
    outcome: AcademicOutcome | None = None
    reasoning: str | None = None


class StudiesBlock(CanonicalModel):
    """Full-time studies PIIS (R-STU) [002 L246-281]."""

    institution: NonEmptyStr
    community_recognised: bool
    programme: NonEmptyStr
    cycle: str | None = None
    full_time: bool
    enrolment_proof_received_date: date | None = None
    study_start_date: date
    study_end_date: date
    equity_acceptance_decision_date: date | None = None
    grant_application: str | None = Field(default=None, description="Body and due date of the study-grant request")
    family_allowance_redirect: str | None = None
    work_availability: str | None = None
    attendance_commitments: str | None = None
    cpas_study_support: str | None = None
    parental_break_mediation: str | None = None
    year_evaluation_method: str | None = None
    academic_years: list[AcademicYearEvaluation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> StudiesBlock:
        if self.study_end_date < self.study_start_date:
            raise field_problems([("study_end_date", "is before study_start_date")])
        return self


class EmploymentProjectBlock(CanonicalModel):
    nature: NonEmptyStr
    organiser: str | None = None
    place: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    timetable: str | None = None
    job_coach: str | None = None


class PreSignatureInformation(CanonicalModel):
    """Information owed before signature and before every modification [002 L191]."""

    given_date: date
    given_by: NonEmptyStr
    topics: list[InformationTopic] = Field(default_factory=list)
    language: Language | None = None
    for_version: int = Field(default=1, ge=1)


class ReflectionPeriod(CanonicalModel):
    """Five calendar days between handing the draft and signing (R-DL-04)."""

    draft_handed_date: date
    waived: bool = False
    waiver_reason: str | None = None


class InterviewRequest(CanonicalModel):
    """A request to be heard by the social worker: held within 5 working days (R-DL-05)."""

    requested_date: date
    requested_by: RequestedBy = RequestedBy.PERSON
    channel: str | None = None
    held_date: date | None = None
    held_by: str | None = None


class Signature(CanonicalModel):
    party: PartyRole
    third_party_id: str | None = None
    signer_name: NonEmptyStr
    signer_function: str | None = None
    signed_date: date
    for_version: int = Field(default=1, ge=1)
