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
    DecidingBody,
    InformationTopic,
    Language,
    MeansDeclineGround,
    PartyRole,
    RequestedBy,
    VolunteerAllowanceRegime,
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
    volunteer_allowance_cents: Cents | None = Field(
        default=None, description="Per month; None = unpaid"
    )
    allowance_regime: VolunteerAllowanceRegime | None = Field(
        default=None,
        description="Flat-rate allowance or reimbursement of actual costs (volunteers law of 3 July 2005); "
        "the flat-rate ceiling does not apply to actual costs (R-CS-09). None = not recorded",
    )
    effect_on_ri_explained: bool = False
    effect_on_tax_explained: bool | None = Field(
        default=None,
        description="The allowance's effect on tax was explained [002 L321] (R-CS-09). None = not recorded",
    )
    insurance_verified: bool = False
    insurance_policy_ref: str | None = None
    insurance_verified_date: date | None = None
    not_regular_paid_task_confirmed: bool = False
    not_trial_or_employment_test: bool = False
    agreed_by_person: bool = False
    agreed_by_cpas: bool = False
    ended_by_person_date: date | None = None

    @model_validator(mode="after")
    def _allowance_regime_needs_an_allowance(self) -> CommunityServiceBlock:
        if self.allowance_regime is not None and not self.volunteer_allowance_cents:
            raise field_problems(
                [("allowance_regime", "is set but no volunteer_allowance_cents is paid")]
            )
        return self


class AcademicYearEvaluation(CanonicalModel):
    academic_year: NonEmptyStr = Field(description="e.g. 2025-2026")
    results_available_date: date
    results_communicated_date: date | None = None
    outcome: AcademicOutcome | None = None
    reasoning: str | None = None
    cycle: str | None = Field(
        default=None,
        description="Study cycle of this year (e.g. bachelor, master); default: the studies block's cycle. "
        "Repeated years are counted per cycle (R-STU-11)",
    )
    repeated_year: bool | None = Field(
        default=None,
        description="This academic year repeats the previous one (R-STU-11). None = not recorded",
    )
    repeat_allowed_by_council_date: date | None = Field(
        default=None,
        description="The council allowed this repeat beyond the local limit ('unless the council decides "
        "otherwise', Model A 004 L5273-5275)",
    )


class SummerJob(CanonicalModel):
    """Whether the student worked in one summer.  Why: some CPAS require a summer job, or suspend one
    month of RI in summer (local policy R-STU-11 [004 L1567-1572]); health or equity reasons exempt
    the student from work availability [002 L269]."""

    summer: int = Field(ge=2000, le=2100, description="The calendar year of the summer")
    worked: bool
    employer: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    exemption_reason: str | None = Field(
        default=None, description="Health or equity reason for not working"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SummerJob:
        if (
            self.start_date is not None
            and self.end_date is not None
            and self.end_date < self.start_date
        ):
            raise field_problems([("end_date", "is before start_date")])
        return self


class MaintenanceDebtorsInvestigation(CanonicalModel):
    """The CPAS's investigation of the means of the student's maintenance debtors (usually the
    parents), asked by inspection item I-10.  Holds counts and conclusions only: the debtors are
    not identified here (no NISS)."""

    investigated_on: date
    investigated_by: str | None = None
    debtors_count: int = Field(
        ge=0, description="Number of maintenance debtors whose means were examined"
    )
    able_to_pay: bool | None = Field(
        default=None, description="At least one debtor has the means to contribute"
    )
    note: str | None = None


class RecoveryDecision(CanonicalModel):
    """The decision to recover (or not) the RI from the maintenance debtors, and when it was served on
    the applicant and on the debtors: inspection item I-11."""

    decided_on: date
    body: DecidingBody = DecidingBody.SPECIAL_COMMITTEE
    recover: bool = Field(
        description="True: recover from the debtors; false: decided not to recover"
    )
    served_on_applicant_date: date | None = None
    served_on_debtors_date: date | None = None

    @model_validator(mode="after")
    def _served_after_decision(self) -> RecoveryDecision:
        problems = [
            (name, "is before decided_on")
            for name in ("served_on_applicant_date", "served_on_debtors_date")
            if getattr(self, name) is not None and getattr(self, name) < self.decided_on
        ]
        if problems:
            raise field_problems(problems)
        return self


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
    grant_application: str | None = Field(
        default=None, description="Body and due date of the study-grant request"
    )
    family_allowance_redirect: str | None = None
    work_availability: str | None = None
    attendance_commitments: str | None = None
    cpas_study_support: str | None = None
    parental_break_mediation: str | None = None
    year_evaluation_method: str | None = None
    academic_years: list[AcademicYearEvaluation] = Field(default_factory=list)
    summer_jobs: list[SummerJob] = Field(default_factory=list)
    maintenance_debtors_investigation: MaintenanceDebtorsInvestigation | None = None
    recovery_decision: RecoveryDecision | None = None

    @model_validator(mode="after")
    def _ordered(self) -> StudiesBlock:
        problems = []
        if self.study_end_date < self.study_start_date:
            problems.append(("study_end_date", "is before study_start_date"))
        seen: set[int] = set()
        for i, job in enumerate(self.summer_jobs):
            if job.summer in seen:
                problems.append(
                    (f"summer_jobs[{i}].summer", f"summer {job.summer} appears more than once")
                )
            seen.add(job.summer)
        if problems:
            raise field_problems(problems)
        return self


class EmploymentProjectBlock(CanonicalModel):
    nature: NonEmptyStr
    organiser: str | None = None
    place: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    timetable: str | None = None
    job_coach: str | None = None


class MeansChoice(CanonicalModel):
    """The means the person chose for the project and whether the CPAS followed that choice.  The
    choice is respected when possible and the costs are comparable; declining it needs one of the two
    grounds (R-CNT-08) [002 L196; 000 L91; 001 L24]."""

    person_choice: NonEmptyStr
    declined: bool = False
    decline_ground: MeansDeclineGround | None = None
    justification: str | None = None
    decided_on: date | None = None

    @model_validator(mode="after")
    def _ground_only_when_declined(self) -> MeansChoice:
        if self.decline_ground is not None and not self.declined:
            raise field_problems([("decline_ground", "is set but declined is false")])
        return self


class CopyReceipt(CanonicalModel):
    """The person's declaration of receipt of a signed copy and of the explanatory leaflet (R-SIG-03)
    [Model A 004 L5320-5321]."""

    received_on: date
    leaflet_received: bool
    copies_count: int | None = Field(default=None, ge=1, description="Copies made (Model A: 3)")
    place_of_signature: str | None = None


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
