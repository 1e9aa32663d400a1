"""R-EVA: 3 a year, 2 in person, formalised; pro rata for short periods; next evaluation due; quarterly
before the reform."""

from __future__ import annotations

from typing import Any

import pytest

from piis_bridge.model import EvaluationKind
from tests.rules._core import d, ids, make, run


def _contract(start: str, end: str, evals: list[tuple[str, str]], **extra: Any):
    def change(data: dict[str, Any]) -> None:
        data["start_date"], data["end_date"] = start, end
        data["evaluations"] = [
            {"evaluation_id": f"E{i}", "held_on": day, "mode": mode, **extra.get("eval_extra", {})}
            for i, (day, mode) in enumerate(evals, 1)
        ]
        for key, value in extra.items():
            if key != "eval_extra":
                data[key] = value

    return make("u25-employment-project", change)


THREE = [("2026-10-05", "IN_PERSON"), ("2027-01-11", "IN_PERSON"), ("2027-04-12", "PHONE")]


def test_r_eva_01_02_three_with_two_in_person_is_compliant() -> None:
    report = run(_contract("2026-07-06", "2027-07-05", THREE), on="2027-07-06")
    assert not {"R-EVA-01", "R-EVA-02"} & ids(report)


@pytest.mark.parametrize(("on", "judged"), [("2027-07-05", False), ("2027-07-06", True)])
def test_r_eva_01_judged_the_day_after_the_period_ends(on: str, judged: bool) -> None:
    c = _contract("2026-07-06", "2028-07-05", THREE[:2])
    assert ("R-EVA-01" in ids(run(c, on=on), "error")) is judged


def test_r_eva_01_evaluation_on_the_last_day_of_the_period_counts() -> None:
    evals = [*THREE[:2], ("2027-07-05", "IN_PERSON")]
    assert "R-EVA-01" not in ids(run(_contract("2026-07-06", "2028-07-05", evals), on="2027-08-01"))
    evals = [*THREE[:2], ("2027-07-06", "IN_PERSON")]  # the first day of the next period does not
    assert "R-EVA-01" in ids(
        run(_contract("2026-07-06", "2028-07-05", evals), on="2027-08-01"), "error"
    )


def test_r_eva_01_periods_from_a_29_february_start() -> None:
    # start 29 Feb 2028: the first period ends 27 Feb 2029 (add_months clamps to 28 Feb, minus 1 day)
    evals = [("2028-05-01", "IN_PERSON"), ("2028-09-01", "IN_PERSON"), ("2029-02-28", "IN_PERSON")]
    report = run(_contract("2028-02-29", "2030-02-27", evals), on="2029-03-15")
    assert "R-EVA-01" in ids(report, "error")
    assert "2028-02-29 to 2029-02-27" in report.by_rule("R-EVA-01")[0].message


def test_q07_remote_evaluations_count_toward_3_never_toward_2() -> None:
    evals = [("2026-10-05", "IN_PERSON"), ("2027-01-11", "VIDEO"), ("2027-04-12", "EMAIL")]
    report = run(_contract("2026-07-06", "2027-07-05", evals), on="2027-07-06")
    assert "R-EVA-01" not in ids(report) and "R-EVA-02" in ids(report, "error")
    strict = run(
        _contract("2026-07-06", "2027-07-05", evals),
        on="2027-07-06",
        q07_remote_counts_toward_total=False,
    )
    assert "R-EVA-01" in ids(strict, "error")


def test_r_eva_04_unformalised_evaluations_do_not_count() -> None:
    c = _contract("2026-07-06", "2027-07-05", THREE, eval_extra={"formalised": False})
    report = run(c, on="2027-07-06")
    assert len(report.by_rule("R-EVA-04")) == 3
    assert "R-EVA-01" in ids(report, "error")


