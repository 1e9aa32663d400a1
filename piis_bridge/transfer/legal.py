"""The R-TRF computations a hand-over needs, taken from the rules core.

Why a module of its own: the rules core (:mod:`piis_bridge.rules.transfers`,
:mod:`piis_bridge.rules.subsidies`) owns the legal computations; this module is the single place
where the transfer code asks for them and turns them into what the state machine and the package
need, so the transfer code never computes a legal date itself.

- R-TRF-01: the PIIS ends by operation of law on the day the CPAS stops being competent
  (``rules.transfers.transfer_outlook``).
- R-TRF-02 / R-STU-10: an under-25 studies PIIS during uninterrupted studies stays with the same CPAS.
- R-TRF-03 / R-TRF-04: a hand-over needs a legal obligation to conclude a PIIS (Q-08 flagged) and is
  blocked by anything the rules core lists as blocking.  The person's request and consent
  (R-TRF-03, R-TRF-05) and the new CPAS's agreement are *not* read from the contract: the bridge
  records them itself (consent records, the receiver's review of the draft).
- R-TRF-05 / Q-09: only an explicit GIVEN is consent, unless the legal-review switch says otherwise.
- R-TRF-07 / R-SAN-10: a running sanction continues at the new CPAS for the rest of its duration.
- R-TRF-07 / R-SUB-07: the new CPAS gets only the remaining months of the running 12-month window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from piis_bridge.model import Consent, PIISContract, SanctionDecision, SubsidyType
from piis_bridge.rules._deadline_math import month_index
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings
from piis_bridge.rules.subsidies import remaining_months_after, subsidy_plan
from piis_bridge.rules.transfers import residence_change, transfer_outlook

__all__ = [
    "ContinuingSanctionPlan",
    "Eligibility",
    "ResidenceChange",
    "SubsidyRemainder",
    "TransferEligibility",
    "consent_allows_transfer",
    "continuing_sanctions",
    "find_residence_change",
    "subsidy_remainders",
    "transfer_eligibility",
    "with_move",
]

_ONE_DAY = timedelta(days=1)
_BOUNDED = (SubsidyType.FIRST, SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE)


class Eligibility(StrEnum):
    """What a change of residence means for one contract."""

    TRANSFERABLE = "TRANSFERABLE"  # ends here; may be handed over with consent (R-TRF-01, -03..05)
    ENDS_NOT_TRANSFERABLE = (
        "ENDS_NOT_TRANSFERABLE"  # ends here; cannot be handed over (e.g. R-TRF-04)
    )
    STAYS_STUDIES = "STAYS_STUDIES"  # under-25 studies PIIS: same CPAS (R-TRF-02, R-STU-10)


@dataclass(frozen=True)
class ResidenceChange:
    """A move out of the CPAS's municipality."""

    new_ins_code: str
    change_date: date
    municipality: str | None = None


@dataclass(frozen=True)
class TransferEligibility:
    eligibility: Eligibility
    legal_end_date: date | None
    rules: tuple[str, ...]
    reason: str
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def transferable(self) -> bool:
        return self.eligibility is Eligibility.TRANSFERABLE


@dataclass(frozen=True)
class ContinuingSanctionPlan:
    """How much of a sanction is left for the new CPAS to carry out (R-SAN-10)."""

    sanction: SanctionDecision
    executed_days: int
    remaining_days: int
    continue_from: date
    continue_until: date


@dataclass(frozen=True)
class SubsidyRemainder:
    """The running 12-month window handed over: months used, months left (R-SUB-07)."""

    type: SubsidyType
    window_start: date
    window_end: date
    months_consumed: int
    months_remaining: int


def find_residence_change(contract: PIISContract) -> ResidenceChange | None:
    """The move the rules core sees on the contract (a transfer request, else the residences), with
    the INS code of the new municipality."""
    change = residence_change(contract)
    if change is None:
        return None
    moved_on, source = change
    if source == "transfer" and contract.transfer is not None:
        return ResidenceChange(new_ins_code=contract.transfer.to_cpas_ins, change_date=moved_on)
    residence = next(
        r
        for r in sorted(contract.beneficiary.residences, key=lambda r: r.start_date)
        if r.start_date == moved_on and r.ins_code != contract.cpas.ins_code
    )
    return ResidenceChange(
        new_ins_code=residence.ins_code, change_date=moved_on, municipality=residence.municipality
    )


