"""The sweeper vacuums the pipeline's own hot tables when they carry more dead row versions than
live rows (``outbox.vacuum_bloated``): on a PostgreSQL server whose autovacuum is off or behind,
every state change of a side effect leaves a dead version in the table and each of its indexes,
and a night's claims would walk them all.  Checked on the real server's own counters
(``pg_stat_user_tables``), on both sides of the threshold, and a no-op on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text, update

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.models import Effect, SyncRun, utcnow
from piis_bridge.pipeline.outbox import vacuum_bloated
from tests.pipeline.conftest import make_settings


def _runtime(tmp_path: Path, url: str) -> Runtime:
    upgrade_database(url)
    return Runtime(
        make_settings(tmp_path, "http://127.0.0.1:9", database_url=url), PipelineOptions()
    )


def _effects(rt: Runtime, n: int) -> None:
    now = utcnow()
    with rt.session() as s:
        s.add(SyncRun(id="r1", trigger="manual", cpas_ids=["gent"], status="running", counts={}))
        s.flush()
        s.execute(
            Effect.__table__.insert(),
            [
                {
                    "key": f"form:gent:{i}",
                    "kind": "form",
                    "run_id": "r1",
                    "cpas_id": "gent",
                    "record_id": f"D{i}",
                    "state": "pending",
                    "payload_type": "x:y",
                    "payload": "{}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )
        s.commit()


def _churn(rt: Runtime, times: int) -> None:
    """Every effect changes state *times* times (a dead version each), and the server's counters
    are flushed (PostgreSQL 15 batches a backend's statistics up to a second)."""
    with rt.session() as s:
        for n in range(times):
            s.execute(update(Effect).values(state="sending" if n % 2 == 0 else "pending"))
        s.commit()
        s.execute(text("SELECT pg_stat_force_next_flush()"))
        s.commit()


def _vacuums(rt: Runtime) -> tuple[int, int]:
    with rt.session() as s:
        s.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = s.execute(
            text(
                "SELECT vacuum_count + autovacuum_count, n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname = 'sync_effect'"
            )
        ).one()
        s.commit()
    return int(row[0]), int(row[1])


@pytest.mark.services
def test_a_table_with_more_dead_versions_than_live_rows_is_vacuumed(
    tmp_path: Path, pg_url: str
) -> None:
    rt = _runtime(tmp_path, pg_url)
    try:
        _effects(rt, 1500)
        _churn(rt, 1)  # 1,500 dead for 1,500 live: under 1,000 + 1 x live
        before, dead = _vacuums(rt)
        assert dead == 1500
        with rt.session() as s:
            assert vacuum_bloated(s) == []
        assert _vacuums(rt) == (before, 1500)

        _churn(rt, 1)  # 3,000 dead for 1,500 live: over the threshold
        with rt.session() as s:
            assert vacuum_bloated(s) == ["sync_effect"]
        after, dead = _vacuums(rt)
        assert after == before + 1 and dead == 0
        with rt.session() as s:
            assert vacuum_bloated(s) == []  # nothing left to do
    finally:
        rt.close()


def test_sqlite_is_left_alone(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path}/app.sqlite3")
    try:
        _effects(rt, 10)
        with rt.session() as s:
            assert vacuum_bloated(s) == []
    finally:
        rt.close()
