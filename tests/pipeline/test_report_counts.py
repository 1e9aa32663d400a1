"""Issue #12: every count of a run report adds up, and a conflict (same record and version, other
content) is caught across runs too, not only within one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import PushResult
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions
from piis_bridge.pipeline.models import QuarantineEntry, SyncRun, WorkItem
from piis_bridge.pipeline.runs import unbalanced
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.stages import create_run
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer
from tests.pipeline.remote import person_niss


def _runtime(tmp_path: Path, url: str, plugin: object = pipetest) -> Runtime:
    settings = make_settings(tmp_path, url)
    upgrade_database(settings.database_url)
    return Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", page_size=7, chunk_size=4),
        plugins=(("pipetest", plugin),),
    )


def _run(rt: Runtime) -> SyncRun:
    run_id = create_run(rt)
    enq = InlineEnqueuer(rt)
    enq.start(run_id)
    enq.drain(timeout=60)
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        s.expunge(run)
    return run


@hookimpl
def _refuse_some_pushes(cpas, items):
    """The case system answers 404 for the pushes of every third dossier (a refusal, quarantined)."""
    ok = pipetest.piis_case_push(cpas, [i for i in items if int(i.record_id[1:]) % 3])
    by_key = {r.key: r for r in ok}
    return [
        by_key.get(i.key)
        or PushResult(key=i.key, status="failed", detail="refused: 404 NIET_GEVONDEN")
        for i in items
    ]


def test_every_count_of_a_run_report_adds_up(tmp_path: Path, make_remote) -> None:
    """A feed with unmappable records, dossiers with two forms, identical repeats, a conflict and
    refused pushes: each sum of the report holds, and ``unbalanced`` would say which one does not."""
    remote = make_remote(30, bad_every=5, two_forms_every=4)
    first = dict(remote.state.records[0])
    remote.state.records += [dict(first), {**remote.state.records[1], "niss": person_niss(500)}]
    rt = _runtime(tmp_path, remote.url, pipetest.replacing(piis_case_push=_refuse_some_pushes))
    try:
        run = _run(rt)
    finally:
        rt.close()
    c = run.counts
    assert run.status == "finished"
    assert unbalanced(c) == []
    assert c["fetched"] == 32 and c["repeats"] == 1 and c["rejected"] == 1  # the conflict
    assert c["items_quarantined"] == 6 and c["processed"] == 24
    assert c["push_quarantined"] > 0 and c["forms"] > c["processed"]
    assert c["quarantine_by_stage"] == {
        "map": 6,
        "conflict": 1,
        "push": c["push_quarantined"],
    }
    broken = dict(c, fetched=c["fetched"] - 1)  # a record lost without a trace is named
    assert [w.split(":")[0] for w in unbalanced(broken)] == [
        "fetched = processed + skipped + items_quarantined + rejected + repeats + items_open"
    ]


def test_a_conflict_across_runs_is_quarantined_and_an_identical_record_is_processed(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(6)
    rt = _runtime(tmp_path, remote.url)
    try:
        first = _run(rt)
        assert first.status == "finished" and first.counts["processed"] == 6
        # The next night the vendor sends D000002 again, same version, other person: a conflict;
        # D000003 again unchanged (a cursor reset): processed again, not a conflict.
        records = remote.state.records
        remote.state.records += [
            {**records[1], "niss": person_niss(900)},
            dict(records[2]),
        ]
        second = _run(rt)
        with rt.session() as s:
            entries = list(
                s.scalars(select(QuarantineEntry).where(QuarantineEntry.run_id == second.id))
            )
            again = list(s.scalars(select(WorkItem.record_id).where(WorkItem.run_id == second.id)))
    finally:
        rt.close()
    assert second.status == "finished" and unbalanced(second.counts) == []
    assert [(e.record_id, e.stage) for e in entries] == [("D000002", "conflict")]
    assert f"in run {first.id}" in entries[0].reason and person_niss(900) not in entries[0].reason
    assert entries[0].problems[0]["field"] == "version"
    assert second.counts["rejected"] == 1 and "D000003" in again and "D000002" not in again
    assert len(remote.state.effects_of("D000002")) == 1  # the first content's form only


def test_a_record_whose_earlier_payload_retention_purged_is_not_a_conflict(
    tmp_path: Path, make_remote
) -> None:
    """Retention empties old payloads: an unchanged record sent again is no "other content"."""
    from sqlalchemy import update

    from piis_bridge.retention import PURGED

    remote = make_remote(3)
    rt = _runtime(tmp_path, remote.url)
    try:
        first = _run(rt)
        assert first.status == "finished" and first.counts["processed"] == 3
        with rt.session() as s:
            s.execute(
                update(WorkItem).where(WorkItem.record_id == "D000002").values(payload=PURGED)
            )
            s.commit()
        remote.state.records.append(dict(remote.state.records[1]))
        second = _run(rt)
        with rt.session() as s:
            stages = list(
                s.scalars(select(QuarantineEntry.stage).where(QuarantineEntry.run_id == second.id))
            )
            again = list(s.scalars(select(WorkItem.record_id).where(WorkItem.run_id == second.id)))
    finally:
        rt.close()
    assert second.status == "finished" and unbalanced(second.counts) == []
    assert "conflict" not in stages and "D000002" in again
