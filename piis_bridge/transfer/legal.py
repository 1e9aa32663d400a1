"""The R-TRF computations a hand-over needs, behind names the transfer code calls.

Why a module of its own: the rules core (``piis_bridge.rules``) owns the legal computations; this
module is the single place where the transfer code asks for them, so the transfer state machine,
the package builder and the detection never compute a legal date themselves.  Where the rules core
gives an answer (``piis_bridge.rules.transfers`` / ``subsidies``, once they exist) it is used;
until then the computations below follow rules.md 2.11 literally and name their assumptions.

- R-TRF-01: a change of residence makes the CPAS no longer competent: the PIIS ends by operation
  of law *that same day*.  We take the first day of the new residence as that day, and the
  contract as still in force on it (so the month of the move is covered by the old CPAS).
- R-TRF-02 / R-STU-10: a full-time student under 25 in a studies PIIS stays with the same CPAS.
- R-TRF-03 / R-TRF-05: continuation only at the person's request, with consent (Q-09 strict:
  ``NOT_EXPRESSED`` is not consent unless the legal-review switch says so).
- R-TRF-04: transfer only if a legal obligation to conclude a PIIS exists (Q-08: a PIIS made
  mandatory by a request counts, but is flagged).
- R-TRF-07 / R-SAN-10: a running sanction continues at the new CPAS for the rest of its duration.
- R-TRF-07 / R-SUB-07: the new CPAS gets only the remaining months of the running 12-month window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from piis_bridge.model import (
    Consent,
    ObligationBasis,
    PIISContract,
    ResidencePeriod,
    SanctionDecision,
    SubsidyType,
)

__all__ = [
    "AGE_THRESHOLD",
    "SUBSIDY_MAX_MONTHS",
    "Eligibility",
    "TransferEligibility",
    "ResidenceChange",
    "ContinuingSanctionPlan",
    "SubsidyRemainder",
    "find_residence_change",
    "legal_end_date",
    "transfer_eligibility",
    "consent_allows_transfer",
    "continuing_sanctions",
    "subsidy_remainders",
]

AGE_THRESHOLD = 25  # rules.md 2.0, "moins de 25 ans" [002 L153-155]
SUBSIDY_MAX_MONTHS = 12  # R-SUB-06/09/10 [002 L458, L490, L510]
_ONE_DAY = timedelta(days=1)
_OBLIGATION_BASES = {
    ObligationBasis.U25_STUDIES,
    ObligationBasis.U25_EMPLOYMENT_PROJECT,
    ObligationBasis.NO_DIS_LAST_3M,
    ObligationBasis.REQUEST_BY_PERSON,
    ObligationBasis.REQUEST_BY_CPAS,
}
_REQUEST_BASES = {ObligationBasis.REQUEST_BY_PERSON, ObligationBasis.REQUEST_BY_CPAS}


class Eligibility(StrEnum):
    """What a change of residence means for one contract."""

    TRANSFERABLE = "TRANSFERABLE"  # ends here; may be handed over with consent (R-TRF-01, -03..05)
    ENDS_NOT_TRANSFERABLE = "ENDS_NOT_TRANSFERABLE"  # ends here; no legal obligation (R-TRF-04)
    STAYS_STUDIES = "STAYS_STUDIES"  # full-time student under 25: same CPAS (R-TRF-02, R-STU-10)


@dataclass(frozen=True)
class ResidenceChange:
    """A move out of the CPAS's municipality, read from the beneficiary's residences."""

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
    """The first residence outside the CPAS's municipality that starts during the contract.

    Why from the residences: the case system (or a National Register mutation) updates the
    beneficiary's residence; the contract itself says nothing of the move.
    """
    moves: list[ResidencePeriod] = sorted(
        (r for r in contract.beneficiary.residences
         if r.ins_code != contract.cpas.ins_code and contract.start_date <= r.start_date <= contract.end_date),
        key=lambda r: r.start_date,
    )
    if not moves:
        return None
    first = moves[0]
    return ResidenceChange(new_ins_code=first.ins_code, change_date=first.start_date, municipality=first.municipality)


def legal_end_date(contract: PIISContract, change_date: date) -> date:
    """R-TRF-01: the contract ends by operation of law the day the CPAS stops being competent."""
    return min(change_date, contract.end_date)


def _studies_exception(contract: PIISContract, change_date: date) -> bool:
    person = contract.beneficiary
    full_time = contract.studies.full_time if contract.studies is not None else person.full_time_student
    return contract.is_studies and full_time and person.age_on(change_date) < AGE_THRESHOLD


def transfer_eligibility(contract: PIISContract, change_date: date) -> TransferEligibility:
    """R-TRF-01..04 for one contract and one change of residence (consent is judged separately)."""
    if _studies_exception(contract, change_date):
        return TransferEligibility(
            Eligibility.STAYS_STUDIES, None, ("R-TRF-02", "R-STU-10"),
            "full-time student under 25 in a studies PIIS: the same CPAS stays competent",
        )
    end = legal_end_date(contract, change_date)
    bases = set(contract.obligation.basis) & _OBLIGATION_BASES
    if not bases:
        return TransferEligibility(
            Eligibility.ENDS_NOT_TRANSFERABLE, end, ("R-TRF-01", "R-TRF-04"),
            "no legal obligation to conclude a PIIS: the contract ends and cannot be handed over",
        )
    flags = ("Q-08: obligation only because a party asked for the PIIS",) if bases <= _REQUEST_BASES else ()
    return TransferEligibility(
        Eligibility.TRANSFERABLE, end, ("R-TRF-01", "R-TRF-03", "R-TRF-04"),
        "the contract ends; it may be handed over at the person's request, with consent", flags,
    )


def consent_allows_transfer(consent: Consent, *, not_expressed_counts: bool = False) -> bool:
    """R-TRF-05 / C-06 / Q-09: strict by default, only an explicit GIVEN allows the hand-over."""
    return consent is Consent.GIVEN or (not_expressed_counts and consent is Consent.NOT_EXPRESSED)


def continuing_sanctions(contract: PIISContract, change_date: date) -> list[ContinuingSanctionPlan]:
    """Sanctions not yet fully carried out on the change date, with the part left (R-SAN-10, R-TRF-07).

    The old CPAS carries the sanction out up to the day before the change; the new CPAS continues
    from the change date (or from the planned start, if later) to the planned end.
    """
    plans = []
    for sanction in contract.sanctions:
        if sanction.legitimate_reason_found or sanction.cpas_failure_found or sanction.end_date < change_date:
            continue
        start = max(sanction.start_date, change_date)
        executed = max(0, (min(change_date, sanction.end_date + _ONE_DAY) - sanction.start_date).days)
        plans.append(ContinuingSanctionPlan(
            sanction=sanction, executed_days=executed, remaining_days=(sanction.end_date - start).days + 1,
            continue_from=start, continue_until=sanction.end_date,
        ))
    return plans


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _from_index(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def subsidy_remainders(contract: PIISContract, end_date: date) -> list[SubsidyRemainder]:
    """R-SUB-07: running FIRST / PROLONGATION windows and the months left after the old CPAS's last month.

    The month of the legal end date is the old CPAS's (the contract is in force on that day, D6).
    STUDIES follows the studies PIIS itself and SECOND_CHANCE opens at a new signature, so only the
    two 12-month windows that R-SUB-07 names are handed over.
    """
    out = []
    last_old = _month_index(end_date)
    for entitlement in contract.subsidy_history:
        if entitlement.type not in (SubsidyType.FIRST, SubsidyType.PROLONGATION):
            continue
        first = _month_index(entitlement.window_start)
        end_index = first + SUBSIDY_MAX_MONTHS  # exclusive
        if end_index <= last_old + 1:
            continue  # window elapsed: nothing to hand over
        remaining = end_index - (last_old + 1)
        out.append(SubsidyRemainder(
            type=entitlement.type, window_start=entitlement.window_start,
            window_end=_from_index(end_index) - _ONE_DAY,
            months_consumed=entitlement.months_used, months_remaining=min(remaining, SUBSIDY_MAX_MONTHS),
        ))
    return out
