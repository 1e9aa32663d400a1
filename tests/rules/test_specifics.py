"""R-CS (community service) and R-STU (full-time studies) specifics, each missing element named."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rules._core import ids, make, person, run


def _cs(**changes: Any):
    def change(x: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                x["community_service"].pop(key, None)
            else:
                x["community_service"][key] = value

    return make("community-service", change)


def test_community_service_example_is_clean() -> None:
    report = run(make("community-service"), on="2026-06-01")
    assert not {f.rule_id for f in report.findings if f.rule_id.startswith("R-CS")}


@pytest.mark.parametrize(
    ("changes", "rule_id", "field"),
    [
        ({"schedule": None}, "R-CS-06", "community_service.schedule"),
        ({"end_date": None}, "R-CS-06", "community_service.end_date"),
        (
            {"insurance_policy_ref": None, "insurance_verified_date": None},
            "R-CS-06",
            "community_service.insurance_policy_ref",
        ),
        ({"insurance_verified": False}, "R-CS-07", "community_service.insurance_verified"),
        (
            {"host": {"name": "Shop SPRL", "non_profit": False, "uses_volunteers": True}},
            "R-CS-08",
            "community_service.host.non_profit",
        ),
        (
            {"host": {"name": "ASBL X", "non_profit": True, "uses_volunteers": False}},
            "R-CS-08",
            "community_service.host.uses_volunteers",
        ),
        ({"effect_on_ri_explained": False}, "R-CS-09", "community_service.effect_on_ri_explained"),
        (
            {"not_regular_paid_task_confirmed": False},
            "R-CS-10",
            "community_service.not_regular_paid_task_confirmed",
        ),
        (
            {"not_trial_or_employment_test": False},
            "R-CS-11",
            "community_service.not_trial_or_employment_test",
        ),
        ({"agreed_by_person": False}, "R-CS-12", "community_service.agreed_by_person"),
    ],
)
def test_r_cs_each_condition(changes: dict[str, Any], rule_id: str, field: str) -> None:
    report = run(_cs(**changes), on="2026-06-01")
    found = [f for f in report.by_rule(rule_id) if f.level.value == "error"]
    assert found and field in found[0].fields


def test_r_cs_06_tag_without_block_and_r_cs_07_start_blocked() -> None:
    report = run(make("community-service", lambda x: x.pop("community_service")), on="2026-06-01")
    assert "R-CS-06" in ids(report, "error")
    before = run(_cs(insurance_verified=False), on="2026-03-09").by_rule("R-CS-07")[0]
    after = run(_cs(insurance_verified=False), on="2026-03-10").by_rule("R-CS-07")[0]
    assert "cannot start" in before.message and "is being performed" in after.message


def test_r_cs_09_unpaid_needs_no_explanation_and_ceiling_is_a_setting() -> None:
    assert "R-CS-09" not in ids(
        run(_cs(volunteer_allowance_cents=None, effect_on_ri_explained=False), on="2026-06-01")
    )
    assert "R-CS-09" in ids(
        run(make("community-service"), on="2026-06-01", volunteer_allowance_max_cents=3999), "error"
    )
    assert "R-CS-09" not in ids(
        run(make("community-service"), on="2026-06-01", volunteer_allowance_max_cents=4000)
    )


@pytest.mark.parametrize(
    ("revised_on", "error"), [(None, True), ("2026-09-30", True), ("2026-10-01", False)]
)
def test_r_cs_02_stopping_requires_a_revision(revised_on: str | None, error: bool) -> None:
    def change(x: dict[str, Any]) -> None:
        x["community_service"]["ended_by_person_date"] = "2026-10-01"
        if revised_on:
            x["versions"].append(
                {
                    "version_no": 2,
                    "kind": "AMENDMENT",
                    "effective_date": revised_on,
                    "agreements": [
                        {"party": "BENEFICIARY", "agreed_date": revised_on},
                        {"party": "CPAS", "agreed_date": revised_on},
                    ],
                    "pre_signature_information_date": revised_on,
                }
            )

    assert (
        "R-CS-02" in ids(run(make("community-service", change), on="2026-10-20"), "error")
    ) is error


# --- R-STU ----------------------------------------------------------------------------------------


def _stu(**changes: Any):
    def change(x: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                x["studies"].pop(key, None)
            else:
                x["studies"][key] = value

    return make("studies", change)


def test_studies_example_is_complete() -> None:
    report = run(make("studies"), on="2026-06-01")
    assert report.sections["content"]["complete"]
    assert not ids(report, "error")


@pytest.mark.parametrize(
    ("changes", "rule_id", "field"),
    [
        ({"grant_application": None}, "R-STU-02", "studies.grant_application"),
        ({"work_availability": None}, "R-STU-02", "studies.work_availability"),
        (
            {"parental_break_mediation": "Mediation service", "family_allowance_redirect": None},
            "R-STU-02",
            "studies.family_allowance_redirect",
        ),
        (
            {"enrolment_proof_received_date": None},
            "R-STU-03",
            "studies.enrolment_proof_received_date",
        ),
        ({"community_recognised": False}, "R-STU-03", "studies.community_recognised"),
        ({"full_time": False}, "R-STU-03", "studies.full_time"),
        ({"attendance_commitments": None}, "R-STU-04", "studies.attendance_commitments"),
        ({"cpas_study_support": None}, "R-STU-05", "studies.cpas_study_support"),
        (
            {"family_allowance_redirect": "Paid to the student"},
            "R-STU-06",
            "studies.parental_break_mediation",
        ),
        ({"year_evaluation_method": None}, "R-STU-07", "studies.year_evaluation_method"),
    ],
)
def test_r_stu_each_mention_named_and_advisory_at_25_or_over(
    changes: dict[str, Any], rule_id: str, field: str
) -> None:
    report = run(_stu(**changes), on="2026-06-01")
    [f] = [f for f in report.by_rule(rule_id) if field in f.fields]
    assert f.level.value == "error"
    assert not report.sections["content"]["complete"]

    def older(x: dict[str, Any]) -> None:  # 25 at conclusion (signed 15 Sept 2025): R-OBL-12
        x["beneficiary"] = {**x["beneficiary"], **person("2000-09-15")}
        for key, value in changes.items():
            if value is None:
                x["studies"].pop(key, None)
            else:
                x["studies"][key] = value

    report = run(make("studies", older), on="2026-06-01")
    assert [f.level.value for f in report.by_rule(rule_id) if field in f.fields] == ["warning"]
    assert "R-OBL-12" in ids(report, "info")


@pytest.mark.parametrize(("end", "error"), [("2028-09-13", True), ("2028-09-14", False)])
def test_r_stu_01_covers_the_whole_programme(end: str, error: bool) -> None:
    assert (
        "R-STU-01"
        in ids(run(make("studies", lambda x: x.update(end_date=end)), on="2026-06-01"), "error")
    ) is error


def test_r_stu_08_outcome_recorded_and_end_followed_by_termination() -> None:
    report = run(
        make("studies", lambda x: x["studies"]["academic_years"][0].pop("outcome")), on="2026-08-01"
    )
    assert "R-STU-08" in ids(report, "warning")
    report = run(
        make("studies", lambda x: x["studies"]["academic_years"][0].update(outcome="END")),
        on="2026-08-01",
    )
    assert "termination" in report.by_rule("R-STU-08")[0].message


def test_r_stu_10_under_25_studies_piis_survives_a_move() -> None:
    def moved(x: dict[str, Any]) -> None:
        x["termination"] = {
            "ended_on": "2026-09-01",
            "reason": "CPAS_NO_LONGER_COMPETENT_RESIDENCE",
        }

    assert "R-STU-10" in ids(run(make("studies", moved), on="2026-10-01"), "error")

    def ended(x: dict[str, Any]) -> None:
        x["termination"] = {"ended_on": "2026-09-01", "reason": "STUDIES_EVALUATION_END"}

    assert "R-STU-10" not in ids(run(make("studies", ended), on="2026-10-01"))


def test_r_stu_11_summer_job_is_local_policy_only() -> None:
    c = _stu(work_availability=None)
    assert "R-STU-11" not in ids(run(c, on="2026-06-01"))
    assert "R-STU-11" in ids(run(c, on="2026-06-01", local_students_summer_job=True), "warning")
