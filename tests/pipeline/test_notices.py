"""National Register notices in the nightly run (issue #8): a move opens one transfer case per
contract (R-TRF-01) and one task, however often the feed repeats the notice; a death, an emigration
or a replaced NISS gives the social worker one task; a bad notice is quarantined with its reference
while the others go on; a crash between two pages loses nothing and repeats nothing; a federal
plugin without the hook changes nothing.

Stage-level tests run the stages in this process (:mod:`tests.pipeline.inline`); the two-night
test runs real embedded runs (a celery worker subprocess).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from piis_bridge.hooks import hookimpl
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime, run_nightly
from piis_bridge.pipeline.models import Effect, Notice, QuarantineEntry, SyncRunCpas
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.stages import create_run, replay_quarantine
from piis_bridge.pipeline.sweeper import sweep
from piis_bridge.transfer.tables import TransferCase
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import PLUGIN, make_settings
from tests.pipeline.inline import InlineEnqueuer
from tests.pipeline.remote import person_niss


def _move(ref: str, n: int, day: str = "2026-11-02", ins: str = "21004") -> dict[str, Any]:
    return {
        "reference": ref,
        "niss": person_niss(n),
        "kind": "move",
        "effective_date": day,
        "new_ins_code": ins,
        "new_municipality": "Bruxelles",
    }


def _notice(ref: str, n: int, kind: str, day: str = "2026-11-02", **extra: Any) -> dict[str, Any]:
    return {"reference": ref, "niss": person_niss(n), "kind": kind, "effective_date": day, **extra}


def _runtime(
    tmp_path: Path,
    remote,
    *,
    plugin: object = pipetest,
    transfer: str | None = "pipetest",
    **options: Any,
) -> Runtime:
    settings = make_settings(tmp_path, remote.url, transfer=transfer)
    upgrade_database(settings.database_url)
    return Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", **options),
        plugins=(("pipetest", plugin),),
    )


def _night(rt: Runtime, enq: InlineEnqueuer | None = None) -> tuple[str, Any]:
    enq = enq or InlineEnqueuer(rt)
    run_id = create_run(rt, trigger="nightly")
    enq.start(run_id)
    enq.drain()
    return run_id, run_summary(rt, run_id)


def _pushes(remote, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in remote.state.pushes.items() if v["kind"] == kind}


def test_a_move_notice_opens_one_case_and_one_task_however_often_it_is_read(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(6)
    st = remote.state
    st.notices = [_move("RN-1", 3)]
    rt = _runtime(tmp_path, remote)
    _run1, first = _night(rt)
    assert first.status == "finished", first
    assert first.counts["notices"] == first.counts["notices_done"] == 1
    with rt.session() as s:
        cases = list(s.scalars(select(TransferCase)))
    assert [(c.record_id, c.to_ins_code, str(c.residence_change_date)) for c in cases] == [
        ("D000003", "21004", "2026-11-02")
    ]
    tasks = _pushes(remote, "transfer_notice")
    assert (
        list(tasks) == [f"{cases[0].case_id}:detected"]
        and tasks[f"{cases[0].case_id}:detected"]["record_id"] == "D000003"
    )

    # Next night the feed repeats the notice (same reference) and brings a death.
    st.notices += [_move("RN-1", 3), _notice("RN-2", 5, "death")]
    _run2, second = _night(rt)
    assert second.status == "finished", second
    assert second.counts["notices"] == 1  # only the new one was handled by this run
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(TransferCase)) == 1
        assert s.scalar(select(func.count()).select_from(Notice)) == 2
    assert st.push_calls[f"{cases[0].case_id}:detected"] == 1
    death = _pushes(remote, "status")
    assert list(death) == ["notice:RN-2:D000005"]
    assert (
        death["notice:RN-2:D000005"]["due"] == "2026-11-02"
        and "R-GEN-01" in death["notice:RN-2:D000005"]["data"]["rules"]
    )
    assert st.notice_requests == [
        "",
        "1",
    ]  # the second night resumed after the first night's cursor
    rt.close()


class WorkerDied(BaseException):
    """Stands for the worker process dying (not an Exception: nothing in the pipeline catches it)."""


def test_a_crash_between_two_pages_loses_nothing_and_repeats_nothing(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(8)
    st = remote.state
    st.notices = [_notice(f"RN-{n}", n, "death") for n in range(1, 6)]
    crash: dict[str, Any] = {"at": "2"}
    asked: list[str | None] = []

    @hookimpl
    def piis_federal_fetch_notices(cpas: Any, cursor: str | None, page_size: int) -> Any:
        asked.append(cursor)
        if cursor == crash["at"]:
            crash["at"] = None
            raise WorkerDied()  # after page 1 was stored and handled, before page 2 is read
        return pipetest.piis_federal_fetch_notices(cpas, cursor, page_size)

    rt = _runtime(
        tmp_path,
        remote,
        plugin=pipetest.replacing(piis_federal_fetch_notices=piis_federal_fetch_notices),
        page_size=2,
        lease_seconds=1.0,
    )
    enq = InlineEnqueuer(rt)
    run_id = create_run(rt, trigger="nightly")
    enq.start(run_id)
    with pytest.raises(WorkerDied):
        enq.drain()
    enq.clear()  # the dead worker's messages are gone
    with rt.session() as s:
        stored = dict(s.execute(select(Notice.reference, Notice.state)).all())
        assert stored == {"RN-1": "done", "RN-2": "done"}  # page 1 is safe, with its cursor
        assert s.get(SyncRunCpas, (run_id, "gent")).notices_state == "fetching"
    time.sleep(1.1)  # the lease of the dead worker's notice task runs out
    found = sweep(rt, enq)
    assert found["notices"] == 1
    enq.drain()
    summary = run_summary(rt, run_id)
    assert summary.status == "finished", summary
    assert summary.counts["notices"] == summary.counts["notices_done"] == 5
    assert asked == [
        None,
        "2",
        "2",
        "4",
    ]  # page 1 never read again; page 2 asked again after the restart
    tasks = _pushes(remote, "status")
    assert sorted(tasks) == [f"notice:RN-{n}:D{n:06d}" for n in range(1, 6)]
    assert max(st.push_calls[k] for k in tasks) == 1
    rt.close()


def test_a_bad_notice_is_quarantined_with_its_reference_and_the_others_go_on(
    tmp_path: Path, make_remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_remote(6)
    st = remote.state
    rt = _runtime(tmp_path, remote)
    _night(rt)  # the dossiers are known
    st.notices = [
        _move("RN-7", 2),
        _notice("RN-8", 3, "emigration", "2026-12-01"),
        _notice("RN-9", 4, "niss_replaced", replaced_by=person_niss(900)),
        _notice("RN-10", 700, "death"),  # nobody with a dossier here
        _notice("RN-11", 5, "death", "2029-01-10"),
    ]  # after the contract ended
    monkeypatch.setenv("PIPETEST_MAP_FAIL", "D000002")  # dossier D000002 cannot be read back
    _run_id, summary = _night(rt)
    assert summary.status == "finished", summary
    c = summary.counts
    assert (c["notices"], c["notices_done"], c["notices_unmatched"], c["notices_quarantined"]) == (
        5,
        3,
        1,
        1,
    )
    assert c["quarantine_by_stage"] == {"notice": 1}
    with rt.session() as s:
        entry = s.scalars(select(QuarantineEntry).where(QuarantineEntry.stage == "notice")).one()
        contracts = dict(s.execute(select(Notice.reference, Notice.contracts)).all())
        payloads = [p for (p,) in s.execute(select(Effect.payload).where(Effect.kind == "push"))]
    assert entry.record_id == "RN-7"
    assert "D000002" in entry.reason and "mapping service down" in entry.reason
    assert contracts["RN-11"] == 0 and contracts["RN-10"] == 0 and contracts["RN-8"] == 1
    tasks = _pushes(remote, "status")
    assert sorted(tasks) == ["notice:RN-8:D000003", "notice:RN-9:D000004"]
    replaced = tasks["notice:RN-9:D000004"]
    assert replaced["due"] is None and replaced["body"].count(person_niss(900)[-2:]) == 1
    every = json.dumps(list(remote.state.pushes.values())) + "".join(payloads) + entry.reason
    assert not any(person_niss(n) in every for n in (2, 3, 4, 5, 700, 900))  # never a NISS in clear

    # The dossier reads again: replaying the quarantine opens the case and pushes its task, once.
    monkeypatch.delenv("PIPETEST_MAP_FAIL")
    enq = InlineEnqueuer(rt)
    replay_id = replay_quarantine(rt, [entry.id], enq)
    enq.drain()
    replayed = run_summary(rt, replay_id)
    assert replayed.status == "finished" and replayed.counts["notices_done"] == 1, replayed
    assert st.notice_requests.count("5") == 0  # a replay reads no new page
    with rt.session() as s:
        assert [c.record_id for c in s.scalars(select(TransferCase))] == ["D000002"]
    assert len(_pushes(remote, "transfer_notice")) == 1
    rt.close()


def test_a_notice_the_feed_cannot_give_is_quarantined_and_the_feed_reads_on(
    tmp_path: Path, make_remote
) -> None:
    """A move without its municipality is unusable at the source: reported by the plugin in the page's
    problems, quarantined with its reference (stage notice_feed, never replayed: nothing is stored to
    handle again), and the notices after it, on the same and the next page, are handled."""
    remote = make_remote(4)
    rt = _runtime(tmp_path, remote, page_size=2)
    _night(rt)
    broken = _move("RN-20", 1)
    del broken["new_ins_code"]
    remote.state.notices = [broken, _move("RN-21", 2), _notice("RN-22", 3, "death")]
    _run_id, summary = _night(rt)
    assert summary.status == "finished", summary
    assert summary.counts["quarantine_by_stage"] == {"notice_feed": 1}
    assert summary.counts["notices_done"] == 2
    with rt.session() as s:
        entry = s.scalars(select(QuarantineEntry)).one()
    assert entry.record_id == "RN-20" and "new_ins_code" in entry.reason
    assert person_niss(1) not in entry.reason
    enq = InlineEnqueuer(rt)
    assert (
        replay_quarantine(rt, [entry.id], enq) is None
    )  # nothing to replay: the federal side must correct it
    with rt.session() as s:
        assert s.get(QuarantineEntry, entry.id).status == "open"
    _, again = _night(rt)
    assert again.counts.get("quarantine_by_stage", {}) == {}  # read once: the cursor moved past it
    rt.close()


def test_without_a_transfer_plugin_a_move_is_a_task_saying_the_piis_ends(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(4)
    remote.state.notices = [
        _move("RN-20", 2, "2026-11-02"),
        _move("RN-21", 3, "2026-11-02", ins="44021"),
    ]
    rt = _runtime(tmp_path, remote, transfer=None)
    _, summary = _night(rt)
    assert summary.status == "finished", summary
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(TransferCase)) == 0
    tasks = _pushes(remote, "transfer_notice")
    assert list(tasks) == [
        "notice:RN-20:D000002"
    ]  # a "move" within the municipality concerns no contract
    assert "INS 21004 (Bruxelles)" in tasks["notice:RN-20:D000002"]["title"]
    assert tasks["notice:RN-20:D000002"]["data"]["rules"]
    rt.close()


def test_a_federal_plugin_without_the_hook_changes_nothing(tmp_path: Path, make_remote) -> None:
    remote = make_remote(4)
    remote.state.notices = [_move("RN-30", 2)]
    rt = _runtime(tmp_path, remote, plugin=pipetest.without("piis_federal_fetch_notices"))
    run_id, summary = _night(rt)
    assert summary.status == "finished", summary
    assert summary.counts["notices"] == 0 and remote.state.notice_requests == []
    with rt.session() as s:
        assert s.get(SyncRunCpas, (run_id, "gent")).notices_state == "none"
        assert s.scalar(select(func.count()).select_from(TransferCase)) == 0
    rt.close()


def test_two_nights_with_a_real_worker_one_case_one_task(tmp_path: Path, make_remote) -> None:
    """The same, end to end: embedded runs (a celery worker subprocess), the notice read on both nights."""
    remote = make_remote(30)
    st = remote.state
    st.notices = [_move("RN-40", 12)]
    settings = make_settings(tmp_path, remote.url, transfer="pipetest")
    options = PipelineOptions(page_size=10, chunk_size=10, broker_dir=tmp_path / "broker")
    first = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)
    assert first.status == "finished" and first.counts["notices_done"] == 1, first
    st.notices.append(_move("RN-40", 12))
    second = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)
    assert second.status == "finished" and second.counts["notices"] == 0, second
    tasks = _pushes(remote, "transfer_notice")
    assert len(tasks) == 1 and next(iter(tasks.values()))["record_id"] == "D000012"
    assert max(st.push_calls.values()) == 1
    from sqlalchemy import create_engine

    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TransferCase)).scalar_one() == 1
    engine.dispose()


def test_dossiers_processed_before_the_person_hash_existed_are_found(
    tmp_path: Path, make_remote
) -> None:
    """After the upgrade only changed dossiers are processed again: the notice stage gives the others
    their person hash (once), so a move for one of them is not 'unmatched'."""
    from sqlalchemy import update

    from piis_bridge.pipeline.models import WorkItem

    remote = make_remote(5)
    rt = _runtime(tmp_path, remote)
    _night(rt)
    remote.state.touch(["D000004"])
    _night(rt)  # D000004 now has two processed versions
    with rt.session() as s:
        s.execute(update(WorkItem).values(person_key=None))  # as before the upgrade
        s.commit()
    remote.state.notices = [_move("RN-50", 4)]
    _, summary = _night(rt)
    assert summary.counts["notices_done"] == 1, summary.counts
    with rt.session() as s:
        assert [c.record_id for c in s.scalars(select(TransferCase))] == ["D000004"]
        keys = dict(s.execute(select(WorkItem.id, WorkItem.person_key)).all())
    assert None not in keys.values()
    assert (
        sum(1 for k in keys.values() if k == "") == 1
    )  # D000004's older version: not looked at again
    rt.close()
