"""``piis-bridge run --dossier ID``: the record as the case system holds it now
(``piis_case_fetch_record``), never a guess: a plugin without the hook or a failure stops the run
with a message naming the plugin and the record; ``None`` is "no such record"; a transient failure
is retried.  (The command itself: tests/pipeline/test_cli.py.)"""

from __future__ import annotations

from pathlib import Path

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.stages import create_run
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def _run_dossier(
    tmp_path: Path, remote, dossier: str, plugin: object = pipetest, **options: float
) -> tuple[Runtime, object]:
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", **options),
        plugins=(("pipetest", plugin),),
    )
    enq = InlineEnqueuer(rt)
    run_id = create_run(rt, cpas_ids=["gent"], dossier=dossier)
    enq.start(run_id)
    enq.drain()
    return rt, run_summary(rt, run_id)


def test_the_current_version_is_processed_even_if_no_run_fetched_it(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(5)
    remote.state.touch(["D000004"])
    rt, summary = _run_dossier(tmp_path, remote, "D000004")
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] == summary.counts["processed"] == 1
    assert (
        remote.state.effects_of("D000004") == ["2"] and remote.state.fetches == 0
    )  # no change feed read
    assert remote.state.notice_requests == []  # a one-dossier run reads no notices
    rt.close()


def test_a_case_system_without_the_hook_says_so_and_stops(tmp_path: Path, make_remote) -> None:
    remote = make_remote(3)
    rt, summary = _run_dossier(
        tmp_path, remote, "D000001", plugin=pipetest.without("piis_case_fetch_record")
    )
    assert summary.status == "failed"
    assert summary.counts["pull_errors"] == {
        "gent": (
            "the case-system plugin 'pipetest' of gent cannot fetch one record (it does not implement "
            "piis_case_fetch_record): --dossier is not available for this CPAS"
        )
    }
    assert summary.counts["fetched"] == 0 and remote.state.effects == {}
    rt.close()


def test_no_such_record_and_a_failing_plugin_are_told_apart(tmp_path: Path, make_remote) -> None:
    remote = make_remote(3)
    rt, summary = _run_dossier(tmp_path / "a", remote, "D000404")
    assert summary.status == "failed"
    assert (
        summary.counts["pull_errors"]["gent"]
        == "the case system of gent has no record D000404 (deleted, or never existed)"
    )
    rt.close()
    remote.state.case_faults = [
        400
    ]  # a permanent refusal: not retried, not read as "no such record"
    rt, summary = _run_dossier(tmp_path / "b", remote, "D000002")
    assert summary.status == "failed"
    error = summary.counts["pull_errors"]["gent"]
    assert error.startswith(
        "fetching dossier D000002 from the case system of gent failed: plugin 'pipetest' failed in "
        "piis_case_fetch_record: HTTPStatusError: Client error '400 Bad Request'"
    ), error
    rt.close()


def test_a_transient_failure_is_retried(tmp_path: Path, make_remote) -> None:
    remote = make_remote(3)
    remote.state.case_faults = [503, 429]
    rt, summary = _run_dossier(tmp_path, remote, "D000003", retry_base=0.05, retry_cap=0.1)
    assert summary.status == "finished", summary
    assert remote.state.case_faults == [] and remote.state.effects_of("D000003") == ["1"]
    rt.close()
