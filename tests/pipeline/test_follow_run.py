"""Issue #20: following a run (``piis-bridge run``, the embedded runner, the benchmark) costs the same
whatever the run's size.  Counting a moving run's items and effects reads every row of the run; done
every half second it cost the embedded runner 332.9 s of CPU in a 280,000-dossier night (54.6 s at
100,000: a term growing with the square of the run).  Now each poll reads the run's status only, and
the counts are taken for a progress display at most ``COUNT_SHARE`` of the time."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, runner
from piis_bridge.pipeline.models import SyncRun, utcnow
from piis_bridge.pipeline.runner import RunSummary, run_status, wait_for_run
from piis_bridge.pipeline.runs import create_run
from piis_bridge.pipeline.runtime import Runtime
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings

# nothing is called at this address: the runs below are created and ended by hand
UNUSED_URL = "http://127.0.0.1:9/"
FINAL_COUNTS = {"fetched": 7, "processed": 7}


@pytest.fixture
def rt(tmp_path: Path):
    settings = make_settings(tmp_path, UNUSED_URL)
    upgrade_database(settings.database_url)
    runtime = Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker"),
        plugins=(("pipetest", pipetest),),
    )
    yield runtime
    runtime.close()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times at which the moving run was counted; each count takes 50 ms, as a large run's."""
    calls: list[float] = []
    real = runner.run_counts

    def slow_count(s, run_id):
        calls.append(time.monotonic())
        time.sleep(0.05)
        return real(s, run_id)

    monkeypatch.setattr(runner, "run_counts", slow_count)
    return calls


def _finish_after(rt: Runtime, run_id: str, seconds: float) -> threading.Thread:
    def finish() -> None:
        time.sleep(seconds)
        with rt.session() as s:
            s.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(status="finished", finished_at=utcnow(), counts=FINAL_COUNTS)
            )
            s.commit()

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_following_a_run_without_a_display_never_counts_it(rt: Runtime, counted) -> None:
    run_id = create_run(rt)
    finisher = _finish_after(rt, run_id, 1.0)
    summary = wait_for_run(rt, run_id, poll=0.01, timeout=30)
    finisher.join()
    assert summary.status == "finished"
    assert summary.counts == FINAL_COUNTS  # the run's stored counts, read once at its end
    assert counted == []  # was one count per poll: about a hundred here


def test_a_progress_display_is_counted_at_most_its_share_of_the_time(rt: Runtime, counted) -> None:
    run_id = create_run(rt)
    shown: list[RunSummary] = []
    finisher = _finish_after(rt, run_id, 1.5)
    summary = wait_for_run(rt, run_id, poll=0.01, timeout=30, progress=shown.append)
    finisher.join()
    # 50 ms a count at 5 % of the time: one count a second at most (was one every 60 ms: ~25)
    assert 1 <= len(counted) <= 3
    gaps = [b - a for a, b in itertools.pairwise(counted)]
    assert all(gap >= 0.05 / runner.COUNT_SHARE for gap in gaps)
    assert shown[0].status == "running"  # the display shows the moving run at once
    assert shown[-1].status == "finished" and shown[-1].counts == FINAL_COUNTS
    assert summary == shown[-1]


def test_a_run_followed_past_its_timeout_is_returned_as_it_stands(rt: Runtime, counted) -> None:
    run_id = create_run(rt)
    started = time.monotonic()
    summary = wait_for_run(rt, run_id, poll=0.01, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 5
    assert summary.status == "running"
    assert len(counted) == 1  # the counts of the run as it stands, taken once
    assert "fetched" in summary.counts


def test_the_status_of_an_unknown_run_is_an_error_naming_it(rt: Runtime) -> None:
    with pytest.raises(KeyError, match="no run nosuchrun"):
        run_status(rt, "nosuchrun")
