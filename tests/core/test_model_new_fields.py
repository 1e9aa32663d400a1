"""The fields added for issue #3 (facts the rules lacked): optional and backward compatible, dates are
dates, money is cents, and every problem in them is reported with its exact field path -- by the
loader and by ``piis-bridge validate`` -- without echoing a NISS."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.model import (
    PIISContract,
    contract_file_schema,
    dump_contract,
    load_contracts,
)

ROOT = Path(__file__).resolve().parents[2]

NEW_CONTRACT_FIELDS = (
    "orientation_reason",
    "partner_obligation",
    "refusals",
    "means_choice",
    "copy_receipt",
    "council_informed_date",
    "evidence",
)


def _raw(name: str = "u25-employment-project") -> dict[str, Any]:
    return copy.deepcopy(
        json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))["contracts"][0]
    )


def _problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The problems of one contract given as a single object (so paths have no ``contracts[i].`` prefix)."""
    return [(p.field, p.reason) for p in load_contracts(json.dumps(record), "x.json").problems]


def _fields(record: dict[str, Any]) -> list[str]:
    return [field for field, _ in _problems(record)]


def _without_new_fields(raw: dict[str, Any]) -> dict[str, Any]:
    for name in NEW_CONTRACT_FIELDS:
        raw.pop(name, None)
    return raw


def test_a_file_without_the_new_fields_is_valid_and_dumps_without_them() -> None:
    raw = _without_new_fields(_raw())
    contract = PIISContract.model_validate(raw)
    assert (
        contract.refusals == []
        and contract.evidence is None
        and contract.partner_obligation is None
    )
    assert contract.cpas.annual_reports == [] and contract.sanctions == []
    assert not any(name in json.loads(dump_contract(contract)) for name in NEW_CONTRACT_FIELDS)


def test_the_new_fields_are_in_the_schema_vendors_map_to() -> None:
    defs = contract_file_schema()["$defs"]
    assert set(NEW_CONTRACT_FIELDS) <= set(defs["PIISContract"]["properties"])
    assert {"notification_received_date", "breach_date", "appeal_information_given"} <= set(
        defs["SanctionDecision"]["properties"]
    )
    assert {"summer_jobs", "maintenance_debtors_investigation", "recovery_decision"} <= set(
        defs["StudiesBlock"]["properties"]
    )
    assert {"repeated_year", "cycle", "repeat_allowed_by_council_date"} <= set(
        defs["AcademicYearEvaluation"]["properties"]
    )
    assert {"allowance_regime", "effect_on_tax_explained"} <= set(
        defs["CommunityServiceBlock"]["properties"]
    )
    assert "annual_reports" in defs["Cpas"]["properties"]
    assert defs["JobApplicationMonth"]["properties"]["month"]["format"] == "date"
    assert defs["EvidenceLog"]["properties"]["jokers"]["type"] == "array"


def _full(raw: dict[str, Any]) -> dict[str, Any]:
    """Every new field filled in with consistent values."""
    raw["orientation_reason"] = "Housing first"
    raw["partner"] = {"niss": "85073000358", "birth_date": "1985-07-30"}
    raw["partner_obligation"] = {"basis": ["NONE"], "assessed_on": "2026-06-15"}
    raw["refusals"] = [
        {
            "refused_on": "2026-06-20",
            "reason": "Wants another training",
            "review": {
                "reviewed_on": "2026-06-25",
                "reviewed_by": "A. Martin",
                "health_or_equity_reasons": False,
                "project_ill_fitting": True,
                "outcome": "PROJECT_ADAPTED",
            },
        }
    ]
    raw["means_choice"] = {
        "person_choice": "Welding course",
        "declined": True,
        "decline_ground": "COSTS_NOT_COMPARABLE",
        "justification": "3x the cost",
    }
    raw["copy_receipt"] = {"received_on": "2026-07-06", "leaflet_received": True, "copies_count": 3}
    raw["council_informed_date"] = "2027-07-12"
    raw["evidence"] = {
        "job_applications": [
            {"month": "2026-08-01", "applications": 8, "proofs_received_date": "2026-08-31"}
        ],
        "attendance": [
            {
                "month": "2026-09-01",
                "sessions_planned": 12,
                "sessions_attended": 11,
                "sessions_justified": 1,
            }
        ],
        "sick_child_absences": [{"absent_on": "2026-10-05", "partner_present": False}],
        "jokers": [{"used_on": "2026-10-12", "school_year": "2026-2027"}],
    }
    raw["cpas"]["annual_reports"] = [
        {
            "year": 2025,
            "global_evaluation_date": "2026-03-20",
            "contract_evaluations_synthesis": "...",
            "employment_results_synthesis": "...",
        }
    ]
    return raw


