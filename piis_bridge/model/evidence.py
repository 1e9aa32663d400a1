"""Evidence the person hands in during the contract: job-application proofs, course attendance lists,
absences for a sick child and the jokers used (rules.md 1.5 "evidence requirement", REQ-14).

Why a record of its own: the quotas (8 applications a month, 100% attendance, 4 sick-child
absences a year, N jokers a school year) are local CPAS policy (Appendix B, Model C [004
L5640-5711]), never legal defaults.  The rules compare these records with the CPAS's parameters
(``RuleSettings.local_*``) only when both exist; the receipt dates are what the person and the
worker both see (REQ-14: documents the worker says were never received).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from pydantic import Field, field_validator, model_validator

from piis_bridge.model._base import CanonicalModel, field_problems

__all__ = ["AttendanceMonth", "EvidenceLog", "JobApplicationMonth", "JokerUse", "SickChildAbsence"]

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def _first_of_month(value: date) -> date:
    if value.day != 1:
        raise ValueError("must be the first day of a month")
    return value


class JobApplicationMonth(CanonicalModel):
    """The job applications the person proved for one month, and when the proofs were handed in."""

    month: date = Field(description="First day of the month")
    applications: int = Field(ge=0, description="Traceable applications proved for that month")
    proofs_received_date: date | None = Field(default=None, description="None = not handed in yet")

    @field_validator("month")
    @classmethod
    def _month_start(cls, value: date) -> date:
        return _first_of_month(value)


class AttendanceMonth(CanonicalModel):
    """One month's attendance list of a course (language course, training...)."""

    month: date = Field(description="First day of the month")
    course: str | None = None
    sessions_planned: int = Field(ge=1)
    sessions_attended: int = Field(ge=0)
    sessions_justified: int = Field(
        default=0, ge=0, description="Absences justified by a certificate (illness, sick child...)"
    )
    list_received_date: date | None = Field(
        default=None, description="None = attendance list not handed in yet"
    )

    @field_validator("month")
    @classmethod
    def _month_start(cls, value: date) -> date:
        return _first_of_month(value)

    @model_validator(mode="after")
    def _counts(self) -> AttendanceMonth:
        if self.sessions_attended + self.sessions_justified > self.sessions_planned:
            raise field_problems(
                [("sessions_attended", "attended plus justified sessions exceed sessions_planned")]
            )
        return self


class SickChildAbsence(CanonicalModel):
    """A day the person stayed home for a sick child.  Model C allows it only when no partner is
    present, with a doctor's certificate [004 L5688-5693]."""

    absent_on: date
    partner_present: bool | None = Field(
        default=None, description="A partner was present to look after the child"
    )
    certificate_received_date: date | None = None


class JokerUse(CanonicalModel):
    """A joker used for an unjustified absence: no suspension proposal goes to the committee for it
    [Model C 004 L5706-5711]."""

    used_on: date
    school_year: str | None = Field(
        default=None,
        description="e.g. 2025-2026; None: the school year running from 1 September that contains used_on",
    )

    @field_validator("school_year")
    @classmethod
    def _consecutive_years(cls, value: str | None) -> str | None:
        if value is None:
            return value
        m = _SCHOOL_YEAR.match(value)
        if m is None or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError("must be two consecutive years, e.g. 2025-2026")
        return value

    @property
    def school_year_label(self) -> str:
        """The recorded school year, or the one from 1 September to 31 August containing ``used_on``."""
        if self.school_year is not None:
            return self.school_year
        start = self.used_on.year if self.used_on.month >= 9 else self.used_on.year - 1
        return f"{start}-{start + 1}"


class EvidenceLog(CanonicalModel):
    """Everything the person handed in as proof during the contract, with its receipt dates."""

    job_applications: list[JobApplicationMonth] = Field(default_factory=list)
    attendance: list[AttendanceMonth] = Field(default_factory=list)
    sick_child_absences: list[SickChildAbsence] = Field(default_factory=list)
    jokers: list[JokerUse] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_record_per_month(self) -> EvidenceLog:
        problems = []
        months = Counter(m.month for m in self.job_applications)
        problems += [
            ("job_applications", f"month {m.isoformat()} appears more than once")
            for m, n in months.items()
            if n > 1
        ]
        lists = Counter((a.month, a.course) for a in self.attendance)
        problems += [
            ("attendance", f"month {m.isoformat()} appears more than once for the same course")
            for (m, _), n in lists.items()
            if n > 1
        ]
        days = Counter(a.absent_on for a in self.sick_child_absences)
        problems += [
            ("sick_child_absences", f"day {d.isoformat()} appears more than once")
            for d, n in days.items()
            if n > 1
        ]
        if problems:
            raise field_problems(problems)
        return self
