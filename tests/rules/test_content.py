"""R-GEN, R-CNT, R-SIG, R-AMD and the local-policy rules: each missing element named, draft vs signed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rules._core import ids, make, run, unsign


def _c(change, name: str = "u25-employment-project"):
    return make(name, change)


# --- R-GEN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ri_end", "error"), [("2026-07-05", True), ("2026-07-06", False)])
def test_r_gen_01_contract_concluded_after_the_ri_ended(ri_end: str, error: bool) -> None:
    report = run(_c(lambda x: x["decision"].update(ri_end_date=ri_end)))  # signed 2026-07-06
    assert ("R-GEN-01" in ids(report, "error")) is error


def test_r_gen_01_signed_before_the_decision() -> None:
    def change(x: dict[str, Any]) -> None:
        for s in x["signatures"]:
            s["signed_date"] = "2026-06-14"
        x["reflection"]["draft_handed_date"] = "2026-06-01"
        x["pre_signature_information"][0]["given_date"] = "2026-06-01"
        x["needs_assessment"]["assessed_on"] = "2026-06-01"

    assert "R-GEN-01" in ids(run(_c(change)), "error")


def test_r_gen_02_framework_convention_required() -> None:
    assert "R-GEN-02" in ids(run(_c(lambda x: x.pop("framework_convention_ref"))), "error")
    assert "R-GEN-02" not in ids(run(make()))


def test_r_gen_03_social_orientation_is_advisory() -> None:
    report = run(_c(lambda x: x.update(orientation="SOCIAL")))
    assert [f.level.value for f in report.by_rule("R-GEN-03")] == ["warning"]


def test_r_gen_07_competent_cpas_is_the_residence_on_the_decision_date() -> None:
    def moved(x: dict[str, Any]) -> None:
        x["beneficiary"]["residences"] = [
            {"ins_code": "62063", "start_date": "2021-09-01", "end_date": "2026-06-14"},
            {"ins_code": "21004", "start_date": "2026-06-15"},
        ]

    assert "R-GEN-07" in ids(run(_c(moved)), "error")

    def moved_after(x: dict[str, Any]) -> None:
        x["beneficiary"]["residences"] = [
            {"ins_code": "62063", "start_date": "2021-09-01", "end_date": "2026-06-15"},
            {"ins_code": "21004", "start_date": "2026-06-16"},
        ]

    assert "R-GEN-07" not in ids(run(_c(moved_after)))


# --- R-CNT: each missing element named; error once signed, warning in a draft -----------------------


@pytest.mark.parametrize(
    ("rule_id", "change", "field"),
    [
        ("R-CNT-01", lambda x: x.pop("needs_assessment"), "needs_assessment"),
        (
            "R-CNT-02",
            lambda x: x.update(
                objectives=[], commitments=[{**c, "objective_ids": []} for c in x["commitments"]]
            ),
            "objectives",
        ),
        ("R-CNT-03", lambda x: x.update(action_domains=[]), "action_domains"),
        (
            "R-CNT-04",
            lambda x: x.update(commitments=[c for c in x["commitments"] if c["party"] != "CPAS"]),
            "commitments",
        ),
        ("R-CNT-07", lambda x: x.update(cost_coverages=x["cost_coverages"][:2]), "cost_coverages"),
        (
            "R-CNT-11",
            lambda x: x.update(
                social_workers=[w for w in x["social_workers"] if w["role"] != "SUBSTITUTE"]
            ),
            "social_workers",
        ),
        ("R-CNT-13", lambda x: x.pop("evaluation_arrangement"), "evaluation_arrangement"),
    ],
)
def test_r_cnt_missing_elements_are_named(rule_id: str, change, field: str) -> None:
    signed = run(_c(change))
    [f] = [f for f in signed.by_rule(rule_id) if f.level.value == "error"]
    assert field in f.fields and "missing" in f.message
    assert signed.sections["content"]["complete"] is (
        rule_id == "R-CNT-01"
    )  # I-01 is not a 'mention'
    draft = run(_c(lambda x: (change(x), unsign(x))))
    assert rule_id not in ids(draft, "error") and rule_id in ids(draft, "warning")


def test_r_cnt_07_each_missing_cost_category_is_named() -> None:
    report = run(_c(lambda x: x.update(cost_coverages=[{"category": "REGISTRATION"}])))
    [f] = report.by_rule("R-CNT-07")
    assert "INSURANCE, WORK_CLOTHES, TRAVEL" in f.message
    assert report.sections["content"]["missing"][0]["rule_id"] == "R-CNT-07"


def test_r_cnt_07_not_required_without_training_or_work_experience() -> None:
    def change(x: dict[str, Any]) -> None:
        x.update(form_tags=["GENERAL"], cost_coverages=[])
        x.pop("employment_project")

    assert "R-CNT-07" not in ids(run(_c(change)))


def test_r_cnt_01_needs_assessment_after_the_signature() -> None:
    for day, error in (("2026-07-06", False), ("2026-07-07", True)):
        report = run(_c(lambda x, day=day: x["needs_assessment"].update(assessed_on=day)))
        assert ("R-CNT-01" in ids(report, "error")) is error


def test_r_cnt_04_commitment_not_linked_to_an_objective() -> None:
    report = run(_c(lambda x: x["commitments"][0].update(objective_ids=[])))
    [f] = report.by_rule("R-CNT-04")
    assert "C1" in f.message and f.fields == ("commitments[0].objective_ids",)


def test_r_cnt_06_encouragement_premium_amount() -> None:
    premium = {"amount_cents": 0, "conditions": "Training completed"}
    assert "R-CNT-06" in ids(run(_c(lambda x: x.update(encouragement_premium=premium))), "error")
    premium = {"amount_cents": 5000, "conditions": "Training completed"}
    assert "R-CNT-06" not in ids(run(_c(lambda x: x.update(encouragement_premium=premium))))


def test_r_cnt_10_third_party_role_request_and_signature() -> None:
    base = make("social-insertion-third-party")
    assert "R-CNT-10" not in ids(run(base, on="2026-06-01"), "error")

    def change(x: dict[str, Any]) -> None:
        tp = x["third_parties"][0]
        tp.pop("requested_by", None)
        tp.pop("execution_role", None)
        x["signatures"] = [s for s in x["signatures"] if s["party"] != "THIRD_PARTY"]

    report = run(make("social-insertion-third-party", change), on="2026-06-01")
    messages = " | ".join(f.message for f in report.by_rule("R-CNT-10"))
    assert "who asked" in messages and "carrying out" in messages and "has not signed" in messages


@pytest.mark.parametrize(
    ("on", "notified", "error"),
    [
        ("2026-10-01", None, False),  # the worker leaves on 1 Oct: judged from the next day
        ("2026-10-02", None, True),
        ("2026-10-02", "2026-09-25", False),
    ],
)
def test_r_cnt_12_permanent_change_of_social_worker(
    on: str, notified: str | None, error: bool
) -> None:
    def change(x: dict[str, Any]) -> None:
        x["social_workers"][0]["end_date"] = "2026-10-01"
        if notified:
            x["social_workers"][0]["permanent_change_notified_date"] = notified
        x["social_workers"].append(
            {
                "worker_id": "SW-200",
                "name": "B. New",
                "role": "IN_CHARGE",
                "start_date": "2026-10-02",
            }
        )

    assert ("R-CNT-12" in ids(run(_c(change), on=on), "error")) is error


def test_r_cnt_14_information_before_signature_topics() -> None:
    report = run(_c(lambda x: x["pre_signature_information"][0].update(topics=["CONTENT"])))
    [f] = report.by_rule("R-CNT-14")
    assert "scope, consequences" in f.message
    late = run(_c(lambda x: x["pre_signature_information"][0].update(given_date="2026-07-07")))
    assert "R-CNT-14" in ids(late, "error")


def test_r_cnt_16_right_to_be_heard_information() -> None:
    assert "R-CNT-16" in ids(run(_c(lambda x: x.pop("right_to_be_heard_informed_date"))), "error")


# --- R-SIG -------------------------------------------------------------------------------------


def test_r_sig_01_active_needs_every_signature() -> None:
    report = run(
        make(
            "social-insertion-third-party",
            lambda x: x.update(
                signatures=[s for s in x["signatures"] if s["party"] != "THIRD_PARTY"]
            ),
        ),
        on="2026-06-01",
    )
    [f] = report.by_rule("R-SIG-01")
    assert "third party" in f.message and f.level.value == "error"
    offered = make("u25-employment-project", unsign)
    assert "R-SIG-01" not in ids(run(offered))


def test_r_sig_02_cpas_signers_are_local_policy() -> None:
    c = make()  # signed by the president only
    assert "R-SIG-02" not in ids(run(c))
    report = run(c, q20_cpas_signer_functions=("Président", "Directeur général"))
    [f] = report.by_rule("R-SIG-02")
    assert f.level.value == "warning" and "Directeur général" in f.message
    assert "R-SIG-02" in ids(
        run(c, q20_cpas_signer_functions=("Directeur général",), local_policy_level="error"),
        "error",
    )


# --- R-AMD -------------------------------------------------------------------------------------


def _amended(agreements: list[dict[str, Any]], info: str | None = "2026-10-01"):
    def change(x: dict[str, Any]) -> None:
        x["versions"].append(
            {
                "version_no": 2,
                "kind": "ANNEX",
                "effective_date": "2026-10-05",
                "agreements": agreements,
                **({"pre_signature_information_date": info} if info else {}),
            }
        )

    return make("u25-employment-project", change)


def test_r_amd_01_every_party_agrees_by_the_effective_date() -> None:
    both = [
        {"party": "BENEFICIARY", "agreed_date": "2026-10-05"},
        {"party": "CPAS", "agreed_date": "2026-10-05"},
    ]
    assert "R-AMD-01" not in ids(run(_amended(both)))
    late = [
        {"party": "BENEFICIARY", "agreed_date": "2026-10-06"},
        {"party": "CPAS", "agreed_date": "2026-10-05"},
    ]
    [f] = run(_amended(late)).by_rule("R-AMD-01")
    assert "the beneficiary" in f.message and "the CPAS" not in f.message


def test_r_amd_02_information_before_the_change() -> None:
    both = [
        {"party": "BENEFICIARY", "agreed_date": "2026-10-05"},
        {"party": "CPAS", "agreed_date": "2026-10-05"},
    ]
    assert "R-AMD-02" not in ids(run(_amended(both, "2026-10-05")))
    assert "R-AMD-02" in ids(run(_amended(both, "2026-10-06")), "error")
    assert "R-AMD-02" in ids(run(_amended(both, None)), "error")


# --- local policy (Appendix B) -------------------------------------------------------------------


@pytest.mark.parametrize(("signed", "flagged"), [("2026-07-15", False), ("2026-07-16", True)])
def test_r_loc_01_local_deadline_only_when_configured(signed: str, flagged: bool) -> None:
    def change(x: dict[str, Any]) -> None:
        for s in x["signatures"]:
            s["signed_date"] = signed

    c = make("u25-employment-project", change)  # decision 15 June 2026 -> local deadline 15 July
    assert "R-LOC-01" not in ids(run(c))
    assert ("R-LOC-01" in ids(run(c, local_piis_deadline_months=1), "warning")) is flagged


def test_r_loc_02_contact_hours_and_r_loc_03_generalised_piis() -> None:
    c = make("u25-employment-project", lambda x: x["social_workers"][0].pop("contact_hours"))
    assert "R-LOC-02" not in ids(run(c))
    assert "R-LOC-02" in ids(run(c, local_require_contact_hours=True), "warning")
    c = make(
        "u25-employment-project",
        lambda x: x["beneficiary"].update(employment_status="EMPLOYED_WITH_RI_TOPUP"),
    )
    assert "R-LOC-03" in ids(run(c, local_generalised_piis_ages=(18, 50)), "info")
