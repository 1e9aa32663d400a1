"""R-OBL: mandatory or optional, legal basis, exemption, deadline; couples; reform date; 25th birthday."""

from __future__ import annotations

from typing import Any

import pytest

from piis_bridge.model import ObligationBasis as B
from tests.rules._core import d, ids, make, person, run, set_decision, unsign

PRIOR_RI = [{"kind": "RI", "start_date": "2020-01-01", "end_date": "2026-05-31"}]


def _young(
    decision: str,
    prior: list[dict[str, Any]] | None = PRIOR_RI,
    birth: str = "2003-04-12",
    **obl: Any,
):
    def change(data: dict[str, Any]) -> None:
        data["beneficiary"] = {**data["beneficiary"], **person(birth)}
        set_decision(data, decision, prior_dis=prior)
        data["obligation"] = {"basis": obl.pop("basis", []), **obl}
        unsign(data)

    return make("u25-employment-project", change)


# --- 25th birthday (R-OBL-02, D5, Q-03) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "mandatory"),
    [("2028-04-11", True), ("2028-04-12", False), ("2028-04-13", False)],
    ids=["day-before-25th-birthday", "25th-birthday", "day-after"],
)
def test_r_obl_02_under_25_judged_on_the_decision_date(decision: str, mandatory: bool) -> None:
    # prior RI ending the day before: not a new beneficiary, so only the age can make it mandatory
    prior = [{"kind": "RI", "start_date": "2020-01-01", "end_date": "2028-03-31"}]
    report = run(_young(decision, prior), on=decision)
    ob = report.obligations[0]
    assert ob.mandatory is mandatory
    assert (B.U25_EMPLOYMENT_PROJECT in ob.bases) is mandatory
    assert ob.age_on_reference == (24 if mandatory else 25)


def test_q03_age_reference_is_a_setting() -> None:
    c = _young("2028-04-12", [{"kind": "RI", "start_date": "2020-01-01"}])
    assert not run(c, on="2028-04-12").obligations[0].mandatory
    c2 = make(
        "u25-employment-project",
        lambda x: (
            x.update(beneficiary={**x["beneficiary"], **person("2003-04-12")}),
            set_decision(
                x,
                "2028-04-12",
                request="2028-04-01",
                prior_dis=[{"kind": "RI", "start_date": "2020-01-01"}],
            ),
            x.update(obligation={"basis": []}),
            unsign(x),
        ),
    )
    report = run(c2, on="2028-04-12", q03_obligation_age_reference="REQUEST")
    assert report.obligations[0].mandatory and report.obligations[0].age_on_reference == 24


def test_r_obl_02_recorded_u25_basis_contradicted_by_age_is_an_error() -> None:
    c = _young("2028-04-12", basis=["U25_EMPLOYMENT_PROJECT"])
    report = run(c, on="2028-04-12")
    [f] = report.by_rule("R-OBL-02")
    assert f.level.value == "error" and "was 25" in f.message and "obligation.basis" in f.fields


def test_r_obl_01_studies_under_25_is_mandatory_and_at_25_is_not() -> None:
    c = make("studies")
    ob = run(c, on="2025-12-01").obligations[0]
    assert ob.mandatory and B.U25_STUDIES in ob.bases
    assert "R-OBL-01" in ob.legal_basis


# --- 3-month look-back (R-OBL-03, Q-04) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior_end", "new_beneficiary"),
    [("2025-03-14", True), ("2025-03-15", False), ("2025-03-16", False)],
    ids=["DIS-ended-day-before-window", "DIS-ended-on-window-start", "DIS-ended-inside-window"],
)
def test_r_obl_03_no_dis_in_the_3_months_before_the_decision(
    prior_end: str, new_beneficiary: bool
) -> None:
    # decision 15 June 2025: the look-back window starts on 15 March 2025 (D1)
    c = _young(
        "2025-06-15",
        [{"kind": "RI", "start_date": "2024-01-01", "end_date": prior_end}],
        birth="1990-01-01",
    )
    ob = run(c, on="2025-06-20").obligations[0]
    assert ob.mandatory is new_beneficiary
    assert (B.NO_DIS_LAST_3M in ob.bases) is new_beneficiary


@pytest.mark.parametrize(
    ("kind", "counts"), [("ART60", True), ("EMPLOYMENT", True), ("ERI", False), ("RI", True)]
)
def test_r_obl_03_art60_counts_as_dis_but_social_aid_does_not(kind: str, counts: bool) -> None:
    c = _young(
        "2026-06-15",
        [{"kind": kind, "start_date": "2025-01-01", "end_date": "2026-05-31"}],
        birth="1990-01-01",
    )
    assert run(c, on="2026-06-20").obligations[0].mandatory is not counts


