"""The pipeline's bookkeeping statements of constant shape (issue #20): ``insert_ignore`` as one
``INSERT ... SELECT FROM unnest(...)`` on PostgreSQL (the executemany on SQLite), ``any_of`` as
``= ANY(:array)``.  Both dialects must behave alike: only the inserted rows are returned, a key
already stored (or twice in one batch) is left alone, encrypted columns are encrypted, the
columns' Python defaults are filled in, and a value too long for its column is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from piis_bridge import crypto
from piis_bridge.crypto import new_key, reset_key_ring
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline.models import Effect, SyncRun, WorkItem, utcnow
from piis_bridge.pipeline.outbox import any_of, insert_ignore

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{new_key()}")
    reset_key_ring()
    yield
    reset_key_ring()


@pytest.fixture
def sessions(tmp_path: Path, request: pytest.FixtureRequest, ring: None) -> Iterator[Any]:
    backend = request.param
    url = (
        f"sqlite:///{tmp_path}/app.sqlite3"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    upgrade_database(url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    with maker.begin() as s:
        s.add(SyncRun(id="r1", trigger="test", cpas_ids=["gent"], status="running", counts={}))
    yield maker
    engine.dispose()


def _effect(key: str, payload: str = '{"secret": "Peeters"}') -> dict[str, Any]:
    now = utcnow()
    return dict(
        key=key,
        kind="push",
        run_id="r1",
        item_id=None,
        cpas_id="gent",
        record_id="D1",
        state="pending",
        payload_type="x:y",
        payload=payload,
        worker_id=None,
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_insert_ignore_returns_the_inserted_rows_only_and_encrypts(sessions: Any) -> None:
    with sessions.begin() as s:
        assert insert_ignore(s, Effect, [_effect("k1")], returning=Effect.key) == ["k1"]
    with sessions.begin() as s:
        # k1 is stored already, k3 comes twice in the batch: k2 and k3 once
        rows = [_effect("k1", "changed"), _effect("k2"), _effect("k3"), _effect("k3", "second")]
        assert sorted(insert_ignore(s, Effect, rows, returning=Effect.key)) == ["k2", "k3"]
        assert insert_ignore(s, Effect, [_effect("k4")]) == []  # no returning: nothing back
    with sessions() as s:
        stored = {e.key: e for e in s.scalars(select(Effect))}
        raw = dict(s.execute(text("SELECT key, payload FROM sync_effect")).all())
    assert sorted(stored) == ["k1", "k2", "k3", "k4"]
    assert stored["k1"].payload == '{"secret": "Peeters"}'  # the stored row was left alone
    assert stored["k3"].payload == '{"secret": "Peeters"}'  # the first of the batch won
    assert all(v.startswith("enc:v1:k1:") and "Peeters" not in v for v in raw.values())
    assert {e.attempts for e in stored.values()} == {0}  # a Python default the rows left out
    assert stored["k2"].created_at.tzinfo is not None


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_insert_ignore_work_items_returns_new_ids_with_defaults(sessions: Any) -> None:
    def item(record: str) -> dict[str, Any]:
        return dict(
            run_id="r1", cpas_id="gent", record_id=record, payload="{}", updated_at=utcnow()
        )

    with sessions.begin() as s:
        first = insert_ignore(s, WorkItem, [item("A"), item("B")], returning=WorkItem.id)
    with sessions.begin() as s:
        again = insert_ignore(s, WorkItem, [item("B"), item("C")], returning=WorkItem.id)
    assert len(first) == 2 and len(again) == 1 and not set(first) & set(again)
    with sessions() as s:
        items = {w.record_id: w for w in s.scalars(select(WorkItem))}
        assert s.scalars(select(WorkItem.record_id).where(any_of(s, WorkItem.id, again))).all() == [
            "C"
        ]
        assert s.scalars(select(WorkItem.id).where(any_of(s, WorkItem.id, []))).all() == []
    assert sorted(items) == ["A", "B", "C"]
    assert {(w.version, w.state, w.attempts, w.forms, w.findings) for w in items.values()} == {
        ("", "pending", 0, 0, 0)
    }


@pytest.mark.parametrize("sessions", ["postgresql"], indirect=True)
@pytest.mark.services
def test_insert_ignore_refuses_a_value_too_long_on_postgresql(sessions: Any) -> None:
    """The arrays are TEXT[]: the INSERT's cast to VARCHAR(200) refuses, it does not cut."""
    with pytest.raises(DBAPIError), sessions.begin() as s:
        insert_ignore(s, Effect, [_effect("k" * 201)])


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_record_stat_adds_up_tasks_of_one_stage_with_its_statement_built_once(
    sessions: Any,
) -> None:
    from piis_bridge.pipeline.models import StageStat
    from piis_bridge.pipeline.outbox import record_stat

    with sessions.begin() as s:
        record_stat(s, "r1", "pull", 5, 0.5)
        record_stat(s, "r1", "evaluate", 2, 1.0)
    with sessions.begin() as s:
        record_stat(s, "r1", "pull", 7, 0.25)
    with sessions() as s:
        stats = {st.stage: st for st in s.scalars(select(StageStat))}
    assert (stats["pull"].units, stats["pull"].tasks, stats["pull"].busy_seconds) == (12, 2, 0.75)
    assert (stats["evaluate"].units, stats["evaluate"].tasks) == (2, 1)
    assert stats["pull"].last_at >= stats["pull"].first_at


@pytest.mark.parametrize("sessions", BACKENDS, indirect=True)
def test_the_finish_probe_says_what_is_still_open_in_one_statement(sessions: Any) -> None:
    """-1 while a pull or an item is open, else 1 (a form open) + 2 (a push open)."""
    from piis_bridge.pipeline.models import SyncRunCpas
    from piis_bridge.pipeline.runs import probe_statement

    def probe() -> tuple[str, int]:
        with sessions() as s:
            status, flags = s.execute(probe_statement(), {"probe_run": "r1"}).one()
            return status, flags

    with sessions.begin() as s:
        s.add(SyncRunCpas(run_id="r1", cpas_id="gent", state="pulling"))
    assert probe() == ("running", -1)
    with sessions.begin() as s:
        s.get_one(SyncRunCpas, ("r1", "gent")).state = "pulled"
        insert_ignore(
            s,
            WorkItem,
            [dict(run_id="r1", cpas_id="gent", record_id="A", payload="{}", updated_at=utcnow())],
        )
    assert probe() == ("running", -1)  # the item is pending
    with sessions.begin() as s:
        s.execute(text("UPDATE sync_item SET state = 'done'"))
        insert_ignore(s, Effect, [{**_effect("f1"), "kind": "form"}, _effect("p1")])
    assert probe() == ("running", 3)
    with sessions.begin() as s:
        s.execute(text("UPDATE sync_effect SET state = 'answered' WHERE key = 'f1'"))
    assert probe() == ("running", 2)
    with sessions.begin() as s:
        s.execute(text("UPDATE sync_effect SET state = 'done' WHERE key = 'p1'"))
    assert probe() == ("running", 0)
    with sessions() as s:
        assert s.execute(probe_statement(), {"probe_run": "nope"}).first() is None
