"""Valid test identifiers and a minimal canonical contract, for plugin authors' tests.

Why here: every identifier of the canonical model is checked with its real check digits (a NISS, a BCE
number, an INS code), so a test cannot use ``"12345678901"``; and the model has seven required parts,
which nobody should have to discover from validation errors.  Everything is synthetic and deterministic.

    from piis_bridge.testing import make_niss, make_bce, make_ins, minimal_contract

    niss = make_niss(date(1985, 7, 30), 33)          # '85073003328'
    contract = minimal_contract(contract_id="ACME-1", niss=niss)
    payload = minimal_contract_payload(contract_id="ACME-2")   # the same as a JSON-ready dict

Reference: piis-bridge ``docs/plugins.md``, section "Test data".
"""

from __future__ import annotations

from datetime import date
from typing import Any

__all__ = ["make_bce", "make_ins", "make_niss", "minimal_contract", "minimal_contract_payload"]


def make_niss(birth: date = date(1985, 7, 30), counter: int = 33) -> str:
    """A checksum-valid national register number (NISS) for a birth date and a day counter 1-997
    (odd: a man, even: a woman).  Born in 2000 or later: the check digits are computed with the ``2``
    prefix, as the National Register does."""
    if not 1 <= counter <= 997:
        raise ValueError(f"counter {counter}: the day counter of a NISS is 1 to 997")
    body = f"{birth:%y%m%d}{counter:03d}"
    check = 97 - int(("2" if birth.year >= 2000 else "") + body) % 97
    return f"{body}{check:02d}"


def make_bce(serial: int = 7916) -> str:
    """A checksum-valid 10-digit BCE/KBO enterprise number starting with 0 (``serial`` picks one of them)."""
    if not 0 < serial < 10_000_000:
        raise ValueError(f"serial {serial}: 1 to 9,999,999")
    first = 2_000_000 + serial if serial < 8_000_000 else serial
    head = f"0{first:07d}"
    return f"{head}{97 - int(head) % 97:02d}"


def make_ins(index: int = 0) -> str:
    """A real 5-digit INS/NIS municipality code (Liège, Gent, Antwerpen, Bruxelles, Namur, Charleroi...)."""
    codes = ("62063", "44021", "11002", "21004", "92094", "52011", "35013", "71022")
    return codes[index % len(codes)]


def minimal_contract_payload(
    contract_id: str = "TEST-0001",
    *,
    niss: str | None = None,
    start: date = date(2026, 2, 1),
    **overrides: Any,
) -> dict[str, Any]:
    """The smallest valid canonical contract, as the JSON a vendor export maps to: a CPAS (name, INS, BCE),
    the beneficiary (NISS and birth date), the DIS decision (id, date, RI category 1-3, monthly amount in
    cents, RI start), the orientation and the contract's start and end.  Top-level keys in ``overrides``
    replace the defaults (e.g. ``end_date="2026-12-31"``, ``cpas={...}``)."""
    birth = date(1985, 7, 30)
    payload: dict[str, Any] = {
        "contract_id": contract_id,
        "cpas": {"name": "CPAS de test", "ins_code": make_ins(0), "bce": make_bce()},
        "beneficiary": {"niss": niss or make_niss(birth, 33), "birth_date": birth.isoformat()},
        "decision": {
            "decision_id": f"{contract_id}-DIS",
            "decision_date": start.isoformat(),
            "ri_category": "2",
            "ri_amount_monthly_cents": 126_485,
            "ri_start_date": start.isoformat(),
        },
        "orientation": "PROFESSIONAL",
        "start_date": start.isoformat(),
        "end_date": date(start.year + 1, start.month, 1).isoformat(),
    }
    if niss is not None:
        payload["beneficiary"]["birth_date"] = _birth_of(niss) or birth.isoformat()
    payload.update(overrides)
    return payload


def minimal_contract(
    contract_id: str = "TEST-0001",
    *,
    niss: str | None = None,
    start: date = date(2026, 2, 1),
    **overrides: Any,
) -> Any:
    """:func:`minimal_contract_payload` validated into a :class:`piis_bridge.model.PIISContract`."""
    from piis_bridge.model import PIISContract

    return PIISContract.model_validate(
        minimal_contract_payload(contract_id, niss=niss, start=start, **overrides)
    )


def _birth_of(niss: str) -> str | None:
    from piis_bridge.identifiers import niss_birth_date

    born = niss_birth_date(niss)
    return born.isoformat() if born else None
