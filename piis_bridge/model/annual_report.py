"""The CPAS's yearly global evaluation of its PIIS contracts and the annual-report synthesis
(rules.md 1.10, R-EVA-07, R-RPT-03, REQ-08).

Why it sits on the contract's ``cpas`` block: the rules judge one contract at a time, and this is a
CPAS-level duty the inspection asks about for every contract of the year.  A vendor export copies
the CPAS's reports into each contract's ``cpas.annual_reports`` (the same few records for every
contract); a file without them is judged as before (not recorded).
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.model._base import CanonicalModel, field_problems

__all__ = ["AnnualReport"]


class AnnualReport(CanonicalModel):
    """One calendar year: the global evaluation of the PIIS results and the two syntheses the
    president makes sure appear in the annual report [002 L224, L403].  C-11: the evaluation is
    started by a head of the social service [004 L228-230] and signed off by the president."""

    year: int = Field(
        ge=2002, le=2100, description="The calendar year whose PIIS results are evaluated"
    )
    global_evaluation_date: date
    initiated_by: str | None = Field(default=None, description="Who started the evaluation (C-11)")
    president_signoff_date: date | None = Field(
        default=None,
        description="The president checked that both syntheses are in the annual report (C-11)",
    )
    contract_evaluations_synthesis: str | None = None
    employment_results_synthesis: str | None = None
    persons_counted: int | None = Field(
        default=None, ge=0, description="REQ-08: results counted per person"
    )
    contracts_counted: int | None = Field(
        default=None, ge=0, description="REQ-08: results counted per contract"
    )
    persons_found_work: int | None = Field(
        default=None,
        ge=0,
        description="Employment results (R-EVA-07): persons with a PIIS that year who found work. None = not recorded",
    )
    contracts_ended_in_work: int | None = Field(
        default=None,
        ge=0,
        description="Employment results (R-EVA-07, REQ-08 per contract): contracts that ended in a job. "
        "None = not recorded",
    )

    @model_validator(mode="after")
    def _dated_in_or_after_its_year(self) -> AnnualReport:
        problems = []
        if self.global_evaluation_date.year < self.year:
            problems.append(("global_evaluation_date", "is before the year it evaluates"))
        if (
            self.president_signoff_date is not None
            and self.president_signoff_date < self.global_evaluation_date
        ):
            problems.append(("president_signoff_date", "is before global_evaluation_date"))
        if (
            self.persons_found_work is not None
            and self.persons_counted is not None
            and self.persons_found_work > self.persons_counted
        ):
            problems.append(("persons_found_work", "is more than persons_counted"))
        if (
            self.contracts_ended_in_work is not None
            and self.contracts_counted is not None
            and self.contracts_ended_in_work > self.contracts_counted
        ):
            problems.append(("contracts_ended_in_work", "is more than contracts_counted"))
        if problems:
            raise field_problems(problems)
        return self
