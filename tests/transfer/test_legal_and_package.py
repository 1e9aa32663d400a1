"""R-TRF computations and what the package holds (and leaves out)."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.model import Consent, ObligationBasis, SubsidyType
from piis_bridge.transfer.legal import (
    Eligibility,
    SubsidyRemainder,
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
    assert find_residence_change(moved(contract, LIEGE, date(2025, 4, 7))) is None
    assert find_residence_change(moved(contract, LIEGE, date(2026, 4, 7))) is None
    assert find_residence_change(moved(contract, LIEGE, date(2026, 4, 6))) is not None


def test_r_trf_01_ends_the_same_day():
    verdict = transfer_eligibility(moved(example("sanction-history"), LIEGE, MOVE_DATE))
    assert verdict is not None and verdict.eligibility is Eligibility.TRANSFERABLE
    assert verdict.legal_end_date == MOVE_DATE
    assert "R-TRF-01" in verdict.rules


def test_no_move_no_verdict():
    assert transfer_eligibility(example("sanction-history")) is None


def test_r_trf_02_under_25_studies_stay_while_the_studies_run():
    studies = example("studies")  # U25_STUDIES, studies 2025-09-15 .. 2028-09-14
    verdict = transfer_eligibility(moved(studies, LIEGE, date(2026, 2, 10)))
    assert verdict.eligibility is Eligibility.STAYS_STUDIES and verdict.legal_end_date is None
    assert "R-TRF-02" in verdict.rules
    assert (
        transfer_eligibility(moved(studies, LIEGE, date(2028, 9, 14))).eligibility
        is Eligibility.STAYS_STUDIES
    )


def test_r_trf_02_studies_ended_then_the_contract_ends():
    studies = example("studies")
    block = studies.studies.model_copy(update={"study_end_date": date(2026, 6, 30)})
    person = studies.beneficiary.model_copy(update={"full_time_student": False})
    ended = studies.model_copy(update={"studies": block, "beneficiary": person})
    assert (
        transfer_eligibility(moved(ended, LIEGE, date(2026, 6, 30))).eligibility
        is Eligibility.STAYS_STUDIES
    )
    after = transfer_eligibility(moved(ended, LIEGE, date(2026, 7, 1)))
    assert after.eligibility is Eligibility.TRANSFERABLE and after.legal_end_date == date(
        2026, 7, 1
    )


def _adult_on_ri(contract):
    """R-TRF-04 reads the engine's obligation (facts + recorded requests): an adult already on the RI
    before the decision has no mandatory basis from the facts."""
    from piis_bridge.model import IncomePeriod

    history = [
        IncomePeriod(kind="RI", start_date=date(2024, 1, 1), end_date=date(2025, 2, 28)),
        *contract.beneficiary.dis_history,
    ]
    person = contract.beneficiary.model_copy(
        update={"birth_date": date(1980, 2, 28), "dis_history": history}
    )
    return contract.model_copy(update={"beneficiary": person})


def test_r_trf_04_no_obligation_no_transfer():
    contract = _adult_on_ri(example("sanction-history"))
    optional = contract.model_copy(
        update={
            "obligation": contract.obligation.model_copy(update={"basis": [ObligationBasis.NONE]})
        }
    )
    verdict = transfer_eligibility(moved(optional, LIEGE, MOVE_DATE))
    assert (
        verdict.eligibility is Eligibility.ENDS_NOT_TRANSFERABLE
        and verdict.legal_end_date == MOVE_DATE
    )
    assert "R-TRF-04" in verdict.rules


def test_q_08_request_only_obligation_is_flagged():
    contract = _adult_on_ri(example("sanction-history"))
    requested = contract.model_copy(
        update={
            "obligation": contract.obligation.model_copy(
                update={"basis": [ObligationBasis.REQUEST_BY_PERSON]}
            )
        }
    )
    verdict = transfer_eligibility(moved(requested, LIEGE, MOVE_DATE))
    assert verdict.transferable and any("Q-08" in f for f in verdict.flags)


@pytest.mark.parametrize(
    ("value", "lenient", "allowed"),
    [
        (Consent.GIVEN, False, True),
        (Consent.REFUSED, False, False),
        (Consent.NOT_EXPRESSED, False, False),
        (Consent.NOT_EXPRESSED, True, True),
        (Consent.REFUSED, True, False),
    ],
)
def test_r_trf_05_consent(value, lenient, allowed):
    assert consent_allows_transfer(value, not_expressed_counts=lenient) is allowed


def test_r_san_10_remaining_length_of_a_running_sanction():
    contract = moved(
        example("sanction-history"), LIEGE, MOVE_DATE
    )  # S1 Aug 2025 (done), S2 Jan-Feb 2026
    plans = continuing_sanctions(contract)
    assert [p.sanction.sanction_id for p in plans] == ["S2"]
    (plan,) = plans
    assert (plan.executed_days, plan.remaining_days) == (40, 19)
    assert (plan.continue_from, plan.continue_until) == (MOVE_DATE, date(2026, 2, 28))
    assert (
        plan.executed_days + plan.remaining_days == (date(2026, 2, 28) - date(2026, 1, 1)).days + 1
    )


def test_r_san_10_boundaries():
    contract = example("sanction-history")
    last_day = continuing_sanctions(moved(contract, LIEGE, date(2026, 2, 28)))
    assert [(p.executed_days, p.remaining_days) for p in last_day] == [(58, 1)]
    assert continuing_sanctions(moved(contract, LIEGE, date(2026, 3, 1))) == []
    before = continuing_sanctions(moved(contract, LIEGE, date(2025, 12, 20)))
    assert [(p.executed_days, p.remaining_days, p.continue_from) for p in before] == [
        (0, 59, date(2026, 1, 1))
    ]


def test_r_sub_07_remaining_months_of_the_window():
    contract = moved(
        example("sanction-history"), LIEGE, MOVE_DATE
    )  # signed April 2025: FIRST Apr 2025..Mar 2026
    (first,) = subsidy_remainders(contract, MOVE_DATE)  # February is still Charleroi's
    assert (first.type, first.months_remaining) == (SubsidyType.FIRST, 1)
    assert (first.window_start, first.window_end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert subsidy_remainders(contract, date(2026, 3, 1)) == [
        SubsidyRemainder(
            SubsidyType.FIRST, date(2025, 4, 1), date(2026, 3, 31), first.months_consumed, 0
        )
    ]


def test_package_is_minimal():
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    package = build_package(
        contract,
        transfer_id="trf-1",
        sender=CHARLEROI,
        receiver=LIEGE,
        residence_change_date=MOVE_DATE,
        legal_end_date=MOVE_DATE,
        consent=consent(),
    )
    inner = package.contract
    assert inner.partner is None and inner.needs_assessment is None and inner.ri_months == []
    assert inner.beneficiary.dis_history == [] and [
        r.ins_code for r in inner.beneficiary.residences
    ] == ["62063"]
    assert {s.sanction_id for s in inner.sanctions} == {
        "S1",
        "S2",
    }  # S2 is a repeat of S1 (R-SAN-07)
    assert inner.termination is not None and inner.termination.ended_on == MOVE_DATE
    assert inner.transfer is not None and inner.transfer.consent is Consent.GIVEN
    assert [c.sanction_id for c in package.continuing_sanctions] == ["S2"]
    assert {c.name for c in package.contacts} == {w.name for w in contract.social_workers}
    assert b'needs_assessment":null' in package_bytes(package)
    # commitments travel: the new CPAS decides which it takes over (R-TRF-06)
    assert [c.commitment_id for c in inner.commitments] == [
        c.commitment_id for c in contract.commitments
    ]


def test_package_bytes_are_canonical():
    contract = moved(example("sanction-history"), GENT, MOVE_DATE)
    kwargs = dict(
        transfer_id="t",
        sender=CHARLEROI,
        receiver=GENT,
        residence_change_date=MOVE_DATE,
        legal_end_date=MOVE_DATE,
        consent=consent(),
        package_id="p",
    )
    a = build_package(contract, **kwargs, now=consent().recorded_at)
    b = build_package(contract, **kwargs, now=consent().recorded_at)
    assert package_bytes(a) == package_bytes(b)
