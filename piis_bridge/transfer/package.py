"""The transfer package: what the old CPAS hands the new one, and nothing more.

Why a minimal copy of the canonical contract: the new CPAS must check whether it is possible and
desirable to take the commitments over (R-TRF-06), continue a running sanction (R-SAN-10) and
claim only the remaining subsidy months (R-SUB-07).  It needs the contract's content and history
for that, the person's identity to match its own file, and who to call at the old CPAS.  It does
not need the partner (nor the partner's obligation record), the RI amounts month by month, the
needs-assessment notes, the pre-signature paperwork, refusals, the choice of means, the copy receipt,
the evidence handed in (proofs, absences, jokers), warnings and hearings of sanctions already carried
out, or the older residences and DIS history (the new CPAS does its own social inquiry).
:func:`minimise_contract` drops those.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Final, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from piis_bridge.identifiers import Bce, InsCode
from piis_bridge.model import (
    Consent,
    ContractStatus,
    ObligationBasis,
    PIISContract,
    SanctionKind,
    SubsidyType,
    Termination,
    TerminationReason,
    TransferRequest,
    WorkerRole,
)
from piis_bridge.transfer.legal import continuing_sanctions, subsidy_remainders

__all__ = [
    "PACKAGE_FORMAT",
    "PACKAGE_VERSION",
    "ConsentEvidence",
    "ContinuingSanction",
    "PackageParty",
    "SubsidyHandover",
    "TransferPackage",
    "WorkerContact",
    "build_package",
    "minimise_contract",
    "package_bytes",
]

PACKAGE_FORMAT: Final = "piis-bridge/transfer-package"
PACKAGE_VERSION: Final = 1


class _PackageModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class PackageParty(_PackageModel):
    """A CPAS as the package names it: the BCE number is what signatures are checked against."""

    name: str = Field(min_length=1)
    ins_code: InsCode
    bce: Bce


class ConsentEvidence(_PackageModel):
    """Who recorded the person's consent, when and how (R-TRF-05)."""

    consent: Consent
    recorded_at: AwareDatetime
    recorded_by: str = Field(min_length=1)
    channel: str = Field(min_length=1)


class ContinuingSanction(_PackageModel):
    """A sanction the new CPAS may continue for the rest of its duration (R-SAN-10, R-TRF-07)."""

    sanction_id: str
    kind: SanctionKind
    percentage: int = Field(ge=0, le=100)
    decision_date: date
    decided_by_cpas_ins: InsCode
    planned_start: date
    planned_end: date
    executed_days_at_sender: int = Field(ge=0)
    remaining_days: int = Field(ge=1)
    continue_from: date
    continue_until: date
    under_sursis: bool = False


class SubsidyHandover(_PackageModel):
    """A running 12-month subsidy window: the new CPAS gets only what is left (R-SUB-07)."""

    type: SubsidyType
    window_start: date
    window_end: date
    months_consumed: int = Field(ge=0)
    months_remaining: int = Field(ge=0)


class WorkerContact(_PackageModel):
    """A social worker of the old CPAS the new one can call."""

    name: str
    role: WorkerRole
    phone: str | None = None
    email: str | None = None
    contact_hours: str | None = None


class TransferPackage(_PackageModel):
    """The signed content of a hand-over.  ``package_id`` is the idempotency key of the import."""

    format: Literal["piis-bridge/transfer-package"] = PACKAGE_FORMAT
    version: Literal[1] = PACKAGE_VERSION
    package_id: str = Field(min_length=1, max_length=64)
    transfer_id: str = Field(min_length=1, max_length=64)
    created_at: AwareDatetime
    sender: PackageParty
    receiver: PackageParty
    residence_change_date: date
    legal_end_date: date
    obligation_basis: list[ObligationBasis]
    consent: ConsentEvidence
    contract: PIISContract
    continuing_sanctions: list[ContinuingSanction] = Field(default_factory=list)
    subsidies: list[SubsidyHandover] = Field(default_factory=list)
    contacts: list[WorkerContact] = Field(default_factory=list)

    def __repr_args__(self):  # the contract holds a NISS; keep reprs short and safe
        for key, value in super().__repr_args__():
            if key != "contract":
                yield key, value


