"""Rules that became checkable with the new fields: the orientation's reason (R-GEN-03), the declined
choice of means (R-CNT-08), the receipt of a signed copy (R-SIG-03), the council informed of the end
(R-EVA-06), the CPAS's annual reports (R-EVA-07) and the volunteer allowance (R-CS-09).  Absent fields:
the same findings as before they existed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.rules._core import make, run, unsign

SOCIAL = "social-insertion-third-party"  # runs 2026-05-04 .. 2026-11-03, signed 2026-05-04


# --- R-GEN-03 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "warned"), [(None, True), ("  ", True), ("Debts and housing first", False)]
)
def test_r_gen_03_a_recorded_reason_explains_the_social_orientation(
    reason: str | None, warned: bool
) -> None:
    def change(x: dict[str, Any]) -> None:
        x.pop("orientation_reason", None)
        if reason is not None:
            x["orientation_reason"] = reason

    found = run(make(SOCIAL, change)).by_rule("R-GEN-03")
    assert bool(found) is warned
    if warned:
        assert found[0].level.value == "warning"


# --- R-CNT-08 ------------------------------------------------------------------------------------------


def _means(signed: bool = True, **choice: Any):  # noqa: ANN202
    def change(x: dict[str, Any]) -> None:
        x["means_choice"] = {"person_choice": "Welding course", **choice}
        if not signed:
            unsign(x)

    return make("u25-employment-project", change)


def test_r_cnt_08_nothing_when_the_choice_was_followed_or_not_recorded() -> None:
    assert not run(make("u25-employment-project")).by_rule("R-CNT-08")
    assert not run(_means(declined=False)).by_rule("R-CNT-08")


@pytest.mark.parametrize(("signed", "level"), [(True, "error"), (False, "warning")])
def test_r_cnt_08_declined_without_a_ground(signed: bool, level: str) -> None:
    [found] = run(_means(signed, declined=True)).by_rule("R-CNT-08")
    assert found.level.value == level and found.fields == ("means_choice.decline_ground",)


def test_r_cnt_08_a_ground_without_explanation_is_advisory() -> None:
    [found] = run(_means(declined=True, decline_ground="CHOICE_NOT_POSSIBLE")).by_rule("R-CNT-08")
    assert found.level.value == "warning" and found.fields == ("means_choice.justification",)
    assert not run(
        _means(
            declined=True,
            decline_ground="CHOICE_NOT_POSSIBLE",
            justification="No such course within reach",
        )
    ).by_rule("R-CNT-08")
    with_note = make(
        "u25-employment-project",
        lambda x: x.update(
            means_choice={
                "person_choice": "Welding",
                "declined": True,
                "decline_ground": "COSTS_NOT_COMPARABLE",
            },
            means_choice_note="Three times the cost of the CPAS's course",
        ),
    )
    assert not run(with_note).by_rule("R-CNT-08")


# --- R-SIG-03 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "flagged"), [("2026-07-05", True), ("2026-07-06", False), ("2026-07-07", False)]
)
def test_r_sig_03_copy_received_on_or_after_the_signature(received: str, flagged: bool) -> None:
    contract = make(
        "u25-employment-project",
        lambda x: x.update(copy_receipt={"received_on": received, "leaflet_received": True}),
    )
    found = run(contract).by_rule("R-SIG-03")
    assert bool(found) is flagged
    if flagged:
        assert found[0].level.value == "warning" and found[0].fields == (
            "copy_receipt.received_on",
        )


def test_r_sig_03_leaflet_and_unsigned_contract() -> None:
    no_leaflet = make(
        "u25-employment-project",
        lambda x: x.update(copy_receipt={"received_on": "2026-07-06", "leaflet_received": False}),
    )
    assert [f.fields for f in run(no_leaflet).by_rule("R-SIG-03")] == [
        ("copy_receipt.leaflet_received",)
    ]

    def unsigned(x: dict[str, Any]) -> None:
        unsign(x)
        x["copy_receipt"] = {"received_on": "2026-07-06", "leaflet_received": True}

    [found] = run(make("u25-employment-project", unsigned)).by_rule("R-SIG-03")
    assert "not signed" in found.message
    assert not run(make("u25-employment-project")).by_rule("R-SIG-03")


# --- R-EVA-06 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("informed", "flagged"), [("2026-11-02", True), ("2026-11-03", False), ("2026-11-04", False)]
)
def test_r_eva_06_council_informed_of_the_end(informed: str, flagged: bool) -> None:
    contract = make(SOCIAL, lambda x: x.update(council_informed_date=informed))
    report = run(contract, on="2026-12-01")
    council = [f for f in report.by_rule("R-EVA-06") if "council" in f.message]
    assert bool(council) is flagged
    dates = [d for d in report.dates if d.rule_id == "R-EVA-06"]
    assert [d.date for d in dates] == ([] if flagged else [date.fromisoformat(informed)])


def test_r_eva_06_unchanged_without_the_council_date() -> None:
    report = run(make(SOCIAL, lambda x: x.pop("council_informed_date")), on="2026-12-01")
    assert [f.message for f in report.by_rule("R-EVA-06")] == [
        "Contract BXL-2026-1290: ended on 2026-11-03 without a final evaluation."
    ]
    assert not [d for d in report.dates if d.rule_id == "R-EVA-06"]


# --- R-EVA-07 ------------------------------------------------------------------------------------------


def _report(year: int, evaluated: str, **extra: Any) -> dict[str, Any]:
    return {
        "year": year,
        "global_evaluation_date": evaluated,
        "contract_evaluations_synthesis": "Evaluations...",
        "employment_results_synthesis": "12 people found a job",
        "president_signoff_date": evaluated,
        **extra,
    }


def _with_reports(*reports: dict[str, Any], name: str = "community-service"):  # noqa: ANN202
    return make(name, lambda x: x["cpas"].update(annual_reports=list(reports)))


def test_r_eva_07_nothing_without_annual_reports() -> None:
    report = run(make("community-service"), on="2028-06-01")
    assert not report.by_rule("R-EVA-07") and not [
        d for d in report.dates if d.rule_id == "R-EVA-07"
    ]


def test_r_eva_07_both_syntheses_and_the_presidents_signoff() -> None:
    contract = _with_reports(
        _report(2026, "2027-03-15", employment_results_synthesis=" ", president_signoff_date=None)
    )
    found = run(contract, on="2027-06-01").by_rule("R-EVA-07")
    assert sorted((f.level.value, f.fields) for f in found) == [
        ("error", ("cpas.annual_reports[0].employment_results_synthesis",)),
        ("warning", ("cpas.annual_reports[0].president_signoff_date",)),
    ]


@pytest.mark.parametrize(("evaluated", "status"), [("2027-12-31", "met"), ("2028-01-01", "late")])
def test_r_eva_07_the_evaluation_of_a_year_is_due_by_the_end_of_the_next(
    evaluated: str, status: str
) -> None:
    report = run(_with_reports(_report(2026, evaluated)), on="2028-06-01")
    due, pending = [d for d in report.dates if d.rule_id == "R-EVA-07"]
    assert (
        due.label == "global evaluation of 2026"
        and due.date == date(2027, 12, 31)
        and due.status.value == status
    )
    assert pending.label == "global evaluation of 2027" and pending.status.value == "pending"
    assert bool(report.by_rule("R-EVA-07")) is (status == "late")


@pytest.mark.parametrize(
    ("on", "status", "flagged"), [("2027-12-31", "pending", False), ("2028-01-01", "overdue", True)]
)
def test_r_eva_07_a_missing_year_once_its_deadline_has_passed(
    on: str, status: str, flagged: bool
) -> None:
    # the contract (2026-03-09 .. 2027-03-08) ran in 2026 and 2027; only 2025 is recorded
    report = run(_with_reports(_report(2025, "2026-02-10")), on=on)
    dues = {d.label: d for d in report.dates if d.rule_id == "R-EVA-07"}
    assert sorted(dues) == ["global evaluation of 2026", "global evaluation of 2027"]
    assert dues["global evaluation of 2026"].status.value == status
    found = report.by_rule("R-EVA-07")
    assert bool(found) is flagged
    if flagged:
        assert found[0].fields == ("cpas.annual_reports",) and "2026" in found[0].message


def test_r_eva_07_years_before_the_first_recorded_report_are_not_judged() -> None:
    report = run(_with_reports(_report(2027, "2027-12-10")), on="2029-01-01")
    assert [d.label for d in report.dates if d.rule_id == "R-EVA-07"] == [
        "global evaluation of 2027"
    ]
    assert not report.by_rule("R-EVA-07")


# --- R-CS-09 -------------------------------------------------------------------------------------------


def _cs(**changes: Any):  # noqa: ANN202
    return make("community-service", lambda x: x["community_service"].update(changes))


def test_r_cs_09_effect_on_tax_judged_only_when_recorded() -> None:
    assert not run(_cs(), on="2026-06-01").by_rule("R-CS-09")
    [found] = run(_cs(effect_on_tax_explained=False), on="2026-06-01").by_rule("R-CS-09")
    assert found.level.value == "error" and found.fields == (
        "community_service.effect_on_tax_explained",
    )
    assert not run(_cs(effect_on_tax_explained=True), on="2026-06-01").by_rule("R-CS-09")


@pytest.mark.parametrize(
    ("regime", "ceiling", "flagged"),
    [
        (None, 3999, True),
        (None, 4000, False),
        ("FLAT_RATE", 3999, True),
        ("ACTUAL_COSTS", 3999, False),
    ],
)
def test_r_cs_09_the_ceiling_never_caps_actual_costs(
    regime: str | None, ceiling: int, flagged: bool
) -> None:
    changes = {} if regime is None else {"allowance_regime": regime}
    report = run(
        _cs(**changes), on="2026-06-01", volunteer_allowance_max_cents=ceiling
    )  # the example pays 4000
    assert bool(report.by_rule("R-CS-09")) is flagged
