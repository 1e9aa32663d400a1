"""The ledger's bulk paths (driver executemany with each column's bind processor) on PostgreSQL, the
production database: what is written reads back exactly as through SQLAlchemy, as on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from piis_bridge.forms import Evaluation, FormIssue, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.ledger import Ledger

from .conftest import niss
from .test_ledger import form

pytestmark = pytest.mark.services


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        yield Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
        return
    from tests.conftest import require_service

    require_service("postgres")
    import psycopg

    name = f"piis_ledger_{uuid.uuid4().hex[:10]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    ledger = Ledger.open(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield ledger
    finally:
        ledger.sessions.kw["bind"].dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bulk_insert_and_answers_read_back_exactly(ledger: Ledger) -> None:
    forms = [form(niss=niss(counter=60 + i), dossier=f"P{i}") for i in range(3)]
    keys = ledger.record_new(
        [(f, f"<x{i}/>".encode()) for i, f in enumerate(forms)],
        sent={forms[0].with_key().client_reference},
    )
    assert len(keys) == 3 and ledger.record_new([(forms[0], b"<x0/>")]) == []
    first = ledger.get(keys[0])
    assert (
        first.status == "sent"
        and first.sent_at is not None
        and first.errors == []
        and first.xml == "<x0/>"
    )
    assert ledger.get(keys[1]).status == "built" and ledger.get(keys[1]).sent_at is None
    received = datetime(2025, 4, 10, 9, 30)
    ledger.mark_sent(keys[1:])
    ledger.apply(
        [
            SubmissionOutcome(
                client_reference=keys[0],
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.ACCEPTED,
                percentage=7500,
                accepted_amount=120000,
                reference="S000000001",
                received_at=received.replace(tzinfo=UTC),
                ticket="t-1",
            ),
            SubmissionOutcome(
                client_reference=keys[1],
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.REFUSED,
                received_at=received,
                issues=[
                    FormIssue(
                        code="B00001", field="Category", rubric="11 Catégorie", message="é <&>"
                    )
                ],
            ),
        ]
    )
    a, r = ledger.get(keys[0]), ledger.get(keys[1])
    assert (a.status, a.percentage, a.accepted_amount, a.reference, a.ticket) == (
        "accepted",
        7500,
        120000,
        "S000000001",
        "t-1",
    )
    assert a.received_at == received and a.answered_at is not None
    assert r.status == "refused" and r.errors == [
        {
            "code": "B00001",
            "severity": "ERROR",
            "field": "Category",
            "rubric": "11 Catégorie",
            "message": "é <&>",
        }
    ]
    assert r.ticket is None
    ledger.integration_pending("liege", {forms[2].niss: date(2025, 1, 1)})
    ledger.integration_done("liege", {forms[2].niss: date(2024, 12, 1)})
    assert ledger.integrations("liege", [forms[2].niss]) == {
        forms[2].niss: ("done", date(2024, 12, 1))
    }


def _answer(key: str, evaluation: Evaluation, ticket: str | None = None) -> SubmissionOutcome:
    return SubmissionOutcome(
        client_reference=key,
        kind=FormKind.B,
        status=FormStatus.SENT,
        evaluation=evaluation,
        ticket=ticket,
    )


def test_answers_of_sent_forms_in_one_statement_and_every_transition_still_checked(
    ledger: Ledger,
) -> None:
    """PostgreSQL: the answers of forms still *sent* are written by one guarded UPDATE (no read of
    the statuses first, no execution per form); a repeated answer changes nothing, a transition the
    table forbids raises and writes nothing, an allowed later answer (accepted -> blocked) is
    written.  SQLite answers the same through the checked path."""
    from sqlalchemy import event

    from piis_bridge.ledger import InvalidTransition

    forms = [form(niss=niss(counter=80 + i), dossier=f"Q{i}") for i in range(4)]
    keys = ledger.record_new([(f, f"<q{i}/>".encode()) for i, f in enumerate(forms)])
    ledger.mark_sent(keys, ticket="t-9")
    engine = ledger.sessions.kw["bind"]
    statements: list[str] = []

    def listen(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split())[:40])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        applied = ledger.apply([_answer(k, Evaluation.ACCEPTED, "t-other") for k in keys[:3]])
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert applied == 3
    if engine.dialect.name == "postgresql":
        assert statements == ["UPDATE federal_form_ledger AS f SET stat"], statements
    assert {ledger.get(k).status for k in keys[:3]} == {"accepted"}
    assert {ledger.get(k).ticket for k in keys[:3]} == {
        "t-9"
    }  # the ticket recorded at sending stays
    assert ledger.apply([_answer(keys[0], Evaluation.ACCEPTED)]) == 0  # the same answer again
    with pytest.raises(InvalidTransition):  # accepted -> refused is not a transition
        ledger.apply([_answer(keys[3], Evaluation.ACCEPTED), _answer(keys[1], Evaluation.REFUSED)])
    assert ledger.get(keys[3]).status == "sent" and ledger.get(keys[1]).status == "accepted"
    assert ledger.apply([_answer(keys[2], Evaluation.BLOCKED)]) == 1
    assert ledger.get(keys[2]).status == "blocked"
    with pytest.raises(KeyError):
        ledger.apply([_answer("no-such-form", Evaluation.ACCEPTED)])


def test_bulk_insert_encrypts_niss_payload_and_xml_at_rest(ledger: Ledger, monkeypatch) -> None:
    """The bulk insert (one JSON document on PostgreSQL) applies the columns' encryption: the
    NISS, the payload and the XML are ciphertext in the table and clear through the ledger."""
    from sqlalchemy import text

    from piis_bridge import crypto
    from piis_bridge.crypto import new_key, reset_key_ring

    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{new_key()}")
    monkeypatch.setenv(crypto.HASH_KEY_ENV, f"h1:{new_key()}")
    reset_key_ring()
    try:
        f = form(niss=niss(counter=91), dossier="E1")
        [key] = ledger.record_new([(f, b'<x a="1">\xc3\xa9</x>')], sent={f.with_key().key})
        with ledger.sessions() as s:
            raw = s.execute(
                text("SELECT niss, payload, xml, status, errors FROM federal_form_ledger")
            ).one()
        assert all(v.startswith("enc:v1:k1:") for v in raw[:3]) and f.niss not in str(raw)
        assert raw[3] == "sent" and raw[4] in ([], "[]")  # JSON (PostgreSQL) or its text (SQLite)
        entry = ledger.get(key)
        assert (entry.niss, entry.xml) == (f.niss, '<x a="1">é</x>')
        assert entry.payload == f.with_key().model_dump_json()
    finally:
        reset_key_ring()