def minimise_contract(
    contract: PIISContract,
    *,
    end_date: date,
    keep_sanction_ids: set[str],
    transfer: TransferRequest,
) -> PIISContract:
    """The contract as the new CPAS may see it: ended, with the transfer recorded, data trimmed."""
    by_id = {s.sanction_id: s for s in contract.sanctions}
    keep = set(keep_sanction_ids)
    pending = list(keep)
    while pending:  # a repeat offence (R-SAN-07) needs its earlier sanction to justify its length
        previous = by_id[pending.pop()].previous_sanction_id
        if previous and previous in by_id and previous not in keep:
            keep.add(previous)
            pending.append(previous)
    kept = [s for s in contract.sanctions if s.sanction_id in keep]
    continuing = [s for s in kept if s.sanction_id in keep_sanction_ids]
    warning_ids = {s.warning_id for s in continuing if s.warning_id}
    opinion_ids = {s.opinion_id for s in continuing if s.opinion_id}
    hearing_ids = {s.hearing_id for s in continuing if s.hearing_id}
    kept = [
        s
        if s.sanction_id in keep_sanction_ids
        else s.model_copy(update={"warning_id": None, "opinion_id": None, "hearing_id": None})
        for s in kept
    ]
    person = contract.beneficiary.model_copy(
        update={
            "residences": [
                r for r in contract.beneficiary.residences if r.ins_code == transfer.to_cpas_ins
            ][-1:],
            "dis_history": [],
        }
    )
    data = contract.model_dump(mode="python")
    data.update(
        beneficiary=person.model_dump(mode="python"),
        partner=None,
        needs_assessment=None,
        pre_signature_information=[],
        reflection=None,
        interview_requests=[],
        assistance_person=None,
        means_choice_note=None,
        partner_obligation=None,
        refusals=[],
        means_choice=None,
        copy_receipt=None,
        evidence=None,
        warnings=[
            w.model_dump(mode="python") for w in contract.warnings if w.warning_id in warning_ids
        ],
        sw_opinions=[
            o.model_dump(mode="python") for o in contract.sw_opinions if o.opinion_id in opinion_ids
        ],
        hearings=[
            h.model_dump(mode="python") for h in contract.hearings if h.hearing_id in hearing_ids
        ],
        sanctions=[s.model_dump(mode="python") for s in kept],
        appeals=[],
        ri_months=[],
        status=ContractStatus.ENDED,
        termination=Termination(
            ended_on=end_date,
            reason=TerminationReason.CPAS_NO_LONGER_COMPETENT_RESIDENCE,
            note="R-TRF-01: change of residence",
        ).model_dump(mode="python"),
        transfer=transfer.model_dump(mode="python"),
    )
    return PIISContract.model_validate(data)


def build_package(
    contract: PIISContract,
    *,
    transfer_id: str,
    sender: PackageParty,
    receiver: PackageParty,
    residence_change_date: date,
    legal_end_date: date,
    consent: ConsentEvidence,
    package_id: str | None = None,
    now: datetime | None = None,
) -> TransferPackage:
    """Assemble the package from the canonical contract; the R-TRF figures come from :mod:`.legal`."""
    plans = continuing_sanctions(contract)
    sanctions = [
        ContinuingSanction(
            sanction_id=p.sanction.sanction_id,
            kind=p.sanction.kind,
            percentage=p.sanction.percentage,
            decision_date=p.sanction.decision_date,
            decided_by_cpas_ins=p.sanction.executing_cpas_ins or sender.ins_code,
            planned_start=p.sanction.start_date,
            planned_end=p.sanction.end_date,
            executed_days_at_sender=p.executed_days,
            remaining_days=p.remaining_days,
            continue_from=p.continue_from,
            continue_until=p.continue_until,
            under_sursis=p.sanction.sursis is not None
            and p.sanction.sursis.application_date is None,
        )
        for p in plans
    ]
    subsidies = [
        SubsidyHandover(
            type=r.type,
            window_start=r.window_start,
            window_end=r.window_end,
            months_consumed=r.months_consumed,
            months_remaining=r.months_remaining,
        )
        for r in subsidy_remainders(contract, legal_end_date)
    ]
    contacts = [
        WorkerContact(
            name=w.name, role=w.role, phone=w.phone, email=w.email, contact_hours=w.contact_hours
        )
        for w in contract.social_workers
        if w.end_date is None or w.end_date >= legal_end_date
    ]
    request = TransferRequest(
        transfer_id=transfer_id,
        residence_change_date=residence_change_date,
        from_cpas_ins=sender.ins_code,
        to_cpas_ins=receiver.ins_code,
        consent=consent.consent,
        consent_recorded_on=consent.recorded_at.date(),
        consent_recorded_by=consent.recorded_by,
        consent_channel=consent.channel,
        agreement_old_cpas=True,
        agreement_new_cpas=None,
    )
    minimal = minimise_contract(
        contract,
        end_date=legal_end_date,
        keep_sanction_ids={s.sanction_id for s in sanctions},
        transfer=request,
    )
    return TransferPackage(
        package_id=package_id or uuid.uuid4().hex,
        transfer_id=transfer_id,
        created_at=now or datetime.now(UTC),
        sender=sender,
        receiver=receiver,
        residence_change_date=residence_change_date,
        legal_end_date=legal_end_date,
        obligation_basis=list(contract.obligation.basis),
        consent=consent,
        contract=minimal,
        continuing_sanctions=sanctions,
        subsidies=subsidies,
        contacts=contacts,
    )


def package_bytes(package: TransferPackage) -> bytes:
    """Canonical JSON (sorted keys, UTF-8): what is signed and what the receiver parses."""
    return orjson.dumps(package.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
