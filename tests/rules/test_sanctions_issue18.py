"""Issue 18, classes 7-8: a sanction applied after a broken sursis is judged by R-SAN-09's latest application
date, not R-SAN-08's start window; justified absences in the evidence weigh against a sanction (R-SAN-01)."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.rules.sanctions import sanction_dues, sanction_issues
from tests.rules._part2 import build, d

NAME = "sanction-history"  # S1 decided 2025-07-08 with a total sursis 2025-07-08..2026-01-07


def _applied(start: str, end: str, breach: str | None = "2025-11-20"):
    def change(data):
        s1 = data["sanctions"][0]
        s1["sursis"].update(breach_date=breach, application_date=start if breach else None)
        s1["start_date"], s1["end_date"] = start, end

    return build(NAME, change)


def _rules(c, sanction="S1", on="2026-03-01"):
    return sorted(
        {i.rule_id for i in sanction_issues(c, as_of=d(on)) if "sanction " + sanction in i.message}
    )


@pytest.mark.parametrize(
    "start, end, ok",
    [
        ("2025-12-31", "2026-01-30", True),
        ("2026-01-01", "2026-01-31", True),
        ("2026-01-02", "2026-02-01", False),
    ],
)
def test_sanction_applied_after_a_broken_sursis_starts_by_r_san_09(start, end, ok):
    c = _applied(start, end)
    rules = _rules(c)
    assert "R-SAN-08" not in rules  # the 1st day of the 3rd month (2025-10-01) is not its limit
    assert ("R-SAN-09" not in rules) is ok
    dues = [x for x in sanction_dues(c) if x.label.startswith("sanction S1")]
    assert not [x for x in dues if x.rule_id == "R-SAN-08" and "latest allowed start" in x.label]


@pytest.mark.parametrize(
    "start, end, ok",
    [
        ("2025-09-30", "2025-10-29", True),
        ("2025-10-01", "2025-10-31", True),
        ("2025-10-02", "2025-11-01", False),
    ],
)
def test_ordinary_sanction_keeps_the_r_san_08_window(start, end, ok):
    assert ("R-SAN-08" not in _rules(_applied(start, end, breach=None))) is ok


# --- justified absences (R-SAN-01) --------------------------------------------------------------------------


def _absences(breach: str, attendance=None, sick=None):
    def change(data):
        data["sanctions"] = data["sanctions"][:1]
        data["sanctions"][0]["breach_date"] = breach
        data["evidence"] = {"attendance": attendance or [], "sick_child_absences": sick or []}

    return build(NAME, change)


def _san01(c):
    return [
        i.message
        for i in sanction_issues(c, as_of=d("2025-12-01"))
        if i.rule_id == "R-SAN-01" and "justified" in i.message
    ]


@pytest.mark.parametrize(
    "attended, justified, flagged", [(14, 6, True), (14, 5, False), (20, 0, False)]
)
def test_attendance_month_all_justified(attended, justified, flagged):
    month = [
        {
            "month": "2025-06-01",
            "sessions_planned": 20,
            "sessions_attended": attended,
            "sessions_justified": justified,
        }
    ]
    assert bool(_san01(_absences("2025-06-20", attendance=month))) is flagged


@pytest.mark.parametrize("breach", ["2025-05-31", "2025-07-01"])
def test_attendance_of_another_month_does_not_count(breach):
    month = [
        {
            "month": "2025-06-01",
            "sessions_planned": 20,
            "sessions_attended": 14,
            "sessions_justified": 6,
        }
    ]
    assert not _san01(_absences(breach, attendance=month))


@pytest.mark.parametrize(
    "absent_on, certificate, partner, flagged",
    [
        ("2025-06-20", "2025-06-22", None, True),
        ("2025-06-19", "2025-06-22", None, False),
        ("2025-06-21", "2025-06-22", None, False),
        ("2025-06-20", None, None, False),
        ("2025-06-20", "2025-06-22", True, False),
    ],
)
def test_sick_child_absence_with_certificate(absent_on, certificate, partner, flagged):
    sick = [
        {
            "absent_on": absent_on,
            "certificate_received_date": certificate,
            "partner_present": partner,
        }
    ]
    assert bool(_san01(_absences("2025-06-20", sick=sick))) is flagged


# --- Q-12 and Q-05 (settings that used to change nothing) ----------------------------------------------------

from piis_bridge.rules.settings import RuleSettings  # noqa: E402


@pytest.mark.parametrize(
    "end, inclusive, ok",
    [
        ("2025-08-31", True, True),
        ("2025-09-01", True, False),
        ("2025-09-01", False, True),
        ("2025-09-02", False, False),
    ],
)
def test_q12_one_month_end(end, inclusive, ok):
    def change(data):
        data["sanctions"] = data["sanctions"][:1]
        data["sanctions"][0].update(start_date="2025-08-01", end_date=end)

    c = build(NAME, change)
    s = RuleSettings(q12_one_month_inclusive_end=inclusive)
    assert (not [i for i in sanction_issues(c, settings=s) if i.rule_id == "R-SAN-06"]) is ok


def _second_on(decision: str, breach: str | None = None, first_breach: str | None = None):
    def change(data):
        s1, s2 = data["sanctions"]
        s1["breach_date"] = first_breach
        s2.update(
            decision_date=decision,
            notification_date=decision,
            notification_received_date=decision,
            start_date="2026-09-01",
            end_date="2026-11-30",
            breach_date=breach,
        )
        data["warnings"][1]["sent_on"] = "2026-06-01"
        data["end_date"] = "2027-04-06"

    return build(NAME, change)


def _repeat_ok(c, anchor):
    s = RuleSettings(q05_recidivism_anchor=anchor)
    return not [i for i in sanction_issues(c, settings=s) if i.rule_id == "R-SAN-07"]


@pytest.mark.parametrize("decision, ok", [("2026-07-08", True), ("2026-07-09", False)])
def test_q05_previous_decision(decision, ok):
    assert _repeat_ok(_second_on(decision), "PREVIOUS_DECISION") is ok


@pytest.mark.parametrize("decision, ok", [("2026-08-31", True), ("2026-09-01", False)])
def test_q05_previous_execution(decision, ok):
    # S1 executed until 2025-08-31
    c = _second_on(decision)
    c = c.model_copy(
        update={
            "sanctions": [
                c.sanctions[0],
                c.sanctions[1].model_copy(
                    update={"start_date": date(2026, 9, 2), "end_date": date(2026, 12, 1)}
                ),
            ]
        }
    )
    assert _repeat_ok(c, "PREVIOUS_EXECUTION") is ok


@pytest.mark.parametrize("breach, ok", [("2026-06-10", True), ("2026-06-11", False)])
def test_q05_previous_breach(breach, ok):
    assert (
        _repeat_ok(
            _second_on("2026-08-20", breach=breach, first_breach="2025-06-10"), "PREVIOUS_BREACH"
        )
        is ok
    )
