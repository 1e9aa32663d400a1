"""The RI/DIS decision, the obligation assessment, the needs assessment (rules.md 1.3, 1.4) and a
recorded refusal of a PIIS (R-OBL-11)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from piis_bridge.model._base import CanonicalModel, Cents, NonEmptyStr, field_problems
from piis_bridge.model.enums import (
    DecidingBody,
    ExemptionGround,
    ObligationBasis,
    PIISClause,
    RefusalKind,
    RefusalReviewOutcome,
    RICategory,
    WillingnessGround,
)


class WorkWillingnessFinding(CanonicalModel):
    """A DIS decision that finds the person not willing to work, with its grounds (R-CS-12, R-OBL-13):
    a refused community service can never be the sole ground, since community service is never imposed."""

    found_on: date
    grounds: list[WillingnessGround] = Field(
        min_length=1, description="Every ground the decision relies on"
    )
    motivation: str | None = None


class DISDecision(CanonicalModel):
    """The RI grant or review.  Its date anchors the 3-month PIIS deadline since 2016-11-01 (R-DL-01)."""

    decision_id: NonEmptyStr
    decision_date: date
    request_date: date | None = None
    deciding_body: DecidingBody = DecidingBody.SPECIAL_COMMITTEE
    ri_category: RICategory
    ri_amount_monthly_cents: Cents
    ri_start_date: date
    ri_end_date: date | None = None
    piis_clause: PIISClause = PIISClause.NONE
    reviews_decision_id: str | None = Field(
        default=None,
        description="This decision reviews a running grant (id of the reviewed decision): the RI has run since "
        "ri_start_date without interruption, so the 3-month look-back of R-OBL-03 sees it. "
        "None = a new grant",
    )
    unwilling_to_work: WorkWillingnessFinding | None = Field(
        default=None,
        description="The decision finds the person not willing to work, with its grounds (R-CS-12, R-OBL-13). "
        "None = no such finding recorded",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DISDecision:
        if self.request_date is not None and self.request_date > self.decision_date:
            raise field_problems([("request_date", "is after decision_date")])
        if self.ri_end_date is not None and self.ri_end_date < self.ri_start_date:
            raise field_problems([("ri_end_date", "is before ri_start_date")])
        return self


class Exemption(CanonicalModel):
    """A motivated decision not to conclude a mandatory PIIS, on health or equity grounds [002 L373-379]."""

    ground: ExemptionGround
    reason_code: str | None = None
    reason_text: NonEmptyStr
    motivated_decision_date: date
    body: DecidingBody = DecidingBody.SPECIAL_COMMITTEE
    motivated_separately_from_work_willingness: bool = Field(
        default=False, description="The 'double motivation' [002 L377-379]"
    )
    review_date: date | None = None


class ObligationAssessment(CanonicalModel):
    """What the CPAS recorded about one person's obligation to conclude a PIIS (R-OBL).

    Used for the beneficiary (``PIISContract.obligation``) and, for a couple, for the partner
    (``PIISContract.partner_obligation``): the obligation is judged for each partner separately
    (R-OBL-09) [002 L651].
    """

    basis: list[ObligationBasis] = Field(default_factory=list)
    assessed_on: date | None = None
    optional_piis_decision_date: date | None = Field(
        default=None,
        description="When an optional PIIS is decided, the 3 months run from here [002 L619]",
    )
    request_date: date | None = Field(
        default=None,
        description="When the person or the CPAS asked for a PIIS (REQUEST_BY_PERSON / REQUEST_BY_CPAS, R-OBL-04). "
        "For a person already on the RI, when only the request makes the PIIS mandatory, the 3 months "
        "run from this day (R-DL-01). None = not recorded: the DIS decision date is used",
    )
    exemption: Exemption | None = None


class NeedsAssessment(CanonicalModel):
    """The 'bilan social': it must precede the contract and is checked by inspection [002 L133, L534]."""

    assessed_on: date
    author: NonEmptyStr
    aspirations: str | None = None
    aptitudes: str | None = None
    qualifications: str | None = None
    needs: str | None = None
    cpas_possibilities: str | None = None


class RefusalReview(CanonicalModel):
    """The check the CPAS owes before refusing DIS to a person who refuses a mandatory PIIS: does the
    refusal reflect health or equity reasons, or a project that does not fit the person (R-OBL-11)
    [002 L592-595]?  Never an automatic refusal."""

    reviewed_on: date
    reviewed_by: NonEmptyStr
    health_or_equity_reasons: bool = Field(
        description="The refusal reflects health or equity reasons (R-OBL-07)"
    )
    project_ill_fitting: bool = Field(
        description="The proposed project does not fit the person; adapt it"
    )
    outcome: RefusalReviewOutcome
    note: str | None = None


class PIISRefusal(CanonicalModel):
    """The person refused to sign the offered PIIS (or to consent to its project), with the date and
    the reason given.  Why it is recorded: DIS may be refused for it only after the review of
    R-OBL-11, and only when the PIIS is mandatory."""

    refused_on: date
    kind: RefusalKind = RefusalKind.SIGNATURE
    reason: NonEmptyStr = Field(
        description="The reason the person gave, as recorded by the social worker"
    )
    recorded_by: str | None = None
    review: RefusalReview | None = None
    dis_refusal_decision_date: date | None = Field(
        default=None, description="Date the CPAS refused or withdrew DIS because of this refusal"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PIISRefusal:
        problems = []
        if self.review is not None and self.review.reviewed_on < self.refused_on:
            problems.append(("review.reviewed_on", "is before refused_on"))
        if (
            self.dis_refusal_decision_date is not None
            and self.dis_refusal_decision_date < self.refused_on
        ):
            problems.append(("dis_refusal_decision_date", "is before refused_on"))
        if problems:
            raise field_problems(problems)
        return self
