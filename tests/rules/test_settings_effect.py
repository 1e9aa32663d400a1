"""Every setting changes at least one outcome (issue 18: "every setting changes behaviour or does not exist").

The test enumerates ``RuleSettings.model_fields``: a field without a scenario here fails the test, and each
scenario proves that the alternative value changes the report of a real contract on a given day (the
findings, dates, obligations, subsidy schedule or sections).  Q-15 and Q-16 had no effect and were removed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from piis_bridge.model import PIISContract
from piis_bridge.rules import RuleSettings, evaluate
from tests.rules._core import make, niss_for

U25, STU, CS, SAN, BXL = (
    "u25-employment-project",
    "studies",
    "community-service",
    "sanction-history",
    "social-insertion-third-party",
)
REFS = {"social_inquiry_report_ref": "ENQ-1", "motivated_decision_ref": "CSSS-1"}


def _nothing(data: dict[str, Any]) -> None:
    return None


def _interview(held: str) -> Callable[[dict[str, Any]], None]:
    def change(data):
        data["interview_requests"] = [
            {"requested_date": "2026-10-05", "requested_by": "PERSON", "held_date": held}
        ]

    return change


def _historical(data):
    for s in data["signatures"]:
        s["signed_date"] = "2016-02-15"
    data["start_date"], data["end_date"] = "2016-02-15", "2017-02-14"
    data["decision"].update(
        decision_date="2016-01-10", request_date="2016-01-05", ri_start_date="2016-01-01"
    )
    data["obligation"]["assessed_on"] = "2016-01-10"
    data["reflection"]["draft_handed_date"] = "2016-02-01"
    data["pre_signature_information"] = []
    data["ri_months"] = []
    data["evaluations"] = []


def _sursis_broken(data):
    data["sanctions"][0]["sursis"]["breach_date"] = "2025-11-20"


def _second_chance(data):
    data["subsidy_history"] = [
        {"type": "FIRST", "cpas_ins": "62063", "window_start": "2023-01-01"},
        {"type": "SECOND_CHANCE", "cpas_ins": "62063", "window_start": "2026-07-01", **REFS},
    ]
    data["beneficiary"]["dis_history"].insert(
        0, {"kind": "ART60", "start_date": "2024-01-01", "end_date": "2025-10-31"}
    )


def _month_end_decision(data):
    data["decision"].update(
        decision_date="2026-11-30", request_date="2026-11-20", ri_start_date="2026-11-20"
    )
    data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2026-11-20"}]
    data["signatures"] = []
    data["status"] = "OFFERED"


def _waiver(data):
    data["reflection"] = {
        "draft_handed_date": "2026-07-03",
        "waived": True,
        "waiver_reason": "starts a job on Monday",
    }


def _dis_between_request_and_decision(data):
    # DIS until 2026-02-20: inside the 3 months before the request (2026-04-01), not before the decision (2026-06-15)
    data["beneficiary"]["dis_history"].insert(
        0, {"kind": "ART60", "start_date": "2025-01-01", "end_date": "2026-02-20"}
    )
    data["decision"]["request_date"] = "2026-04-01"
    data["beneficiary"].update(birth_date="1980-05-05", niss=niss_for(date(1980, 5, 5)))


def _short_period(data):
    data["end_date"] = "2026-11-03"  # BXL: a six-month contract
    data["evaluations"] = data["evaluations"][:1]


def _short_remote(data):
    data["end_date"] = "2026-11-03"
    for e in data["evaluations"]:
        e["mode"] = "PHONE"


def _moved(consent: str = "GIVEN", request_only: bool = False):
    def change(data):
        data["transfer"] = {
            "transfer_id": "T1",
            "residence_change_date": "2026-10-12",
            "from_cpas_ins": "62063",
            "to_cpas_ins": "62096",
            "requested_by": "PERSON",
            "consent": consent,
            "agreement_old_cpas": True,
            "agreement_new_cpas": True,
        }
        data["termination"] = {
            "ended_on": "2026-10-12",
            "reason": "CPAS_NO_LONGER_COMPETENT_RESIDENCE",
        }
        data["status"] = "ENDED"
        if request_only:
            data["beneficiary"].update(birth_date="1980-05-05", niss=niss_for(date(1980, 5, 5)))
            data["beneficiary"]["dis_history"].insert(
                0, {"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-05-31"}
            )
            data["obligation"]["basis"] = ["REQUEST_BY_PERSON"]

    return change


def _no_ri_on_signature(data):
    data["decision"]["ri_start_date"] = "2026-07-10"
    data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2026-07-10"}]


def _topup(data):
    data["beneficiary"]["employment_status"] = "EMPLOYED_WITH_RI_TOPUP"


def _reimbursed(data):
    data["subsidy_history"] = [
        {
            "type": "FIRST",
            "cpas_ins": "62063",
            "window_start": "2026-03-01",
            "reimbursed_on": "2026-06-01",
        }
    ]


def _recidivism_after_execution(data):
    # S1 decided 2025-07-08, executed to 2025-08-31; S2 decided 2026-08-20: more than a year after the decision,
    # less than a year after the end of the execution
    s2 = data["sanctions"][1]
    s2.update(
        decision_date="2026-08-20",
        notification_date="2026-08-21",
        notification_received_date="2026-08-22",
        start_date="2026-09-01",
        end_date="2026-11-30",
    )
    data["warnings"][1]["sent_on"] = "2026-08-01"
    data["end_date"] = "2027-04-06"


def _one_month_to_the_same_day(data):
    data["sanctions"] = data["sanctions"][:1]
    data["sanctions"][0].update(start_date="2025-08-01", end_date="2025-09-01")


def _studies_repeated(data):
    data["studies"]["academic_years"][0]["repeated_year"] = True


def _studies_no_summer_job(data):
    data["studies"]["summer_jobs"] = [{"summer": 2026, "worked": False}]


def _evidence(**log):
    def change(data):
        data["evidence"] = log

    return change


def _cs_allowance(data):
    data["community_service"]["volunteer_allowance_cents"] = 5000
    data["community_service"]["allowance_regime"] = "FLAT_RATE"


def _training_without_costs(data):
    data["form_tags"] = ["GENERAL", "TRAINING"]
    data["cost_coverages"] = []


def _signer_functions(data):
    return None


# field -> (example, change, reference day, alternative value, base settings)
SCENARIOS: dict[str, tuple[str, Callable[[dict[str, Any]], None], str, Any, dict[str, Any]]] = {
    "reform_date": (U25, _nothing, "2026-11-22", date(2027, 1, 1), {}),
    "age_threshold": (U25, _nothing, "2026-11-22", 20, {}),
    "new_beneficiary_lookback_months": (
        U25,
        lambda data: data["beneficiary"]["dis_history"].insert(
            0, {"kind": "ART60", "start_date": "2024-01-01", "end_date": "2025-01-31"}
        ),
        "2026-11-22",
        30,
        {},
    ),
    "piis_deadline_months": (U25, _nothing, "2026-11-22", 1, {}),
    "reflection_days": (U25, _nothing, "2026-11-22", 20, {}),
    "interview_deadline_working_days": (U25, _interview("2026-10-09"), "2026-11-22", 1, {}),
    "exam_results_working_days": (STU, _nothing, "2026-11-22", 3, {}),
    "appeal_deadline_months": (SAN, _nothing, "2026-11-22", 1, {}),
    "eval_min_per_year": (U25, _nothing, "2027-06-01", 6, {}),
    "eval_min_in_person": (U25, _nothing, "2027-06-01", 4, {}),
    "historical_eval_months": (U25, _historical, "2016-12-01", 1, {}),
    "sanction_max_months": (SAN, _nothing, "2026-11-22", 2, {}),
    "sanction_recidivism_max_months": (SAN, _nothing, "2026-11-22", 1, {}),
    "recidivism_window_months": (SAN, _nothing, "2026-11-22", 3, {}),
    "sanction_latest_start_month": (SAN, _nothing, "2026-11-22", 1, {}),
    "sursis_latest_application_month": (SAN, _sursis_broken, "2026-11-22", 3, {}),
    "subsidy_rate_percent": (U25, _nothing, "2026-11-22", 15, {}),
    "subsidy_max_months": (U25, _nothing, "2026-11-22", 3, {}),
    "second_chance_gap_months": (U25, _second_chance, "2026-11-22", 6, {}),
    "subsidy_rate_tables": (
        STU,
        _nothing,
        "2028-03-01",
        (),
        {"piis_share_percent_by_year": ((2028, 85.0),)},
    ),
    "piis_share_percent_by_year": (STU, _nothing, "2028-03-01", ((2028, 85.0),), {}),
    "lifetime_subsidies_max": (U25, _nothing, "2026-11-22", 0, {}),
    "dis_kinds_for_lookback": (
        U25,
        _dis_between_request_and_decision,
        "2026-11-22",
        frozenset({"RI"}),
        {"q04_lookback_anchor": "REQUEST"},
    ),
    "cost_coverage_form_tags": (BXL, _training_without_costs, "2026-11-22", frozenset(), {}),
    "q01_clamp_to_month_end": (U25, _month_end_decision, "2026-12-01", False, {}),
    "q01_end_day_included": (U25, _month_end_decision, "2026-12-01", False, {}),
    "q02_allow_reflection_waiver": (U25, _waiver, "2026-11-22", True, {}),
    "q03_obligation_age_reference": (U25, _nothing, "2026-11-22", "SIGNATURE", {}),
    "q04_lookback_anchor": (U25, _dis_between_request_and_decision, "2026-11-22", "REQUEST", {}),
    "q05_recidivism_anchor": (
        SAN,
        _recidivism_after_execution,
        "2026-12-01",
        "PREVIOUS_EXECUTION",
        {},
    ),
    "q06_pro_rata_advisory": (BXL, _short_period, "2026-12-01", False, {}),
    "q06_min_months_for_in_person": (BXL, _short_remote, "2026-12-01", 12, {}),
    "q07_remote_counts_toward_total": (BXL, _short_remote, "2026-12-01", False, {}),
    "q08_request_counts_for_transfer": (U25, _moved(request_only=True), "2026-11-22", False, {}),
    "q09_silence_is_consent": (U25, _moved("NOT_EXPRESSED"), "2026-11-22", True, {}),
    "q10_partial_month_counts": (U25, _nothing, "2026-11-22", False, {}),
    "q10_ri_checked_on_signature": (U25, _no_ri_on_signature, "2026-11-22", False, {}),
    "q12_one_month_inclusive_end": (SAN, _one_month_to_the_same_day, "2026-11-22", False, {}),
    "q17_topup_makes_optional": (U25, _topup, "2026-11-22", False, {}),
    "q19_keep_window_after_reimbursement": (U25, _reimbursed, "2026-11-22", False, {}),
    "q20_cpas_signer_functions": (
        U25,
        _nothing,
        "2026-11-22",
        ("Président", "Directeur général"),
        {},
    ),
    "extra_closure_days": (U25, _interview("2026-10-12"), "2026-11-22", (date(2026, 10, 8),), {}),
    "recurring_closure_days": (U25, _interview("2026-10-12"), "2026-11-22", ((10, 8),), {}),
    "local_piis_deadline_months": (U25, _nothing, "2026-11-22", 1, {}),
    "local_require_contact_hours": (
        U25,
        lambda data: data["social_workers"][0].update(contact_hours=None),
        "2026-11-22",
        True,
        {},
    ),
    "local_generalised_piis_ages": (
        BXL,
        lambda data: data["obligation"].update(basis=[]),
        "2026-11-22",
        (18, 65),
        {},
    ),
    "local_max_repeated_years_per_cycle": (STU, _studies_repeated, "2026-11-22", 0, {}),
    "local_students_summer_job": (STU, _studies_no_summer_job, "2026-11-22", True, {}),
    "local_job_applications_per_month": (
        U25,
        _evidence(
            job_applications=[
                {"month": "2026-08-01", "applications": 3, "proofs_received_date": "2026-08-31"}
            ]
        ),
        "2026-11-22",
        8,
        {},
    ),
    "local_course_attendance_percent": (
        U25,
        _evidence(
            attendance=[
                {
                    "month": "2026-08-01",
                    "sessions_planned": 10,
                    "sessions_attended": 8,
                    "list_received_date": "2026-08-31",
                }
            ]
        ),
        "2026-11-22",
        100,
        {},
    ),
    "local_sick_child_absences_per_year": (
        U25,
        _evidence(
            sick_child_absences=[
                {"absent_on": "2026-09-14", "certificate_received_date": "2026-09-15"}
            ]
        ),
        "2026-11-22",
        0,
        {},
    ),
    "local_jokers_per_school_year": (
        U25,
        _evidence(jokers=[{"used_on": "2026-09-14"}]),
        "2026-11-22",
        0,
        {},
    ),
    "local_monthly_proofs_due_last_working_day": (
        U25,
        _evidence(
            job_applications=[
                {"month": "2026-08-01", "applications": 8, "proofs_received_date": "2026-09-03"}
            ]
        ),
        "2026-11-22",
        True,
        {},
    ),
    "local_automatic_first_sanction_months": (SAN, _nothing, "2026-11-22", 2, {}),
    "local_policy_level": (
        U25,
        lambda data: data["social_workers"][0].update(contact_hours=None),
        "2026-11-22",
        "error",
        {"local_require_contact_hours": True},
    ),
    "volunteer_allowance_max_cents": (CS, _cs_allowance, "2026-11-22", 1000, {}),
    "local": (
        U25,
        lambda data: data.update(
            subsidy_history=[
                {"type": "STUDIES", "cpas_ins": "62063", "window_start": "2022-09-01"},
                {"type": "FIRST", "cpas_ins": "62063", "window_start": "2019-01-01"},
                {
                    "type": "SECOND_CHANCE",
                    "cpas_ins": "62063",
                    "window_start": "2021-01-01",
                    **REFS,
                },
            ]
        ),
        "2026-11-22",
        {"c08_studies_second_chance_exclusive": False},
        {},
    ),
}


def test_every_setting_has_a_scenario():
    assert set(SCENARIOS) == set(RuleSettings.model_fields), (
        "a setting without a scenario: prove it changes an outcome here, or remove it"
    )


@pytest.mark.parametrize("field", sorted(SCENARIOS))
def test_setting_changes_an_outcome(field: str) -> None:
    name, change, on, alternative, base = SCENARIOS[field]
    contract: PIISContract = make(name, change)
    default = RuleSettings(**base)
    other = RuleSettings(**{**base, field: alternative})
    assert getattr(other, field) != getattr(default, field)
    day = date.fromisoformat(on)
    before = evaluate(contract, on=day, settings=default).model_dump()
    after = evaluate(contract, on=day, settings=other).model_dump()
    assert before != after, f"{field}={alternative!r} changes nothing for {name} on {on}"
