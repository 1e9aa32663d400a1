"""The bytes and idempotency keys of built forms do not move (issue #20).

Why: the ledger keeps every form's client reference (its idempotency key, derived from the form's content)
and the hash of its exact XML bytes; a builder that produced other bytes or other keys for the same
contract would make every existing ledger see "changed" forms (a correction sent for nothing) or refuse
its own recorded payloads.  ``data/form_keys_golden.json`` holds, for ~2,900 varied forms (B from grants
and changes, C refusals and withdrawals, D recoveries; with and without partner, every contract status,
PIIS-code rule and validity window, exemption, employment, category, dossier numbers and CPAS names that
need normalising or escaping; corrections and D sequence numbers as the ledger sets them), a digest of
(client reference, XML bytes, content hash) made with the builder as it was before the compiled one.
Regenerate only for a deliberate change of keys, with a migration plan:
``python tests/federal/test_form_bytes_golden.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from piis_plugins.federal.building import FormBuilder, to_xml, validate_form

from piis_bridge.forms import ContractEvent, EventKind, FederalForm, FormKind, RecoveryInfo
from piis_bridge.model import load_file
from piis_bridge.model.decision import Exemption
from piis_bridge.model.enums import (
    ContractStatus,
    EmploymentStatus,
    ExemptionGround,
    FormTag,
    RICategory,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "data" / "form_keys_golden.json"
EXAMPLES = (
    "studies.json",
    "community-service.json",
    "sanction-history.json",
    "social-insertion-third-party.json",
    "u25-employment-project.json",
)
STATUSES: tuple[Any, ...] = (*ContractStatus, "ACTIVE", "DRAFT")  # plain strings too
TAGS: tuple[list[Any], ...] = (
    [FormTag.GENERAL],
    [FormTag.STUDIES_FULLTIME],
    [FormTag.COMMUNITY_SERVICE],
    [FormTag.TRAINING, FormTag.STUDIES_FULLTIME],
    [],
)
STARTS = (None, date(2016, 10, 1), date(2017, 3, 1), date(2018, 10, 1), date(2024, 1, 1))
DOSSIERS = (None, "GNT/2025 0877-é&<>#xyz", "a" * 30, "!!!", "B-1/2")
NAMES = (None, "CPAS d'Ixelles & <Elsene>", "OCMW Sint-Jans-Molenbeek é ö", "Tab\tand\rCR")


def _niss(i: int) -> str:
    """The i-th distinct valid NISS born in the 1900s."""
    d = date.fromordinal(date(1950, 1, 1).toordinal() + (i * 37) % 18000)
    base = f"{d:%y%m%d}{i % 997 + 1:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def _birth(niss: str) -> date:
    return date(1900 + int(niss[:2]), int(niss[2:4]), int(niss[4:6]))


def _contracts() -> Iterator[tuple[str, Any]]:
    templates = [load_file(ROOT / "examples" / name).contracts[0] for name in EXAMPLES]
    for i in range(420):
        c = templates[i % len(templates)]
        status = STATUSES[i % len(STATUSES)]
        tags = TAGS[i % len(TAGS)]
        partner = i % 3 == 1
        exempt = i % 7 == 3
        employed = i % 4 == 2
        category = list(RICategory)[i % 3]
        start = STARTS[i % len(STARTS)]
        dossier = DOSSIERS[i % len(DOSSIERS)]
        name = NAMES[i % len(NAMES)]
        niss = _niss(i)
        decision_update: dict[str, Any] = {"ri_category": category}
        if start is not None:
            decision_update.update(ri_start_date=start, decision_date=start + timedelta(days=12))
        if i % 11 == 5:
            decision_update["ri_amount_monthly_cents"] = 0
        update: dict[str, Any] = {
            "status": status,
            "form_tags": tags,
            "beneficiary": c.beneficiary.model_copy(
                update={
                    "niss": niss,
                    "birth_date": _birth(niss),
                    "employment_status": EmploymentStatus.ART60
                    if employed
                    else EmploymentStatus.NONE,
                }
            ),
            "decision": c.decision.model_copy(update=decision_update),
            "obligation": c.obligation.model_copy(
                update={
                    "exemption": Exemption(
                        ground=ExemptionGround.HEALTH,
                        reason_text="health",
                        motivated_decision_date=date(2024, 5, 1),
                    )
                    if exempt
                    else None
                }
            ),
        }
        if partner:
            pn = _niss(i + 5000)
            update["partner"] = c.beneficiary.model_copy(
                update={"niss": pn, "birth_date": _birth(pn)}
            )
        if dossier is not None:
            update["contract_id"] = dossier
        if name is not None:
            update["cpas"] = c.cpas.model_copy(update={"name": name})
        label = f"{i}:{EXAMPLES[i % len(EXAMPLES)]}"
        yield label, c.model_copy(update=update)


def _events(i: int, contract: Any) -> Iterator[tuple[str, ContractEvent]]:
    start = contract.decision.ri_start_date
    yield "from_contract", ContractEvent.from_contract(contract)
    yield "grant", ContractEvent(kind=EventKind.GRANT)
    yield (
        "change",
        ContractEvent(
            kind=EventKind.CHANGE,
            effective_date=start + timedelta(days=31 * (1 + i % 5)),
            decision_date=start + timedelta(days=20),
        ),
    )
    yield (
        "end",
        ContractEvent(
            kind=EventKind.END,
            effective_date=start + timedelta(days=90 + i % 40),
            decision_date=None if i % 2 else start + timedelta(days=80),
            end_nature="1" if i % 3 == 0 else "2",
        ),
    )
    month = date(2025, 1 + i % 12, 1)
    yield (
        "recovery",
        ContractEvent(
            kind=EventKind.RECOVERY,
            recovery=RecoveryInfo(
                month=month,
                recovery_type=f"{1 + i % 4:02d}",
                period_start=month - timedelta(days=31),
                period_end=month - timedelta(days=1),
                amount_cents=(i * 7919) % 99_999_999,
            ),
        ),
    )


def _variants(form: FederalForm, i: int) -> Iterator[tuple[str, FederalForm]]:
    """What the service records: the form keyed, a B correction linked to it, a D with its number."""
    if form.kind is FormKind.D:
        yield "seq1", form.model_copy(update={"sequence_number": 1 + i % 3})
        if i % 4 == 0:
            yield "seq-corr", form.model_copy(update={"sequence_number": 2, "correction": True})
        return
    keyed = form.with_key()
    yield "", keyed
    if form.kind is FormKind.B and i % 2 == 0:
        yield "corr", form.model_copy(update={"correction": True, "supersedes": keyed.key})


def digests() -> Iterator[tuple[str, str]]:
    """(label, digest of the client reference + content hash + XML bytes) of every golden form."""
    builder = FormBuilder()
    for i, (label, contract) in enumerate(_contracts()):
        for name, event in _events(i, contract):
            form = builder.build("cpas-x" if i % 2 else "gent", contract, event)
            for variant, one in _variants(form, i):
                keyed = one.with_key()
                xml = to_xml(keyed)
                data = f"{keyed.key}|{keyed.content_hash()}|".encode() + xml
                yield f"{label}:{name}:{variant}", hashlib.sha256(data).hexdigest()[:16]


def test_forms_keep_their_bytes_and_keys() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = list(digests())
    assert len(got) == len(expected["digests"])
    for (label, digest), want in zip(got, expected["digests"], strict=True):
        assert digest == want, f"form {label}: other bytes or key than the golden file"


def test_the_golden_forms_cover_every_rubric_and_stay_mostly_valid() -> None:
    """The golden set is not trivial: every mapped rubric occurs, with and without a value."""
    builder = FormBuilder()
    seen: dict[str, set[bool]] = {}
    kinds, valid = set(), 0
    for i, (_, contract) in enumerate(_contracts()):
        if i % 5:
            continue
        for _, event in _events(i, contract):
            form = builder.build("gent", contract, event)
            kinds.add(form.kind)
            for rubric, value in form.rubrics.items():
                seen.setdefault(rubric, set()).add(value is None)
            if form.kind is not FormKind.D:
                valid += not validate_form(form.with_key())
    assert kinds == set(FormKind)
    for rubric in ("Category", "PiisApplicant", "Partner", "DecisionDate", "Amount"):
        assert rubric in seen
    assert seen["Partner"] == {True, False} and seen["PiisApplicant"] == {True, False}
    assert valid > 50


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(
        json.dumps({"digests": [d for _, d in digests()]}, indent=0) + "\n", encoding="utf-8"
    )


def test_built_forms_are_what_model_construct_makes() -> None:
    """The builder sets a FederalForm's state itself (measured: model_construct was a tenth of build +
    validate); the result must be the very object model_construct makes from the same values."""
    builder = FormBuilder()
    for i, (_, contract) in enumerate(_contracts()):
        if i % 9:
            continue
        for _, event in _events(i, contract):
            form = builder.build("gent", contract, event)
            same = FederalForm.model_construct(**dict(form.__dict__))
            assert form == same and list(form.__dict__) == list(same.__dict__)
            assert form.model_fields_set == same.model_fields_set
            assert form.__pydantic_private__ == same.__pydantic_private__
            assert form.__pydantic_extra__ == same.__pydantic_extra__
            assert form.model_dump_json() == same.model_dump_json()
            assert form.with_key().key == same.with_key().key
            changed = form.model_copy(update={"correction": True})
            assert changed.correction and changed.content_hash() == form.content_hash()
