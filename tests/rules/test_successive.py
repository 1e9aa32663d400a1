"""Issue 18, classes 2-4: the deadline from the right event (a party's request for a person already on the RI),
successive contracts under one decision (``previous_contract``), and continuing beneficiaries (a review
decision with the original RI start)."""

from __future__ import annotations

import pytest

from piis_bridge.model import ObligationBasis
from tests.rules._core import d, ids, make, run

BXL = "social-insertion-third-party"  # on RI since 2024, decision 2026-04-08, REQUEST_BY_PERSON, signed 2026-05-04
LGE = "u25-employment-project"  # decision 2026-06-15 (deadline 2026-09-15), signed 2026-07-06


def _asked(request: str | None, signed: str | None, decision: str = "2026-04-08"):
    def change(data):
        data["decision"]["decision_date"] = decision
        data["obligation"]["request_date"] = request
        data["obligation"]["assessed_on"] = decision
        if signed is None:
            data["signatures"] = []
            data["status"] = "OFFERED"
        else:
            for s in data["signatures"]:
                s["signed_date"] = signed
            data["start_date"] = signed
            data["end_date"] = "2027-12-31"
            data["reflection"]["draft_handed_date"] = "2026-04-24"

    return make(BXL, change)


@pytest.mark.parametrize(
    "signed, late", [("2026-12-14", False), ("2026-12-15", False), ("2026-12-16", True)]
)
def test_request_by_a_party_deadline_runs_from_the_request(signed, late):
    report = run(_asked("2026-09-15", signed), on="2027-01-10")
    ob = report.obligations[0]
    assert ob.mandatory and ob.bases == (ObligationBasis.REQUEST_BY_PERSON,)
    assert ob.deadline == d("2026-12-15")
    assert ("R-DL-01" in ids(report, "error")) is late
    if late:
        assert "request of 2026-09-15" in report.by_rule("R-DL-01")[0].message


def test_request_not_overdue_days_after_it_was_made():
    # the old decision's deadline (2026-07-08) has long passed; the request of 2026-09-15 gives until 2026-12-15
    report = run(_asked("2026-09-15", None), on="2026-09-20")
    assert "R-OBL-08" not in ids(report) and report.obligations[0].deadline == d("2026-12-15")
    assert "R-OBL-08" in ids(run(_asked("2026-09-15", None), on="2026-12-16"))
    assert "R-OBL-08" not in ids(run(_asked("2026-09-15", None), on="2026-12-15"))


@pytest.mark.parametrize(
    "asked, deadline",
    [
        ("2026-11-30", "2027-02-28"),
        ("2027-11-30", "2028-02-29"),
        ("2027-11-29", "2028-02-29"),
        ("2027-12-01", "2028-03-01"),
    ],
)
def test_request_deadline_month_ends_and_leap_years(asked, deadline):
    assert run(_asked(asked, None), on="2026-12-01").obligations[0].deadline == d(deadline)


def test_request_before_the_decision_or_not_recorded_keeps_the_decision():
    assert run(_asked("2026-04-01", None)).obligations[0].deadline == d("2026-07-08")
    assert run(_asked(None, None)).obligations[0].deadline == d("2026-07-08")


def test_a_fact_basis_keeps_the_decision_deadline_even_with_a_later_request():
    def change(data):
        data["obligation"]["request_date"] = "2026-10-01"
        data["obligation"]["basis"].append("REQUEST_BY_CPAS")

    report = run(make(LGE, change))
    assert report.obligations[0].deadline == d(
        "2026-09-15"
    )  # under 25: mandatory since the decision


# --- successive contracts under one decision --------------------------------------------------------------