def test_every_new_field_round_trips_exactly() -> None:
    raw = _full(_without_new_fields(_raw()))
    assert _problems(raw) == []
    contract = PIISContract.model_validate(raw)
    assert json.loads(dump_contract(contract)) == raw
    assert (
        contract.evidence is not None
        and contract.evidence.jokers[0].school_year_label == "2026-2027"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(council_informed_date="2027-02-30"), "council_informed_date"),
        (
            lambda r: r["refusals"][0].update(refused_on="2026-06-26"),
            "refusals[0].review.reviewed_on",
        ),
        (
            lambda r: r["refusals"][0].update(dis_refusal_decision_date="2026-06-01"),
            "refusals[0].dis_refusal_decision_date",
        ),
        (lambda r: r["refusals"][0].update(reason=" "), "refusals[0].reason"),
        (
            lambda r: r["refusals"][0]["review"].update(outcome="MAYBE"),
            "refusals[0].review.outcome",
        ),
        (lambda r: r["means_choice"].update(declined=False), "means_choice.decline_ground"),
        (lambda r: r["copy_receipt"].update(copies_count=0), "copy_receipt.copies_count"),
        (lambda r: r["partner_obligation"].update(basis=["U26"]), "partner_obligation.basis[0]"),
        (
            lambda r: r["evidence"]["job_applications"][0].update(month="2026-08-02"),
            "evidence.job_applications[0].month",
        ),
        (
            lambda r: r["evidence"]["job_applications"][0].update(applications=-1),
            "evidence.job_applications[0].applications",
        ),
        (
            lambda r: r["evidence"]["job_applications"].append(
                {"month": "2026-08-01", "applications": 3}
            ),
            "evidence.job_applications",
        ),
        (
            lambda r: r["evidence"]["attendance"][0].update(sessions_attended=12),
            "evidence.attendance[0].sessions_attended",
        ),
        (
            lambda r: r["evidence"]["attendance"][0].update(sessions_planned=0),
            "evidence.attendance[0].sessions_planned",
        ),
        (
            lambda r: r["evidence"]["jokers"][0].update(school_year="2026-2028"),
            "evidence.jokers[0].school_year",
        ),
        (
            lambda r: r["evidence"]["sick_child_absences"].append({"absent_on": "2026-10-05"}),
            "evidence.sick_child_absences",
        ),
        (
            lambda r: r["cpas"]["annual_reports"][0].update(global_evaluation_date="2024-12-31"),
            "cpas.annual_reports[0].global_evaluation_date",
        ),
        (
            lambda r: r["cpas"]["annual_reports"][0].update(president_signoff_date="2026-03-19"),
            "cpas.annual_reports[0].president_signoff_date",
        ),
        (
            lambda r: r["cpas"]["annual_reports"].append(dict(r["cpas"]["annual_reports"][0])),
            "cpas.annual_reports",
        ),
        (lambda r: r["cpas"]["annual_reports"][0].update(year=1999), "cpas.annual_reports[0].year"),
    ],
)
def test_a_problem_in_a_new_field_names_its_exact_path(change, field: str) -> None:  # noqa: ANN001
    raw = _full(_without_new_fields(_raw()))
    change(raw)
    assert _fields(raw) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda s: s.update(notification_received_date="2025-07-09"),
            "sanctions[0].notification_received_date",
        ),
        (
            lambda s: s.update(notification_received_date="2025-07-07"),
            "sanctions[0].notification_received_date",
        ),
        (lambda s: s.update(breach_date="2025-07-09"), "sanctions[0].breach_date"),
        (
            lambda s: s.update(appeal_information_given="sometimes"),
            "sanctions[0].appeal_information_given",
        ),
    ],
)
def test_sanction_receipt_and_breach_dates_are_checked(change, field: str) -> None:  # noqa: ANN001
    raw = _raw("sanction-history")
    raw["sanctions"][0].update(notification_received_date="2025-07-10", breach_date="2025-07-08")
    assert _problems(raw) == []  # received the day it was sent, breach on the decision day: fine
    change(raw["sanctions"][0])
    assert _fields(raw) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda s: s.update(
                summer_jobs=[{"summer": 2026, "worked": True}, {"summer": 2026, "worked": False}]
            ),
            "studies.summer_jobs[1].summer",
        ),
        (
            lambda s: s.update(
                summer_jobs=[
                    {
                        "summer": 2026,
                        "worked": True,
                        "start_date": "2026-08-01",
                        "end_date": "2026-07-01",
                    }
                ]
            ),
            "studies.summer_jobs[0].end_date",
        ),
        (
            lambda s: s.update(
                recovery_decision={
                    "decided_on": "2026-03-01",
                    "recover": True,
                    "served_on_debtors_date": "2026-02-28",
                }
            ),
            "studies.recovery_decision.served_on_debtors_date",
        ),
        (
            lambda s: s.update(
                maintenance_debtors_investigation={
                    "investigated_on": "2025-10-01",
                    "debtors_count": -2,
                }
            ),
            "studies.maintenance_debtors_investigation.debtors_count",
        ),
        (
            lambda s: s["academic_years"][0].update(repeated_year="twice"),
            "studies.academic_years[0].repeated_year",
        ),
    ],
)
def test_studies_facts_are_checked(change, field: str) -> None:  # noqa: ANN001
    raw = _raw("studies")
    change(raw["studies"])
    assert _fields(raw) == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"allowance_regime": "FLAT_RATE", "volunteer_allowance_cents": None},
            "community_service.allowance_regime",
        ),
        ({"allowance_regime": "IN_KIND"}, "community_service.allowance_regime"),
        ({"volunteer_allowance_cents": 40.5}, "community_service.volunteer_allowance_cents"),
    ],
)
def test_volunteer_allowance_is_integer_cents_with_a_known_regime(
    changes: dict[str, Any], field: str
) -> None:
    raw = _raw("community-service")
    for key, value in changes.items():
        if value is None:
            raw["community_service"].pop(key, None)
        else:
            raw["community_service"][key] = value
    assert _fields(raw) == [field]


