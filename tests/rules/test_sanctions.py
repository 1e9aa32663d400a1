"""R-SAN (rules.md 2.10): legality, maximum length, start window, sursis, recidivism, at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from piis_bridge.model import SanctionDecision
from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.registry import Severity, load_core_rules
from piis_bridge.rules.report import DateStatus, Level
from piis_bridge.rules.sanctions import (
    check_proposed_sanction,
    latest_start_date,
    max_end_date,
    recidivism_window_end,
    sanction_issues,
    sanction_limits,
    sursis_latest_application,
)
from piis_bridge.rules.settings import RuleSettings
from tests.rules._part2 import all_text, build, d, raw

NAME = "sanction-history"


def with_sanction(index: int, **changes):
    def change(data):
        data["sanctions"][index].update(changes)

    return change


def ids(contract, on=None):
    return sorted({i.rule_id for i in sanction_issues(contract, as_of=on)})


def issues_for(contract, rule_id, on=None):
    return [i for i in sanction_issues(contract, as_of=on) if i.rule_id == rule_id]


def test_example_history_is_lawful():
    assert ids(build(NAME), on=d("2026-03-01")) == []


# --- pure date functions at their boundaries --------------------------------------------------


@pytest.mark.parametrize(
    "decision, latest",
    [
        ("2025-12-09", "2026-03-01"),  # across the new year
        ("2025-12-31", "2026-03-01"),
        ("2026-01-01", "2026-04-01"),
        ("2023-11-30", "2024-02-01"),  # leap year: the first of the month is unaffected
        ("2016-11-01", "2017-02-01"),  # the reform date itself
    ],
)
def test_latest_start_is_first_day_of_third_month(decision, latest):
    assert latest_start_date(d(decision)) == d(latest)


@pytest.mark.parametrize(
    "start, months, end",
    [
        ("2026-02-01", 1, "2026-02-28"),
        ("2024-02-01", 1, "2024-02-29"),  # leap year
        (
            "2026-01-31",
            1,
            "2026-02-27",
        ),  # D1 clamps 31 Jan + 1 month to 28 Feb, minus one day
        ("2024-01-31", 1, "2024-02-28"),
        ("2026-01-01", 3, "2026-03-31"),
        ("2025-12-15", 3, "2026-03-14"),
    ],
)
def test_max_end_date(start, months, end):
    assert max_end_date(d(start), months) == d(end)


@pytest.mark.parametrize(
    "decision, latest",
    [
        ("2025-07-08", "2026-01-01"),
        ("2025-06-30", "2025-12-01"),
        ("2024-02-29", "2024-08-01"),
    ],
)
def test_sursis_latest_application(decision, latest):
    assert sursis_latest_application(d(decision)) == d(latest)


def test_recidivism_window_end_leap_day():
    assert recidivism_window_end(d("2024-02-29")) == d("2025-02-28")
    assert recidivism_window_end(d("2025-03-31")) == d("2026-03-31")


@given(st.dates(min_value=date(2016, 11, 1), max_value=date(2100, 12, 31)))
def test_property_latest_start_is_a_first_three_months_on(decision):
    latest = latest_start_date(decision)
    assert latest.day == 1
    assert (latest.year * 12 + latest.month) - (decision.year * 12 + decision.month) == 3
    assert latest > decision


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(1, 3))
def test_property_max_end_never_reaches_same_day_next_period(start, months):
    end = max_end_date(start, months)
    assert start <= end
    assert (end - start).days < 31 * months
    assert (end - start).days >= 27 * months - 1


# --- R-SAN-01..05: legality --------------------------------------------------------------------


def test_warning_on_the_decision_day_is_not_before_it():
    c = build(NAME, lambda data: data["warnings"][1].update(sent_on="2025-12-09"))
    assert [i.rule_id for i in issues_for(c, "R-SAN-03")] == ["R-SAN-03"]
    c = build(NAME, lambda data: data["warnings"][1].update(sent_on="2025-12-08"))
    assert issues_for(c, "R-SAN-03") == []


def test_no_warning_blocks_the_sanction():
    c = build(NAME, with_sanction(1, warning_id=None))
    assert issues_for(c, "R-SAN-03")


def test_opinion_on_decision_day_is_fine_the_day_after_is_not():
    c = build(NAME, lambda data: data["sw_opinions"][1].update(given_on="2025-12-09"))
    assert issues_for(c, "R-SAN-04") == []
    c = build(NAME, lambda data: data["sw_opinions"][1].update(given_on="2025-12-10"))
    assert issues_for(c, "R-SAN-04")
    c = build(NAME, with_sanction(1, opinion_id=None))
    assert issues_for(c, "R-SAN-04")


@pytest.mark.parametrize(
    "held, ok", [("2025-07-07", True), ("2025-07-08", True), ("2025-07-09", False), (None, False)]
)
def test_requested_hearing_must_precede_decision(held, ok):
    c = build(NAME, lambda data: data["hearings"][0].update(held_on=held))
    assert (issues_for(c, "R-SAN-05") == []) is ok


def test_right_to_be_heard_told_after_the_decision():
    c = build(
        NAME, lambda data: data["hearings"][1].update(right_informed_in_writing_date="2025-12-10")
    )
    assert issues_for(c, "R-SAN-05")
    c = build(NAME, with_sanction(1, hearing_id=None))
    assert issues_for(c, "R-SAN-05")


def test_legitimate_reason_or_cpas_failure_blocks():
    assert issues_for(build(NAME, with_sanction(0, legitimate_reason_found=True)), "R-SAN-02")
    assert issues_for(build(NAME, with_sanction(0, cpas_failure_found=True)), "R-SAN-02")


def test_last_evaluation_saying_cpas_failed_blocks_until_a_later_one_says_otherwise():
    # E2 (2025-10-06) is the last evaluation before S2 (2025-12-09).
    c = build(NAME, lambda data: data["evaluations"][1].update(cpas_commitments_fulfilled=False))
    assert [i.message for i in issues_for(c, "R-SAN-02")]
    # E1 (before S1) saying so does not block S2 when E2 says the CPAS kept its commitments.
    c = build(NAME, lambda data: data["evaluations"][0].update(cpas_commitments_fulfilled=False))
    found = issues_for(c, "R-SAN-02")
    assert len(found) == 1 and "sanction S1" in found[0].message


def test_only_the_beneficiarys_commitments_can_be_sanctioned():
    c = build(NAME, lambda data: data["warnings"][1].update(breached_commitment_ids=["C2"]))
    assert any("C2" in i.message for i in issues_for(c, "R-SAN-01"))
    c = build(NAME, lambda data: data["warnings"][1].update(breached_commitment_ids=[]))
    assert issues_for(c, "R-SAN-01")


def test_warning_before_the_contract_was_signed():
    c = build(NAME, lambda data: data["warnings"][0].update(sent_on="2025-04-06"))
    assert any("signed" in i.message for i in issues_for(c, "R-SAN-01"))
    c = build(NAME, lambda data: data["warnings"][0].update(sent_on="2025-04-07"))
    assert issues_for(c, "R-SAN-01") == []


def test_warning_channel_is_advisory():
    c = build(
        NAME, lambda data: data["warnings"][1].update(channel="EMAIL", invitation_to_explain=False)
    )
    assert len(issues_for(c, "R-SAN-14")) == 2
    report = evaluate(c, on=d("2026-03-01"))
    assert {f.level for f in report.by_rule("R-SAN-14")} == {Level.WARNING}


# --- R-SAN-06/07: length ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "end, ok", [("2025-08-30", True), ("2025-08-31", True), ("2025-09-01", False)]
)
def test_first_offence_one_month(end, ok):
    c = build(NAME, with_sanction(0, end_date=end))
    assert (issues_for(c, "R-SAN-06") == []) is ok


def test_short_partial_suspension_is_lawful():
    c = build(NAME, with_sanction(0, start_date="2025-08-04", end_date="2025-08-06", percentage=20))
    assert ids(c) == []


@pytest.mark.parametrize(
    "end, ok", [("2026-03-30", True), ("2026-03-31", True), ("2026-04-01", False)]
)
def test_recidivism_three_months(end, ok):
    c = build(NAME, with_sanction(1, end_date=end))
    assert (issues_for(c, "R-SAN-07") == []) is ok


@pytest.mark.parametrize(
    "previous_decision, is_repeat",
    [
        ("2024-12-09", True),  # exactly one year (D1) before 2025-12-09: still within the year
        ("2024-12-08", False),  # one day more: the 1-month maximum applies
    ],
)
def test_recidivism_window_boundary(previous_decision, is_repeat):
    def change(data):
        s1 = data["sanctions"][0]
        s1.update(
            decision_date=previous_decision,
            start_date="2025-01-01",
            end_date="2025-01-31",
            notification_date="2024-12-20",
        )
        s1["sursis"] = None
        data["warnings"][0]["sent_on"] = "2024-11-20"
        data["sw_opinions"][0]["given_on"] = "2024-11-30"
        data["hearings"][0].update(
            right_informed_in_writing_date="2024-11-20",
            request_date="2024-11-22",
            held_on="2024-12-01",
        )
        data["signatures"][0]["signed_date"] = data["signatures"][1]["signed_date"] = "2024-11-04"

    c = build(NAME, change)
    found = ids(c)
    if is_repeat:
        assert found == []
    else:
        assert "R-SAN-07" in found  # marked recidivism outside the year, and 2 months > 1 month


def test_limits_for_a_proposal():
    c = build(NAME)
    limits = sanction_limits(
        c, d("2026-05-04"), notification_date=d("2026-05-06"), previous_sanction_id="S2"
    )
    assert limits.recidivism and limits.max_months == 3
    assert limits.earliest_start == d("2026-05-07")
    assert limits.latest_start == d("2026-08-01")
    assert limits.max_end(d("2026-06-01")) == d("2026-08-31")
    assert limits.appeal_deadline == d("2026-08-06")
    late = sanction_limits(c, d("2026-12-10"), previous_sanction_id="S2")  # S2 decided 2025-12-09
    assert not late.recidivism and late.max_months == 1


# --- R-SAN-08: start window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, ok", [("2026-02-28", True), ("2026-03-01", True), ("2026-03-02", False)]
)
def test_latest_start_boundary(start, ok):
    c = build(NAME, with_sanction(1, start_date=start, end_date="2026-03-31"))
    assert (issues_for(c, "R-SAN-08") == []) is ok


@pytest.mark.parametrize("start, ok", [("2025-12-11", False), ("2025-12-12", True)])
def test_earliest_start_is_the_day_after_notification(start, ok):
    c = build(NAME, with_sanction(1, start_date=start, end_date="2026-02-28"))
    assert (issues_for(c, "R-SAN-08") == []) is ok


def test_not_notified_is_flagged_once_the_start_is_reached():
    c = build(NAME, with_sanction(1, notification_date=None))
    assert issues_for(c, "R-SAN-08", on=d("2025-12-31")) == []
    assert issues_for(c, "R-SAN-08", on=d("2026-01-01"))
    notify = evaluate(c, on=d("2025-12-31")).date_for("R-SAN-08", "sanction S2: notify")
    assert (
        notify is not None
        and notify.date == d("2025-12-31")
        and notify.status is DateStatus.PENDING
    )
    assert (
        evaluate(c, on=d("2026-01-01")).date_for("R-SAN-08", "sanction S2: notify").status
        is DateStatus.OVERDUE
    )


# --- R-SAN-16: historical start (reform date) ---------------------------------------------------


def _historical(decision: str, start: str, end: str):
    def change(data):
        s2 = data["sanctions"][1]
        s2.update(
            decision_date=decision,
            start_date=start,
            end_date=end,
            notification_date=None,
            is_recidivism=False,
            previous_sanction_id=None,
        )
        data["sanctions"] = [s2]
        data["warnings"][1]["sent_on"] = "2016-10-01"
        data["sw_opinions"][1]["given_on"] = "2016-10-10"
        data["hearings"][1]["right_informed_in_writing_date"] = "2016-10-01"
        for sig in data["signatures"]:
            sig["signed_date"] = "2016-03-01"
        data["evaluations"] = []

    return build(NAME, change)


def test_decision_before_reform_uses_the_historical_start():
    c = _historical("2016-10-31", "2016-12-01", "2016-12-31")
    assert ids(c) == []
    report = evaluate(c, on=d("2017-01-15"))
    assert report.rule_failures == () and not [
        f for f in report.findings if f.rule_id.startswith("R-SAN")
    ]
    c = _historical("2016-10-31", "2016-11-15", "2016-12-14")
    assert ids(c) == ["R-SAN-16"]


def test_decision_on_reform_day_uses_the_new_window():
    c = _historical("2016-11-01", "2016-11-15", "2016-12-14")
    assert "R-SAN-16" not in ids(c)
    assert issues_for(c, "R-SAN-08", on=d("2016-11-15"))  # not notified before the start


# --- R-SAN-09: sursis -----------------------------------------------------------------------------


def _sursis(**changes):
    return build(NAME, lambda data: data["sanctions"][0]["sursis"].update(changes))


@pytest.mark.parametrize(
    "applied, ok", [("2025-12-31", True), ("2026-01-01", True), ("2026-01-02", False)]
)
def test_sursis_application_deadline(applied, ok):
    c = _sursis(breach_date="2025-11-20", application_date=applied)
    assert (issues_for(c, "R-SAN-09") == []) is ok


def test_sursis_breach_outside_period_and_application_without_breach():
    assert issues_for(_sursis(breach_date="2026-01-08", application_date="2026-01-01"), "R-SAN-09")
    assert issues_for(_sursis(application_date="2025-12-01"), "R-SAN-09")
    assert issues_for(_sursis(breach_date="2025-11-20", application_date="2025-11-19"), "R-SAN-09")


def test_broken_sursis_not_applied_in_time():
    c = _sursis(breach_date="2025-11-20")
    assert issues_for(c, "R-SAN-09", on=d("2026-01-01")) == []
    assert issues_for(c, "R-SAN-09", on=d("2026-01-02"))


# --- proposals, registry, engine, privacy ----------------------------------------------------------


def test_proposed_sanction_is_judged_like_a_decision():
    c = build(NAME)
    proposal = SanctionDecision(
        sanction_id="S3",
        decision_date=d("2026-02-10"),
        breach_facts="Absent in January",
        warning_id="W2",
        opinion_id="OP2",
        hearing_id="H2",
        kind="TOTAL",
        start_date=d("2026-05-04"),
        end_date=d("2026-06-30"),
        notification_date=d("2026-02-12"),
    )
    found = sorted({i.rule_id for i in check_proposed_sanction(c, proposal)})
    assert found == ["R-SAN-06", "R-SAN-08"]  # 2 months without recidivism; starts after 1 May
    assert len(c.sanctions) == 2  # the contract itself is untouched


def test_rules_are_registered_with_citation_and_severity():
    registry = load_core_rules()
    for n in range(1, 17):
        rule = registry.get(f"R-SAN-{n:02d}")
        assert rule.citation.startswith("[") and rule.doc
    assert registry.get("R-SAN-14").severity is Severity.ADVISORY
    assert registry.get("R-SAN-16").severity is Severity.HISTORICAL
    assert registry.get("R-SAN-03").severity is Severity.LEGAL


def test_engine_reports_errors_and_dates_without_niss():
    c = build(NAME, with_sanction(1, end_date="2026-04-15", warning_id=None))
    report = evaluate(c, on=d("2026-03-01"))
    assert {f.rule_id for f in report.errors} >= {"R-SAN-03", "R-SAN-07"}
    assert all(f.citation for f in report.findings)
    latest = next(x for x in report.dates if x.rule_id == "R-SAN-08" and "S2" in x.label)
    assert latest.date == d("2026-03-01") and latest.status is DateStatus.MET
    assert raw(NAME)["beneficiary"]["niss"] not in all_text(report)


def test_settings_change_the_maximum():
    c = build(NAME, with_sanction(0, end_date="2025-09-30"))
    assert issues_for(c, "R-SAN-06")
    looser = RuleSettings(sanction_max_months=2)
    assert [i for i in sanction_issues(c, settings=looser) if i.rule_id == "R-SAN-06"] == []


def test_window_is_not_timedelta_based():
    # 3 months after 30 Nov is 1 Feb as a first-of-month bound, never 30 Nov + 90 days.
    assert (
        latest_start_date(d("2025-11-30"))
        == d("2026-02-01")
        != d("2025-11-30") + timedelta(days=90)
    )
