"""Detection of a move, as the nightly pipeline calls it per contract."""

from __future__ import annotations

from piis_bridge.hooks.types import PushResult
from piis_bridge.transfer import CaseState, detect_transfer
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, example, moved


def _run(service, contract, push=None):
    return detect_transfer(service.sessions, cpas_id=service.cpas_id, party=CHARLEROI, contract=contract,
                           record_id=contract.contract_id, push=push)


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
    failed = _run(charleroi, contract, lambda items: [PushResult(key=i.key, status="failed", detail="x") for i in items])
    assert failed.task is not None and charleroi.get_case(first.case.case_id).task_ref is None
    ok = _run(charleroi, contract, lambda items: [PushResult(key=i.key, status="duplicate") for i in items])
    assert ok.task is None and charleroi.get_case(first.case.case_id).task_ref == first.task.key


def test_student_gets_an_information_task_not_a_consent_request(charleroi):
    contract = moved(example("studies"), LIEGE, MOVE_DATE)
    found = _run(charleroi, contract)
    assert found.case.state == CaseState.NOT_TRANSFERABLE
    assert "stays here" in found.task.title and found.task.due is None
