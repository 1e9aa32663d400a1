"""The sweeper re-enqueues what was lost, and nothing that is only waiting.

A pending item whose message waits behind thousands of others in the broker is not lost while its
run makes progress: re-enqueuing it only duplicates messages (the 100,000-record run sent 11,250).
Only a run with no progress for ``requeue_after`` gets its pending items (and pull) enqueued again;
an item leased past its lease (its worker died) is enqueued again at once.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.models import StageStat, SyncRun, WorkItem, utcnow
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.stages import create_run, pull
from piis_bridge.pipeline.sweeper import sweep
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def test_pending_items_are_enqueued_again_only_when_the_run_stalls(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(30)
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings,
        PipelineOptions(
            broker_dir=tmp_path / "broker", page_size=10, chunk_size=10, requeue_after=180
        ),
        plugins=(("pipetest", pipetest),),
    )
    run_id = create_run(rt)
    queued = InlineEnqueuer(rt)  # the broker: the process messages of the 30 items wait here
    pull(rt, run_id, "gent", queued)
    assert queued.sent["process"] == 3
    long_ago = utcnow() - timedelta(seconds=600)
    with rt.session() as s:
        s.execute(update(WorkItem).values(updated_at=long_ago))  # waiting for a long time...
        s.commit()

    # ...while the run moves (a stage recorded work a minute ago): nothing is lost, nothing is sent.
    with rt.session() as s:
        s.execute(
            update(StageStat)
            .where(StageStat.run_id == run_id)
            .values(last_at=utcnow() - timedelta(seconds=60))
        )
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(started_at=long_ago))
        s.commit()
    sweeper = InlineEnqueuer(rt)
    assert sweep(rt, sweeper)["items"] == 0 and sweeper.sent["process"] == 0

    # An item whose worker died (leased past its lease) is sent again at once.
    with rt.session() as s:
        dead = s.scalars(select(WorkItem.id).order_by(WorkItem.id).limit(1)).one()
        s.execute(
            update(WorkItem)
            .where(WorkItem.id == dead)
            .values(state="leased", lease_until=utcnow() - timedelta(seconds=1))
        )
        s.commit()
    assert sweep(rt, sweeper)["items"] == 1

    # No progress for longer than requeue_after: the messages were lost; every pending item goes again.
    with rt.session() as s:
        s.execute(update(StageStat).where(StageStat.run_id == run_id).values(last_at=long_ago))
        s.execute(update(WorkItem).values(updated_at=long_ago))
        s.commit()
    found = sweep(rt, sweeper)
    assert found["items"] == 30 and sweeper.sent["process"] == 1 + 3
    assert (
        sweep(rt, sweeper)["items"] == 0
    )  # and not again at the next pass (their clock was reset)

    sweeper.drain()  # the re-sent messages finish the run; the original ones find nothing to claim
    queued.drain()
    summary = run_summary(rt, run_id)
    assert summary.status == "finished" and summary.counts["processed"] == 30, summary
    assert len(remote.state.effects) == 30 and max(remote.state.submit_calls.values()) == 1
    rt.close()


@pytest.mark.services
def test_a_stalled_run_with_more_items_than_one_statement_binds_recovers(
    tmp_path: Path, make_remote, pg_url: str
) -> None:
    """85,750 pending items of a 100,000-dossier run whose messages were lost made every sweep fail on
    PostgreSQL (one UPDATE ... IN binding them all: over 65,535 parameters), so the run never moved."""
    remote = make_remote(1)
    settings = make_settings(tmp_path, remote.url, database_url=pg_url)
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", chunk_size=250, requeue_after=180),
        plugins=(("pipetest", pipetest),),
    )
    try:
        run_id = create_run(rt)
        long_ago = utcnow() - timedelta(seconds=600)
        rows = [
            {
                "run_id": run_id,
                "cpas_id": "gent",
                "record_id": f"R{i:06d}",
                "version": "1",
                "state": "pending",
                "attempts": 0,
                "payload": "{}",
                "forms": 0,
                "findings": 0,
                "updated_at": long_ago,
            }
            for i in range(70_000)
        ]
        with rt.session() as s:
            s.execute(insert(WorkItem), rows)
            s.execute(update(SyncRun).where(SyncRun.id == run_id).values(started_at=long_ago))
            s.execute(delete(StageStat).where(StageStat.run_id == run_id))
            s.commit()
        sweeper = InlineEnqueuer(rt)
        found = sweep(rt, sweeper)
        assert found["items"] == 70_000
        assert sweeper.sent["process"] == 280  # every item again, in chunks of 250
        with rt.session() as s:
            fresh = s.scalar(
                select(func.count())
                .select_from(WorkItem)
                .where(WorkItem.run_id == run_id, WorkItem.updated_at > long_ago)
            )
        assert fresh == 70_000  # a fresh clock: not sent again by the next pass
        # The same run crashed for good: the next run of the CPAS takes its items over, as many.
        with rt.session() as s:
            s.execute(update(SyncRun).where(SyncRun.id == run_id).values(status="abandoned"))
            s.commit()
        from piis_bridge.pipeline.runs import adopt_leftovers

        taker = InlineEnqueuer(rt)
        next_run = create_run(rt)
        adopt_leftovers(rt, next_run, ["gent"], taker)
        assert taker.sent["process"] == 280
        with rt.session() as s:
            moved = s.scalar(
                select(func.count()).select_from(WorkItem).where(WorkItem.run_id == next_run)
            )
        assert moved == 70_000
    finally:
        rt.close()