def _second(relation: str | None, signed: str | None, prev_signed: str | None = "2026-07-06"):
    def change(data):
        data["contract_id"] = "LGE-2026-0143"
        if signed is None:
            data["signatures"] = []
            data["status"] = "OFFERED"
        else:
            for s in data["signatures"]:
                s["signed_date"] = signed
        data["start_date"] = signed or "2026-12-01"
        data["end_date"] = "2027-11-30"
        data["ri_months"] = [
            {"month": m, "amount_cents": 87613} for m in ("2026-12-01", "2027-01-01", "2027-02-01")
        ]
        if relation is not None:
            data["previous_contract"] = {
                "contract_id": "LGE-2026-0142",
                "relation": relation,
                "signed_date": prev_signed,
                "ended_on": "2026-11-15",
            }

    return make(LGE, change)


def test_a_second_piis_is_not_judged_on_the_original_deadline():
    report = run(_second("FOLLOWS", "2026-12-01"), on="2026-12-10")
    assert "R-DL-01" not in ids(report, "error")
    item = report.sections["inspection"]["items"][1]
    assert item["item"] == "I-02" and item["status"] == "not_applicable"
    assert "LGE-2026-0142" in item["evidence_found"][0]
    without = run(
        _second(None, "2026-12-01"), on="2026-12-10"
    )  # no link: judged as the first contract
    assert "R-DL-01" in ids(without, "error")
    assert without.sections["inspection"]["items"][1]["status"] == "fail"


def test_an_unsigned_second_piis_is_not_overdue():
    assert "R-OBL-08" not in ids(run(_second("FOLLOWS", None), on="2026-12-10"))
    assert "R-OBL-08" in ids(run(_second(None, None), on="2026-12-10"))


def test_a_follower_of_an_unsigned_contract_is_still_judged():
    assert "R-DL-01" in ids(
        run(_second("FOLLOWS", "2026-12-01", prev_signed=None), on="2026-12-10"), "error"
    )


def test_a_compliant_replacement_is_not_late_and_its_months_not_at_risk():
    report = run(_second("REPLACES_NON_COMPLIANT", "2026-12-01", prev_signed=None), on="2027-02-10")
    assert "R-DL-01" not in ids(report, "error") and "R-OBL-08" not in ids(report)
    inspection = report.sections["inspection"]
    assert inspection["items"][1]["status"] == "not_applicable"
    assert "R-SUB-13" in inspection["items"][1]["evidence_found"][0]
    assert inspection["ready"] and inspection["subsidy_at_risk_cents"] == 0
    # without the link the replacement is judged on the original deadline: its months are at risk
    unlinked = run(_second(None, "2026-12-01"), on="2027-02-10").sections["inspection"]
    assert not unlinked["ready"] and unlinked["subsidy_at_risk_cents"] == 3 * 8761


def test_the_agenda_lists_no_signature_deadline_for_a_follower():
    from piis_bridge.rules.agenda import agenda

    items = agenda([_second("FOLLOWS", None)], d("2026-01-01"), d("2027-12-31"), overdue=True)
    assert not [i for i in items if i.rule_id == "R-DL-01"]
    items = agenda([_second(None, None)], d("2026-01-01"), d("2027-12-31"), overdue=True)
    assert [i for i in items if i.rule_id == "R-DL-01"]


# --- continuing beneficiaries ---------------------------------------------------------------------------


def _review(ri_start: str, review: bool):
    def change(data):
        data["decision"]["ri_start_date"] = ri_start
        data["decision"]["reviews_decision_id"] = "BXL-CSSS-2024-0001" if review else None
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": ri_start}]

    return make(BXL, change)


def test_review_decision_with_the_original_start_is_a_continuing_beneficiary():
    fresh = run(_review("2024-01-01", review=False))
    assert (
        ObligationBasis.NO_DIS_LAST_3M in fresh.obligations[0].bases
    )  # judged new without the link
    review = run(_review("2024-01-01", review=True))
    assert ObligationBasis.NO_DIS_LAST_3M not in review.obligations[0].bases


@pytest.mark.parametrize(
    "ri_start, continuing", [("2026-04-07", True), ("2026-04-08", False), ("2026-04-09", False)]
)
def test_review_look_back_boundary_on_the_decision_day(ri_start, continuing):
    report = run(_review(ri_start, review=True))
    assert (ObligationBasis.NO_DIS_LAST_3M not in report.obligations[0].bases) is continuing
