"""The PIIS contract: the canonical aggregate every plugin, rule, form and transfer speaks (rules.md 1.5).

One record holds everything the rules need to judge the contract on its own: the beneficiary and
partner, the CPAS, the DIS decision and obligation assessment, the contract content, and its
follow-up (evaluations, versions, warnings, hearings, sanctions, termination, transfer, subsidy).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, Final, Literal

from pydantic import Field, ModelWrapValidatorHandler, model_validator

from piis_bridge.model._base import CanonicalModel, NonEmptyStr, field_problems
from piis_bridge.model.blocks import (
    Commitment,
    CommunityServiceBlock,
    CopyReceipt,
    CostCoverage,
    EmploymentProjectBlock,
    EncouragementPremium,
    EvaluationArrangement,
    InterviewRequest,
    MeansChoice,
    Objective,
    PreSignatureInformation,
    ReflectionPeriod,
    Signature,
    StudiesBlock,
)
from piis_bridge.model.decision import (
    DISDecision,
    NeedsAssessment,
    ObligationAssessment,
    PIISRefusal,
)
from piis_bridge.model.enums import ActionDomain, ContractStatus, FormTag, Orientation, PartyRole
from piis_bridge.model.evidence import EvidenceLog
from piis_bridge.model.followup import (
    Appeal,
    ContractVersion,
    Evaluation,
    Hearing,
    SanctionDecision,
    SWOpinion,
    Warning,  # noqa: A004 - the model's public name (a rule warning)
)
from piis_bridge.model.links import PartnerContract, PreviousContract
from piis_bridge.model.person import Cpas, Person, SocialWorkerAssignment, ThirdParty
from piis_bridge.model.subsidy import RIMonth, SubsidyEntitlement
from piis_bridge.model.transfer import Termination, TransferRequest

SCHEMA_VERSION: Final = 1


class PIISContract(CanonicalModel):
    """One PIIS / GPMI contract with its context and history.

    Every field added after the first schema version is optional and defaults to "not recorded", so
    older files stay valid and are judged exactly as before.
    """

    contract_id: NonEmptyStr = Field(
        description="Stable id, unique within the CPAS (vendor dossier/contract id)"
    )
    schema_version: Literal[1] = SCHEMA_VERSION
    cpas: Cpas
    beneficiary: Person
    partner: Person | None = None
    decision: DISDecision
    obligation: ObligationAssessment = Field(default_factory=ObligationAssessment)
    partner_obligation: ObligationAssessment | None = Field(
        default=None,
        description="The partner's own obligation assessment: for a couple the obligation is judged for each "
        "partner separately (R-OBL-09). None = not recorded",
    )
    refusals: list[PIISRefusal] = Field(
        default_factory=list,
        description="The person refused to sign or to consent to the PIIS (R-OBL-11)",
    )
    needs_assessment: NeedsAssessment | None = None
    framework_convention_ref: str | None = None
    form_tags: list[FormTag] = Field(default_factory=lambda: [FormTag.GENERAL])
    orientation: Orientation
    orientation_reason: str | None = Field(
        default=None,
        description="For a SOCIAL orientation: why professional insertion is not (yet) possible (R-GEN-03)",
    )
    status: ContractStatus = ContractStatus.DRAFT
    start_date: date
    end_date: date
    objectives: list[Objective] = Field(default_factory=list)
    action_domains: list[ActionDomain] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    evaluation_arrangement: EvaluationArrangement | None = None
    social_workers: list[SocialWorkerAssignment] = Field(default_factory=list)
    third_parties: list[ThirdParty] = Field(default_factory=list)
    encouragement_premium: EncouragementPremium | None = None
    cost_coverages: list[CostCoverage] = Field(default_factory=list)
    means_choice_note: str | None = None
    means_choice: MeansChoice | None = Field(
        default=None,
        description="The person's choice of means and whether the CPAS declined it (R-CNT-08)",
    )
    community_service: CommunityServiceBlock | None = None
    studies: StudiesBlock | None = None
    employment_project: EmploymentProjectBlock | None = None
    sanction_information: str | None = None
    sanctionable: bool = True
    pre_signature_information: list[PreSignatureInformation] = Field(default_factory=list)
    reflection: ReflectionPeriod | None = None
    assistance_person: str | None = None
    right_to_be_heard_informed_date: date | None = None
    signatures: list[Signature] = Field(default_factory=list)
    copy_receipt: CopyReceipt | None = Field(
        default=None,
        description="Receipt of a signed copy and of the leaflet (R-SIG-03). None = not recorded",
    )
    versions: list[ContractVersion] = Field(default_factory=list)
    interview_requests: list[InterviewRequest] = Field(default_factory=list)
    evaluations: list[Evaluation] = Field(default_factory=list)
    council_informed_date: date | None = Field(
        default=None,
        description="The council or special committee was informed of the end of the contract (R-EVA-06)",
    )
    evidence: EvidenceLog | None = Field(
        default=None,
        description="Proofs handed in (job applications, attendance, sick-child absences, jokers) for the "
        "local policies of Appendix B (R-LOC). None = not recorded",
    )
    warnings: list[Warning] = Field(default_factory=list)
    sw_opinions: list[SWOpinion] = Field(default_factory=list)
    hearings: list[Hearing] = Field(default_factory=list)
    sanctions: list[SanctionDecision] = Field(default_factory=list)
    appeals: list[Appeal] = Field(default_factory=list)
    termination: Termination | None = None
    transfer: TransferRequest | None = None
    ri_months: list[RIMonth] = Field(default_factory=list)
    subsidy_history: list[SubsidyEntitlement] = Field(default_factory=list)
    previous_contract: PreviousContract | None = Field(
        default=None,
        description="The PIIS this one follows or replaces under the same DIS decision (R-DL-01, I-02, R-SUB-13). "
        "None = the first PIIS of the decision",
    )
    partner_contract: PartnerContract | None = Field(
        default=None,
        description="The partner's own PIIS, for a couple on the category-3 rate (R-SUB-12). None = not recorded",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _consistent(
        cls, value: Any, handler: ModelWrapValidatorHandler[PIISContract]
    ) -> PIISContract:
        # An existing instance was checked when it was built.  A plain "after" validator would run
        # again each time a contract is passed into another model's field (pydantic re-runs model
        # validators there despite revalidate_instances='never'): ~50 µs per contract per hand-over,
        # e.g. for every MappingOutcome in the nightly run.
        if isinstance(value, cls):
            return value
        contract = handler(value)
        problems = list(integrity_problems(contract))
        if problems:
            raise field_problems(problems)
        return contract

    # Convenience views used by rules and plugins -------------------------------------------
    @property
    def signed_date(self) -> date | None:
        """The date the last party signed the original version (the contract is concluded then)."""
        dates = [s.signed_date for s in self.signatures if s.for_version == 1]
        parties = {s.party for s in self.signatures if s.for_version == 1}
        if PartyRole.BENEFICIARY in parties and PartyRole.CPAS in parties:
            return max(dates)
        return None

    @property
    def is_studies(self) -> bool:
        return FormTag.STUDIES_FULLTIME in self.form_tags or self.studies is not None


def _duplicates(values: list[str]) -> list[str]:
    # The set first: no duplicate is the rule, and a Counter costs ~1.8 us even for an empty list,
    # ten times a contract validation (0.2 us for the set, timeit).
    if len(set(values)) == len(values):
        return []
    return [value for value, count in Counter(values).items() if count > 1]


def integrity_problems(c: PIISContract):  # -> Iterator[tuple[str, str]]
    """Cross-references inside one contract.  Yields (field path, reason).

    Each check is skipped where it cannot fail (fewer than two ids, nothing that refers): the problems
    and their order are the same, and a typical contract (issue #20: ~25 us of Python of each
    validation, ~5 % of the mapping) builds none of the id lists and sets it does not need."""
    if c.end_date < c.start_date:
        yield "end_date", "is before start_date"
    for name, items, attr in (
        ("objectives", c.objectives, "objective_id"),
        ("commitments", c.commitments, "commitment_id"),
        ("third_parties", c.third_parties, "party_id"),
        ("evaluations", c.evaluations, "evaluation_id"),
        ("warnings", c.warnings, "warning_id"),
        ("sw_opinions", c.sw_opinions, "opinion_id"),
        ("hearings", c.hearings, "hearing_id"),
        ("sanctions", c.sanctions, "sanction_id"),
    ):
        if len(items) > 1:
            for dup in _duplicates([getattr(x, attr) for x in items]):
                yield name, f"id {dup!r} appears more than once"
    versions = c.versions
    if len(versions) > 1:
        for dup in _duplicates([str(v.version_no) for v in versions]):
            yield "versions", f"id {dup!r} appears more than once"
    numbers = sorted(v.version_no for v in versions)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        yield (
            "versions",
            "version numbers must run 1, 2, 3... without gaps (versions are appended, never replaced)",
        )
    party_ids: set[str] | None = None
    commitments = c.commitments
    if commitments:
        objective_ids = {o.objective_id for o in c.objectives}
        party_ids = {t.party_id for t in c.third_parties}
        for i, commitment in enumerate(commitments):
            for oid in commitment.objective_ids:
                if oid not in objective_ids:
                    yield f"commitments[{i}].objective_ids", f"unknown objective {oid!r}"
            if commitment.third_party_id and commitment.third_party_id not in party_ids:
                yield (
                    f"commitments[{i}].third_party_id",
                    f"unknown third party {commitment.third_party_id!r}",
                )
    # third parties named by a signature (a third party's) or a cost coverage, in that order
    named = [
        (f"signatures[{i}].third_party_id", signature.third_party_id)
        for i, signature in enumerate(c.signatures)
        if signature.party is PartyRole.THIRD_PARTY
    ] + [
        (f"cost_coverages[{i}].third_party_id", coverage.third_party_id)
        for i, coverage in enumerate(c.cost_coverages)
        if coverage.third_party_id
    ]
    if named:
        if party_ids is None:
            party_ids = {t.party_id for t in c.third_parties}
        for path, party_id in named:
            if party_id not in party_ids:
                yield path, f"unknown third party {party_id!r}"
    if c.warnings:
        commitment_ids = {x.commitment_id for x in commitments}
        for i, warning in enumerate(c.warnings):
            for cid in warning.breached_commitment_ids:
                if cid not in commitment_ids:
                    yield f"warnings[{i}].breached_commitment_ids", f"unknown commitment {cid!r}"
    if c.sanctions:
        warning_ids = {w.warning_id for w in c.warnings}
        opinion_ids = {o.opinion_id for o in c.sw_opinions}
        hearing_ids = {h.hearing_id for h in c.hearings}
        sanction_ids = {s.sanction_id for s in c.sanctions}
        for i, sanction in enumerate(c.sanctions):
            for field, ref, known in (
                ("warning_id", sanction.warning_id, warning_ids),
                ("opinion_id", sanction.opinion_id, opinion_ids),
                ("hearing_id", sanction.hearing_id, hearing_ids),
                ("previous_sanction_id", sanction.previous_sanction_id, sanction_ids),
            ):
                if ref is not None and ref not in known:
                    yield f"sanctions[{i}].{field}", f"unknown reference {ref!r}"
    if len(c.ri_months) > 1:
        months = [m.month.isoformat() for m in c.ri_months]
        for dup in _duplicates(months):
            yield "ri_months", f"month {dup} appears more than once"
