"""The celery application factory: embedded (filesystem broker) or scale-out (Redis/RabbitMQ).

Embedded default (nothing to install): ``broker_url = "filesystem://"`` with the message folders
under ``var/broker`` and SQLite for the application database.  Scale-out: ``redis://`` or
``amqp://`` and PostgreSQL, several workers, exactly one beat.  The same tasks run in both; the
application database, not the broker, holds the state (see :mod:`piis_bridge.pipeline.models`).

Settings follow celery's own advice for idempotent I/O tasks: ``acks_late``, prefetch 1,
``reject_on_worker_lost`` off (the sweeper recovers instead of redelivery loops on poison messages),
JSON only, results ignored (the business results live in the application database).  Long-lived
workers: each prefork child is replaced after ``max_tasks_per_child`` tasks or beyond
``max_memory_per_child_mb``, and per-task state (the plugin host's failure list) is dropped after
each task (``task_postrun``).
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from celery import Celery, signals

from piis_bridge.config import Settings
from piis_bridge.pipeline import fstransport
from piis_bridge.pipeline.runtime import PipelineOptions, Runtime
from piis_bridge.pipeline.tasks import queue_names, routes_for

__all__ = ["broker_folder", "celery_config", "make_celery_app"]

_RUNTIMES: weakref.WeakSet[Runtime] = weakref.WeakSet()


def broker_folder(settings: Settings, options: PipelineOptions) -> Path:
    if options.broker_dir is not None:
        return options.broker_dir
    return Path(settings.state_dir).parent / "broker"


def celery_config(settings: Settings, options: PipelineOptions) -> dict[str, Any]:
    broker = settings.broker_url
    transport: dict[str, Any] = {}
    if broker.startswith("filesystem://"):
        folder = broker_folder(settings, options)
        for sub in ("queue", "control", "processed", "staging"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        transport = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "processed_folder": str(folder / "processed"),
            "staging_folder": str(folder / "staging"),
            "store_processed": False,
            "polling_interval": 0.1,
        }
    elif broker.startswith(("redis://", "rediss://")):
        # Countdowns stay far below this (RetryPolicy.cap), so nothing is redelivered twice (celery#2599).
        transport = {"visibility_timeout": 3600}
    queues, routes = queue_names(options.queue_prefix), routes_for(options.queue_prefix)
    annotations: dict[str, Any] = {}
    if options.federal_rate_limit:
        annotations.update(
            {
                name: {"rate_limit": options.federal_rate_limit}
                for name, route in routes.items()
                if route["queue"] == queues[2]
            }
        )
    if options.casesystem_rate_limit:
        annotations.update(
            {
                name: {"rate_limit": options.casesystem_rate_limit}
                for name, route in routes.items()
                if route["queue"] == queues[1]
            }
        )
    result_backend = settings.result_backend
    if result_backend.startswith("db+sqlite:///"):
        Path(result_backend.removeprefix("db+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if broker.startswith("filesystem://"):
        # The folders come from the transport options; naming a host only keeps kombu from
        # warning "No hostname was supplied" on every connection.
        rest = broker.removeprefix("filesystem://")
        broker = f"{fstransport.SCHEME}://{rest or 'localhost//'}"
    return {
        "broker_url": broker,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "result_backend": result_backend,
        "task_ignore_result": True,
        "result_expires": 3600,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_acks_late": True,
        "task_reject_on_worker_lost": False,
        "worker_prefetch_multiplier": 1,
        # A worker runs for weeks: a child is replaced after N tasks or past a memory ceiling, so a
        # plugin that leaks (a cache, a client per call) cannot grow it without bound.
        "worker_max_tasks_per_child": options.max_tasks_per_child,
        "worker_max_memory_per_child": (
            options.max_memory_per_child_mb * 1024  # KiB
            if options.max_memory_per_child_mb
            else None
        ),
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_default_queue": queues[0],
        "task_routes": routes,
        "task_annotations": annotations,
        "timezone": settings.timezone,
        "enable_utc": True,
        "beat_schedule": {
            "piis-nightly": {"task": "piis.pipeline.dispatch_nightly", "schedule": 60.0},
            # Last month's federal statement, from the Monday after the first Sunday (schedule.py).
            "piis-statement": {"task": "piis.pipeline.dispatch_statement", "schedule": 300.0},
            "piis-sweep": {"task": "piis.pipeline.sweep", "schedule": options.sweep_seconds},
            # Alert conditions and the daily digest (observability.alerts); nothing is sent without a channel.
            "piis-alerts": {"task": "piis.alerts.check", "schedule": 300.0},
        },
    }


def make_celery_app(
    settings: Settings | None = None,
    options: PipelineOptions | None = None,
    *,
    plugins: tuple[tuple[str, object], ...] = (),
    runtime: Runtime | None = None,
) -> Celery:
    """A celery app whose tasks use *settings* (default: the configuration file and environment)."""
    rt = runtime or Runtime(settings, options, plugins)
    app = Celery("piis_bridge", set_as_current=False)
    app.conf.update(celery_config(rt.settings, rt.options))
    app.piis_runtime = rt
    import piis_bridge.pipeline.tasks  # noqa: F401 - registers the shared tasks

    _RUNTIMES.add(rt)
    app.finalize()
    return app


POOL_DEADLOCK_EXIT = 75  # EX_TEMPFAIL: the worker's supervisor starts it again


def pool_child_lost(exitcode: int | None, *, shutting_down: bool = False) -> bool:
    """Whether a prefork child that ended with *exitcode* may have left the blocking pool deadlocked.

    Why: with a broker that has no event loop (the embedded filesystem broker), celery uses billiard's
    *blocking* pool, whose idle children wait for the next task inside ``SimpleQueue.get_payload()``
    holding the one read lock of the shared task pipe (a POSIX semaphore, which has no owner).  A
    child killed there (SIGKILL, the OOM killer, a crash) never releases it: every other child and
    every replacement waits on it for ever, and the worker executes nothing again while it looks
    alive (celery#4185, billiard#104; seen here as a >180 s stall after a SIGKILL with 2 processes).
    A child that exits by itself (recycled, warm shutdown) or by SIGTERM (billiard raises SystemExit
    there, and the ``with`` block releases the lock) cannot hold it."""
    import signal as _signal

    if shutting_down or exitcode is None or exitcode >= 0:
        return False
    return -exitcode != _signal.SIGTERM


def _guard_blocking_pool(pool: Any) -> None:
    """Make the worker exit (for its supervisor to start it again with a fresh pool) when a child of
    its blocking pool dies by a signal; see :func:`pool_child_lost`.  The database holds the state:
    the sweeper re-enqueues what the worker held (leases run out), so a restart loses nothing."""
    inner = getattr(pool, "_pool", None)
    inqueue = getattr(inner, "_inqueue", None)
    if inner is None or getattr(inqueue, "_rlock", None) is None:
        return  # the asynchronous pool (Redis, RabbitMQ): one pipe per child, no shared lock
    previous = inner.on_process_down

    def on_process_down(proc: Any) -> None:
        if pool_child_lost(proc.exitcode, shutting_down=getattr(inner, "_state", 0) != 0):
            from piis_bridge.logging import get_logger

            get_logger("piis_bridge.pipeline.worker").error(
                "a worker process was killed; the blocking pool may be deadlocked on its task pipe "
                "lock, so this worker exits to be started again (the sweeper re-enqueues its work)",
                pid=proc.pid,
                exitcode=proc.exitcode,
            )
            os._exit(POOL_DEADLOCK_EXIT)
        if previous is not None:
            previous(proc)

    inner.on_process_down = on_process_down


@signals.worker_ready.connect
def _after_pool_start(sender: Any = None, **_: Any) -> None:
    pool = getattr(sender, "pool", None)
    if pool is not None:
        _guard_blocking_pool(pool)


@signals.worker_process_init.connect
def _after_fork(**_: Any) -> None:
    # SQLAlchemy pools and plugin HTTP clients must not be shared with the parent (airflow#13265).
    for rt in list(_RUNTIMES):
        rt.after_fork()


@signals.worker_process_shutdown.connect
def _metrics_process_dead(pid: int | None = None, **_: Any) -> None:
    # prometheus-client multiprocess mode: a recycled child's live gauges must not linger.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
    from piis_bridge.observability import tracing

    tracing.shutdown()  # flush the spans of this child


@signals.before_task_publish.connect
def _propagate_correlation(headers: dict[str, Any] | None = None, **_: Any) -> None:
    import structlog

    cid = structlog.contextvars.get_contextvars().get("correlation_id")
    if headers is not None and cid:
        headers.setdefault("piis_correlation_id", cid)


@signals.task_prerun.connect
def _bind_task_context(
    task_id: str | None = None, task: Any = None, args: Any = None, **_: Any
) -> None:
    import structlog

    from piis_bridge.logging import new_correlation_id

    structlog.contextvars.clear_contextvars()
    cid = (
        getattr(getattr(task, "request", None), "piis_correlation_id", None) or new_correlation_id()
    )
    run_id = args[0] if args and isinstance(args[0], str) and len(args[0]) == 32 else None
    structlog.contextvars.bind_contextvars(
        correlation_id=cid, task_id=task_id, task_name=getattr(task, "name", None), run_id=run_id
    )
    rt = getattr(getattr(task, "app", None), "piis_runtime", None)
    if (
        rt is not None and rt.settings.monitoring.tracing_endpoint
    ):  # optional OpenTelemetry (observability)
        from piis_bridge.observability import tracing

        cpas = (
            args[1]
            if args and len(args) > 1 and isinstance(args[1], str) and len(args[1]) <= 40
            else None
        )
        tracing.configure(rt.settings)
        tracing.task_started(task_id, getattr(task, "name", "task"), run_id, cpas)


@signals.task_postrun.connect
def _clear_task_context(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    from piis_bridge.observability import tracing

    tracing.task_finished(task_id, state)
    import structlog

    structlog.contextvars.clear_contextvars()
    for rt in list(_RUNTIMES):
        rt.task_done()