def test_leap_day_dates_in_the_new_fields() -> None:
    raw = _full(_raw())
    raw["evidence"]["sick_child_absences"] = [{"absent_on": "2028-02-29"}]
    assert _problems(raw) == []
    raw["evidence"]["sick_child_absences"] = [{"absent_on": "2027-02-29"}]
    assert _fields(raw) == ["evidence.sick_child_absences[0].absent_on"]


def test_validate_command_reports_the_new_fields_with_their_path_and_no_niss(
    tmp_path: Path,
) -> None:
    good = _full(_raw())
    bad = _full(_raw())
    bad["contract_id"] = "BAD-NEW"
    bad["evidence"]["jokers"][0]["school_year"] = "2026"
    bad["refusals"][0]["review"]["reviewed_on"] = "2026-06-19"
    path = tmp_path / "contracts.json"
    path.write_text(
        json.dumps(
            {"format": "piis-bridge/contracts", "schema_version": 1, "contracts": [good, bad]}
        )
    )
    result = CliRunner().invoke(
        build_app(), ["validate", str(path), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(p["record"], p["field"]) for p in lines] == [
        ("#1 (BAD-NEW)", "contracts[1].refusals[0].review.reviewed_on"),
        ("#1 (BAD-NEW)", "contracts[1].evidence.jokers[0].school_year"),
    ]
    for niss in (good["beneficiary"]["niss"], good["partner"]["niss"]):
        assert niss not in result.output


def test_the_new_personal_facts_stay_at_the_cpas_in_a_transfer_package() -> None:
    """The hand-over package is minimal (piis_bridge.transfer.package): the partner's obligation record,
    refusals, the choice of means, the copy receipt and the evidence (health-related absences among them)
    are left out, like the partner and the needs assessment."""
    from datetime import date

    from piis_bridge.model import TransferRequest
    from piis_bridge.transfer.package import minimise_contract

    contract = PIISContract.model_validate(_full(_without_new_fields(_raw())))
    transfer = TransferRequest(
        transfer_id="T1",
        residence_change_date=date(2026, 10, 1),
        from_cpas_ins="62063",
        to_cpas_ins="21004",
        consent="GIVEN",
    )
    inner = minimise_contract(
        contract, end_date=date(2026, 10, 1), keep_sanction_ids=set(), transfer=transfer
    )
    assert inner.partner is None and inner.partner_obligation is None
    assert (
        inner.refusals == []
        and inner.means_choice is None
        and inner.copy_receipt is None
        and inner.evidence is None
    )
    assert inner.orientation_reason == contract.orientation_reason  # contract content travels
