"""R-TRF (rules.md 2.11): end by law on a move, hand-over conditions, studies exception, running sanctions."""

from __future__ import annotations

import pytest

from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.report import Level
from piis_bridge.rules.settings import RuleSettings
from piis_bridge.rules.transfers import (
    legal_end_date,
    residence_change,
    studies_exception,
    transfer_issues,
    transfer_outlook,
)
from tests.rules._part2 import all_text, build, d, niss_for, raw

LGE = "u25-employment-project"  # Liège 62063, U25_EMPLOYMENT_PROJECT + NO_DIS_LAST_3M, 2026-07-06..2027-07-05
SERAING = "62096"


def moved(
    on="2026-10-12",
    consent="GIVEN",
    requested_by="PERSON",
    old=True,
    new=True,
    assessment=None,
    termination=("2026-10-12", "CPAS_NO_LONGER_COMPETENT_RESIDENCE"),
):
    def change(data):
        data["transfer"] = {
            "transfer_id": "T1",
            "residence_change_date": on,
            "from_cpas_ins": "62063",
            "to_cpas_ins": SERAING,
            "requested_by": requested_by,
            "consent": consent,
            "agreement_old_cpas": old,
            "agreement_new_cpas": new,
        }
        if assessment is not None:
            data["transfer"]["assessment"] = assessment
        if termination is not None:
            data["termination"] = {"ended_on": termination[0], "reason": termination[1]}
            data["status"] = "ENDED"

    return change


def rule_ids(contract, on=None, settings=None):
    return sorted(
        {
            i.rule_id
            for i in transfer_issues(contract, as_of=on, settings=settings or RuleSettings())
        }
    )


FULL = {
    "assessed_on": "2026-10-20",
    "commitments_taken_over": ["C1"],
    "commitments_not_taken_over": {},
    "new_contract_ref": "SER-2026-0001",
}


def _full_assessment():
    commitments = [c["commitment_id"] for c in raw(LGE)["commitments"]]
    return {**FULL, "commitments_taken_over": commitments}


def test_no_move_no_transfer_rules():
    c = build(LGE)
    assert residence_change(c) is None and legal_end_date(c) is None
    assert rule_ids(c) == []
    assert "R-TRF-01" not in {f.rule_id for f in evaluate(c, on=d("2026-11-22")).findings}


def test_lawful_hand_over():
    c = build(LGE, moved(assessment=_full_assessment()))
    outlook = transfer_outlook(c)
    assert outlook.may_hand_over and outlook.legal_end_date == d("2026-10-12")
    assert rule_ids(c) == []


@pytest.mark.parametrize(
    "ended_on, ok", [("2026-10-11", True), ("2026-10-12", True), ("2026-10-13", False)]
)
def test_contract_ends_on_the_day_of_the_move(ended_on, ok):
    # Ended for another reason the day before: fine.  Running past the move: the contract ended by law.
    c = build(LGE, moved(termination=(ended_on, "END_OF_TERM"), assessment=_full_assessment()))
    assert ("R-TRF-01" not in rule_ids(c)) is ok


@pytest.mark.parametrize(
    "ended_on, ok", [("2026-10-11", False), ("2026-10-12", True), ("2026-10-13", False)]
)
def test_residence_termination_date_must_be_the_move(ended_on, ok):
    c = build(
        LGE,
        moved(
            termination=(ended_on, "CPAS_NO_LONGER_COMPETENT_RESIDENCE"),
            assessment=_full_assessment(),
        ),
    )
    assert ("R-TRF-01" not in rule_ids(c)) is ok


def test_missing_termination_is_flagged_from_the_day_of_the_move():
    c = build(LGE, moved(termination=None, assessment=_full_assessment()))
    assert "R-TRF-01" not in rule_ids(c, on=d("2026-10-11"))
    assert "R-TRF-01" in rule_ids(c, on=d("2026-10-12"))


