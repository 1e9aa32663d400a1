"""R-INS (rules.md 2.13): the inspection checklist, item by item, with the evidence found or missing."""

from __future__ import annotations

import pytest

from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.inspection import ITEMS, ItemStatus, inspect
from piis_bridge.rules.registry import load_core_rules
from piis_bridge.rules.report import Level
from tests.rules._part2 import all_text, build, d, raw

LGE = "u25-employment-project"  # DIS decision 2026-06-15 -> deadline 2026-09-15; signed 2026-07-06
ON = d("2026-11-22")


def item(checklist, name):
    return next(i for i in checklist.items if i.item == name)


@pytest.mark.parametrize(
    "name",
    ["community-service", "sanction-history", "social-insertion-third-party", "studies", LGE],
)
def test_examples_are_inspection_ready(name):
    assert evaluate(build(name), on=ON).rule_failures == ()
    checklist = inspect(build(name), on=ON)
    assert checklist.ready, [(i.item, i.evidence_missing, i.findings) for i in checklist.items]
    assert [i.item for i in checklist.items] == [f"I-{n:02d}" for n in range(1, 12)]
    assert checklist.subsidy_at_risk_cents == 0


@pytest.mark.parametrize(
    "assessed, ok", [("2026-07-05", True), ("2026-07-06", True), ("2026-07-07", False)]
)
def test_i01_needs_assessment_on_or_before_signature(assessed, ok):
    c = build(LGE, lambda data: data["needs_assessment"].update(assessed_on=assessed))
    i01 = item(inspect(c, on=ON), "I-01")
    assert (i01.status is ItemStatus.PASS) is ok
    assert i01.evidence_found  # the assessment is found either way


def test_i01_no_needs_assessment():
    checklist = inspect(build(LGE, lambda data: data.pop("needs_assessment")), on=ON)
    i01 = item(checklist, "I-01")
    assert i01.status is ItemStatus.FAIL and i01.evidence_missing
    assert (
        not checklist.ready and checklist.subsidy_at_risk_cents == 5 * 8761
    )  # Jul-Nov 2026 claimed so far


def signed(day):
    def change(data):
        for s in data["signatures"]:
            s["signed_date"] = day
        data["start_date"] = day
        data["needs_assessment"]["assessed_on"] = "2026-06-22"

    return change


@pytest.mark.parametrize(
    "day, ok", [("2026-09-14", True), ("2026-09-15", True), ("2026-09-16", False)]
)
def test_i02_signed_within_three_months_of_the_decision(day, ok):
    i02 = item(inspect(build(LGE, signed(day)), on=ON), "I-02")
    assert (i02.status is not ItemStatus.FAIL) is ok
    assert "deadline 2026-09-15" in i02.evidence_found


@pytest.mark.parametrize(
    "on, status", [("2026-09-15", ItemStatus.PASS), ("2026-09-16", ItemStatus.FAIL)]
)
def test_i06_unsigned_mandatory_piis_without_exemption(on, status):
    c = build(LGE, lambda data: data.update(signatures=[], status="OFFERED"))
    checklist = inspect(c, on=d(on))
    assert item(checklist, "I-06").status is status
    assert item(checklist, "I-04").status is ItemStatus.FAIL


def test_i06_motivated_exemption():
    def change(data):
        data.update(signatures=[], status="DRAFT")
        data["obligation"]["exemption"] = {
            "ground": "HEALTH",
            "reason_text": "Surgery in October",
            "motivated_decision_date": "2026-07-01",
            "motivated_separately_from_work_willingness": True,
        }

    i06 = item(inspect(build(LGE, change), on=ON), "I-06")
    assert i06.status is ItemStatus.PASS and "health" in i06.evidence_found[0]


def test_i04_missing_cpas_signature():
    c = build(
        LGE,
        lambda data: data.update(
            signatures=[s for s in data["signatures"] if s["party"] != "CPAS"]
        ),
    )
    i04 = item(inspect(c, on=ON), "I-04")
    assert i04.status is ItemStatus.FAIL and i04.evidence_missing == ("signature of the cpas",)


def test_i05_community_service_without_insurance():
    c = build(
        "community-service", lambda data: data["community_service"].update(insurance_verified=False)
    )
    i05 = item(inspect(c, on=ON), "I-05")
    assert i05.status is ItemStatus.FAIL
    assert "insurance checked by the CPAS" in i05.evidence_missing
    assert item(inspect(build(LGE), on=ON), "I-05").status is ItemStatus.NOT_APPLICABLE


def test_i07_evaluation_not_formalised():
    c = build(LGE, lambda data: data["evaluations"][0].update(formalised=False))
    i07 = item(inspect(c, on=ON), "I-07")
    assert i07.status is ItemStatus.FAIL and i07.evidence_missing


def test_i08_sanction_conditions_and_findings_listed():
    c = build("sanction-history", lambda data: data["sanctions"][1].update(warning_id=None))
    checklist = inspect(c, on=ON)
    i08 = item(checklist, "I-08")
    assert i08.status is ItemStatus.FAIL
    assert any(f.startswith("R-SAN-03:") for f in i08.findings)
    assert item(inspect(build(LGE), on=ON), "I-08").status is ItemStatus.NOT_APPLICABLE


def test_i09_prolongation_evidence():
    def change(data):
        data["subsidy_history"] = [
            {"type": "FIRST", "cpas_ins": "62063", "window_start": "2025-07-01"},
            {"type": "PROLONGATION", "cpas_ins": "62063", "window_start": "2026-07-01"},
        ]

    i09 = item(inspect(build(LGE, change), on=ON), "I-09")
    assert i09.status is ItemStatus.FAIL
    assert "PROLONGATION: motivated decision" in i09.evidence_missing


def test_i10_i11_not_recorded_when_the_file_does_not_say():
    def without(data):
        data["studies"].pop("maintenance_debtors_investigation")
        data["studies"].pop("recovery_decision")

    checklist = inspect(build("studies", without), on=ON)
    assert item(checklist, "I-10").status is ItemStatus.NOT_RECORDED
    assert item(checklist, "I-11").status is ItemStatus.NOT_RECORDED
    assert checklist.ready  # not recorded is not a failure


def test_registered_and_reported_without_double_errors():
    registry = load_core_rules()
    assert [registry.get(f"R-INS-{n:02d}").citation for n in range(1, 12)] == [
        "[002 L528-554]"
    ] * 11
    assert len(ITEMS) == 11
    for rid in ("R-RPT-01", "R-RPT-02", "R-RPT-03"):
        assert not registry.get(rid).automated
    c = build(LGE, lambda data: data.pop("needs_assessment"))
    report = evaluate(c, on=ON)
    ins = [f for f in report.findings if f.rule_id.startswith("R-INS")]
    assert [f.rule_id for f in ins] == ["R-INS-01"] and ins[0].level is Level.INFO
    assert report.sections["inspection"]["ready"] is False
    assert raw(LGE)["beneficiary"]["niss"] not in all_text(report)
