"""The submit and collect stages' set-based writes of outcomes and answers (one UPDATE ... FROM
json_to_recordset on PostgreSQL, an executemany on SQLite): each effect gets its own values, the
state guard holds, and the stored result is encrypted at rest when keys are configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from piis_bridge import crypto
from piis_bridge.crypto import new_key, reset_key_ring
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.forms import Evaluation, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.pipeline.collect import record_answers
from piis_bridge.pipeline.models import Effect, SyncRun
from piis_bridge.pipeline.submit import apply_outcomes

pytestmark = pytest.mark.services


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    monkeypatch.delenv(crypto.HASH_KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{new_key()}")
    monkeypatch.setenv(crypto.HASH_KEY_ENV, f"h1:{new_key()}")
    reset_key_ring()
    yield
    reset_key_ring()


@pytest.fixture(params=["sqlite", "postgres"])
def sessions(request, tmp_path: Path, ring):
    from piis_bridge.migrations import upgrade_database

    url = (
        f"sqlite:///{tmp_path}/app.sqlite3"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    upgrade_database(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _effects(sessions, states: list[str]) -> list[int]:
    with sessions.begin() as s:
        s.add(SyncRun(id="run1", trigger="test", cpas_ids=["gent"]))
        s.flush()
        effects = [
            Effect(
                key=f"form:gent:ref-{i}",
                kind="form",
                run_id="run1",
                cpas_id="gent",
                record_id=f"D{i}",
                state=state,
                payload_type="piis_bridge.forms:FederalForm",
                payload="{}",
            )
            for i, state in enumerate(states)
        ]
        s.add_all(effects)
        s.flush()
        return [e.id for e in effects]


def _outcome(i: int, evaluation: Evaluation, ticket: str | None = None) -> SubmissionOutcome:
    return SubmissionOutcome(
        client_reference=f"ref-{i}",
        kind=FormKind.B,
        status=FormStatus.SENT if evaluation is Evaluation.PENDING else FormStatus.ACCEPTED,
        evaluation=evaluation,
        ticket=ticket,
    )


def test_outcomes_then_answers_each_on_its_effect_guarded_and_encrypted(sessions) -> None:
    ids = _effects(sessions, ["sending", "sending", "pending"])
    with sessions() as s:
        effects = list(s.scalars(select(Effect).where(Effect.id.in_(ids)).order_by(Effect.id)))
        answered, waiting = apply_outcomes(
            s,
            effects,
            [
                _outcome(0, Evaluation.PENDING, "T-1"),
                _outcome(1, Evaluation.ACCEPTED, "T-1"),
                _outcome(2, Evaluation.ACCEPTED, "T-1"),  # not 'sending': the guard keeps it
            ],
            0,
        )
        s.commit()
    assert (answered, waiting) == (2, 1)  # counted from the outcomes; the write is guarded
    with sessions() as s:
        rows = {
            e.id: (e.state, e.answer, e.ticket, e.lease_owner)
            for e in s.scalars(select(Effect).where(Effect.id.in_(ids)))
        }
        assert rows[ids[0]] == ("submitted", "PENDING", "T-1", None)
        assert rows[ids[1]] == ("answered", "ACCEPTED", "T-1", None)
        assert rows[ids[2]] == ("pending", None, None, None)
        result = s.scalar(select(Effect.result).where(Effect.id == ids[1]))
        assert '"client_reference":"ref-1"' in result  # clear through the ORM
        raw = s.execute(text("SELECT result FROM sync_effect WHERE id = :i"), {"i": ids[1]})
        assert raw.scalar().startswith("enc:v1:k1:")  # encrypted at rest
        row = s.execute(select(*(Effect.id, Effect.key)).where(Effect.id == ids[0])).one()
        won = record_answers(s, {ids[0]: (row, "ACCEPTED", '{"answer": "é \\"<&>\\""}')})
        # a form another collect answered meanwhile is not written again
        again = record_answers(s, {ids[1]: (row, "REFUSED", "{}")})
        s.commit()
    assert won == [ids[0]] and again == []
    with sessions() as s:
        first = s.get(Effect, ids[0])
        assert (first.state, first.answer) == ("answered", "ACCEPTED")
        assert first.result == '{"answer": "é \\"<&>\\""}'
        raw = s.execute(text("SELECT result, answer FROM sync_effect WHERE id = :i"), {"i": ids[1]})
        stored, answer = raw.one()
        assert stored.startswith("enc:v1:k1:") and answer == "ACCEPTED"
