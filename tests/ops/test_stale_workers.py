"""A worker that kept an old configuration fails the run with "restart the workers" instead of
hanging (issue #14 item 5): the run records the fingerprint of the configuration it was started
with, the worker its own, and the first task compares them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import EmbeddedWorker, PipelineOptions, run_nightly
from tests.pipeline.conftest import PLUGIN, ROOT, make_settings
from tests.pipeline.remote import Remote, RemoteState


@pytest.fixture(autouse=True)
def _importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


def test_a_worker_with_another_configuration_fails_the_run_with_restart_the_workers(
    tmp_path: Path,
) -> None:
    from piis_bridge.ops.preflight import config_fingerprint
    from piis_bridge.ops.tables import RunConfig, WorkerConfig

    with Remote(RemoteState(20)) as remote:
        old = make_settings(
            tmp_path, remote.url, cpas=("gent",)
        )  # what the worker was started with
        new = make_settings(tmp_path, remote.url, cpas=("gent", "liege"))  # then the file changed
        upgrade_database(old.database_url)
        options = PipelineOptions(broker_dir=tmp_path / "broker")
        env = {"PIIS_PIPELINE_BROKER_DIR": str(tmp_path / "broker")}
        with EmbeddedWorker(old, concurrency=1, extra_plugins=[PLUGIN], env=env):
            summary = run_nightly(
                new, embedded=False, options=options, extra_plugins=[PLUGIN], timeout=60
            )
        assert summary.status == "failed", summary
        assert summary.error and "restart the workers" in summary.error
        assert config_fingerprint(old) in summary.error and config_fingerprint(new) in summary.error
        assert remote.state.fetches == 0  # nothing was pulled with the wrong configuration
        engine = create_engine(old.database_url)
        with engine.connect() as conn:
            assert conn.execute(select(RunConfig.fingerprint)).scalar_one() == config_fingerprint(
                new
            )
            assert (
                config_fingerprint(old)
                in conn.execute(select(WorkerConfig.fingerprint)).scalars().all()
            )

        # Same configuration: the run goes through.
        with EmbeddedWorker(new, concurrency=1, extra_plugins=[PLUGIN], env=env):
            again = run_nightly(
                new, embedded=False, options=options, extra_plugins=[PLUGIN], timeout=90
            )
        assert again.status == "finished" and again.error is None, again
