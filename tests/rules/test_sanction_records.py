"""Sanctions with the new facts: the breach date (R-SAN-01 / REQ-10, R-SAN-03), the day the person
received the decision (the appeal deadline of R-SAN-13 / R-DL-07) and whether the letter stated the
appeal (R-SAN-13)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from piis_bridge.rules.sanctions import appeal_deadline
from tests.rules._core import make, run

ON = "2026-03-01"
# sanction-history: signed 2025-04-07; S1 decided 2025-07-08 after warning W1 of 2025-06-16, notified 2025-07-10.


def _s1(**fields: Any):  # noqa: ANN202
    """The example with sanction S1's *fields* set (None: removed)."""

    def change(x: dict[str, Any]) -> None:
        s1 = x["sanctions"][0]
        s1.update(fields)
        for key in [k for k, v in fields.items() if v is None]:
            del s1[key]

    return make("sanction-history", change)


def _s1_findings(report, rule_id: str) -> list:  # noqa: ANN001
    return [f for f in report.by_rule(rule_id) if "sanction S1" in f.message]


def test_without_the_receipt_the_notification_stands_in_for_it() -> None:
    report = run(_s1(notification_received_date=None), on=ON)
    [due] = [d for d in report.dates if d.rule_id == "R-SAN-13" and "S1" in d.label]
    assert due.date == date(2025, 10, 10) and due.fields == ("sanctions[0].notification_date",)
    assert not _s1_findings(report, "R-SAN-01") and not _s1_findings(report, "R-SAN-13")


@pytest.mark.parametrize(
    ("breach", "flagged"), [("2025-04-06", True), ("2025-04-07", False), ("2025-04-08", False)]
)
def test_r_san_01_the_obligation_was_agreed_before_the_breach(breach: str, flagged: bool) -> None:
    found = _s1_findings(run(_s1(breach_date=breach), on=ON), "R-SAN-01")
    assert bool(found) is flagged
    if flagged:
        assert found[0].level.value == "error" and found[0].fields == ("sanctions[0].breach_date",)


@pytest.mark.parametrize(
    ("breach", "flagged"), [("2025-06-15", False), ("2025-06-16", False), ("2025-06-17", True)]
)
def test_r_san_03_the_warning_follows_the_breach(breach: str, flagged: bool) -> None:
    found = _s1_findings(run(_s1(breach_date=breach), on=ON), "R-SAN-03")
    assert bool(found) is flagged
    if flagged:
        assert found[0].fields == ("sanctions[0].warning_id", "sanctions[0].breach_date")


@pytest.mark.parametrize(
    ("received", "deadline"),
    [("2025-07-12", "2025-10-12"), ("2025-11-30", "2026-02-28"), ("2027-11-30", "2028-02-29")],
)
def test_r_san_13_the_appeal_deadline_runs_from_the_receipt(received: str, deadline: str) -> None:
    report = run(_s1(notification_received_date=received), on=ON)
    [due] = [d for d in report.dates if d.rule_id == "R-SAN-13" and "S1" in d.label]
    assert due.date == date.fromisoformat(deadline) and due.fields == (
        "sanctions[0].notification_received_date",
    )
    assert appeal_deadline(date.fromisoformat(received)) == date.fromisoformat(deadline)


def test_r_san_13_an_appeal_is_matched_on_the_receipt_day() -> None:
    def change(x: dict[str, Any]) -> None:
        x["sanctions"][0]["notification_received_date"] = "2025-07-12"
        x["appeals"] = [{"decision_received_date": "2025-07-12", "filed_date": "2025-10-12"}]

    report = run(make("sanction-history", change), on=ON)
    assert not report.by_rule("R-DL-07")  # filed on the last day: in time
    [due] = [d for d in report.dates if d.rule_id == "R-DL-07"]
    assert due.date == date(2025, 10, 12) and due.status.value == "met"


@pytest.mark.parametrize(("given", "flagged"), [(False, True), (True, False), (None, False)])
def test_r_san_13_the_letter_states_the_appeal(given: bool | None, flagged: bool) -> None:
    contract = _s1(appeal_information_given=given)
    found = _s1_findings(run(contract, on=ON), "R-SAN-13")
    assert bool(found) is flagged
    if flagged:
        assert found[0].level.value == "error" and found[0].fields == (
            "sanctions[0].appeal_information_given",
        )