def test_r_obl_03_first_time_beneficiary_month_end_window() -> None:
    # decision 31 May 2026 -> window starts 28 Feb 2026 (clamped): DIS ending 27 Feb is outside
    c = _young(
        "2026-05-31",
        [{"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-02-27"}],
        birth="1990-01-01",
    )
    assert run(c, on="2026-06-01").obligations[0].mandatory
    c = _young(
        "2026-05-31",
        [{"kind": "RI", "start_date": "2025-01-01", "end_date": "2026-02-28"}],
        birth="1990-01-01",
    )
    assert not run(c, on="2026-06-01").obligations[0].mandatory


def test_r_obl_03_recorded_but_contradicted_by_history_warns() -> None:
    c = _young("2026-06-15", birth="1990-01-01", basis=["NO_DIS_LAST_3M"])
    report = run(c, on="2026-06-20")
    assert [f.level.value for f in report.by_rule("R-OBL-03")] == ["warning"]


# --- requests, optional, top-up, exemption -----------------------------------------------------------


def test_r_obl_04_request_makes_it_mandatory_and_r_obl_05_optional_otherwise() -> None:
    optional = _young("2026-06-15", birth="1990-01-01")
    report = run(optional, on="2026-06-20")
    assert not report.obligations[0].mandatory and report.obligations[0].deadline is None
    assert report.by_rule("R-OBL-05")[0].level.value == "info"
    requested = _young("2026-06-15", birth="1990-01-01", basis=["REQUEST_BY_PERSON"])
    report = run(requested, on="2026-06-20")
    assert report.obligations[0].mandatory and report.obligations[0].bases == (B.REQUEST_BY_PERSON,)
    assert report.obligations[0].deadline == d("2026-09-15")


def test_r_obl_05_record_says_optional_but_facts_say_mandatory() -> None:
    c = _young(
        "2026-06-15", prior=[], birth="1990-01-01"
    )  # first-time beneficiary, nothing recorded
    report = run(c, on="2026-06-20")
    [f] = report.by_rule("R-OBL-05")
    assert f.level.value == "warning" and "NO_DIS_LAST_3M" in f.message


def test_r_obl_06_ri_top_up_makes_it_optional_and_is_flagged() -> None:
    def change(data: dict[str, Any]) -> None:
        data["beneficiary"]["employment_status"] = "EMPLOYED_WITH_RI_TOPUP"

    c = make("u25-employment-project", change)
    report = run(c)
    assert not report.obligations[0].mandatory
    assert report.by_rule("R-OBL-06")[0].level.value == "warning"
    kept = run(c, q17_topup_makes_optional=False)
    assert kept.obligations[0].mandatory


def _exempt(separately: bool) -> Any:
    def change(data: dict[str, Any]) -> None:
        unsign(data)
        data["obligation"]["exemption"] = {
            "ground": "HEALTH",
            "reason_text": "Surgery planned",
            "motivated_decision_date": "2026-07-01",
            "motivated_separately_from_work_willingness": separately,
        }

    return make("u25-employment-project", change)


def test_r_obl_07_and_08_exemption_lifts_the_deadline() -> None:
    report = run(_exempt(True), on="2026-12-01")
    assert report.obligations[0].exempted
    assert "R-OBL-08" not in ids(report) and "R-OBL-07" not in ids(report, "error")
    assert report.date_for("R-DL-01").status.value == "not_applicable"


def test_r_obl_07_exemption_needs_double_motivation() -> None:
    report = run(_exempt(False), on="2026-12-01")
    [f] = report.by_rule("R-OBL-07")
    assert f.level.value == "error" and "motivated separately" in f.message
    assert "R-OBL-07" not in ids(run(_exempt(True), on="2026-12-01"))


@pytest.mark.parametrize(
    ("on", "error"), [("2026-09-14", False), ("2026-09-15", False), ("2026-09-16", True)]
)
def test_r_obl_08_non_compliance_the_day_after_the_deadline(on: str, error: bool) -> None:
    c = make(
        "u25-employment-project", unsign
    )  # decision 15 June 2026 -> deadline 15 September 2026
    report = run(c, on=on)
    assert ("R-OBL-08" in ids(report, "error")) is error
    assert report.date_for("R-DL-01").status.value == ("overdue" if error else "pending")


