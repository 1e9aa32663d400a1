"""The state machine of both sides, over real SQLite files (one per CPAS)."""

from __future__ import annotations

from datetime import UTC

import pytest

from piis_bridge.model import Consent, ContractStatus
from piis_bridge.transfer import (
    CaseState,
    InvalidTransition,
    ReceiptState,
    TransferError,
    find_residence_change,
)
from piis_bridge.transfer.states import check_case_move
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, example, moved


def _open(service, name="sanction-history", to=LIEGE):
    contract = moved(example(name), to, MOVE_DATE)
    change = find_residence_change(contract)
    assert change is not None
    return service.open_case(contract, change, record_id=contract.contract_id)


def test_open_case_is_idempotent_and_awaits_consent(charleroi):
    case, created = _open(charleroi)
    again, created_again = _open(charleroi)
    assert created and not created_again and again.case_id == case.case_id
    assert case.state == CaseState.AWAITING_CONSENT and case.legal_end_date == MOVE_DATE
    assert [c.case_id for c in charleroi.list_cases()] == [case.case_id]
    assert [e.to_state for e in charleroi.events(case_id=case.case_id)] == [
        "detected",
        "awaiting_consent",
    ]


def test_student_is_not_transferred(charleroi):
    case, _ = _open(charleroi, "studies")
    assert case.state == CaseState.NOT_TRANSFERABLE and case.eligibility == "STAYS_STUDIES"
    assert case.legal_end_date is None and "R-TRF-02" in case.rules
    with pytest.raises(InvalidTransition):
        charleroi.record_consent(case.case_id, Consent.GIVEN, by="x", channel="y")
    with pytest.raises(TransferError, match="needs the person's consent"):
        charleroi.prepare_package(case.case_id, LIEGE)


def test_no_consent_no_package(charleroi):
    case, _ = _open(charleroi)
    with pytest.raises(TransferError, match="R-TRF-05"):
        charleroi.prepare_package(case.case_id, LIEGE)
    charleroi.record_consent(
        case.case_id, Consent.NOT_EXPRESSED, by="D. Renard", channel="letter, no answer"
    )
    assert charleroi.get_case(case.case_id).state == CaseState.AWAITING_CONSENT
    with pytest.raises(TransferError, match="R-TRF-05"):
        charleroi.prepare_package(case.case_id, LIEGE)


def test_refusal_is_recorded_and_final(charleroi):
    case, _ = _open(charleroi)
    charleroi.record_consent(
        case.case_id, Consent.REFUSED, by="D. Renard", channel="interview", note="stays silent"
    )
    assert charleroi.get_case(case.case_id).state == CaseState.CONSENT_REFUSED
    (record,) = charleroi.consents(case.case_id)
    assert (record.consent, record.recorded_by, record.channel) == (
        "REFUSED",
        "D. Renard",
        "interview",
    )
    with pytest.raises(InvalidTransition):
        charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="phone")
    with pytest.raises(TransferError):
        charleroi.prepare_package(case.case_id, LIEGE)


def test_consent_needs_who_and_how(charleroi):
    case, _ = _open(charleroi)
    with pytest.raises(TransferError, match="who recorded it"):
        charleroi.record_consent(case.case_id, Consent.GIVEN, by=" ", channel="interview")


def test_change_of_mind_before_sending_stops_it(charleroi):
    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    charleroi.prepare_package(case.case_id, LIEGE)
    charleroi.record_consent(case.case_id, Consent.REFUSED, by="D. Renard", channel="phone")
    assert charleroi.get_case(case.case_id).state == CaseState.CONSENT_REFUSED
    assert [c.consent for c in charleroi.consents(case.case_id)] == ["GIVEN", "REFUSED"]


def test_package_only_for_the_municipality_moved_to(charleroi):
    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    from tests.transfer._support import GENT

    with pytest.raises(TransferError, match="moved to INS 62063"):
        charleroi.prepare_package(case.case_id, GENT)


