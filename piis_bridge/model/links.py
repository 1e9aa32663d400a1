"""Links between contracts: the PIIS a contract follows or replaces under the same DIS decision, and the
partner's own PIIS (rules.md 1.5).

Why links and not a second contract inside the first: the rules judge one contract at a time (a night's
run streams 100,000 of them); what they need from the other contract is a few dates, which the vendor
export copies here.  Both are optional: a file without them is judged as before.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.model._base import CanonicalModel, NonEmptyStr, field_problems
from piis_bridge.model.enums import ContractRelation

__all__ = ["PartnerContract", "PreviousContract"]


class PreviousContract(CanonicalModel):
    """The PIIS this contract follows (after it ended) or replaces (after an inspection found it
    non-compliant), under the same DIS decision.  The signing deadline of the decision (R-DL-01, I-02)
    was the first contract's; the replacement's signature ends the subsidy reimbursement of R-SUB-13."""

    contract_id: NonEmptyStr
    relation: ContractRelation
    signed_date: date | None = Field(
        default=None, description="When the previous PIIS was signed (None: never)"
    )
    ended_on: date | None = Field(default=None, description="When the previous PIIS ended")
    found_non_compliant_on: date | None = Field(
        default=None,
        description="For a replacement: the inspection's finding that the previous PIIS was non-compliant",
    )

    @model_validator(mode="after")
    def _ordered(self) -> PreviousContract:
        if (
            self.signed_date is not None
            and self.ended_on is not None
            and self.ended_on < self.signed_date
        ):
            raise field_problems([("ended_on", "is before signed_date")])
        return self


class PartnerContract(CanonicalModel):
    """The partner's own PIIS (a couple on the category-3 rate: R-SUB-12, the subsidy is never doubled).
    Of two contracts claiming the same month, the one with the smaller contract id keeps the subsidy."""

    contract_id: NonEmptyStr
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ordered(self) -> PartnerContract:
        if self.end_date < self.start_date:
            raise field_problems([("end_date", "is before start_date")])
        return self
