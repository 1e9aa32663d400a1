"""Studies facts: repeated years and summer jobs against the local policies (R-STU-11), and the evidence
of inspection items I-10 (maintenance debtors' means investigated) and I-11 (recovery decision served)."""

from __future__ import annotations

from typing import Any

import pytest

from piis_bridge.rules.inspection import ItemStatus, inspect
from tests.rules._core import d, make, run

ON = "2026-11-22"


def _studies(change) -> Any:  # noqa: ANN001
    return make("studies", lambda x: change(x["studies"]))


def _years(*repeats: tuple[str, bool | None, str | None], council: int | None = None):  # noqa: ANN202
    def change(s: dict[str, Any]) -> None:
        s["academic_years"] = []
        for i, (label, repeated, cycle) in enumerate(repeats):
            start = int(label[:4])
            year: dict[str, Any] = {
                "academic_year": label,
                "results_available_date": f"{start + 1}-07-03",
                "results_communicated_date": f"{start + 1}-07-09",
                "outcome": "CONTINUE",
            }
            if repeated is not None:
                year["repeated_year"] = repeated
            if cycle is not None:
                year["cycle"] = cycle
            if council == i:
                year["repeat_allowed_by_council_date"] = f"{start}-09-01"
            s["academic_years"].append(year)

    return _studies(change)


# --- R-STU-11: repeated years per cycle ----------------------------------------------------------------


def test_r_stu_11_repeats_not_counted_without_the_parameter() -> None:
    contract = _years(("2025-2026", True, None), ("2026-2027", True, None))
    assert not run(contract, on="2027-11-22").by_rule("R-STU-11")


@pytest.mark.parametrize(
    ("limit", "flagged"), [(1, ["studies.academic_years[2].repeated_year"]), (2, [])]
)
def test_r_stu_11_repeats_beyond_the_limit_in_one_cycle(limit: int, flagged: list[str]) -> None:
    contract = _years(
        ("2025-2026", False, None), ("2026-2027", True, None), ("2027-2028", True, None)
    )
    found = run(contract, on="2028-11-22", local_max_repeated_years_per_cycle=limit).by_rule(
        "R-STU-11"
    )
    assert [f.fields[0] for f in found] == flagged
    if flagged:
        assert "bachelor cycle" in found[0].message and found[0].level.value == "warning"


def test_r_stu_11_repeats_are_counted_per_cycle_and_the_council_may_allow_more() -> None:
    per_cycle = _years(("2025-2026", True, "bachelor"), ("2026-2027", True, "master"))
    assert not run(per_cycle, on="2027-11-22", local_max_repeated_years_per_cycle=1).by_rule(
        "R-STU-11"
    )
    allowed = _years(("2025-2026", True, None), ("2026-2027", True, None), council=1)
    assert not run(allowed, on="2027-11-22", local_max_repeated_years_per_cycle=1).by_rule(
        "R-STU-11"
    )
    unknown = _years(("2025-2026", None, None), ("2026-2027", None, None))
    assert not run(unknown, on="2027-11-22", local_max_repeated_years_per_cycle=0).by_rule(
        "R-STU-11"
    )


# --- R-STU-11: summer jobs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "flagged"),
    [
        (
            {
                "summer": 2026,
                "worked": True,
                "employer": "Hospital",
                "start_date": "2026-07-01",
                "end_date": "2026-08-31",
            },
            False,
        ),
        ({"summer": 2026, "worked": False}, True),
        ({"summer": 2026, "worked": False, "exemption_reason": "Medical treatment in July"}, False),
    ],
)
def test_r_stu_11_summer_job_policy(job: dict[str, Any], flagged: bool) -> None:
    contract = _studies(lambda s: s.update(summer_jobs=[job]))
    found = run(contract, local_students_summer_job=True).by_rule("R-STU-11")
    assert bool(found) is flagged
    if flagged:
        assert found[0].fields == ("studies.summer_jobs[0].worked",) and "2026" in found[0].message
    assert not run(contract).by_rule("R-STU-11")  # no local policy, nothing judged


# --- I-10 / I-11 ---------------------------------------------------------------------------------------


def _item(contract, name: str):  # noqa: ANN001, ANN202
    return next(i for i in inspect(contract, on=d(ON)).items if i.item == name)


