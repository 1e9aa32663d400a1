"""Issue #12: a poison record (one that kills its worker, or fails every time) is quarantined after
``retry_max_attempts`` with the stage it was in and the type of its last error, never with the
record's data; the rest of its chunk is processed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from piis_bridge.hooks import hookimpl
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions
from piis_bridge.pipeline.models import QuarantineEntry, SyncRun, WorkItem, utcnow
from piis_bridge.pipeline.reliability import TransientError
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.stages import create_run
from piis_bridge.pipeline.sweeper import sweep
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer
from tests.pipeline.remote import person_niss

POISON = "D000003"


class WorkerDeath(BaseException):
    """Stands for a SIGKILL in the middle of a task: nothing below the task catches it."""


@hookimpl
def _build_kills_the_worker(cpas, contract, event):
    if contract.contract_id.startswith(POISON + "@"):
        raise WorkerDeath
    return pipetest.piis_federal_build_forms(cpas, contract, event)


@hookimpl
def _map_times_out(cpas, record):
    if record.record_id == POISON:
        raise TransientError(f"read timed out for {record.record_id} ({record.payload['niss']})")
    return pipetest.piis_case_map_record(cpas, record)


def _runtime(tmp_path: Path, url: str, plugin: object) -> Runtime:
    settings = make_settings(tmp_path, url)
    upgrade_database(settings.database_url)
    return Runtime(
        settings,
        PipelineOptions(
            broker_dir=tmp_path / "broker",
            chunk_size=5,
            retry_max_attempts=3,
            retry_base=0.01,
            retry_cap=0.02,
        ),
        plugins=(("pipetest", plugin),),
    )


def _run_to_the_end(rt: Runtime, run_id: str) -> int:
    """Drain the tasks; each WorkerDeath loses the task (and its messages), like a killed worker, and
    the sweeper gives the abandoned lease back.  Returns how many workers died."""
    deaths = 0
    for _ in range(40):
        enq = InlineEnqueuer(rt)
        if deaths == 0 and _ == 0:
            enq.start(run_id)
        try:
            enq.drain(timeout=60)
        except WorkerDeath:
            deaths += 1
        with rt.session() as s:
            if s.get(SyncRun, run_id).status != "running":
                return deaths
            s.execute(  # the dead worker's lease runs out
                update(WorkItem)
                .where(WorkItem.state == "leased")
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
            s.commit()
        sweep(rt, enq, idle_seconds=0)
        try:
            enq.drain(timeout=60)
        except WorkerDeath:
            deaths += 1
    raise AssertionError("the run did not finish")


def _entries(rt: Runtime) -> list[QuarantineEntry]:
    with rt.session() as s:
        return list(s.scalars(select(QuarantineEntry).order_by(QuarantineEntry.id)))


def test_a_record_that_kills_its_worker_is_quarantined_naming_the_stage(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(8)
    rt = _runtime(
        tmp_path, remote.url, pipetest.replacing(piis_federal_build_forms=_build_kills_the_worker)
    )
    try:
        run_id = create_run(rt)
        deaths = _run_to_the_end(rt, run_id)
        entries = _entries(rt)
        with rt.session() as s:
            run = s.get(SyncRun, run_id)
            states = dict(s.execute(select(WorkItem.record_id, WorkItem.state)).all())
    finally:
        rt.close()
    assert run.status == "finished"
    assert deaths >= 3  # once in its chunk, then alone until its attempts were spent
    assert [(e.record_id, e.stage) for e in entries] == [(POISON, "process")]
    reason = entries[0].reason
    assert "stage 'build'" in reason and "WorkerLost" in reason and "3 attempts" in reason, reason
    assert person_niss(3) not in reason and "@" not in reason
    assert states.pop(POISON) == "quarantined"
    assert set(states.values()) == {"done"}  # the rest of its chunk went on
    assert run.counts["processed"] == 7 and run.counts["items_quarantined"] == 1


def test_a_record_failing_every_time_is_quarantined_with_the_error_type_not_its_message(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(6)
    rt = _runtime(tmp_path, remote.url, pipetest.replacing(piis_case_map_record=_map_times_out))
    try:
        run_id = create_run(rt)
        assert _run_to_the_end(rt, run_id) == 0
        entries = _entries(rt)
        with rt.session() as s:
            run = s.get(SyncRun, run_id)
    finally:
        rt.close()
    assert run.status == "finished" and run.counts["processed"] == 5
    assert [(e.record_id, e.stage) for e in entries] == [(POISON, "map")]
    reason = entries[0].reason
    assert "stage 'map'" in reason and "TransientError" in reason and "3 attempts" in reason, reason
    assert "read timed out" not in reason and person_niss(3) not in reason
