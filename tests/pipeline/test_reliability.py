"""Crash safety and outages, with a real celery worker subprocess on the embedded stack.

- SIGKILL the worker (its whole process group) in the middle of a run of 2,000 dossiers, restart
  it: every form reaches the remote exactly once, nothing is lost, the report is right.
- The federal service down for part of the run, the case system answering 429/5xx: everything is
  eventually submitted, in order per dossier, without duplicates, and the circuit breaker keeps the
  calls to the dead service few.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import (
    EmbeddedWorker,
    PipelineOptions,
    Runtime,
    make_celery_app,
    run_nightly,
)
from piis_bridge.pipeline.models import Effect, QuarantineEntry
from piis_bridge.pipeline.runner import wait_for_run
from piis_bridge.pipeline.stages import create_run
from piis_bridge.pipeline.tasks import CeleryEnqueuer
from tests.pipeline.conftest import PLUGIN, make_settings


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigkill_mid_run_then_restart_submits_every_form_exactly_once(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(2000, two_forms_every=5)
    st = remote.state
    st.submit_delay = 0.02
    expected = sum(r["forms"] for r in st.records)
    settings = make_settings(tmp_path, remote.url)
    options = PipelineOptions(
        page_size=250,
        chunk_size=125,
        submit_batch=25,
        lease_seconds=3,
        requeue_after=15,
        broker_dir=tmp_path / "broker",
    )
    env = {
        f"PIIS_PIPELINE_{k.upper()}": str(v)
        for k, v in options.model_dump(exclude_none=True).items()
    }
    upgrade_database(settings.database_url)
    rt = Runtime(settings, options, extra_plugins=[PLUGIN])
    enq = CeleryEnqueuer(make_celery_app(runtime=rt))
    worker = EmbeddedWorker(settings, concurrency=2, extra_plugins=[PLUGIN], env=env).start()
    try:
        run_id = create_run(rt)
        enq.start(run_id)
        _wait(lambda: len(st.effects) >= 300, 60)
        worker.kill()  # SIGKILL, whole process group: in-flight and prefetched messages are gone
        at_kill = len(st.effects)
        assert at_kill < expected
        worker.start()
        summary = wait_for_run(rt, run_id, timeout=150, sweep_every=1.0, worker=worker)
    finally:
        worker.stop()
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] == 2000
    assert summary.counts["processed"] == 2000, summary.counts
    assert summary.counts["forms"] == summary.counts["forms_answered"] == expected
    assert len([p for p in st.pushes.values() if p["kind"] == "federal_answer"]) == expected
    assert summary.counts["pushed"] == len(st.pushes)
    # Exactly once in the remote's state; resends after the crash carried the same key.
    assert len(st.effects) == expected
    assert st.out_of_order == 0
    with rt.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Effect).where(Effect.kind == "form"))
            == expected
        )
        assert s.scalar(select(func.count()).select_from(QuarantineEntry)) == 0
    rt.close()


def test_federal_outage_and_case_system_throttling_recover_in_order(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(300, two_forms_every=3)
    st = remote.state
    st.federal_down = True
    st.case_faults = [429, 503, 500, 429, 502, 503]
    expected = sum(r["forms"] for r in st.records)
    settings = make_settings(tmp_path, remote.url)
    options = PipelineOptions(
        page_size=100,
        chunk_size=50,
        submit_batch=50,
        retry_base=0.2,
        retry_cap=1.0,
        breaker_threshold=3,
        breaker_cooldown=1.0,
        broker_dir=tmp_path / "broker",
    )

    def bring_back() -> (
        None
    ):  # the federal service comes back 3 s after the pipeline first met it down
        deadline = time.monotonic() + 60
        while st.down_calls == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(3.0)
        st.federal_down = False

    thread = threading.Thread(target=bring_back, daemon=True)
    thread.start()
    summary = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] == 300
    assert summary.counts["forms_answered"] == expected
    assert summary.counts["quarantined"] == 0
    assert len(st.effects) == expected
    assert max(st.submit_calls.values()) == 1  # nothing sent twice once accepted
    assert st.out_of_order == 0
    assert st.case_faults == []  # every injected 429/5xx was met (and retried)
    assert 3 <= st.down_calls < 40  # the breaker kept the dead service mostly alone
