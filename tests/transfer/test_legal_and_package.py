"""R-TRF computations and what the package holds (and leaves out)."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.model import Consent, ObligationBasis, SubsidyEntitlement, SubsidyType
from piis_bridge.transfer.legal import (
    Eligibility,
    consent_allows_transfer,
    continuing_sanctions,
    find_residence_change,
    subsidy_remainders,
    transfer_eligibility,
)
from piis_bridge.transfer.package import build_package, package_bytes
from tests.transfer._support import CHARLEROI, GENT, LIEGE, MOVE_DATE, consent, example, moved


def test_move_is_found_from_the_residences():
    contract = example("sanction-history")
    assert find_residence_change(contract) is None
    change = find_residence_change(moved(contract, LIEGE, MOVE_DATE))
    assert change is not None and change.new_ins_code == "62063" and change.change_date == MOVE_DATE


def test_move_before_the_contract_or_after_its_end_is_not_a_transfer():
    contract = example("sanction-history")  # 2025-04-07 .. 2026-04-06
    assert find_residence_change(moved(contract, LIEGE, date(2025, 4, 6))) is None
    assert find_residence_change(moved(contract, LIEGE, date(2026, 4, 7))) is None
    assert find_residence_change(moved(contract, LIEGE, date(2026, 4, 6))) is not None


def test_r_trf_01_ends_the_same_day():
    verdict = transfer_eligibility(example("sanction-history"), MOVE_DATE)
    assert verdict.eligibility is Eligibility.TRANSFERABLE
    assert verdict.legal_end_date == MOVE_DATE
    assert "R-TRF-01" in verdict.rules


def test_r_trf_02_full_time_student_under_25_stays():
    studies = example("studies")  # born 2005-09-30, studies PIIS at Gent
    verdict = transfer_eligibility(studies, date(2026, 2, 10))
    assert verdict.eligibility is Eligibility.STAYS_STUDIES and verdict.legal_end_date is None
    assert "R-TRF-02" in verdict.rules


def test_r_trf_02_boundary_at_the_25th_birthday():
    studies = example("studies")
    assert transfer_eligibility(studies, date(2030, 9, 29)).eligibility is Eligibility.STAYS_STUDIES
    assert transfer_eligibility(studies, date(2030, 9, 30)).eligibility is Eligibility.TRANSFERABLE


def test_r_trf_04_no_obligation_no_transfer():
    contract = example("sanction-history")
    optional = contract.model_copy(update={"obligation": contract.obligation.model_copy(
        update={"basis": [ObligationBasis.NONE]})})
    verdict = transfer_eligibility(optional, MOVE_DATE)
    assert verdict.eligibility is Eligibility.ENDS_NOT_TRANSFERABLE and verdict.legal_end_date == MOVE_DATE


def test_q_08_request_only_obligation_is_flagged():
    contract = example("sanction-history")
    requested = contract.model_copy(update={"obligation": contract.obligation.model_copy(
        update={"basis": [ObligationBasis.REQUEST_BY_PERSON]})})
    verdict = transfer_eligibility(requested, MOVE_DATE)
    assert verdict.transferable and any("Q-08" in f for f in verdict.flags)


@pytest.mark.parametrize(("value", "lenient", "allowed"), [
    (Consent.GIVEN, False, True), (Consent.REFUSED, False, False), (Consent.NOT_EXPRESSED, False, False),
    (Consent.NOT_EXPRESSED, True, True), (Consent.REFUSED, True, False),
])
def test_r_trf_05_consent(value, lenient, allowed):
    assert consent_allows_transfer(value, not_expressed_counts=lenient) is allowed


def test_r_san_10_remaining_length_of_a_running_sanction():
    contract = example("sanction-history")  # S1 Aug 2025 (done), S2 2026-01-01..2026-02-28 (running)
    plans = continuing_sanctions(contract, MOVE_DATE)
    assert [p.sanction.sanction_id for p in plans] == ["S2"]
    (plan,) = plans
    assert (plan.executed_days, plan.remaining_days) == (40, 19)
    assert (plan.continue_from, plan.continue_until) == (MOVE_DATE, date(2026, 2, 28))
    assert plan.executed_days + plan.remaining_days == (date(2026, 2, 28) - date(2026, 1, 1)).days + 1


def test_r_san_10_boundaries():
    contract = example("sanction-history")
    last_day = continuing_sanctions(contract, date(2026, 2, 28))
    assert [(p.executed_days, p.remaining_days) for p in last_day] == [(58, 1)]
    assert continuing_sanctions(contract, date(2026, 3, 1)) == []
    before = continuing_sanctions(contract, date(2025, 12, 20))
    assert [(p.executed_days, p.remaining_days, p.continue_from) for p in before] == [(0, 59, date(2026, 1, 1))]


def test_r_sub_07_remaining_months_of_the_window():
    contract = example("sanction-history").model_copy(update={"subsidy_history": [
        SubsidyEntitlement(type=SubsidyType.FIRST, cpas_ins="52011", window_start=date(2025, 4, 1), months_used=10),
        SubsidyEntitlement(type=SubsidyType.STUDIES, cpas_ins="44021", window_start=date(2023, 9, 1)),
    ]})
    (first,) = subsidy_remainders(contract, MOVE_DATE)  # window Apr 2025 .. Mar 2026; Feb is Charleroi's
    assert (first.type, first.months_consumed, first.months_remaining) == (SubsidyType.FIRST, 10, 1)
    assert first.window_end == date(2026, 3, 31)
    assert subsidy_remainders(contract, date(2026, 3, 1)) == []


def test_package_is_minimal():
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    package = build_package(contract, transfer_id="trf-1", sender=CHARLEROI, receiver=LIEGE,
                            residence_change_date=MOVE_DATE, legal_end_date=MOVE_DATE, consent=consent())
    inner = package.contract
    assert inner.partner is None and inner.needs_assessment is None and inner.ri_months == []
    assert inner.beneficiary.dis_history == [] and [r.ins_code for r in inner.beneficiary.residences] == ["62063"]
    assert {s.sanction_id for s in inner.sanctions} == {"S1", "S2"}  # S2 is a repeat of S1 (R-SAN-07)
    assert inner.termination is not None and inner.termination.ended_on == MOVE_DATE
    assert inner.transfer is not None and inner.transfer.consent is Consent.GIVEN
    assert [c.sanction_id for c in package.continuing_sanctions] == ["S2"]
    assert {c.name for c in package.contacts} == {w.name for w in contract.social_workers}
    assert b"needs_assessment\":null" in package_bytes(package)
    # commitments travel: the new CPAS decides which it takes over (R-TRF-06)
    assert [c.commitment_id for c in inner.commitments] == [c.commitment_id for c in contract.commitments]


def test_package_bytes_are_canonical():
    contract = moved(example("sanction-history"), GENT, MOVE_DATE)
    kwargs = dict(transfer_id="t", sender=CHARLEROI, receiver=GENT, residence_change_date=MOVE_DATE,
                  legal_end_date=MOVE_DATE, consent=consent(), package_id="p")
    a = build_package(contract, **kwargs, now=consent().recorded_at)
    b = build_package(contract, **kwargs, now=consent().recorded_at)
    assert package_bytes(a) == package_bytes(b)