def test_full_exchange_in_process(charleroi, liege):
    case, _ = _open(charleroi)
    charleroi.record_consent(
        case.case_id, Consent.GIVEN, by="D. Renard", channel="interview, signed form"
    )
    envelope = charleroi.prepare_package(case.case_id, LIEGE)
    assert charleroi.prepare_package(case.case_id, LIEGE) == envelope  # built once, same package id

    outcome = liege.receive(envelope, deliver_draft=lambda draft, package: "draft-77")
    assert outcome.status == "accepted" and outcome.case_ref == "draft-77"
    assert outcome.draft_ref == "TRF-" + outcome.package_id[:16]
    row = liege.received(outcome.package_id)
    assert row.state == ReceiptState.ACKNOWLEDGED
    assert [e.to_state for e in liege.events(package_id=outcome.package_id)] == [
        "received",
        "verified",
        "imported_draft",
        "acknowledged",
    ]
    draft = liege.draft_of(outcome.package_id)
    assert (
        draft.status is ContractStatus.DRAFT
        and draft.cpas.bce == LIEGE.bce
        and draft.signatures == []
    )
    s2 = next(s for s in draft.sanctions if s.sanction_id == "S2")
    assert (s2.start_date, s2.end_date, s2.executing_cpas_ins) == (
        MOVE_DATE,
        MOVE_DATE.replace(day=28),
        "62063",
    )

    ack = charleroi.delivered(case.case_id, outcome.ack_envelope)
    assert ack.status == "accepted" and ack.draft_ref == outcome.draft_ref
    closed = charleroi.get_case(case.case_id)
    assert closed.state == CaseState.ACKNOWLEDGED and closed.remote_draft_ref == outcome.draft_ref

    again = liege.receive(
        envelope, deliver_draft=lambda draft, package: pytest.fail("imported twice")
    )
    assert (
        again.status == "duplicate"
        and again.case_ref == "draft-77"
        and again.draft_ref == outcome.draft_ref
    )
    assert len(liege.list_received()) == 1


def test_draft_delivery_failure_is_retried(charleroi, liege):
    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    envelope = charleroi.prepare_package(case.case_id, LIEGE)

    def down(draft, package):
        raise ConnectionError("case system down")

    outcome = liege.receive(envelope, deliver_draft=down)
    assert outcome.status == "accepted" and outcome.case_ref is None
    assert liege.retry_draft_delivery(lambda d, p: "draft-9") == [(outcome.package_id, "draft-9")]
    assert liege.retry_draft_delivery(lambda d, p: pytest.fail("delivered twice")) == []


def test_transfer_moves_are_checked():
    with pytest.raises(InvalidTransition, match="cannot go from 'awaiting_consent' to 'sent'"):
        check_case_move("c1", "awaiting_consent", CaseState.SENT)


def test_ack_from_someone_else_is_refused(charleroi, liege, cpas_keys):
    from datetime import datetime

    from piis_bridge.transfer import Ack, EnvelopeError, sign_ack

    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    charleroi.prepare_package(case.case_id, LIEGE)
    fake = sign_ack(
        Ack(
            package_id=None,
            status="accepted",
            receiver_bce=CHARLEROI.bce,
            acked_at=datetime.now(UTC),
        ),
        cpas_keys[CHARLEROI.bce],
    )
    with pytest.raises(EnvelopeError):
        charleroi.delivered(case.case_id, fake)
    assert charleroi.get_case(case.case_id).state == CaseState.PACKAGE_BUILT


def _exchanged(charleroi, liege):
    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    outcome = liege.receive(charleroi.prepare_package(case.case_id, LIEGE))
    charleroi.delivered(case.case_id, outcome.ack_envelope)
    return case, outcome.package_id


def test_r_trf_06_every_commitment_needs_one_decision(charleroi, liege):
    _, package_id = _exchanged(charleroi, liege)
    with pytest.raises(TransferError, match="not decided: C2"):
        liege.assess(package_id, taken_over=["C1"], not_taken_over={}, by="M. Lambert")
    with pytest.raises(TransferError, match="unknown commitments C9"):
        liege.assess(package_id, taken_over=["C1", "C2", "C9"], not_taken_over={}, by="M. Lambert")
    with pytest.raises(TransferError, match="decided twice: C1"):
        liege.assess(
            package_id, taken_over=["C1", "C2"], not_taken_over={"C1": "no budget"}, by="M. Lambert"
        )
    with pytest.raises(TransferError, match="no reason given for: C2"):
        liege.assess(package_id, taken_over=["C1"], not_taken_over={"C2": " "}, by="M. Lambert")
    assert liege.received(package_id).state == ReceiptState.ACKNOWLEDGED


