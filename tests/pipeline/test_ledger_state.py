"""Issue #12: the form ledger's state machine refuses ``sent -> sent``; of two processes marking the
same forms sent, exactly one moves each form (and only that one may send it)."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from piis_bridge.forms import Evaluation, FederalForm, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.ledger import InvalidTransition, Ledger, check_transition


def _niss(counter: int) -> str:
    base = int(f"850730{counter:03d}")
    return f"850730{counter:03d}{97 - base % 97:02d}"


def _form(i: int) -> FederalForm:
    return FederalForm(
        kind=FormKind.B,
        cpas_id="gent",
        cpas_name="Gent",
        cpas_ins="44021",
        cpas_bce="0207567726",
        niss=_niss(100 + i),
        dossier=f"D{i}",
        entry_date=date(2025, 3, 1),
        rubrics={"Category": "2", "MonthlyAmount": "120000"},
    )


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}")


def test_a_status_never_becomes_itself() -> None:
    for status in FormStatus:
        with pytest.raises(InvalidTransition):
            check_transition(status, status)


def test_marking_a_sent_form_sent_again_is_an_error(ledger: Ledger) -> None:
    entry, _ = ledger.record(_form(1), b"<x/>")
    ledger.mark_sent([entry.key])
    with pytest.raises(InvalidTransition, match="sent form cannot become sent"):
        ledger.mark_sent([entry.key])
    assert ledger.mark_sent([entry.key], claim=True) == []  # a claim simply does not win it


def test_the_same_answer_twice_is_not_a_transition_but_a_different_one_is_checked(
    ledger: Ledger,
) -> None:
    entry, _ = ledger.record(_form(2), b"<x/>")
    ledger.mark_sent([entry.key])
    ok = SubmissionOutcome(
        client_reference=entry.key,
        kind=FormKind.B,
        status=FormStatus.ACCEPTED,
        evaluation=Evaluation.ACCEPTED,
    )
    assert ledger.apply([ok]) == 1
    assert ledger.apply([ok]) == 0  # re-delivered: nothing changes
    refused = ok.model_copy(update={"evaluation": Evaluation.REFUSED, "status": FormStatus.REFUSED})
    with pytest.raises(InvalidTransition):
        ledger.apply([refused])


def test_two_processes_claiming_the_same_forms_each_win_a_disjoint_part(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    first = Ledger.open(url)
    keys = [first.record(_form(i), b"<x/>")[0].key for i in range(200)]
    won: list[list[str]] = [[], []]
    go = threading.Barrier(2)

    def claim(slot: int) -> None:
        ledger = Ledger.open(url)
        go.wait()
        for i in range(0, len(keys), 20):
            won[slot].extend(ledger.mark_sent(keys[i : i + 20], claim=True))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won[0] + won[1]) == sorted(keys)  # every form claimed exactly once
    assert not set(won[0]) & set(won[1])


def test_pipeline_units_refuse_forbidden_state_changes() -> None:
    from piis_bridge.pipeline.models import Effect, WorkItem
    from piis_bridge.pipeline.states import InvalidStateTransition

    item = WorkItem(state="pending")
    item.state = "leased"
    item.state = "done"
    with pytest.raises(InvalidStateTransition, match="a done record cannot become pending"):
        item.state = "pending"
    effect = Effect(kind="form", state="pending")
    effect.state = "sending"
    effect.state = "submitted"
    with pytest.raises(
        InvalidStateTransition, match="a submitted form effect cannot become sending"
    ):
        effect.state = "sending"
    with pytest.raises(ValueError):
        effect.state = "teleported"
