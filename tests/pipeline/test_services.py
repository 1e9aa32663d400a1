"""End to end on the scale-out stack: a real celery worker on Redis or RabbitMQ, with PostgreSQL.

The run is started with ``--no-embedded`` semantics (enqueue on the broker, follow in the database);
the worker is a separate ``celery worker`` process, as under systemd.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import EmbeddedWorker, PipelineOptions, run_nightly
from tests.conftest import require_service
from tests.pipeline.conftest import PLUGIN, make_settings

pytestmark = pytest.mark.services


def purge_queues(broker_url: str) -> None:
    from kombu import Connection

    with Connection(broker_url) as conn:
        for q in ("piis.default", "piis.casesystem", "piis.federal"):
            with contextlib.suppress(Exception):  # queue not declared yet
                conn.default_channel.queue_purge(q)


def _remove(broker_url: str) -> None:
    """Leave the broker as found: the durable piis.* queues and exchanges (RabbitMQ), and kombu's binding
    keys in this test's Redis database (11), which outlive the queues otherwise."""
    from kombu import Connection

    with Connection(broker_url) as conn:
        channel = conn.default_channel
        for name in ("piis.default", "piis.casesystem", "piis.federal"):
            for delete in (channel.queue_delete, channel.exchange_delete):
                with contextlib.suppress(Exception):  # already gone
                    delete(name)
        if broker_url.startswith("redis://"):
            client = channel.client
            for key in client.scan_iter("_kombu.binding*"):
                client.delete(key)


def _workers(settings, env: dict[str, str], topology: str) -> list[EmbeddedWorker]:
    """One worker for every queue, or the deployment's two groups (deploy/compose.yaml)."""
    if topology == "single":
        return [EmbeddedWorker(settings, concurrency=2, extra_plugins=[PLUGIN], env=env)]
    return [
        EmbeddedWorker(
            settings, concurrency=2, extra_plugins=[PLUGIN], env=env, queues=["default"]
        ),
        EmbeddedWorker(
            settings,
            concurrency=4,
            pool="threads",
            queues=["casesystem", "federal"],
            extra_plugins=[PLUGIN],
            env=env,
        ),
    ]


def test_worker_serves_only_the_queues_it_is_given(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    worker = EmbeddedWorker(settings, queues=["casesystem", "federal"], pool="threads")
    queues = worker.args[worker.args.index("-Q") + 1]
    assert queues == "piis.casesystem,piis.federal"
    assert worker.args[worker.args.index("-P") + 1] == "threads"
    with pytest.raises(ValueError, match="unknown queue"):
        EmbeddedWorker(settings, queues=["defualt"])


@pytest.mark.parametrize(
    ("broker", "topology"),
    [("redis", "single"), ("rabbitmq", "single"), ("redis", "groups")],
)
def test_scale_out_run_on_real_broker_with_postgresql(
    broker: str, topology: str, tmp_path: Path, make_remote, pg_url: str, capfd
) -> None:
    """``groups``: the worker groups of deploy/compose.yaml (CPU queue on prefork, the remote queues
    on threads), which the nightly benchmark also runs on Redis."""
    require_service(broker)
    broker_url = (
        "redis://127.0.0.1:6379/11" if broker == "redis" else "amqp://guest:guest@127.0.0.1:5672//"
    )
    purge_queues(broker_url)
    remote = make_remote(400, bad_every=40, two_forms_every=9)
    settings = make_settings(
        tmp_path, remote.url, database_url=pg_url, broker_url=broker_url, cpas=("gent", "liege")
    )
    upgrade_database(pg_url)
    options = PipelineOptions(page_size=100, chunk_size=50, submit_batch=50)
    env = {"PIIS_PIPELINE_PAGE_SIZE": "100", "PIIS_PIPELINE_CHUNK_SIZE": "50"}
    workers = _workers(settings, env, topology)
    try:
        with contextlib.ExitStack() as stack:
            for worker in workers:
                stack.enter_context(worker)
            summary = run_nightly(settings, embedded=False, options=options, timeout=90)
    finally:
        _remove(broker_url)
    if broker == "redis":  # database 11 is this test's own: nothing of it may remain
        import redis

        assert list(redis.Redis(host="127.0.0.1", port=6379, db=11).scan_iter("_kombu.*")) == []

    st = remote.state
    # Both CPAS read the same remote feed: every record twice, every form key once per CPAS.
    good = [r for r in st.records if not r["bad"]]
    expected = 2 * sum(r["forms"] for r in good)
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] == 800
    assert summary.counts["items_quarantined"] == 2 * (400 // 40)
    assert summary.counts["forms_answered"] == expected
    assert len(st.effects) == expected and st.out_of_order == 0
    assert len([p for p in st.pushes.values() if p["kind"] == "federal_answer"]) == expected
    assert summary.counts["push_quarantined"] == 0 and summary.counts["push_open"] == 0
    # No connection crossed a fork: the worker's main process closes its pool before forking, so
    # no child drops an inherited connection (psycopg: "deleted while still open").
    err = capfd.readouterr().err
    assert "deleted while still open" not in err, err[err.find("deleted while") - 1500 :][:3000]
