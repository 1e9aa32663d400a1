"""The canonical model: examples are valid, JSON round-trips exactly, bad input is reported
precisely (file, record, field) without echoing a NISS, and every record is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from piis_bridge.model import (
    PIISContract,
    contract_file_schema,
    dump_contract,
    dump_file,
    load_contracts,
    load_file,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
INVALID = ROOT / "tests" / "data" / "invalid-contracts.json"


def test_there_are_examples_for_each_required_situation() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {
        "u25-employment-project",
        "studies",
        "community-service",
        "social-insertion-third-party",
        "sanction-history",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_valid_and_round_trip_exactly(path: Path) -> None:
    result = load_file(path)
    assert result.problems == []
    original = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(dump_file(result.contracts)) == original
    for contract in result.contracts:
        again = PIISContract.model_validate_json(dump_contract(contract))
        assert again == contract


def test_examples_cover_their_situations() -> None:
    contracts = {p.stem: load_file(p).contracts[0] for p in EXAMPLES}
    assert contracts["studies"].studies is not None and contracts["studies"].is_studies
    assert contracts["community-service"].community_service is not None
    assert contracts["social-insertion-third-party"].third_parties
    assert contracts["social-insertion-third-party"].orientation == "SOCIAL"
    sanctions = contracts["sanction-history"].sanctions
    assert any(s.is_recidivism for s in sanctions) and any(s.sursis for s in sanctions)
    u25 = contracts["u25-employment-project"]
    assert u25.beneficiary.age_on(u25.decision.decision_date) < 25


def test_invalid_file_reports_every_bad_record_with_field_paths() -> None:
    result = load_file(INVALID)
    by_record = {p.record: p for p in result.problems}
    assert [c.contract_id for c in result.contracts] == ["GOOD-1"]
    assert result.records_seen == 8
    expected = {
        "#0 (BAD-NISS)": "contracts[0].beneficiary.niss",
        "#1 (BAD-DATE)": "contracts[1].decision.decision_date",
        "#2 (BAD-CODE)": "contracts[2].orientation",
        "#3 (MISSING-FIELD)": "contracts[3].start_date",
        "#4 (BAD-REF)": "contracts[4].commitments[0].objective_ids",
        "#5 (BIRTH-MISMATCH)": "contracts[5].beneficiary.birth_date",
        "#7 (BAD-BCE)": "contracts[7].cpas.bce",
    }
    assert {record: p.field for record, p in by_record.items()} == expected
    assert "check digits" in by_record["#0 (BAD-NISS)"].reason


def test_no_niss_in_any_problem_or_exception_text() -> None:
    raw = json.loads(INVALID.read_text())
    bad_niss = raw["contracts"][0]["beneficiary"]["niss"]
    good_niss = raw["contracts"][6]["beneficiary"]["niss"]
    for problem in load_file(INVALID).problems:
        assert bad_niss not in str(problem) and good_niss not in str(problem)
    with pytest.raises(ValidationError) as info:
        PIISContract.model_validate(raw["contracts"][0])
    assert bad_niss not in str(info.value)
    with pytest.raises(ValidationError) as info:
        PIISContract.model_validate(raw["contracts"][5])
    assert good_niss not in str(info.value)


def test_repr_hides_the_niss() -> None:
    contract = load_file(EXAMPLES[0]).contracts[0]
    assert contract.beneficiary.niss not in repr(contract)
    assert contract.beneficiary.niss not in str(contract.beneficiary)


def test_not_json_and_wrong_shape_are_problems_not_crashes() -> None:
    assert "not valid JSON" in load_contracts(b"{nope", "x.json").problems[0].reason
    assert load_contracts(b"[1, 2]", "x.json").problems[0].field == "(json)"
    assert load_contracts(b'{"contracts": 3}', "x.json").problems[0].field == "contracts"
    bad_header = load_contracts(b'{"format": "other", "contracts": []}', "x.json")
    assert bad_header.problems[0].field == "format"


def test_versions_are_appended_never_replaced() -> None:
    raw = json.loads(EXAMPLES[0].read_text())["contracts"][0]
    raw["versions"].append({"version_no": 3, "kind": "ANNEX", "effective_date": "2026-09-01"})
    problems = load_contracts(json.dumps(raw).encode(), "x").problems
    assert [p.field for p in problems] == ["versions"]


def test_money_is_integer_cents() -> None:
    raw = json.loads(EXAMPLES[0].read_text())["contracts"][0]
    raw["decision"]["ri_amount_monthly_cents"] = 876.13
    problems = load_contracts(json.dumps(raw).encode(), "x").problems
    assert problems and problems[0].field == "decision.ri_amount_monthly_cents"


def test_schema_describes_the_file() -> None:
    schema = contract_file_schema()
    assert schema["properties"]["contracts"]["items"]["$ref"].endswith("PIISContract")
    niss = schema["$defs"]["Person"]["properties"]["niss"]
    assert niss["pattern"] == r"^\d{11}$"


def test_cross_reference_checks_run_on_every_input_but_an_existing_contract_is_handed_over_as_is() -> (
    None
):
    """The integrity check is a wrap validator: dicts are checked wherever they enter (directly or in
    another model's field); a contract instance, already checked when built, is passed on unchanged
    instead of being checked again at every hand-over (MappingOutcome in the nightly run)."""
    from piis_bridge.hooks.types import MappingOutcome
    from piis_bridge.model import PIISContract

    contract = load_file(EXAMPLES[0]).contracts[0]
    raw = contract.model_dump(mode="json")
    raw["end_date"] = "2000-01-01"
    for build in (
        PIISContract.model_validate,
        lambda data: PIISContract(**data),
        lambda data: MappingOutcome(record_id="R-1", contract=data),
    ):
        with pytest.raises(ValidationError, match="end_date: is before start_date"):
            build(raw)
    assert MappingOutcome(record_id="R-1", contract=contract).contract is contract


def test_an_id_given_twice_is_reported_once_with_its_list() -> None:
    """Duplicate ids inside one list are refused (the set-first fast path must still find them)."""
    from piis_bridge.model import PIISContract

    raw = load_file(EXAMPLES[0]).contracts[0].model_dump(mode="json")
    PIISContract.model_validate(raw)  # the example itself has no duplicate
    raw["objectives"] = [raw["objectives"][0], raw["objectives"][1], raw["objectives"][0]]
    with pytest.raises(ValidationError, match="objectives: id 'O1' appears more than once") as info:
        PIISContract.model_validate(raw)
    assert str(info.value).count("appears more than once") == 1
