"""Issue #12: a SIGKILLed worker process never leaves the embedded worker executing nothing.

With the filesystem broker celery uses billiard's blocking pool: the idle children wait for the next
task inside ``SimpleQueue.get_payload()`` holding the one read lock of the shared task pipe.  Killing
*that* child (the one blocked reading the pipe) left the lock taken for ever: every other child and
every replacement waited on it, and the run made no progress while the worker looked alive (the
>180 s stall of the fault tests).  Here that child is killed on purpose, before a run: the worker
exits (``POOL_DEADLOCK_EXIT``), the runner starts it again, and the run finishes.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import EmbeddedWorker, PipelineOptions, Runtime, make_celery_app
from piis_bridge.pipeline.app import POOL_DEADLOCK_EXIT, pool_child_lost
from piis_bridge.pipeline.runner import wait_for_run
from piis_bridge.pipeline.stages import create_run
from piis_bridge.pipeline.tasks import CeleryEnqueuer
from tests.pipeline.conftest import PLUGIN, make_settings


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read()
    except OSError:
        return ""


def test_killing_the_child_that_holds_the_task_pipe_lock_does_not_stall_the_run(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(40)
    settings = make_settings(tmp_path, remote.url)
    options = PipelineOptions(
        broker_dir=tmp_path / "broker", chunk_size=10, lease_seconds=5, requeue_after=5
    )
    env = {
        f"PIIS_PIPELINE_{k.upper()}": str(v)
        for k, v in options.model_dump(exclude_none=True).items()
    }
    upgrade_database(settings.database_url)
    rt = Runtime(settings, options)
    worker = EmbeddedWorker(settings, concurrency=2, extra_plugins=[PLUGIN], env=env).start()
    try:
        # Idle, one child is blocked reading the task pipe (it holds the pipe's read lock), the other
        # waits for that lock.
        deadline = time.monotonic() + 60
        holder = None
        while holder is None:
            assert time.monotonic() < deadline, "no idle child blocked on the task pipe"
            time.sleep(0.2)
            children = _children(worker.proc.pid)
            readers = [c for c in children if "pipe_read" in _wchan(c)]
            if len(children) == 2 and len(readers) == 1:
                holder = readers[0]
        os.kill(holder, signal.SIGKILL)
        first = worker.proc
        run_id = create_run(rt)
        CeleryEnqueuer(make_celery_app(runtime=rt)).start(run_id)
        summary = wait_for_run(rt, run_id, timeout=120, sweep_every=1.0, worker=worker)
    finally:
        worker.stop(cold=True)
        rt.close()
    assert summary.status == "finished", summary
    assert summary.counts["processed"] == 40 and len(remote.state.effects) == 40
    assert first.returncode == POOL_DEADLOCK_EXIT and worker.restarts >= 1


def test_which_child_deaths_can_leave_the_pool_deadlocked() -> None:
    assert pool_child_lost(-signal.SIGKILL) and pool_child_lost(-signal.SIGSEGV)
    assert not pool_child_lost(
        -signal.SIGTERM
    )  # SystemExit inside the `with`: the lock is released
    assert not pool_child_lost(0) and not pool_child_lost(0x9B)  # exited by itself, recycled
    assert not pool_child_lost(-signal.SIGKILL, shutting_down=True) and not pool_child_lost(None)