def test_move_read_from_the_residence_history():
    def change(data):
        data["beneficiary"]["residences"][0]["end_date"] = "2026-12-31"
        data["beneficiary"]["residences"].append({"ins_code": SERAING, "start_date": "2027-01-01"})

    c = build(LGE, change)
    assert residence_change(c) == (d("2027-01-01"), "residence")
    outlook = transfer_outlook(c)
    assert outlook.legal_end_date == d("2027-01-01")
    assert not outlook.may_hand_over and outlook.pending  # the person has not asked (R-TRF-03)
    assert "R-TRF-01" in rule_ids(c, on=d("2027-01-01"))
    assert "R-TRF-01" not in rule_ids(c, on=d("2026-12-31"))


def test_consent_states():
    assert "R-TRF-05" in rule_ids(
        build(LGE, moved(consent="REFUSED", assessment=_full_assessment()))
    )
    silent = build(LGE, moved(consent="NOT_EXPRESSED", assessment=_full_assessment()))
    assert "R-TRF-05" in rule_ids(silent)  # Q-09 strict default
    assert not transfer_outlook(silent).may_hand_over
    lenient = RuleSettings(q09_silence_is_consent=True)
    assert "R-TRF-05" not in rule_ids(silent, settings=lenient)
    assert transfer_outlook(silent, lenient).may_hand_over
    assert transfer_outlook(silent, lenient).flags


def test_request_and_agreements():
    assert "R-TRF-03" in rule_ids(
        build(LGE, moved(requested_by="CPAS", assessment=_full_assessment()))
    )
    outlook = transfer_outlook(build(LGE, moved(new=False)))
    assert not outlook.may_hand_over and any("new CPAS" in r for r in outlook.blocking_reasons)
    pending = transfer_outlook(build(LGE, moved(new=None)))
    assert not pending.may_hand_over and pending.pending and not pending.blocking_reasons


def _adult_on_ri(basis):
    """An adult already on the RI before the decision: the facts give no mandatory basis (R-OBL-05)."""

    def change(data):
        moved(assessment=_full_assessment())(data)
        data["beneficiary"].update(birth_date="1980-05-05", niss=niss_for("1980-05-05"))
        data["beneficiary"]["dis_history"].insert(
            0, {"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-05-31"}
        )
        data["obligation"].update(basis=basis)

    return change


def test_no_obligation_blocks_the_hand_over():
    c = build(LGE, _adult_on_ri(["NONE"]))
    assert "R-TRF-04" in rule_ids(c)
    assert not transfer_outlook(c).may_hand_over


@pytest.mark.parametrize("recorded", [["NONE"], [], ["U25_STUDIES"]])
def test_hand_over_reads_the_engines_obligation_not_the_recorded_basis(recorded):
    # under 25 and not in work: mandatory by the facts (R-OBL-02, R-OBL-03) whatever the record says
    c = build(
        LGE,
        lambda data: (
            moved(assessment=_full_assessment())(data),
            data["obligation"].update(basis=recorded),
        ),
    )
    assert "R-TRF-04" not in rule_ids(c)
    assert transfer_outlook(c).may_hand_over
    report = evaluate(c, on=d("2026-11-22"))
    assert report.obligations[0].mandatory and not report.by_rule("R-TRF-04")
    # and a recorded basis the facts contradict does not open a hand-over
    wrong = build(LGE, _adult_on_ri(["U25_STUDIES"]))
    assert "R-TRF-04" in rule_ids(wrong)


def test_request_only_basis_counts_but_is_flagged():
    c = build(LGE, _adult_on_ri(["REQUEST_BY_PERSON"]))
    assert "R-TRF-04" not in rule_ids(c)
    assert transfer_outlook(c).flags
    report = evaluate(c, on=d("2026-11-22"))
    assert [f.level for f in report.by_rule("R-TRF-04")] == [Level.WARNING]
    strict = RuleSettings(q08_request_counts_for_transfer=False)
    assert "R-TRF-04" in rule_ids(c, settings=strict)


