"""Detection of a move, as the nightly pipeline calls it per contract."""

from __future__ import annotations

from piis_bridge.hooks.types import PushResult
from piis_bridge.transfer import CaseState, detect_transfer
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, example, moved


def _run(service, contract, push=None):
    return detect_transfer(
        service.sessions,
        cpas_id=service.cpas_id,
        party=CHARLEROI,
        contract=contract,
        record_id=contract.contract_id,
        push=push,
    )


def test_no_move_nothing_opened(charleroi):
    assert _run(charleroi, example("sanction-history")) is None
    assert charleroi.list_cases() == []


def test_task_is_returned_for_the_pipeline_outbox_until_confirmed(charleroi):
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    first = _run(charleroi, contract)
    assert first.created and first.pushed is None and first.task is not None
    assert first.task.kind == "transfer_notice" and first.task.due == MOVE_DATE
    assert first.task.key == f"{first.case.case_id}:detected"
    again = _run(charleroi, contract)
    assert not again.created and again.task is not None and again.task.key == first.task.key


def test_pushed_once_then_never_again(charleroi):
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)
    pushed = []

    def push(items):
        pushed.extend(items)
        return [PushResult(key=i.key, status="created", remote_id="T-1") for i in items]

    first = _run(charleroi, contract, push)
    assert first.pushed.status == "created" and first.task is None
    assert charleroi.get_case(first.case.case_id).task_ref == "T-1"
    second = _run(charleroi, contract, push)
    assert second.pushed is None and len(pushed) == 1


def test_push_failure_keeps_the_case_and_retries_next_run(charleroi):
    contract = moved(example("sanction-history"), LIEGE, MOVE_DATE)

    def down(items):
        raise ConnectionError("case system down")

    first = _run(charleroi, contract, down)
    assert first.case.state == CaseState.AWAITING_CONSENT and first.task is not None
    failed = _run(
        charleroi,
        contract,
        lambda items: [PushResult(key=i.key, status="failed", detail="x") for i in items],
    )
    assert failed.task is not None and charleroi.get_case(first.case.case_id).task_ref is None
    ok = _run(
        charleroi,
        contract,
        lambda items: [PushResult(key=i.key, status="duplicate") for i in items],
    )
    assert ok.task is None and charleroi.get_case(first.case.case_id).task_ref == first.task.key


def test_student_gets_an_information_task_not_a_consent_request(charleroi):
    contract = moved(example("studies"), LIEGE, MOVE_DATE)
    found = _run(charleroi, contract)
    assert found.case.state == CaseState.NOT_TRANSFERABLE
    assert "stays here" in found.task.title and found.task.due is None


def test_move_reported_from_outside_the_contract(charleroi):
    """A National Register mutation (new municipality and date) on a contract the case system has not updated."""
    from datetime import date

    from piis_bridge.transfer import ResidenceChange

    contract = example("sanction-history")
    found = detect_transfer(
        charleroi.sessions,
        cpas_id=charleroi.cpas_id,
        party=CHARLEROI,
        contract=contract,
        record_id=contract.contract_id,
        move=ResidenceChange(
            new_ins_code=LIEGE.ins_code, change_date=MOVE_DATE, municipality="Liège"
        ),
    )
    assert found.case.to_ins_code == LIEGE.ins_code and found.case.legal_end_date == MOVE_DATE
    stored = charleroi.contract_of(found.case.case_id)
    assert [(r.ins_code, r.start_date, r.end_date) for r in stored.beneficiary.residences][-2:] == [
        ("52011", date(2020, 1, 1), date(2026, 2, 9)),
        ("62063", MOVE_DATE, None),
    ]
    # the case system catches up later with the same move: still the same case
    again = _run(charleroi, moved(contract, LIEGE, MOVE_DATE))
    assert not again.created and again.case.case_id == found.case.case_id
