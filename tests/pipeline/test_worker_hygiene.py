"""A worker lives for weeks: what one task needed must not stay in the process.

The plugin host records every plugin failure (``host.failures``); the stages read each call's
failures right after the call, and the worker drops the list after every task (``task_postrun``).
Prefork children are also recycled after a number of tasks or beyond a memory ceiling.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime, make_celery_app
from piis_bridge.pipeline.app import celery_config
from piis_bridge.pipeline.models import QuarantineEntry, WorkItem
from piis_bridge.pipeline.stages import create_run, pull
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def test_plugin_failures_are_dropped_after_each_task(
    tmp_path: Path, make_remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_remote(40)
    monkeypatch.setenv(
        "PIPETEST_MAP_FAIL", ",".join(f"D{n:06d}" for n in range(1, 41))
    )  # every mapping raises
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings, PipelineOptions(broker_dir=tmp_path / "broker"), plugins=(("pipetest", pipetest),)
    )
    app = make_celery_app(runtime=rt)
    run_id = create_run(rt)
    pull(
        rt, run_id, "gent", InlineEnqueuer(rt)
    )  # the items exist; their process messages are not run
    with rt.session() as s:
        ids = sorted(s.scalars(select(WorkItem.id)))
    process = app.tasks["piis.pipeline.process"]
    for start in range(0, len(ids), 10):
        process.apply(
            args=[run_id, ids[start : start + 10]]
        ).get()  # in this thread, with the task signals
        assert rt.host.failures == []
    with rt.session() as s:
        reasons = list(s.scalars(select(QuarantineEntry.reason)))
    # The failures were read by the stage before they were dropped: every record names the plugin error.
    assert len(reasons) == 40 and all("mapping service down" in r for r in reasons)
    rt.close()


def test_prefork_children_are_recycled() -> None:
    from piis_bridge.config import default_settings

    conf = celery_config(
        default_settings(), PipelineOptions(max_tasks_per_child=500, max_memory_per_child_mb=800)
    )
    assert (
        conf["worker_max_tasks_per_child"] == 500
        and conf["worker_max_memory_per_child"] == 800 * 1024
    )


def test_a_worker_freezes_what_it_imported_before_forking_its_children(tmp_path: Path) -> None:
    """The worker's start-up (celery ``worker_init``, before the prefork children exist) leaves the
    objects of every import out of later garbage collections (``gc.freeze``): a child's full
    collections no longer walk them (issue #20: 1.85 -> ~1.0 s of collection per child in a
    5,000-dossier run)."""
    import json
    import os
    import subprocess
    import sys

    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    upgrade_database(settings.database_url)
    path = tmp_path / "settings.json"
    path.write_text(settings.model_dump_json())
    path.chmod(0o600)
    probe = (
        "import gc, json\n"
        "from celery import signals\n"
        "from piis_bridge.pipeline import worker\n"
        "before = gc.get_freeze_count()\n"
        "signals.worker_init.send(sender=None)\n"
        "print(json.dumps([before, gc.get_freeze_count()]))\n"
    )
    env = {**os.environ, "PIIS_PIPELINE_SETTINGS_FILE": str(path)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == 0
    assert after > 50_000  # the imported modules, plugins, rules and mappings: all of them frozen
