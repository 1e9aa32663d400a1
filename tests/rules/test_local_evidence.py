"""Appendix B local policies on the recorded evidence (R-LOC-04..08): each is checked only when both the
CPAS's parameter and the evidence exist; boundaries at the quota, the month's end, the last working day
(weekends, CPAS closure days, leap years), the calendar year and the school year."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from piis_bridge.rules.calendar import WorkingCalendar
from piis_bridge.rules.local_policy import last_working_day_of_month
from tests.rules._core import make, run

# The u25 example runs 2026-07-06 .. 2027-07-05: August 2026 .. June 2027 are whole months of the contract.


def _with(evidence: dict[str, Any]):  # noqa: ANN202
    return make("u25-employment-project", lambda x: x.update(evidence=evidence))


def _found(report, rule_id: str) -> list:  # noqa: ANN001
    return report.by_rule(rule_id)


def _jobs(*months: tuple[str, int, str | None]) -> dict[str, Any]:
    return {
        "job_applications": [
            {"month": m, "applications": n, **({"proofs_received_date": r} if r else {})}
            for m, n, r in months
        ]
    }


# --- R-LOC-04: job applications per month -------------------------------------------------------------


def test_r_loc_04_nothing_without_the_parameter_or_without_evidence() -> None:
    assert not _found(run(_with(_jobs(("2026-08-01", 0, None))), on="2026-11-22"), "R-LOC-04")
    assert not _found(
        run(make("u25-employment-project"), on="2026-11-22", local_job_applications_per_month=8),
        "R-LOC-04",
    )


@pytest.mark.parametrize(("applications", "flagged"), [(7, True), (8, False), (9, False)])
def test_r_loc_04_quota_boundary(applications: int, flagged: bool) -> None:
    report = run(
        _with(_jobs(("2026-08-01", applications, None))),
        on="2026-11-22",
        local_job_applications_per_month=8,
    )
    found = _found(report, "R-LOC-04")
    assert bool(found) is flagged
    if flagged:
        assert found[0].level.value == "warning" and found[0].fields == (
            "evidence.job_applications[0].applications",
        )
        assert "2026-08" in found[0].message


@pytest.mark.parametrize(("on", "flagged"), [("2026-08-31", False), ("2026-09-01", True)])
def test_r_loc_04_a_month_is_judged_once_it_is_over(on: str, flagged: bool) -> None:
    report = run(_with(_jobs(("2026-08-01", 2, None))), on=on, local_job_applications_per_month=8)
    assert bool(_found(report, "R-LOC-04")) is flagged


def test_r_loc_04_months_the_contract_covers_only_partly_are_not_held_to_the_quota() -> None:
    # July 2026 (contract from the 6th) and July 2027 (contract until the 5th) are partial months.
    report = run(
        _with(_jobs(("2026-07-01", 0, None), ("2027-07-01", 0, None), ("2027-06-01", 0, None))),
        on="2027-08-15",
        local_job_applications_per_month=8,
    )
    assert [f.fields for f in _found(report, "R-LOC-04")] == [
        ("evidence.job_applications[2].applications",)
    ]


def test_r_loc_04_policy_level_error() -> None:
    report = run(
        _with(_jobs(("2026-08-01", 1, None))),
        on="2026-11-22",
        local_job_applications_per_month=8,
        local_policy_level="error",
    )
    assert _found(report, "R-LOC-04")[0].level.value == "error"


# --- R-LOC-05: course attendance -----------------------------------------------------------------------


def _attendance(
    planned: int, attended: int, justified: int = 0, jokers: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "attendance": [
            {
                "month": "2026-09-01",
                "course": "NT2",
                "sessions_planned": planned,
                "sessions_attended": attended,
                "sessions_justified": justified,
            }
        ],
        "jokers": [{"used_on": d} for d in jokers],
    }


@pytest.mark.parametrize(
    ("percent", "attended", "justified", "flagged"),
    [
        (100, 12, 0, False),
        (100, 11, 0, True),
        (100, 11, 1, False),
        (90, 9, 0, True),
        (75, 9, 0, False),
        (76, 9, 0, True),
    ],
)
def test_r_loc_05_rate_boundary(percent: int, attended: int, justified: int, flagged: bool) -> None:
    report = run(
        _with(_attendance(12, attended, justified)),
        on="2026-10-01",
        local_course_attendance_percent=percent,
    )
    found = _found(report, "R-LOC-05")
    assert bool(found) is flagged
    if flagged:
        assert (
            found[0].fields == ("evidence.attendance[0].sessions_attended",)
            and "NT2" in found[0].message
        )


def test_r_loc_05_a_joker_of_the_same_month_covers_one_unjustified_absence() -> None:
    settings = {"local_course_attendance_percent": 100}
    assert not _found(
        run(_with(_attendance(12, 11, jokers=("2026-09-30",))), on="2026-10-01", **settings),
        "R-LOC-05",
    )
    # a joker of another month covers nothing; two absences need two jokers
    assert _found(
        run(_with(_attendance(12, 11, jokers=("2026-10-01",))), on="2026-10-02", **settings),
        "R-LOC-05",
    )
    assert _found(
        run(_with(_attendance(12, 10, jokers=("2026-09-10",))), on="2026-10-01", **settings),
        "R-LOC-05",
    )


def test_r_loc_05_the_running_month_is_not_judged() -> None:
    report = run(_with(_attendance(12, 3)), on="2026-09-30", local_course_attendance_percent=100)
    assert not _found(report, "R-LOC-05")


# --- R-LOC-06: absences for a sick child ---------------------------------------------------------------


def _absences(*days: str, partner: bool | None = None) -> dict[str, Any]:
    return {
        "sick_child_absences": [
            {"absent_on": d, **({} if partner is None else {"partner_present": partner})}
            for d in days
        ]
    }


def test_r_loc_06_the_absence_beyond_the_limit_in_a_calendar_year() -> None:
    days = (
        "2026-12-31",
        "2026-09-01",
        "2026-10-01",
        "2026-11-02",
        "2027-01-04",
    )  # recorded out of order
    report = run(_with(_absences(*days)), on="2027-02-01", local_sick_child_absences_per_year=3)
    found = _found(report, "R-LOC-06")
    # 2026 has four (the 4th, by date, is 31 December); 2027 starts a new count.
    assert [f.fields for f in found] == [("evidence.sick_child_absences[0].absent_on",)]
    assert "2026-12-31" in found[0].message and "number 4 in 2026" in found[0].message
    assert not _found(
        run(_with(_absences(*days)), on="2027-02-01", local_sick_child_absences_per_year=4),
        "R-LOC-06",
    )


def test_r_loc_06_not_allowed_when_a_partner_is_present() -> None:
    report = run(
        _with(_absences("2026-09-01", partner=True)),
        on="2026-10-01",
        local_sick_child_absences_per_year=4,
    )
    assert [f.fields for f in _found(report, "R-LOC-06")] == [
        ("evidence.sick_child_absences[0].partner_present",)
    ]
    unknown = run(
        _with(_absences("2026-09-01")), on="2026-10-01", local_sick_child_absences_per_year=4
    )
    assert not _found(unknown, "R-LOC-06")


# --- R-LOC-07: jokers per school year ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "flagged"),
    [
        (("2026-09-01", "2027-08-31"), ["2027-08-31"]),  # same school year 2026-2027
        (
            ("2026-08-31", "2026-09-01"),
            [],
        ),  # 31 August closes 2025-2026, 1 September opens 2026-2027
        (("2027-02-28", "2027-03-01"), ["2027-03-01"]),
    ],
)
def test_r_loc_07_school_year_from_1_september(days: tuple[str, ...], flagged: list[str]) -> None:
    report = run(
        _with({"jokers": [{"used_on": d} for d in days]}),
        on="2027-09-15",
        local_jokers_per_school_year=1,
    )
    assert [f.message.split("used on ")[1][:10] for f in _found(report, "R-LOC-07")] == flagged


def test_r_loc_07_a_recorded_school_year_wins_over_the_1_september_default() -> None:
    # a French-Community school year starting in late August: the recorded label decides
    jokers = [{"used_on": "2026-08-26", "school_year": "2026-2027"}, {"used_on": "2026-09-02"}]
    report = run(_with({"jokers": jokers}), on="2026-10-01", local_jokers_per_school_year=1)
    assert [f.fields for f in _found(report, "R-LOC-07")] == [("evidence.jokers[1].used_on",)]
    assert not _found(
        run(_with({"jokers": jokers}), on="2026-10-01", local_jokers_per_school_year=2), "R-LOC-07"
    )


# --- R-LOC-08: monthly proofs by the last working day --------------------------------------------------


@pytest.mark.parametrize(
    ("month", "expected", "closures"),
    [
        ("2026-05-01", "2026-05-29", ()),  # 30-31 May 2026 are a weekend
        ("2026-07-01", "2026-07-30", (date(2026, 7, 31),)),  # a CPAS closure day on Friday 31 July
        ("2028-02-01", "2028-02-29", ()),  # leap year: Tuesday 29 February
        ("2027-02-01", "2027-02-26", ()),  # 27-28 February 2027 are a weekend
        ("2026-12-01", "2026-12-30", ()),  # with the recurring closure of 31 December below
    ],
)
def test_last_working_day_of_month(month: str, expected: str, closures: tuple[date, ...]) -> None:
    recurring = ((12, 31),) if month == "2026-12-01" else ()
    calendar = WorkingCalendar(closures, recurring)
    assert last_working_day_of_month(date.fromisoformat(month), calendar) == date.fromisoformat(
        expected
    )


@pytest.mark.parametrize(
    ("received", "flagged"), [("2026-07-29", False), ("2026-07-30", False), ("2026-07-31", True)]
)
def test_r_loc_08_received_on_the_last_working_day_or_before(received: str, flagged: bool) -> None:
    report = run(
        _with(_jobs(("2026-07-01", 8, received))),
        on="2026-11-22",
        local_monthly_proofs_due_last_working_day=True,
        extra_closure_days=(date(2026, 7, 31),),
    )
    found = _found(report, "R-LOC-08")
    assert bool(found) is flagged
    [due] = [d for d in report.dates if d.rule_id == "R-LOC-08"]
    assert due.date == date(2026, 7, 30) and due.status.value == ("late" if flagged else "met")
    assert due.fields == ("evidence.job_applications[0].proofs_received_date",)


@pytest.mark.parametrize(
    ("on", "status", "flagged"), [("2026-05-29", "pending", False), ("2026-05-30", "overdue", True)]
)
def test_r_loc_08_attendance_list_not_handed_in(on: str, status: str, flagged: bool) -> None:
    evidence = {
        "attendance": [{"month": "2026-05-01", "sessions_planned": 8, "sessions_attended": 8}]
    }
    report = run(
        make("community-service", lambda x: x.update(evidence=evidence)),
        on=on,
        local_monthly_proofs_due_last_working_day=True,
    )
    [due] = [d for d in report.dates if d.rule_id == "R-LOC-08"]
    assert due.date == date(2026, 5, 29) and due.status.value == status
    assert bool(_found(report, "R-LOC-08")) is flagged


def test_r_loc_08_off_by_default() -> None:
    report = run(_with(_jobs(("2026-07-01", 8, "2026-09-15"))), on="2026-11-22")
    assert not _found(report, "R-LOC-08") and not [
        d for d in report.dates if d.rule_id == "R-LOC-08"
    ]


# --- R-LOC-09: automatic first sanction --------------------------------------------------------------


def _sanction_s1(start: str, end: str):  # noqa: ANN202
    return make(
        "sanction-history", lambda x: x["sanctions"][0].update(start_date=start, end_date=end)
    )


@pytest.mark.parametrize(
    ("start", "end", "flagged"),
    [
        ("2025-08-01", "2025-08-31", False),  # the example: a whole month
        ("2025-08-01", "2025-08-30", True),  # a day short
        ("2025-08-01", "2025-08-07", True),  # a lawful week (R-SAN-12), not this CPAS's policy
    ],
)
def test_r_loc_09_first_sanction_length(start: str, end: str, flagged: bool) -> None:
    report = run(_sanction_s1(start, end), on="2026-03-01", local_automatic_first_sanction_months=1)
    found = report.by_rule("R-LOC-09")
    assert [f.fields for f in found] == ([("sanctions[0].end_date",)] if flagged else [])
    assert not run(_sanction_s1(start, end), on="2026-03-01").by_rule("R-LOC-09")  # no local policy


def test_r_loc_09_month_ends_and_leap_years() -> None:
    # D1 / Q-12: from 31 January one month ends on the day before 28 (29) February
    assert not _sanction_month("2025-01-31", "2025-02-27")
    assert _sanction_month("2025-01-31", "2025-02-28")
    assert not _sanction_month("2028-01-31", "2028-02-28")


def _sanction_month(start: str, end: str) -> list:
    def change(x: dict[str, Any]) -> None:
        s1 = x["sanctions"][0]
        s1.update(
            decision_date="2024-12-10",
            notification_date="2024-12-12",
            start_date=start,
            end_date=end,
        )
        s1.pop("notification_received_date", None)
        s1.pop("sursis", None)
        x["sanctions"] = [s1]

    return run(
        make("sanction-history", change), on="2028-06-01", local_automatic_first_sanction_months=1
    ).by_rule("R-LOC-09")


def test_r_loc_09_repeat_offences_are_not_first_sanctions() -> None:
    report = run(make("sanction-history"), on="2026-03-01", local_automatic_first_sanction_months=1)
    assert not report.by_rule("R-LOC-09")  # S2 (two months) is a repeat of S1