@pytest.mark.parametrize(
    ("end", "evals", "warned"),
    [
        # 6 whole months -> guide ceil(3*6/12) = 2, and >= 3 months -> 1 in person
        ("2027-01-05", [("2026-09-01", "IN_PERSON"), ("2026-12-01", "PHONE")], False),
        ("2027-01-05", [("2026-09-01", "IN_PERSON")], True),
        ("2027-01-05", [("2026-09-01", "PHONE"), ("2026-12-01", "PHONE")], True),  # none in person
        # 2 whole months -> guide 1, no in-person minimum
        ("2026-09-05", [("2026-08-01", "PHONE")], False),
    ],
)
def test_r_eva_03_short_contract_pro_rata_is_advisory(
    end: str, evals: list[tuple[str, str]], warned: bool
) -> None:
    report = run(_contract("2026-07-06", end, evals), on="2027-06-01")
    assert ("R-EVA-03" in ids(report, "warning")) is warned
    assert not {"R-EVA-01", "R-EVA-02"} & ids(report)  # never a hard error


def test_r_eva_03_final_partial_period_of_a_multi_year_contract() -> None:
    evals = [*THREE, ("2027-09-01", "IN_PERSON")]  # 18-month contract: second period is 6 months
    report = run(_contract("2026-07-06", "2028-01-05", evals), on="2028-02-01")
    assert "R-EVA-01" not in ids(report)
    [f] = report.by_rule("R-EVA-03")
    assert "guide is 2" in f.message


@pytest.mark.parametrize(
    ("evals", "on", "due", "status"),
    [
        ([], "2026-08-01", "2026-11-05", "pending"),  # 1st of 3: by 4 months (6 Jul + 4m - 1 day)
        ([], "2026-11-05", "2026-11-05", "pending"),
        ([], "2026-11-06", "2026-11-05", "overdue"),
        (THREE[:1], "2026-11-06", "2027-03-05", "pending"),  # 2nd: by 8 months
        (THREE[:2], "2027-02-01", "2027-07-05", "pending"),  # 3rd: by the end of the period
    ],
)
def test_r_eva_01_next_evaluation_due(
    evals: list[tuple[str, str]], on: str, due: str, status: str
) -> None:
    report = run(_contract("2026-07-06", "2028-07-05", evals), on=on)
    nxt = report.date_for("R-EVA-01", "next evaluation due")
    assert nxt is not None and nxt.date == d(due) and nxt.status.value == status
    assert ("R-EVA-01" in ids(report, "warning")) is (status == "overdue")


def test_r_eva_01_next_due_must_be_in_person_when_in_person_slots_remain() -> None:
    report = run(_contract("2026-07-06", "2028-07-05", [("2026-10-05", "PHONE")]), on="2026-11-01")
    assert report.date_for("R-EVA-01").label == "next evaluation due (in person)"


def test_r_eva_01_no_next_due_once_the_minimum_is_met() -> None:
    report = run(_contract("2026-07-06", "2027-07-05", THREE), on="2027-05-01")
    assert report.date_for("R-EVA-01") is None


def test_r_eva_05_evaluation_refers_to_a_missing_version() -> None:
    c = _contract("2026-07-06", "2027-07-05", THREE[:1], eval_extra={"resulting_version_no": 2})
    assert "R-EVA-05" in ids(run(c, on="2026-11-01"), "error")


@pytest.mark.parametrize(("kind", "warned"), [("PERIODIC", True), ("FINAL", False)])
def test_r_eva_06_final_evaluation_at_the_end(kind: str, warned: bool) -> None:
    c = _contract("2026-07-06", "2027-07-05", [*THREE, ("2027-07-01", "IN_PERSON")])
    data_kind = [
        e.model_copy(update={"kind": EvaluationKind(kind)}) if e.evaluation_id == "E4" else e
        for e in c.evaluations
    ]
    c = c.model_copy(update={"evaluations": data_kind})
    assert ("R-EVA-06" in ids(run(c, on="2027-07-06"), "warning")) is warned
    assert "R-EVA-06" not in ids(run(c, on="2027-07-05"))  # not ended yet on its last day


