"""R-DL: signature deadline, reflection period, interview, exam results, appeal — at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.rules.calendar import BELGIAN_CALENDAR, add_months
from tests.rules._core import d, ids, make, run, set_decision, sign_on


def _signed(decision: str, signed: str, handed: str | None = None):
    def change(data: dict[str, Any]) -> None:
        set_decision(data, decision)
        sign_on(data, signed)
        data["reflection"]["draft_handed_date"] = handed or decision
        data["pre_signature_information"][0]["given_date"] = handed or decision
        data["needs_assessment"]["assessed_on"] = decision

    return make("u25-employment-project", change)


# --- R-DL-01 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "signed", "late"),
    [
        ("2026-06-15", "2026-09-14", False),
        ("2026-06-15", "2026-09-15", False),
        ("2026-06-15", "2026-09-16", True),
        ("2025-11-30", "2026-02-28", False),  # month end, clamped (D1)
        ("2025-11-30", "2026-03-01", True),
        ("2027-11-30", "2028-02-29", False),  # leap year
        ("2027-11-30", "2028-03-01", True),
        ("2026-08-31", "2026-11-30", False),
        ("2026-08-31", "2026-12-01", True),
    ],
)
def test_r_dl_01_signature_within_3_months_of_the_decision(
    decision: str, signed: str, late: bool
) -> None:
    report = run(_signed(decision, signed), on="2028-06-01")
    dl = report.date_for("R-DL-01")
    assert dl.status.value == ("late" if late else "met")
    assert ("R-DL-01" in ids(report, "error")) is late


def test_r_dl_01_pending_then_overdue_without_signature() -> None:
    c = make("u25-employment-project", lambda x: x.update(signatures=[], status="OFFERED"))
    assert run(c, on="2026-09-15").date_for("R-DL-01").status.value == "pending"
    assert run(c, on="2026-09-16").date_for("R-DL-01").status.value == "overdue"
    assert "R-DL-01" not in ids(run(c, on="2026-09-16"))  # the missing PIIS is R-OBL-08's finding


# --- R-DL-02 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("handed", "error"), [("2026-09-15", False), ("2026-09-16", True)])
def test_r_dl_02_under_25_offer_within_3_months(handed: str, error: bool) -> None:
    def change(data: dict[str, Any]) -> None:
        data["signatures"] = []
        data["status"] = "OFFERED"
        data["reflection"]["draft_handed_date"] = handed
        data["pre_signature_information"][0]["given_date"] = handed

    report = run(make("u25-employment-project", change), on="2026-10-01")
    assert ("R-DL-02" in ids(report, "error")) is error


# --- R-DL-03 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("signed", "error"), [("2026-10-31", False), ("2026-11-01", True)])
def test_r_dl_03_optional_piis_within_3_months_of_the_decision_to_conclude(
    signed: str, error: bool
) -> None:
    def change(data: dict[str, Any]) -> None:
        set_decision(data, "2026-06-15", prior_dis=[{"kind": "RI", "start_date": "2020-01-01"}])
        data["beneficiary"]["employment_status"] = "EMPLOYED_WITH_RI_TOPUP"
        data["obligation"] = {"basis": [], "optional_piis_decision_date": "2026-07-31"}
        sign_on(data, signed)
        data["reflection"]["draft_handed_date"] = "2026-07-31"

    report = run(
        make("u25-employment-project", change), on="2026-12-01", q17_topup_makes_optional=True
    )
    assert not report.obligations[0].mandatory
    assert report.date_for("R-DL-03").date == d("2026-10-31")
    assert ("R-DL-03" in ids(report, "error")) is error


# --- R-DL-04 (D4, Q-02) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handed", "signed", "error"),
    [
        ("2026-06-29", "2026-07-03", True),
        ("2026-06-29", "2026-07-04", False),
        ("2026-06-29", "2026-07-05", False),
        ("2026-12-28", "2027-01-01", True),
        ("2026-12-28", "2027-01-02", False),  # across the year end
        ("2028-02-26", "2028-03-01", True),
        ("2028-02-26", "2028-03-02", False),
    ],  # leap February
)
def test_r_dl_04_five_calendar_days_of_reflection(handed: str, signed: str, error: bool) -> None:
    report = run(
        _signed("2026-06-15" if handed < "2026-09" else handed, signed, handed), on="2028-06-01"
    )
    assert ("R-DL-04" in ids(report, "error")) is error
    assert report.date_for("R-DL-04").date == d(handed).fromordinal(d(handed).toordinal() + 5)


def test_r_dl_04_waiver_only_with_the_legal_switch() -> None:
    def change(data: dict[str, Any]) -> None:
        sign_on(data, "2026-07-01")
        data["reflection"].update(waived=True, waiver_reason="Written waiver, job starts Monday")

    c = make("u25-employment-project", change)
    strict = run(c)
    assert (
        "R-DL-04" in ids(strict, "error")
        and "waivers are not allowed" in strict.by_rule("R-DL-04")[0].message
    )
    allowed = run(c, q02_allow_reflection_waiver=True)
    assert [f.level.value for f in allowed.by_rule("R-DL-04")] == ["info"]


def test_r_dl_04_signed_without_a_draft_handover_record() -> None:
    c = make("u25-employment-project", lambda x: x.pop("reflection"))
    assert "R-DL-04" in ids(run(c), "error")


# --- R-DL-05 (D3 working days) --------------------------------------------------------------------


def _interview(requested: str, held: str | None):
    def change(data: dict[str, Any]) -> None:
        data["interview_requests"] = [
            {"requested_date": requested, **({"held_date": held} if held else {})}
        ]

    return make("u25-employment-project", change)


@pytest.mark.parametrize(
    ("requested", "due"),
    [
        ("2026-11-09", "2026-11-17"),  # Armistice (Wed 11 Nov)
        ("2026-12-23", "2026-12-31"),  # Christmas (Fri 25 Dec)
        ("2026-04-27", "2026-05-05"),  # Labour Day (Fri 1 May)
        ("2026-05-11", "2026-05-19"),  # Ascension (Thu 14 May)
        ("2025-05-28", "2025-06-05"),  # Ascension 2025 (Thu 29 May)
        ("2026-07-17", "2026-07-27"),  # National Day (Tue 21 Jul)
    ],
)
def test_r_dl_05_interview_within_5_working_days(requested: str, due: str) -> None:
    due_day = d(due)
    before, after = (
        due_day.fromordinal(due_day.toordinal() - 1),
        due_day.fromordinal(due_day.toordinal() + 1),
    )
    on_time = run(_interview(requested, due), on="2027-02-01")
    assert on_time.date_for("R-DL-05").date == due_day
    assert on_time.date_for("R-DL-05").status.value == "met" and "R-DL-05" not in ids(on_time)
    assert "R-DL-05" not in ids(run(_interview(requested, before.isoformat()), on="2027-02-01"))
    late = run(_interview(requested, after.isoformat()), on="2027-02-01")
    assert "R-DL-05" in ids(late, "error") and late.date_for("R-DL-05").status.value == "late"
    # not held: pending on the deadline day, overdue the day after
    assert (
        run(_interview(requested, None), on=due_day).date_for("R-DL-05").status.value == "pending"
    )
    assert "R-DL-05" not in ids(run(_interview(requested, None), on=due_day))
    assert "R-DL-05" in ids(run(_interview(requested, None), on=after), "error")


def test_r_dl_05_per_cpas_closure_day_extends_the_deadline() -> None:
    # request Tue 7 July 2026; a Flemish CPAS is closed on Sat 11 July (no effect) -> use 2025 (Friday)
    c = _interview("2025-07-08", "2025-07-16")
    assert "R-DL-05" in ids(run(c, on="2025-08-01"), "error")  # legal holidays only: due 15 July
    assert "R-DL-05" not in ids(run(c, on="2025-08-01", recurring_closure_days=((7, 11),)))


# --- R-DL-06 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "sent", "error"),
    [
        ("2026-07-03", "2026-07-14", False),
        ("2026-07-03", "2026-07-15", True),  # 21 July not in range
        ("2026-07-15", "2026-07-27", False),
        ("2026-07-15", "2026-07-28", True),  # across National Day
        ("2026-12-22", "2027-01-04", False),
        ("2026-12-22", "2027-01-05", True),
    ],  # Christmas + New Year
)
def test_r_dl_06_exam_results_within_7_working_days(available: str, sent: str, error: bool) -> None:
    def change(data: dict[str, Any]) -> None:
        data["studies"]["academic_years"][0].update(
            results_available_date=available, results_communicated_date=sent
        )

    report = run(make("studies", change), on="2027-02-01")
    assert ("R-DL-06" in ids(report, "error")) is error


# --- R-DL-07 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("filed", "error"), [("2026-02-28", False), ("2026-03-01", True)])
def test_r_dl_07_appeal_within_3_months_of_receipt(filed: str, error: bool) -> None:
    def change(data: dict[str, Any]) -> None:
        data["appeals"] = [{"decision_received_date": "2025-11-30", "filed_date": filed}]

    report = run(make("u25-employment-project", change))
    assert report.date_for("R-DL-07").date == d("2026-02-28")
    assert ("R-DL-07" in ids(report, "error")) is error


def test_r_dl_05_only_interviews_the_person_asks_for() -> None:
    def change(data: dict[str, Any]) -> None:
        data["interview_requests"] = [{"requested_date": "2026-11-09", "requested_by": "CPAS"}]

    assert "R-DL-05" not in ids(run(make("u25-employment-project", change), on="2026-12-01"))


@pytest.mark.parametrize(("signed", "late"), [("2016-10-04", False), ("2016-10-05", True)])
def test_r_dl_08_historical_deadline_runs_from_the_request(signed: str, late: bool) -> None:
    def change(data: dict[str, Any]) -> None:
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2016-07-01"}]
        data["decision"].update(
            decision_date="2016-08-20", request_date="2016-07-04", ri_start_date="2016-07-01"
        )
        data["needs_assessment"]["assessed_on"] = "2016-08-25"
        data["reflection"]["draft_handed_date"] = "2016-08-25"
        data["pre_signature_information"][0]["given_date"] = "2016-08-25"
        sign_on(data, signed)

    report = run(make("u25-employment-project", change), on="2017-01-01")
    assert report.rule_set == "historical"
    dl = report.date_for("R-DL-08")
    assert dl.date == d(
        "2016-10-04"
    )  # request 4 July + 3 months, not decision 20 August + 3 months
    assert ("R-DL-08" in ids(report, "error")) is late
    assert report.date_for("R-DL-01") is None  # the 2016 rule does not judge historical facts


def test_q01_settings_move_the_signature_deadline() -> None:
    c = _signed("2025-11-30", "2026-03-01")
    assert "R-DL-01" in ids(run(c, on="2026-06-01"), "error")  # D1: due 28 February
    rolled = run(c, on="2026-06-01", q01_clamp_to_month_end=False)
    assert rolled.date_for("R-DL-01").date == d("2026-03-01") and "R-DL-01" not in ids(rolled)


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 20))
def test_r_dl_05_property_late_iff_after_the_5th_working_day(requested: date, wait: int) -> None:
    held = requested + timedelta(days=wait)
    report = run(_interview(requested.isoformat(), held.isoformat()), on="2031-01-01")
    due = BELGIAN_CALENDAR.add_working_days(requested, 5)
    assert report.date_for("R-DL-05").date == due
    assert ("R-DL-05" in ids(report, "error")) is (held > due)
    assert BELGIAN_CALENDAR.working_days_between(
        requested, due
    ) == 5 and BELGIAN_CALENDAR.is_working_day(due)


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 6, 30)), st.integers(0, 120))
def test_r_dl_01_property_late_iff_after_add_months_3(decision: date, after: int) -> None:
    signed = decision + timedelta(days=after)
    report = run(_signed(decision.isoformat(), signed.isoformat()), on="2031-01-01")
    due = add_months(decision, 3)
    assert report.date_for("R-DL-01").date == due
    assert ("R-DL-01" in ids(report, "error")) is (signed > due)
