"""The beneficiary, the partner, the CPAS and the people around the contract (rules.md 1.2, 1.5)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.identifiers import Bce, InsCode, Niss, niss_birth_date
from piis_bridge.model._base import CanonicalModel, NonEmptyStr, field_problems
from piis_bridge.model.annual_report import AnnualReport
from piis_bridge.model.enums import (
    EmploymentStatus,
    HouseholdRole,
    IncomeKind,
    Language,
    RequestedBy,
    ThirdPartyKind,
    WorkerRole,
)


class ResidencePeriod(CanonicalModel):
    """Where the person lived: drives which CPAS is competent, the contract end and transfers."""

    ins_code: InsCode
    municipality: str | None = None
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ResidencePeriod:
        if self.end_date is not None and self.end_date < self.start_date:
            raise field_problems([("end_date", "is before start_date")])
        return self


class IncomePeriod(CanonicalModel):
    """A period of RI, equivalent RI, art. 60 job or employment (the 3-month and 12-month rules)."""

    kind: IncomeKind
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> IncomePeriod:
        if self.end_date is not None and self.end_date < self.start_date:
            raise field_problems([("end_date", "is before start_date")])
        return self


class Person(CanonicalModel):
    """A beneficiary or partner.  Names are optional: the rules and forms need only the NISS."""

    niss: Niss
    birth_date: date
    first_name: str | None = None
    last_name: str | None = None
    language: Language | None = None
    household_role: HouseholdRole | None = None
    employment_status: EmploymentStatus = EmploymentStatus.NONE
    full_time_student: bool = False
    studies_uninterrupted_since: date | None = None
    residences: list[ResidencePeriod] = Field(default_factory=list)
    dis_history: list[IncomePeriod] = Field(default_factory=list)

    def __repr_args__(self):  # never show the NISS in a repr (tracebacks, debuggers, logs)
        for key, value in super().__repr_args__():
            yield key, ("***" if key == "niss" else value)

    @model_validator(mode="after")
    def _birth_date_matches_niss(self) -> Person:
        encoded = niss_birth_date(self.niss)
        if encoded is not None and encoded != self.birth_date:
            raise field_problems(
                [("birth_date", "does not match the birth date encoded in the NISS")]
            )
        return self

    def age_on(self, day: date) -> int:
        """Age in whole years; someone born on 29 February turns a year older on 1 March in common years."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class Cpas(CanonicalModel):
    name: NonEmptyStr
    ins_code: InsCode = Field(description="INS/NIS code of the municipality the CPAS serves")
    bce: Bce = Field(description="BCE/KBO enterprise number of the CPAS")
    annual_reports: list[AnnualReport] = Field(
        default_factory=list,
        description="The CPAS's yearly global evaluations of its PIIS (R-EVA-07); empty = not recorded",
    )

    @model_validator(mode="after")
    def _one_report_per_year(self) -> Cpas:
        years = [r.year for r in self.annual_reports]
        duplicates = sorted({y for y in years if years.count(y) > 1})
        if duplicates:
            raise field_problems(
                [("annual_reports", f"year {y} appears more than once") for y in duplicates]
            )
        return self


class SocialWorkerAssignment(CanonicalModel):
    """The social worker in charge and the substitutes [002 L212-214]."""

    worker_id: NonEmptyStr
    name: NonEmptyStr
    role: WorkerRole
    phone: str | None = None
    email: str | None = None
    contact_hours: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    permanent_change_notified_date: date | None = Field(
        default=None,
        description="Date the person was told in writing of a permanent replacement [002 L214]",
    )


class ThirdParty(CanonicalModel):
    """A third party to the contract and its role in execution and evaluation [002 L125, L210]."""

    party_id: NonEmptyStr
    name: NonEmptyStr
    kind: ThirdPartyKind
    bce: Bce | None = None
    requested_by: RequestedBy | None = None
    execution_role: str | None = None
    evaluation_role: str | None = None
    non_compliance_intervention: str | None = None