def test_r_eva_08_historical_quarterly_rule_before_the_reform() -> None:
    def change(data: dict[str, Any]) -> None:
        data["decision"].update(
            decision_date="2016-01-10", request_date="2016-01-04", ri_start_date="2016-01-01"
        )
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2016-01-01"}]
        data["needs_assessment"]["assessed_on"] = "2016-01-20"
        data["start_date"], data["end_date"] = "2016-02-01", "2017-01-31"
        for s in data["signatures"]:
            s["signed_date"] = "2016-02-01"
        data["reflection"]["draft_handed_date"] = "2016-01-25"
        data["pre_signature_information"][0]["given_date"] = "2016-01-25"
        data["versions"][0]["effective_date"] = "2016-02-01"
        data["evaluations"] = [
            {"evaluation_id": "E1", "held_on": "2016-05-10", "mode": "IN_PERSON"},
            {"evaluation_id": "E2", "held_on": "2016-07-10", "mode": "IN_PERSON"},
        ]

    report = run(make("u25-employment-project", change), on="2017-03-01")
    # Q1 is not whole (start 1 Feb); Q2 and Q3 have one each; Q4 ends after the reform: not judged
    assert report.by_rule("R-EVA-08") == []
    # a 12-month period that ends after the reform is judged by the 2016 rule (3 a year, R-EVA-01)
    assert "R-EVA-01" in ids(report, "error")
    assert report.rule_set == "historical"

    def no_q3(data: dict[str, Any]) -> None:
        change(data)
        data["evaluations"] = data["evaluations"][:1]

    report = run(make("u25-employment-project", no_q3), on="2017-03-01")
    [f] = report.by_rule("R-EVA-08")
    assert "2016-07-01 to 2016-09-30" in f.message and f.level.value == "error"


def test_r_eva_01_first_due_date_before_the_contract_starts() -> None:
    report = run(_contract("2026-07-06", "2027-07-05", []), on="2026-06-20")
    nxt = report.date_for("R-EVA-01", "next evaluation due")
    assert nxt.date == d("2026-11-05") and nxt.status.value == "pending"


def test_r_eva_03_short_contract_next_due_spreads_the_pro_rata_guide() -> None:
    # 6 months: guide 2 evaluations, 1 in person; 184 days -> the first by day 92 (5 October 2026)
    report = run(_contract("2026-07-06", "2027-01-05", []), on="2026-08-01")
    nxt = report.date_for("R-EVA-01", "next evaluation due")
    assert nxt.date == d("2026-10-05")
    report = run(
        _contract("2026-07-06", "2027-01-05", [("2026-09-01", "IN_PERSON")]), on="2026-10-01"
    )
    assert report.date_for("R-EVA-01").date == d("2027-01-05")


def test_r_eva_no_evaluation_owed_before_the_contract_is_signed() -> None:
    c = _contract("2026-07-06", "2027-07-05", [], signatures=[], status="OFFERED")
    report = run(c, on="2027-08-01")
    assert not {"R-EVA-01", "R-EVA-02", "R-EVA-03", "R-EVA-06"} & ids(report)
    assert report.date_for("R-EVA-01") is None


def test_r_eva_02_three_held_but_one_in_person_still_owes_an_in_person_one() -> None:
    evals = [("2026-10-05", "IN_PERSON"), ("2027-01-11", "PHONE"), ("2027-03-01", "VIDEO")]
    report = run(_contract("2026-07-06", "2028-07-05", evals), on="2027-03-10")
    nxt = report.date_for("R-EVA-01")
    assert nxt.label == "next evaluation due (in person)" and nxt.date == d("2027-07-05")
    evals[1] = ("2027-01-11", "IN_PERSON")
    assert (
        run(_contract("2026-07-06", "2028-07-05", evals), on="2027-03-10").date_for("R-EVA-01")
        is None
    )
