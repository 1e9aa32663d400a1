"""The values crossing the hooks reject bad input precisely and never echo a NISS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from piis_bridge.hooks.types import (
    ChangePage,
    MappingOutcome,
    PushItem,
    PushResult,
    RecordProblem,
    SourceRecord,
)
from tests.plugins._helpers import A_NISS, record


def test_a_niss_is_refused_as_record_id_without_being_echoed() -> None:
    with pytest.raises(ValidationError) as err:
        SourceRecord(source="x", record_id=A_NISS, kind="k", modified_at=datetime.now(UTC))
    text = str(err.value)
    assert "is a NISS; use the vendor's own record id" in text and A_NISS not in text
    for model, kwargs in [
        (RecordProblem, {"field": "", "reason": "r"}),
        (PushItem, {"key": "k", "kind": "status", "title": "t"}),
        (MappingOutcome, {"skip_reason": "x"}),
    ]:
        with pytest.raises(ValidationError):
            model(record_id=A_NISS, **kwargs)


def test_an_eleven_digit_id_that_is_not_a_niss_is_accepted() -> None:
    assert record("12345678901").record_id == "12345678901"


def test_validation_errors_never_echo_the_input() -> None:
    with pytest.raises(ValidationError) as err:
        SourceRecord(
            source="x",
            record_id="r",
            kind="k",
            modified_at=datetime.now(UTC),
            payload={"niss": A_NISS},
            unexpected=A_NISS,
        )
    assert A_NISS not in str(err.value) and "unexpected" in str(err.value)


def test_modification_times_must_carry_a_time_zone() -> None:
    with pytest.raises(ValidationError, match="modified_at"):
        SourceRecord(source="x", record_id="r", kind="k", modified_at=datetime(2026, 1, 1))


def test_problem_texts_are_masked() -> None:
    problem = RecordProblem(
        record_id="r1", field="beneficiary.niss", reason=f"{A_NISS} fails the check"
    )
    assert problem.reason == "[NISS] fails the check"
    assert (
        PushResult(key="k", status="failed", detail=f"rejected {A_NISS}").detail
        == "rejected [NISS]"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"skip_reason": "x", "problems": [RecordProblem(record_id="r", field="a", reason="b")]},
    ],
)
def test_a_mapping_outcome_holds_exactly_one_result(kwargs: dict) -> None:
    with pytest.raises(ValidationError, match="exactly one of contract, problems or skip_reason"):
        MappingOutcome(record_id="r", **kwargs)


def test_a_mapping_outcome_contract_must_be_a_canonical_contract() -> None:
    with pytest.raises(ValidationError, match="contract"):
        MappingOutcome(record_id="r", contract={"contract_id": "x"})


def test_push_kinds_and_statuses_are_closed_lists() -> None:
    with pytest.raises(ValidationError, match="kind"):
        PushItem(key="k", record_id="r", kind="email", title="t")
    with pytest.raises(ValidationError, match="status"):
        PushResult(key="k", status="ok")


def test_hook_values_are_immutable() -> None:
    page = ChangePage(records=[], cursor="c")
    with pytest.raises(ValidationError):
        page.cursor = "d"  # type: ignore[misc]