def with_move(contract: PIISContract, move: ResidenceChange) -> PIISContract:
    """The contract with a move reported from outside it (a National Register mutation, an address
    change keyed by hand): the open residence ends the day before, the new one starts on the day."""
    from piis_bridge.model import ResidencePeriod

    person = contract.beneficiary
    if any(
        r.ins_code == move.new_ins_code and r.start_date == move.change_date
        for r in person.residences
    ):
        return contract
    day_before = move.change_date - _ONE_DAY
    residences = [
        r.model_copy(update={"end_date": day_before})
        if (r.end_date is None or r.end_date >= move.change_date) and r.start_date <= day_before
        else r
        for r in person.residences
    ]
    residences.append(
        ResidencePeriod(
            ins_code=move.new_ins_code, municipality=move.municipality, start_date=move.change_date
        )
    )
    return contract.model_copy(
        update={"beneficiary": person.model_copy(update={"residences": residences})}
    )


def transfer_eligibility(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> TransferEligibility | None:
    """R-TRF-01..04 for the contract's move (``None``: no move); consent is judged separately."""
    outlook = transfer_outlook(contract, settings)
    if outlook.residence_change_date is None:
        return None
    if outlook.studies_exception:
        return TransferEligibility(
            Eligibility.STAYS_STUDIES,
            None,
            ("R-TRF-02", "R-STU-10"),
            "under-25 studies PIIS during uninterrupted studies: the same CPAS stays competent",
        )
    if outlook.blocking_reasons:
        rules = tuple(
            sorted(
                {
                    "R-TRF-01",
                    *(
                        r
                        for r in ("R-TRF-03", "R-TRF-04", "R-TRF-05")
                        if any(r in reason for reason in outlook.blocking_reasons)
                    ),
                }
            )
        )
        return TransferEligibility(
            Eligibility.ENDS_NOT_TRANSFERABLE,
            outlook.legal_end_date,
            rules,
            "the contract ends and cannot be handed over: " + "; ".join(outlook.blocking_reasons),
            outlook.flags,
        )
    return TransferEligibility(
        Eligibility.TRANSFERABLE,
        outlook.legal_end_date,
        ("R-TRF-01", "R-TRF-03", "R-TRF-04"),
        "the contract ends; it may be handed over at the person's request, with consent",
        outlook.flags,
    )


def consent_allows_transfer(consent: Consent, *, not_expressed_counts: bool = False) -> bool:
    """R-TRF-05 / C-06 / Q-09: strict by default, only an explicit GIVEN allows the hand-over."""
    return consent is Consent.GIVEN or (not_expressed_counts and consent is Consent.NOT_EXPRESSED)


def continuing_sanctions(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> list[ContinuingSanctionPlan]:
    """The rules core's running sanctions, with the days already carried out by the old CPAS.

    The old CPAS carries the sanction out up to the day before the move; the new CPAS continues from
    the move (or from the planned start, if later) to the planned end.
    """
    outlook = transfer_outlook(contract, settings)
    by_id = {s.sanction_id: s for s in contract.sanctions}
    plans = []
    for running in outlook.continuing_sanctions:
        sanction = by_id[running.sanction_id]
        executed = max(0, (running.continues_from - sanction.start_date).days)
        plans.append(
            ContinuingSanctionPlan(
                sanction=sanction,
                executed_days=executed,
                remaining_days=running.days_remaining,
                continue_from=running.continues_from,
                continue_until=running.end_date,
            )
        )
    return plans


def subsidy_remainders(
    contract: PIISContract, end_date: date, settings: RuleSettings = DEFAULT_SETTINGS
) -> list[SubsidyRemainder]:
    """R-SUB-07: the running FIRST / PROLONGATION / SECOND_CHANCE window and what is left of it.

    ``months_remaining`` is the rules core's count of whole months after the month of the end date
    (that month is the old CPAS's: the contract is in force on that day).  ``months_consumed`` counts
    the months subsidised under this contract up to that month, plus the months recorded as used
    when the window was opened by an earlier contract.
    """
    plan = subsidy_plan(contract, settings)
    remaining = remaining_months_after(contract, end_date, settings)
    if (
        remaining is None
        or plan.type not in _BOUNDED
        or plan.window_start is None
        or plan.window_end is None
    ):
        return []
    last = month_index(end_date)
    consumed = sum(1 for m in plan.months if m.subsidy_cents > 0 and month_index(m.month) <= last)
    if not plan.opened_by_this_contract:
        consumed += sum(
            e.months_used
            for e in contract.subsidy_history
            if e.type is plan.type and e.window_start == plan.window_start
        )
    window_end = plan.window_end.replace(day=1)
    next_month = date(window_end.year + (window_end.month == 12), window_end.month % 12 + 1, 1)
    return [
        SubsidyRemainder(
            type=plan.type,
            window_start=plan.window_start,
            window_end=next_month - _ONE_DAY,
            months_consumed=consumed,
            months_remaining=remaining,
        )
    ]
