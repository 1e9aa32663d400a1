"""``piis_bridge.testing`` test data: identifiers with valid check digits and a minimal valid contract."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.identifiers import IdentifierError, validate_bce, validate_ins, validate_niss
from piis_bridge.model import PIISContract
from piis_bridge.testing import (
    make_bce,
    make_ins,
    make_niss,
    minimal_contract,
    minimal_contract_payload,
)


@pytest.mark.parametrize(
    "birth, counter",
    [
        (date(1985, 7, 30), 33),
        (date(2003, 2, 1), 2),
        (date(1999, 12, 31), 997),
        (date(2000, 1, 1), 1),
    ],
)
def test_make_niss_passes_the_real_check(birth: date, counter: int) -> None:
    niss = make_niss(birth, counter)
    assert validate_niss(niss) == niss and niss.startswith(f"{birth:%y%m%d}{counter:03d}")
    broken = niss[:-1] + str((int(niss[-1]) + 1) % 10)
    with pytest.raises(IdentifierError):
        validate_niss(broken)


def test_make_bce_and_make_ins_pass_the_real_checks() -> None:
    numbers = {make_bce(serial) for serial in (1, 5, 7916, 9_000_000)}
    assert len(numbers) == 4 and all(validate_bce(n) == n for n in numbers)
    assert all(validate_ins(make_ins(i)) == make_ins(i) for i in range(10))
    with pytest.raises(ValueError):
        make_niss(counter=0)


def test_minimal_contract_is_valid_and_overridable() -> None:
    contract = minimal_contract("ACME-1")
    assert isinstance(contract, PIISContract) and contract.contract_id == "ACME-1"
    niss = make_niss(date(2001, 3, 4), 5)
    other = minimal_contract("ACME-2", niss=niss, end_date="2026-12-31")
    assert other.beneficiary.niss == niss and other.beneficiary.birth_date == date(2001, 3, 4)
    assert other.end_date == date(2026, 12, 31)
    payload = minimal_contract_payload("ACME-3")
    assert set(payload) == {
        "contract_id",
        "cpas",
        "beneficiary",
        "decision",
        "orientation",
        "start_date",
        "end_date",
    }
    del payload["decision"]
    with pytest.raises(ValueError):
        PIISContract.model_validate(payload)
