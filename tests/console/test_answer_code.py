"""The forms ledger's federal-code filter reads ``answer_code``, a generated and indexed column
(migration ``0021_console_answer_code``) that the database fills when the ledger records an answer,
on SQLite and on PostgreSQL, through the ledger's own bulk answer path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.forms import Evaluation, FormIssue, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.ledger import Ledger
from piis_bridge.ledger.models import FormEntry
from piis_bridge.migrations import upgrade_database
from piis_bridge.ops.queries import list_ledger
from tests.federal.conftest import niss
from tests.federal.test_ledger import form


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def test_the_answer_code_is_filled_when_the_answer_is_recorded_and_filtered_on(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    ledger = Ledger(make_sessionmaker(engine))
    forms = [form(niss=niss(counter=70 + i), dossier=f"C{i}") for i in range(3)]
    keys = ledger.record_new([(f, f"<x{i}/>".encode()) for i, f in enumerate(forms)])

    def entry(n: int) -> FormEntry:
        found = ledger.get(keys[n])
        assert found is not None
        return found

    cpas = entry(0).cpas_id
    assert entry(0).answer_code is None  # built, not answered
    ledger.mark_sent(keys)
    refused = [
        FormIssue(code="-300020", message="NISS not integrated"),
        FormIssue(code="-300021", message="second issue"),
    ]
    ledger.apply(
        [
            SubmissionOutcome(
                client_reference=keys[0],
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.REFUSED,
                received_at=datetime.now(UTC),
                issues=refused,
            ),
            SubmissionOutcome(
                client_reference=keys[1],
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.ACCEPTED,
                received_at=datetime.now(UTC),
                reference="S000000001",
            ),
        ]
    )
    assert entry(0).answer_code == "-300020"
    assert entry(1).answer_code is None and entry(2).answer_code is None
    with make_sessionmaker(engine)() as s:
        found = list_ledger(s, [cpas], code="-300020")
        assert [r.dossier for r in found.items] == ["C0"]
        assert list_ledger(s, [cpas], code="-300021").items == []  # the answer's first code
        assert list_ledger(s, ["another"], code="-300020").items == []  # scope
    engine.dispose()
