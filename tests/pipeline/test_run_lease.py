"""Issue #12: one run per CPAS at a time; no run left behind; a watchdog that says why; a push batch
refused item by item is not an outage.  In-process (the stage functions, no broker) against the test
remote, whose own state counts every effect received."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import PushResult
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions
from piis_bridge.pipeline.models import (
    CpasLease,
    Effect,
    QuarantineEntry,
    StageStat,
    SyncRun,
    utcnow,
)
from piis_bridge.pipeline.runs import RunRefused, create_run
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.sweeper import sweep
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def _runtime(
    tmp_path: Path, remote_url: str, plugin: object = pipetest, **options: object
) -> Runtime:
    settings = make_settings(tmp_path, remote_url)
    upgrade_database(settings.database_url)
    return Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", **options),
        plugins=(("pipetest", plugin),),
    )


def _age(rt: Runtime, run_id: str, seconds: float) -> None:
    """Make the run look idle for *seconds* (no stage recorded work since)."""
    old = utcnow() - timedelta(seconds=seconds)
    with rt.session() as s:
        s.execute(update(SyncRun).where(SyncRun.id == run_id).values(started_at=old))
        s.execute(
            update(StageStat).where(StageStat.run_id == run_id).values(last_at=old, first_at=old)
        )
        s.commit()


def test_a_second_run_for_the_same_cpas_is_refused_until_the_first_ends(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(20)
    rt = _runtime(tmp_path, remote.url)
    try:
        first = create_run(rt)
        with pytest.raises(
            RunRefused, match=f"CPAS gent already has a run in progress: {first} \\(manual\\)"
        ):
            create_run(rt, trigger="replay")
        enq = InlineEnqueuer(rt)
        enq.start(first)
        enq.drain()
        with rt.session() as s:
            assert s.get(SyncRun, first).status == "finished"
            assert s.scalars(select(CpasLease)).all() == []  # released with the run
        second = create_run(rt)
        enq.start(second)
        enq.drain()
    finally:
        rt.close()
    assert max(remote.state.submit_calls.values()) == 1  # 0 resends


def test_beat_catch_up_during_a_manual_run_is_refused_and_starts_nothing(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(5)
    rt = _runtime(tmp_path, remote.url)
    try:
        manual = create_run(rt)
        with pytest.raises(RunRefused):
            create_run(rt, trigger="nightly", schedule_key="nightly:2026-12-06")
        with rt.session() as s:
            assert [r.id for r in s.scalars(select(SyncRun))] == [
                manual
            ]  # the refused run left no row
    finally:
        rt.close()


def test_a_crashed_run_is_taken_over_by_the_next_one_and_everything_reaches_the_remote_once(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(60)
    rt = _runtime(
        tmp_path, remote.url, page_size=20, chunk_size=10, submit_batch=7, watchdog_seconds=600
    )
    try:
        crashed = create_run(rt)
        enq = InlineEnqueuer(rt)
        enq.start(crashed)
        for _ in range(
            8
        ):  # a few tasks, then every process dies (the broker's messages are lost too)
            enq._run(*_pop(enq))
        enq.clear()
        with rt.session() as s:  # a form half-sent when the worker died
            s.execute(
                update(Effect)
                .where(Effect.kind == "form", Effect.state == "pending")
                .values(state="sending", lease_until=utcnow() + timedelta(seconds=300))
            )
            s.commit()
        with pytest.raises(RunRefused):
            create_run(rt)  # it moved a moment ago: refused
        _age(rt, crashed, 3600)
        later = create_run(rt)  # no progress for an hour: closed as abandoned, taken over
        enq.start(later)
        enq.drain(timeout=120)
        with rt.session() as s:
            old, new = s.get(SyncRun, crashed), s.get(SyncRun, later)
            assert old.status == "abandoned" and f"taken over by run {later}" in old.reason
            assert new.status == "finished", new.counts
            assert (
                s.scalar(
                    select(Effect).where(Effect.state.in_(("pending", "sending", "submitted")))
                )
                is None
            )
    finally:
        rt.close()
    assert len(remote.state.effects) == 60 and max(remote.state.submit_calls.values()) == 1


def _pop(enq: InlineEnqueuer) -> tuple:
    import heapq

    _, _, name, args, attempt = heapq.heappop(enq._queue)
    return name, args, attempt


def test_the_watchdog_ends_a_run_that_does_not_move_and_says_why(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(10)
    remote.state.federal_down = True
    rt = _runtime(
        tmp_path,
        remote.url,
        watchdog_seconds=60,
        breaker_threshold=1,
        breaker_cooldown=600,
        retry_base=0.01,
        retry_cap=0.01,
    )
    try:
        run_id = create_run(rt)
        enq = InlineEnqueuer(rt)
        enq.start(run_id)
        for _ in range(40):
            if not enq._queue:
                break
            name, args, attempt = _pop(enq)
            if name == "submit" and attempt:
                continue  # the retry sits in the broker behind the open circuit
            enq._run(name, args, attempt)
        _age(rt, run_id, 120)
        assert sweep(rt, InlineEnqueuer(rt))["stalled"] == 1
        with rt.session() as s:
            run = s.get(SyncRun, run_id)
            assert run.status == "stalled"
            assert (
                "no progress for" in run.reason and "circuit federal:gent open until" in run.reason
            ), run.reason
            assert s.scalars(select(CpasLease)).all() == []
    finally:
        rt.close()


@hookimpl
def _push_all_404(cpas, items):
    return [
        PushResult(
            key=i.key, status="failed", detail="refused: case system answered 404 NIET_GEVONDEN"
        )
        for i in items
    ]


def test_a_push_batch_refused_item_by_item_is_not_an_outage(tmp_path: Path, make_remote) -> None:
    remote = make_remote(12)
    calls = []

    @hookimpl
    def piis_case_push(cpas, items):
        calls.append(len(items))
        return _push_all_404(cpas, items)

    rt = _runtime(tmp_path, remote.url, plugin=pipetest.replacing(piis_case_push=piis_case_push))
    try:
        run_id = create_run(rt)
        enq = InlineEnqueuer(rt)
        enq.start(run_id)
        enq.drain(timeout=60)
        with rt.session() as s:
            run = s.get(SyncRun, run_id)
            pushes = list(s.scalars(select(Effect).where(Effect.kind == "push")))
            entries = list(
                s.scalars(select(QuarantineEntry).where(QuarantineEntry.stage == "push"))
            )
    finally:
        rt.close()
    assert run.status == "finished"
    assert pushes and all(
        p.state == "quarantined" and p.attempts == 1 for p in pushes
    )  # once each, no retries
    assert len(entries) == len(pushes) and "404" in entries[0].reason
    assert sum(calls) == len(pushes)