# --- couples (R-OBL-09) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partner_birth", "mandatory"), [("2001-06-16", True), ("2001-06-15", False)]
)
def test_r_obl_09_each_partner_judged_separately(partner_birth: str, mandatory: bool) -> None:
    def change(data: dict[str, Any]) -> None:
        data["partner"] = person(
            partner_birth, dis_history=[{"kind": "RI", "start_date": "2020-01-01"}]
        )

    report = run(make("u25-employment-project", change), on="2026-06-20")  # decision 15 June 2026
    assert [o.person for o in report.obligations] == ["beneficiary", "partner"]
    partner = report.obligations[1]
    assert partner.mandatory is mandatory
    assert partner.age_on_reference == (24 if mandatory else 25)
    assert report.obligations[0].mandatory  # the beneficiary's own result is unchanged
    assert report.by_rule("R-OBL-09")[0].person == "partner"
    if mandatory:
        assert partner.deadline == d("2026-09-15")


# --- reform date (R-GEN-05, R-OBL-16, R-DL-08) ------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "rule_set", "deadline"),
    [("2016-10-31", "historical", "2016-12-01"), ("2016-11-01", "2016", "2017-02-01")],
)
def test_reform_date_switches_the_rule_set(decision: str, rule_set: str, deadline: str) -> None:
    def change(data: dict[str, Any]) -> None:
        data["beneficiary"] = {**data["beneficiary"], **person("1995-03-03")}
        set_decision(
            data,
            decision,
            request="2016-09-01" if decision < "2016-11" else "2016-10-15",
            prior_dis=[{"kind": "RI", "start_date": "2014-01-01"}],
        )
        data["decision"]["request_date"] = "2016-09-01" if decision < "2016-11" else "2016-10-15"
        data["obligation"] = {"basis": []}
        unsign(data)

    report = run(make("u25-employment-project", change), on="2017-06-01")
    ob = report.obligations[0]
    assert report.rule_set == rule_set and ob.rule_set == rule_set
    assert ob.mandatory and ob.deadline == d(deadline)  # under 25 either way
    if rule_set == "historical":
        assert "R-OBL-16" in ids(report, "error") and "R-OBL-08" not in ids(report)
    else:
        assert "R-OBL-08" in ids(report, "error") and "R-OBL-16" not in ids(report)


def test_r_obl_16_historical_new_beneficiary_over_25_was_not_mandatory() -> None:
    c = _young("2016-10-31", prior=[], birth="1980-01-01")
    report = run(c, on="2017-06-01")
    assert not report.obligations[0].mandatory


@pytest.mark.parametrize(("on", "error"), [("2017-11-01", False), ("2017-11-02", True)])
def test_r_obl_15_transitional_12_months_from_the_reform(on: str, error: bool) -> None:
    c = _young("2016-08-10", prior=[], birth="1980-01-01")
    report = run(c, on=on)
    assert report.date_for("R-OBL-15").date == d("2017-11-01")
    assert ("R-OBL-15" in ids(report, "error")) is error


def test_r_obl_01_under_25_studies_without_equity_decision_date() -> None:
    c = make("studies", lambda x: x["studies"].pop("equity_acceptance_decision_date"))
    assert "R-OBL-01" in ids(run(c, on="2025-12-01"), "warning")


def test_r_obl_07_exemption_for_an_optional_piis_has_no_effect() -> None:
    def change(data: dict[str, Any]) -> None:
        data["beneficiary"]["employment_status"] = "EMPLOYED_WITH_RI_TOPUP"
        data["obligation"]["exemption"] = {
            "ground": "EQUITY",
            "reason_text": "Caring for a parent",
            "motivated_decision_date": "2026-07-01",
        }

    report = run(make("u25-employment-project", change))
    assert [f.level.value for f in report.by_rule("R-OBL-07")] == ["info"]


def test_r_gen_05_historical_rule_set_is_stated() -> None:
    c = _young("2016-10-31", prior=[], birth="1980-01-01")
    assert "R-GEN-05" in ids(run(c, on="2017-01-01"), "info")
    c = _young("2016-11-01", prior=[], birth="1980-01-01")
    assert "R-GEN-05" not in ids(run(c, on="2017-01-01"))


def test_q03_signature_as_age_reference() -> None:
    def change(data: dict[str, Any]) -> None:  # 25th birthday between decision and signature
        data["beneficiary"] = {**data["beneficiary"], **person("2001-06-20")}
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2020-01-01"}]

    c = make("u25-employment-project", change)  # decision 15 June 2026, signed 6 July 2026
    assert run(c).obligations[0].mandatory
    assert not run(c, q03_obligation_age_reference="SIGNATURE").obligations[0].mandatory
