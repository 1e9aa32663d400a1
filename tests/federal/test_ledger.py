"""Step 4: the ledger: idempotency keys, payload hash, state machine, versions linking corrections."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from piis_bridge.forms import (
    Evaluation,
    FederalForm,
    FormIssue,
    FormKind,
    FormStatus,
    SubmissionOutcome,
)
from piis_bridge.ledger import InvalidTransition, Ledger, check_transition

from .conftest import INS, KBO, niss


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}")


def form(**over) -> FederalForm:
    data = dict(
        kind=FormKind.B,
        cpas_id="liege",
        cpas_name="Liège",
        cpas_ins=INS,
        cpas_bce=KBO,
        niss=niss(),
        dossier="D1",
        entry_date=date(2025, 3, 1),
        rubrics={"Category": "2", "MonthlyAmount": "120000"},
    )
    data.update(over)
    return FederalForm(**data)


def outcome(key: str, evaluation: Evaluation, **over) -> SubmissionOutcome:
    return SubmissionOutcome(
        client_reference=key, kind=FormKind.B, status=FormStatus.SENT, evaluation=evaluation, **over
    )


def test_same_content_gives_the_same_key_and_is_recorded_once(ledger) -> None:
    first, created = ledger.record(form(), b"<xml/>")
    again, created_again = ledger.record(form(), b"<xml/>")
    assert created and not created_again and first.key == again.key and len(first.key) == 36
    changed, created3 = ledger.record(
        form(rubrics={"Category": "1", "MonthlyAmount": "120000"}), b"<xml2/>"
    )
    assert created3 and changed.key != first.key
    assert first.payload_hash != changed.payload_hash and len(first.payload_hash) == 64
    assert ledger.counts() == {"built": 2}


def test_record_many_streams_and_skips_known_keys(ledger) -> None:
    items = [(form(dossier=f"D{i}", niss=niss(counter=30 + i)), b"<x/>") for i in range(25)]
    assert ledger.record_many(items, chunk=10) == 25
    assert ledger.record_many(items, chunk=10) == 0


def test_state_machine_happy_path_and_forbidden_moves(ledger) -> None:
    entry, _ = ledger.record(form(), b"<x/>")
    ledger.mark_sent([entry.key], ticket="t1")
    assert ledger.get(entry.key).status == "sent" and ledger.get(entry.key).ticket == "t1"
    assert ledger.pending_dossiers("liege") == {"D1"}
    ledger.apply([outcome(entry.key, Evaluation.PENDING)])
    assert ledger.get(entry.key).status == "sent"
    ledger.apply(
        [
            outcome(
                entry.key,
                Evaluation.ACCEPTED,
                reference="S000000001",
                percentage=7500,
                received_at=datetime(2025, 4, 10, 9),
            )
        ]
    )
    got = ledger.get(entry.key)
    assert (got.status, got.reference, got.percentage) == ("accepted", "S000000001", 7500)
    with pytest.raises(InvalidTransition):
        ledger.apply([outcome(entry.key, Evaluation.REFUSED)])
    with pytest.raises(InvalidTransition):
        check_transition(FormStatus.SUPERSEDED, FormStatus.SENT)
    with pytest.raises(InvalidTransition):
        check_transition(FormStatus.REFUSED, FormStatus.ACCEPTED)
    with pytest.raises(KeyError):
        ledger.apply([outcome("nope", Evaluation.ACCEPTED)])


def test_refused_form_is_replaced_by_a_new_linked_version(ledger) -> None:
    old, _ = ledger.record(form(rubrics={"Category": "5"}), b"<x/>")
    ledger.mark_sent([old.key])
    ledger.apply(
        [
            outcome(
                old.key,
                Evaluation.REFUSED,
                issues=[FormIssue(code="B00001", field="Category", rubric="11 Catégorie")],
            )
        ]
    )
    assert ledger.get(old.key).errors[0]["code"] == "B00001"
    new, _ = ledger.record(form(rubrics={"Category": "2"}, supersedes=old.key), b"<y/>")
    assert new.version == 2 and new.supersedes_id == old.id
    assert ledger.get(old.key).status == "superseded"
    assert [e.key for e in ledger.versions(new.key)] == [old.key, new.key]


def test_accepted_b_is_superseded_only_when_its_correction_is_accepted(ledger) -> None:
    old, _ = ledger.record(form(), b"<x/>")
    ledger.mark_sent([old.key])
    ledger.apply([outcome(old.key, Evaluation.ACCEPTED)])
    corr, _ = ledger.record(
        form(correction=True, supersedes=old.key, rubrics={"Category": "2", "MonthlyAmount": "1"}),
        b"<z/>",
    )
    assert ledger.get(old.key).status == "accepted"
    ledger.mark_sent([corr.key])
    ledger.apply([outcome(corr.key, Evaluation.ACCEPTED)])
    assert ledger.get(old.key).status == "superseded"
    assert ledger.latest("liege", "B", niss(), "2025-03-01").key == corr.key


def test_d_sequence_numbers_per_dossier_and_month(ledger) -> None:
    month = date(2025, 4, 1)
    assert ledger.next_sequence("liege", "D1", month) == 1
    d1, _ = ledger.record(
        form(kind=FormKind.D, entry_date=None, recovery_month=month, sequence_number=1), b"<d/>"
    )
    assert ledger.next_sequence("liege", "D1", month) == 2
    assert ledger.next_sequence("liege", "D1", date(2025, 5, 1)) == 1
    assert ledger.next_sequence("liege", "D2", month) == 1
    ledger.mark_sent([d1.key])
    ledger.apply(
        [
            SubmissionOutcome(
                client_reference=d1.key,
                kind=FormKind.D,
                status=FormStatus.SENT,
                evaluation=Evaluation.REFUSED,
            )
        ]
    )
    assert ledger.next_sequence("liege", "D1", month) == 1  # a refused D frees its number


def test_niss_is_never_echoed_by_validation_errors() -> None:
    from pydantic import ValidationError

    bad = "85073003399"
    with pytest.raises(ValidationError) as info:
        form(niss=bad)
    assert bad not in str(info.value)