def test_i10_i11_not_recorded_when_the_file_does_not_say() -> None:
    def without(x: dict[str, Any]) -> None:
        x["studies"].pop("maintenance_debtors_investigation", None)
        x["studies"].pop("recovery_decision", None)

    contract = make("studies", without)
    for name, field in (
        ("I-10", "studies.maintenance_debtors_investigation"),
        ("I-11", "studies.recovery_decision"),
    ):
        item = _item(contract, name)
        assert item.status is ItemStatus.NOT_RECORDED and field in item.evidence_missing[0]
    assert _item(make("u25-employment-project"), "I-10").status is ItemStatus.NOT_APPLICABLE


def test_i10_i11_evidence_dated_after_the_reference_date_does_not_exist_yet() -> None:
    def later(s: dict[str, Any]) -> None:
        s["maintenance_debtors_investigation"] = {
            "investigated_on": "2026-11-23",
            "debtors_count": 1,
        }
        s["recovery_decision"] = {"decided_on": "2026-11-23", "recover": True}

    contract = _studies(later)
    assert _item(contract, "I-10").status is ItemStatus.NOT_RECORDED
    assert _item(contract, "I-11").status is ItemStatus.NOT_RECORDED
    on_the_day = next(i for i in inspect(contract, on=d("2026-11-23")).items if i.item == "I-10")
    assert on_the_day.status is ItemStatus.PASS


def test_i10_investigation_found() -> None:
    contract = _studies(
        lambda s: s.update(
            maintenance_debtors_investigation={
                "investigated_on": "2025-09-10",
                "debtors_count": 2,
                "able_to_pay": False,
            }
        )
    )
    item = _item(contract, "I-10")
    assert item.status is ItemStatus.PASS
    assert item.evidence_found == (
        "maintenance debtors' means investigated on 2025-09-10 (2 debtor(s))",
    )


@pytest.mark.parametrize(
    ("served_applicant", "served_debtors", "status", "missing"),
    [
        ("2025-10-20", "2025-10-21", ItemStatus.PASS, ()),
        (
            "2025-10-20",
            None,
            ItemStatus.FAIL,
            ("the decision was not served on the maintenance debtors",),
        ),
        (None, "2025-10-21", ItemStatus.FAIL, ("the decision was not served on the applicant",)),
        (
            "2026-11-23",
            "2025-10-21",
            ItemStatus.FAIL,
            ("the decision was not served on the applicant",),
        ),  # after ON
        ("2026-11-22", "2025-10-21", ItemStatus.PASS, ()),  # served on the reference day itself
    ],
)
def test_i11_recovery_decision_served_on_both(
    served_applicant: str | None,
    served_debtors: str | None,
    status: ItemStatus,
    missing: tuple[str, ...],
) -> None:
    decision: dict[str, Any] = {"decided_on": "2025-10-15", "recover": True}
    if served_applicant:
        decision["served_on_applicant_date"] = served_applicant
    if served_debtors:
        decision["served_on_debtors_date"] = served_debtors
    item = _item(_studies(lambda s: s.update(recovery_decision=decision)), "I-11")
    assert item.status is status and item.evidence_missing == missing
    assert item.evidence_found[0] == "recovery decision of 2025-10-15 (recover)"


def test_i11_no_debtor_to_serve_when_the_investigation_found_none() -> None:
    def change(s: dict[str, Any]) -> None:
        s["maintenance_debtors_investigation"] = {
            "investigated_on": "2025-09-10",
            "debtors_count": 0,
        }
        s["recovery_decision"] = {
            "decided_on": "2025-10-15",
            "recover": False,
            "served_on_applicant_date": "2025-10-20",
        }

    item = _item(_studies(change), "I-11")
    assert (
        item.status is ItemStatus.PASS
        and item.evidence_found[0] == "recovery decision of 2025-10-15 (no recovery)"
    )


def test_a_failing_i11_makes_the_file_not_ready_and_adds_one_info_finding() -> None:
    contract = _studies(
        lambda s: s.update(recovery_decision={"decided_on": "2025-10-15", "recover": True})
    )
    report = run(contract)
    assert report.sections["inspection"]["ready"] is False
    [info] = report.by_rule("R-INS-11")
    assert info.level.value == "info" and "not served on the applicant" in info.message
