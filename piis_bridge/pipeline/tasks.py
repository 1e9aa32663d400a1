"""Celery tasks: thin wrappers that carry ids only and call :mod:`piis_bridge.pipeline.stages`
(and :mod:`piis_bridge.pipeline.notices`).

Queues per remote system (``piis.casesystem``, ``piis.federal``) let a site cap the concurrency on
each remote with a dedicated worker (``-Q piis.federal -c 2``); ``piis.default`` holds the CPU work.
Unexpected database or broker hiccups retry the task with exponential backoff and jitter; business
outcomes never raise (they are recorded in the database).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from celery import Celery, shared_task
from sqlalchemy.exc import OperationalError

from piis_bridge.logging import get_logger
from piis_bridge.pipeline import stages
from piis_bridge.pipeline.reliability import TransientError
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["QUEUES", "ROUTES", "CeleryEnqueuer", "queue_names", "routes_for", "runtime_of"]

QUEUES = ("piis.default", "piis.casesystem", "piis.federal")
ROUTES = {
    "piis.pipeline.pull": {"queue": "piis.casesystem"},
    "piis.pipeline.push": {"queue": "piis.casesystem"},
    "piis.pipeline.submit": {"queue": "piis.federal"},
    "piis.pipeline.collect": {"queue": "piis.federal"},
    "piis.pipeline.notices": {"queue": "piis.federal"},
    "piis.pipeline.statement": {"queue": "piis.federal"},
}


def queue_names(prefix: str = "piis") -> tuple[str, ...]:
    """The three queues under *prefix* (``PIIS_PIPELINE_QUEUE_PREFIX``): default, casesystem, federal.

    Why a prefix: two installations (or two test runs) sharing one RabbitMQ vhost must not consume
    each other's messages."""
    return tuple(q.replace("piis.", f"{prefix}.", 1) for q in QUEUES)


def routes_for(prefix: str = "piis") -> dict[str, dict[str, str]]:
    return {
        name: {"queue": route["queue"].replace("piis.", f"{prefix}.", 1)}
        for name, route in ROUTES.items()
    }


_RETRY = dict(
    autoretry_for=(OperationalError, TransientError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
    acks_late=True,
)

_log = get_logger("piis_bridge.pipeline.tasks")


def runtime_of(app: Celery) -> Runtime:
    rt = getattr(app, "piis_runtime", None)
    if rt is None:
        rt = Runtime()
        app.piis_runtime = rt
    return rt


class CeleryEnqueuer:
    """The :class:`~piis_bridge.pipeline.stages.Enqueuer` that sends celery messages."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def _send(self, name: str, args: list[Any], countdown: float, attempt: int) -> None:
        routes = self.app.conf.task_routes or ROUTES
        self.app.send_task(
            f"piis.pipeline.{name}",
            args=args,
            kwargs={"attempt": attempt} if attempt else None,
            countdown=countdown or None,
            **routes.get(f"piis.pipeline.{name}", {}),
        )

    def pull(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._send("pull", [run_id, cpas_id], countdown, attempt)

    def process(
        self, run_id: str, item_ids: list[int], *, countdown: float = 0, attempt: int = 0
    ) -> None:
        self._send("process", [run_id, item_ids], countdown, attempt)

    def submit(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._send("submit", [run_id, cpas_id], countdown, attempt)

    def collect(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._send("collect", [run_id, cpas_id], countdown, attempt)

    def push(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._send("push", [run_id, cpas_id], countdown, attempt)

    def notices(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._send("notices", [run_id, cpas_id], countdown, attempt)

    def statement(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None:
        self._send("statement", [run_id, cpas_id], countdown, attempt)

    def start(self, run_id: str) -> None:
        self.app.send_task("piis.pipeline.start_run", args=[run_id])


def _ctx(task: Any) -> tuple[Runtime, CeleryEnqueuer]:
    return runtime_of(task.app), CeleryEnqueuer(task.app)


def _fresh(task: Any, run_id: str) -> bool:
    """This worker's configuration is the one the run was started with (else the run fails with
    "restart the workers": :func:`piis_bridge.ops.preflight.run_is_fresh`)."""
    from piis_bridge.ops.preflight import run_is_fresh

    return run_is_fresh(runtime_of(task.app), run_id)


@shared_task(bind=True, name="piis.pipeline.start_run", **_RETRY)
def start_run(self: Any, run_id: str) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.start_run(rt, run_id, enq)


@shared_task(bind=True, name="piis.pipeline.pull", **_RETRY)
def pull(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.pull(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.process", **_RETRY)
def process(self: Any, run_id: str, item_ids: list[int], attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.process_items(rt, run_id, item_ids, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.submit", **_RETRY)
def submit(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.submit_forms(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.collect", **_RETRY)
def collect(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.collect_answers(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.push", **_RETRY)
def push(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    rt, enq = _ctx(self)
    stages.push_back(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.notices", **_RETRY)
def notices(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    from piis_bridge.pipeline.notices import read_notices

    rt, enq = _ctx(self)
    read_notices(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.statement", **_RETRY)
def statement(self: Any, run_id: str, cpas_id: str, attempt: int = 0) -> None:
    if not _fresh(self, run_id):
        return
    from piis_bridge.pipeline.statement import fetch_statement

    rt, enq = _ctx(self)
    fetch_statement(rt, run_id, cpas_id, enq, attempt)


@shared_task(bind=True, name="piis.pipeline.sweep", **_RETRY)
def sweep(self: Any) -> None:
    from piis_bridge.pipeline.sweeper import sweep as sweep_once

    rt, enq = _ctx(self)
    sweep_once(rt, enq)


@shared_task(bind=True, name="piis.pipeline.dispatch_nightly", **_RETRY)
def dispatch_nightly(self: Any) -> str | None:
    """Start tonight's run once it is due (called every minute by beat; idempotent per night)."""
    from datetime import datetime

    from piis_bridge.pipeline.schedule import due_schedule_key, nightly_window

    rt, enq = _ctx(self)
    s = rt.settings
    # Catch-up is opt-in (nightly_catchup): see schedule.nightly_window.
    window = nightly_window(s.nightly_catchup, rt.options.nightly_catchup_hours)
    key = due_schedule_key(datetime.now(UTC), s.nightly_time, s.nightly_zone(), window)
    if key is None or not s.cpas:
        return None
    try:
        run_id = stages.create_run(rt, trigger="nightly", schedule_key=key)
    except stages.RunRefused as exc:
        # Another run of one of these CPAS is in progress: the night's run waits (beat asks again
        # every minute, and the schedule key still starts it only once).
        _log.info("nightly run waits for the run in progress", reason=str(exc))
        return None
    if run_id is not None:
        enq.start(run_id)
    return run_id


@shared_task(bind=True, name="piis.pipeline.dispatch_statement", **_RETRY)
def dispatch_statement(self: Any) -> str | None:
    """Start the run of last month's statement once it is due (beat, every few minutes; once a month)."""
    from datetime import datetime

    from piis_bridge.pipeline.statement import dispatch_statement_run

    rt, enq = _ctx(self)
    return dispatch_statement_run(rt, enq, datetime.now(UTC))


@shared_task(bind=True, name="piis.alerts.check", ignore_result=True)
def alerts_check(self: Any) -> None:
    """Beat, every five minutes: alert conditions, caps and the daily digest (observability.alerts)."""
    from piis_bridge.observability.alerts import check_and_send

    rt = runtime_of(self.app)
    check_and_send(rt.settings, rt.engine)
