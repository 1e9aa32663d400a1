"""Subsidy entitlements and the RI months they are computed on (rules.md 1.14, R-SUB)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from piis_bridge.identifiers import InsCode
from piis_bridge.model._base import CanonicalModel, Cents
from piis_bridge.model.enums import SubsidyType


class RIMonth(CanonicalModel):
    """RI actually granted for one month: the base of the 10% subsidy [002 L438]."""

    month: date = Field(description="First day of the month")
    amount_cents: Cents
    project_running: bool = Field(
        default=True, description="The project effectively ran that month [002 L645-647]"
    )

    @field_validator("month")
    @classmethod
    def _first_of_month(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError("must be the first day of a month")
        return value


class SubsidyEntitlement(CanonicalModel):
    """A 10% subsidy already claimed or opened for this person, possibly at another CPAS.

    Kept on the contract because the lifetime limits (at most three, studies never followed by a
    second chance) work per person across CPAS.
    """

    type: SubsidyType
    cpas_ins: InsCode
    window_start: date
    months_used: int = Field(default=0, ge=0)
    social_inquiry_report_ref: str | None = None
    motivated_decision_ref: str | None = None
    couple_category3_shared: bool = False
    reimbursed_on: date | None = Field(
        default=None,
        description="The CPAS reimbursed this subsidy after an inspection found the PIIS non-compliant (R-SUB-13); "
        "whether its window stays anchored is Q-19. None = not reimbursed",
    )
