"""R-OBL on the recorded facts: the partner's own obligation assessment (R-OBL-09 with R-OBL-01..05, 07
judged for the partner) and a recorded refusal of the PIIS (R-OBL-11)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.rules._core import make, person, run, set_decision

ON = "2026-11-22"


def _couple(
    partner_birth: str = "1990-03-10",
    assessment: dict[str, Any] | None = None,
    partner_dis: list[dict[str, Any]] | None = None,
    decision: str | None = None,
):  # noqa: ANN202
    def change(x: dict[str, Any]) -> None:
        if decision is not None:
            set_decision(x, decision, prior_dis=[])
        x["partner"] = person(partner_birth, dis_history=partner_dis or [])
        if assessment is not None:
            x["partner_obligation"] = assessment

    return make("u25-employment-project", change)


def _partner(report):  # noqa: ANN001, ANN202
    return [f for f in report.findings if f.person == "partner"]


def test_without_the_partners_assessment_only_the_facts_are_judged_as_before() -> None:
    report = run(_couple())
    partner = report.obligations[1]
    assert partner.mandatory and not partner.exempted and partner.deadline == date(2026, 9, 15)
    assert [f.rule_id for f in _partner(report)] == ["R-OBL-09"]


@pytest.mark.parametrize(("birth", "flagged"), [("2001-06-15", True), ("2001-06-16", False)])
def test_r_obl_02_partner_u25_basis_against_the_partners_age(birth: str, flagged: bool) -> None:
    # the 25th birthday on the decision day (2026-06-15) makes the recorded under-25 basis wrong
    report = run(_couple(birth, {"basis": ["U25_EMPLOYMENT_PROJECT"]}))
    found = [f for f in report.by_rule("R-OBL-02") if f.person == "partner"]
    assert bool(found) is flagged
    if flagged:
        assert found[0].level.value == "error" and found[0].fields == ("partner_obligation.basis",)
        assert "the partner was 25" in found[0].message


@pytest.mark.parametrize(("decision", "flagged"), [("2029-02-28", False), ("2029-03-01", True)])
def test_r_obl_01_partner_born_on_29_february(decision: str, flagged: bool) -> None:
    # born 29 Feb 2004: 25 only on 1 March 2029 (D5)
    report = run(
        _couple("2004-02-29", {"basis": ["U25_STUDIES"]}, decision=decision), on="2029-04-01"
    )
    assert bool([f for f in report.by_rule("R-OBL-01") if f.person == "partner"]) is flagged


def test_r_obl_03_and_05_partner_record_against_the_partners_dis_history() -> None:
    recent_ri = [{"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-05-31"}]
    report = run(_couple(assessment={"basis": ["NO_DIS_LAST_3M"]}, partner_dis=recent_ri))
    [found] = [f for f in report.by_rule("R-OBL-03") if f.person == "partner"]
    assert (
        found.fields == ("partner_obligation.basis", "partner.dis_history")
        and "for the partner" in found.message
    )
    # no DIS for a year: mandatory, but the record says optional
    report = run(_couple(assessment={"basis": ["NONE"]}))
    [found] = [f for f in report.by_rule("R-OBL-05") if f.person == "partner"]
    assert found.level.value == "warning" and "NO_DIS_LAST_3M" in found.message


def test_r_obl_04_a_request_recorded_for_the_partner_makes_it_mandatory() -> None:
    recent_ri = [{"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-05-31"}]
    assert not run(_couple(partner_dis=recent_ri)).obligations[1].mandatory
    report = run(_couple(assessment={"basis": ["REQUEST_BY_PERSON"]}, partner_dis=recent_ri))
    assert report.obligations[1].mandatory
    [info] = [f for f in report.by_rule("R-OBL-04") if f.person == "partner"]
    assert "because the partner asked" in info.message


def test_r_obl_07_and_09_the_partners_exemption_is_the_partners_only() -> None:
    exemption = {
        "ground": "HEALTH",
        "reason_text": "Surgery planned",
        "motivated_decision_date": "2026-06-15",
    }
    report = run(_couple(assessment={"basis": ["NO_DIS_LAST_3M"], "exemption": exemption}))
    beneficiary, partner = report.obligations
    assert partner.exempted and not beneficiary.exempted
    [flag] = [f for f in report.by_rule("R-OBL-07") if f.person == "partner"]
    assert flag.level.value == "error"
    assert flag.fields == (
        "partner_obligation.exemption.motivated_separately_from_work_willingness",
    )
    [info] = report.by_rule("R-OBL-09")
    assert "exemption is recorded for the partner" in info.message

    # a beneficiary's exemption never exempts the partner
    def both(x: dict[str, Any]) -> None:
        x["obligation"]["exemption"] = {
            **exemption,
            "motivated_separately_from_work_willingness": True,
        }
        x["partner"] = person("1990-03-10")

    report = run(make("u25-employment-project", both))
    assert report.obligations[0].exempted and not report.obligations[1].exempted


def test_the_partners_optional_piis_decision_gives_the_partners_deadline() -> None:
    recent_ri = [{"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-05-31"}]
    report = run(
        _couple(
            assessment={"basis": ["NONE"], "optional_piis_decision_date": "2026-11-30"},
            partner_dis=recent_ri,
        )
    )
    assert report.obligations[1].deadline == date(2027, 2, 28)  # 30 Nov + 3 months, clamped (D1)
    assert run(_couple(partner_dis=recent_ri)).obligations[1].deadline is None


# --- R-OBL-11: a recorded refusal ----------------------------------------------------------------------


def _refusal(**extra: Any):  # noqa: ANN202
    refusal = {"refused_on": "2026-06-20", "reason": "Does not want the proposed training", **extra}
    return make("u25-employment-project", lambda x: x.update(refusals=[refusal]))


def _review(
    day: str, health: bool = False, ill_fitting: bool = False, outcome: str = "REFUSAL_MAINTAINED"
) -> dict[str, Any]:
    return {
        "reviewed_on": day,
        "reviewed_by": "A. Martin",
        "health_or_equity_reasons": health,
        "project_ill_fitting": ill_fitting,
        "outcome": outcome,
    }


def test_r_obl_11_nothing_without_a_recorded_refusal() -> None:
    assert not run(make("u25-employment-project")).by_rule("R-OBL-11")


def test_r_obl_11_an_unreviewed_refusal_is_a_review_task() -> None:
    [found] = run(_refusal()).by_rule("R-OBL-11")
    assert found.level.value == "warning" and found.fields == ("refusals[0].review",)


def test_r_obl_11_dis_refused_without_review_is_an_error() -> None:
    [found] = run(_refusal(dis_refusal_decision_date="2026-07-01")).by_rule("R-OBL-11")
    assert found.level.value == "error" and "without reviewing" in found.message


@pytest.mark.parametrize(
    ("reviewed", "flagged"), [("2026-06-30", False), ("2026-07-01", False), ("2026-07-02", True)]
)
def test_r_obl_11_the_review_precedes_the_refusal_of_dis(reviewed: str, flagged: bool) -> None:
    report = run(_refusal(review=_review(reviewed), dis_refusal_decision_date="2026-07-01"))
    assert bool(report.by_rule("R-OBL-11")) is flagged


@pytest.mark.parametrize(("health", "ill_fitting"), [(True, False), (False, True)])
def test_r_obl_11_dis_refused_although_the_review_found_a_reason(
    health: bool, ill_fitting: bool
) -> None:
    report = run(
        _refusal(
            review=_review("2026-06-25", health, ill_fitting),
            dis_refusal_decision_date="2026-07-01",
        )
    )
    [found] = report.by_rule("R-OBL-11")
    assert found.level.value == "error" and found.fields == (
        "refusals[0].dis_refusal_decision_date",
    )


def test_r_obl_11_reasons_found_but_refusal_maintained_is_a_warning() -> None:
    [found] = run(_refusal(review=_review("2026-06-25", health=True))).by_rule("R-OBL-11")
    assert found.level.value == "warning" and found.fields == ("refusals[0].review.outcome",)
    assert not run(
        _refusal(review=_review("2026-06-25", health=True, outcome="EXEMPTION"))
    ).by_rule("R-OBL-11")


def test_r_obl_11_an_optional_piis_refused_never_justifies_refusing_dis() -> None:
    def optional(x: dict[str, Any]) -> None:
        x["beneficiary"]["employment_status"] = (
            "EMPLOYED_WITH_RI_TOPUP"  # R-OBL-06 / Q-17: optional
        )
        x["refusals"] = [
            {
                "refused_on": "2026-06-20",
                "reason": "Works full days",
                "dis_refusal_decision_date": "2026-07-01",
            }
        ]

    report = run(make("u25-employment-project", optional))
    assert not report.obligations[0].mandatory
    [found] = report.by_rule("R-OBL-11")
    assert found.level.value == "error" and "optional" in found.message

    def optional_kept(x: dict[str, Any]) -> None:
        optional(x)
        del x["refusals"][0]["dis_refusal_decision_date"]

    assert not run(make("u25-employment-project", optional_kept)).by_rule("R-OBL-11")