def test_assessment_goes_back_and_is_acknowledged_both_ways(charleroi, liege):
    case, package_id = _exchanged(charleroi, liege)
    envelope = liege.assess(
        package_id,
        taken_over=["C1"],
        not_taken_over={"C2": "training paid by Forem here"},
        by="M. Lambert",
        new_contract_ref="LGE-2026-0999",
    )
    assert (
        liege.assess(package_id, taken_over=[], not_taken_over={}, by="x") == envelope
    )  # resend, same bytes
    answer = charleroi.receive_assessment(envelope)
    assert answer.status == "accepted"
    closed = charleroi.get_case(case.case_id)
    assert closed.state == CaseState.ASSESSED
    assessment = charleroi.assessment_of(case.case_id)
    assert (
        assessment.commitments_taken_over == ["C1"]
        and assessment.new_contract_ref == "LGE-2026-0999"
    )
    assert charleroi.receive_assessment(envelope).status == "duplicate"
    ack = liege.assessment_delivered(package_id, answer.ack_envelope)
    assert (
        ack.status == "accepted"
        and liege.received(package_id).state == ReceiptState.ASSESSMENT_ACKNOWLEDGED
    )
    draft = liege.draft_of(package_id)
    assert draft.transfer.assessment == assessment and draft.transfer.agreement_new_cpas is True


def test_tampered_or_foreign_assessment_is_rejected(charleroi, liege, cpas_keys):
    import base64
    import json

    case, package_id = _exchanged(charleroi, liege)
    envelope = liege.assess(package_id, taken_over=["C1", "C2"], not_taken_over={}, by="M. Lambert")
    header, payload, signature = envelope.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["assessment"]["commitments_taken_over"] = []
    forged = ".".join(
        [
            header,
            base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode(),
            signature,
        ]
    )
    assert charleroi.receive_assessment(forged).status == "rejected"
    # An assessment for a transfer Charleroi never sent (signed by a trusted CPAS) is refused too.
    from datetime import datetime

    from piis_bridge.model import TransferAssessment
    from piis_bridge.transfer.envelope import AssessmentMessage, sign_assessment

    stray = sign_assessment(
        AssessmentMessage(
            package_id="p-unknown",
            transfer_id="trf-unknown",
            assessor_bce=LIEGE.bce,
            addressee_bce=CHARLEROI.bce,
            assessed_by="x",
            created_at=datetime.now(UTC),
            assessment=TransferAssessment(assessed_on=MOVE_DATE),
        ),
        cpas_keys[LIEGE.bce],
    )
    refused = charleroi.receive_assessment(stray)
    assert refused.status == "rejected" and "no transfer trf-unknown" in refused.reason
    assert charleroi.get_case(case.case_id).state == CaseState.ACKNOWLEDGED
    assert len(charleroi.rejected()) == 2


def test_crash_before_the_ack_is_finished_by_the_next_delivery(charleroi, liege, monkeypatch):
    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    envelope = charleroi.prepare_package(case.case_id, LIEGE)
    real_ack = liege._ack

    def crash(**kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(liege, "_ack", crash)
    with pytest.raises(RuntimeError):
        liege.receive(envelope, deliver_draft=lambda d, p: "T-1")
    (row,) = liege.list_received()
    assert row.state == ReceiptState.IMPORTED_DRAFT and row.draft_ref == "T-1"
    monkeypatch.setattr(liege, "_ack", real_ack)
    delivered = []
    outcome = liege.receive(envelope, deliver_draft=lambda d, p: delivered.append(1) or "T-2")
    assert (
        outcome.status == "accepted" and outcome.case_ref == "T-1" and delivered == []
    )  # not pushed twice
    assert liege.received(outcome.package_id).state == ReceiptState.ACKNOWLEDGED
    assert charleroi.delivered(case.case_id, outcome.ack_envelope).status == "accepted"


def test_the_same_package_twice_at_once_is_imported_once(charleroi, liege):
    import threading

    case, _ = _open(charleroi)
    charleroi.record_consent(case.case_id, Consent.GIVEN, by="D. Renard", channel="interview")
    envelope = charleroi.prepare_package(case.case_id, LIEGE)
    answers, pushed = [], []
    barrier = threading.Barrier(4)

    def deliver():
        barrier.wait()
        answers.append(
            liege.receive(envelope, deliver_draft=lambda d, p: pushed.append(1) or "T").status
        )

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(liege.list_received()) == 1 and len(answers) == 4
    assert sorted(answers) == ["accepted", "duplicate", "duplicate", "duplicate"]
    (row,) = liege.list_received()
    acks = [e for e in liege.events(package_id=row.package_id) if e.to_state == "acknowledged"]
    assert len(acks) == 1
    # Racing deliveries may both hand the draft to the case system; the draft sink's push is keyed on
    # the package id (piis_case_push is idempotent on PushItem.key), so the vendor keeps one task.
    assert 1 <= len(pushed) <= 4
