"""``FederalService.record`` (the hook path of the nightly run) records chunk by chunk in bulk; it must give
exactly what recording form by form gives: keys, statuses, versions, links, sequence numbers, outcomes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from piis_plugins.federal.service import FederalService

from piis_bridge.forms import Evaluation, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.hooks.types import CpasContext
from piis_bridge.ledger import FormEntry, Ledger

from .conftest import INS, KBO, niss
from .test_ledger import form


def _service(tmp_path: Path, name: str, batch_size: int = 4) -> FederalService:
    ctx = CpasContext(
        cpas_id="liege",
        name="CPAS de Liège",
        ins_code=INS,
        bce=KBO,
        state_dir=tmp_path,
        settings={"batch_size": batch_size},
    )
    return FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / name}"))


_B_RUBRICS = {
    "Category": "2",
    "DecisionDate": date(2025, 2, 20),
    "MonthlyAmount": 120000,
    "PiisApplicant": 11,
    "ForeignersRegister": False,
    "HomelessFirstHome": False,
}


def _b(i: int, **over):
    over["rubrics"] = {**_B_RUBRICS, **over.get("rubrics", {})}
    return form(niss=niss(counter=40 + i), dossier=f"D{i}", cpas_id="liege", **over)


def _d(month: date = date(2025, 4, 1), amount: int = 100):
    return form(
        kind=FormKind.D,
        niss=niss(counter=40),
        dossier="D0",
        entry_date=None,
        recovery_month=month,
        cpas_id="liege",
        rubrics={
            "RecoveryType": "01",
            "PeriodStart": date(2025, 3, 1),
            "PeriodEnd": date(2025, 3, 31),
            "Amount": amount,
        },
    )


def _state(service: FederalService) -> list[tuple]:
    with service.ledger.sessions() as s:
        rows = s.query(FormEntry).order_by(FormEntry.key).all()
        by_id = {r.id: r.key for r in rows}
        return [
            (r.key, r.status, r.version, by_id.get(r.supersedes_id), r.period_key, r.payload_hash)
            for r in rows
        ]


def _accept(service: FederalService, key: str) -> None:
    service.ledger.mark_sent([key])
    service.ledger.apply(
        [
            SubmissionOutcome(
                client_reference=key,
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.ACCEPTED,
            )
        ]
    )


@pytest.mark.parametrize("batch_size", [1, 3, 50])
def test_bulk_record_is_the_form_by_form_record(tmp_path, batch_size: int) -> None:
    bulk, each = _service(tmp_path, "bulk.sqlite3", batch_size), _service(tmp_path, "each.sqlite3")
    first = [_b(i) for i in range(5)]
    for service, record in ((bulk, bulk.record), (each, each._record_each)):
        record(first)
        _accept(service, first[0].with_key().client_reference)
    batch = [
        _b(0, rubrics={"Category": "1", "MonthlyAmount": 90000}),  # correction of an accepted B
        _b(1),  # already recorded: same key
        _b(7),
        _b(8, entry_date=date(2025, 5, 1)),  # new ones
        _d(),
        _d(amount=200),
        _d(month=date(2025, 5, 1)),  # D: sequence numbers 1, 2 and 1
        _b(9),
        _b(9),  # the same form twice in one call
    ]
    one_by_one = []
    real = bulk._record_each
    bulk._record_each = lambda forms: (one_by_one.append(len(list(forms))), real(forms))[1]  # type: ignore[method-assign]
    got = bulk.record(batch)
    bulk._record_each = real  # type: ignore[method-assign]
    want = each._record_each(batch)
    assert one_by_one == [], "nothing in this batch interacts: every chunk must go in bulk"
    assert [o.model_dump() for o in got] == [o.model_dump() for o in want]
    assert _state(bulk) == _state(each)
    corrected = [r for r in _state(bulk) if r[3] is not None]
    assert len(corrected) == 1 and corrected[0][2] == 2  # the correction links to the accepted B


def test_forms_that_interact_are_recorded_one_by_one(tmp_path) -> None:
    bulk, each = _service(tmp_path, "bulk.sqlite3", 50), _service(tmp_path, "each.sqlite3")
    batch = [
        _b(3),
        _b(3, rubrics={"Category": "3", "MonthlyAmount": 150000}),  # same person and EntryDate
        _b(4, rubrics={"MonthlyAmount": 100_000_000}),
        _b(4),
    ]  # refused locally, then valid
    got, want = bulk.record(batch), each._record_each(batch)
    assert [o.model_dump() for o in got] == [o.model_dump() for o in want]
    assert _state(bulk) == _state(each)
    assert [o.status for o in got][2] is FormStatus.REFUSED