def test_assessment_per_commitment():
    c = build(LGE, moved())
    assert "R-TRF-06" in rule_ids(c)  # agreed, no assessment yet
    partial = build(LGE, moved(assessment={**FULL, "commitments_taken_over": []}))
    assert "R-TRF-06" in rule_ids(partial)
    commitments = [x["commitment_id"] for x in raw(LGE)["commitments"]]
    declined = build(
        LGE,
        moved(
            assessment={
                **FULL,
                "commitments_taken_over": commitments[1:],
                "commitments_not_taken_over": {commitments[0]: " "},
            }
        ),
    )
    assert "R-TRF-06" in rule_ids(declined)  # declined without a reason
    unknown = build(
        LGE, moved(assessment={**_full_assessment(), "commitments_not_taken_over": {"ZZ": "gone"}})
    )
    assert "R-TRF-06" in rule_ids(unknown)


# --- studies exception (R-TRF-02 / R-STU-10) and the 25th birthday -------------------------------

STUDIES = (
    "studies"  # Gent 44021, born 2005-09-30, signed 2025-09-15, studies 2025-09-15..2028-09-14
)


def studies_move(on="2026-10-01", termination=True):
    def change(data):
        data["transfer"] = {
            "transfer_id": "T9",
            "residence_change_date": on,
            "from_cpas_ins": "44021",
            "to_cpas_ins": "44084",
            "consent": "GIVEN",
        }
        if termination:
            data["termination"] = {"ended_on": on, "reason": "CPAS_NO_LONGER_COMPETENT_RESIDENCE"}

    return change


def test_studies_exception_keeps_the_same_cpas():
    c = build(STUDIES, studies_move())
    assert studies_exception(c, d("2026-10-01"))
    assert legal_end_date(c) is None
    outlook = transfer_outlook(c)
    assert not outlook.may_hand_over and outlook.studies_exception
    assert rule_ids(c) == ["R-TRF-02"]  # ending it for the move is wrong
    assert rule_ids(build(STUDIES, studies_move(termination=False))) == []


@pytest.mark.parametrize(
    "birth, under_25",
    [
        ("2000-09-16", True),  # 24 on the signature day 2025-09-15 (turns 25 the next day)
        ("2000-09-15", False),  # 25th birthday on the signature day
    ],
)
def test_exception_needs_under_25_at_conclusion(birth, under_25):
    number = niss_for(birth)

    def change(data):
        studies_move(termination=False)(data)
        data["beneficiary"].update(birth_date=birth, niss=number)
        data["obligation"]["basis"] = ["REQUEST_BY_PERSON"]

    c = build(STUDIES, change)
    assert studies_exception(c, d("2026-10-01")) is under_25
    assert (legal_end_date(c) is None) is under_25


def test_exception_ends_with_the_studies():
    def change(data):
        studies_move(on="2028-09-15", termination=False)(data)
        data["beneficiary"].update(full_time_student=False, studies_uninterrupted_since=None)

    c = build(STUDIES, change)
    assert not studies_exception(c, d("2028-09-15"))  # the day after the study period
    assert studies_exception(c, d("2028-09-14"))


# --- running sanctions follow the person (R-TRF-07 / R-SAN-10) -----------------------------------


def test_running_sanction_continues_with_days_remaining():
    def change(data):
        data["transfer"] = {
            "transfer_id": "T2",
            "residence_change_date": "2026-02-16",
            "from_cpas_ins": "52011",
            "to_cpas_ins": "52012",
            "consent": "GIVEN",
            "agreement_old_cpas": True,
            "agreement_new_cpas": True,
        }
        data["termination"] = {
            "ended_on": "2026-02-16",
            "reason": "CPAS_NO_LONGER_COMPETENT_RESIDENCE",
        }

    c = build("sanction-history", change)
    outlook = transfer_outlook(c)
    # S1 is suspended (sursis, never applied) and over; S2 runs 2026-01-01..2026-02-28.
    assert [
        (s.sanction_id, s.continues_from, s.days_remaining) for s in outlook.continuing_sanctions
    ] == [("S2", d("2026-02-16"), 13)]
    report = evaluate(c, on=d("2026-02-20"))
    section = report.sections["transfer"]
    assert section["continuing_sanctions"][0]["days_remaining"] == 13
    assert (
        section["subsidy_remaining_months"] == 1
    )  # FIRST window Apr 2025..Mar 2026: March is left
    assert raw("sanction-history")["beneficiary"]["niss"] not in all_text(report)
