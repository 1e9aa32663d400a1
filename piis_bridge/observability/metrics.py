"""Prometheus metrics: state read from the database at scrape time, plus remote-call latencies.

Why two sources: the application database is the source of truth for runs, items, forms, quarantine
and circuits, and it is shared by every celery worker process, so a collector that reads it at scrape
time is right across processes and restarts by construction (no counter lost when a child is recycled).
Only what the database does not hold, the latency of calls to remote systems, is measured in the
worker processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (the same directory for the workers and for
``piis-bridge monitor serve``), prometheus-client's multiprocess mode adds up every process's samples.

Labels carry CPAS ids, stages, states, federal codes and remote names only, never a record id or a
NISS (``tests/observability`` scans the exposition of a hostile run).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from piis_bridge.config import Settings

__all__ = ["REMOTE_HOOKS", "BridgeCollector", "exposition", "observe_call", "registry_for"]

REMOTE_HOOKS = frozenset(
    {
        "piis_case_fetch_changes",
        "piis_case_fetch_record",
        "piis_case_push",
        "piis_federal_submit",
        "piis_federal_fetch_results",
        "piis_federal_fetch_statement",
        "piis_federal_fetch_notices",
        "piis_transfer_send",
    }
)
"""Plugin hooks that call a remote system; their duration is the remote call latency."""

CALL_SECONDS = Histogram(
    "piis_remote_call_seconds",
    "Duration of plugin calls that reach a remote system.",
    ["role", "hook", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


@contextmanager
def observe_call(role: str, hook: str) -> Iterator[None]:
    """Time one plugin call (``outcome`` is ``ok`` or ``error``); cheap enough for every call."""
    if hook not in REMOTE_HOOKS:
        yield
        return
    from piis_bridge.observability.tracing import remote_span

    start = time.perf_counter()
    outcome = "error"
    try:
        with remote_span(role, hook):
            yield
        outcome = "ok"
    finally:
        CALL_SECONDS.labels(role=role, hook=hook.removeprefix("piis_"), outcome=outcome).observe(
            time.perf_counter() - start
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class BridgeCollector(Collector):
    """Gauges computed from the application database at each scrape."""

    REFUSED_CODES_DAYS = 31

    def __init__(self, settings: Settings, engine: Any = None) -> None:
        from piis_bridge.db import make_engine

        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = datetime.now(UTC)
        up = GaugeMetricFamily(
            "piis_database_up", "1 when the application database answered this scrape."
        )
        try:
            families = list(self._families(now))
        except Exception:  # noqa: BLE001 - a scrape must answer even with the database down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import and_, func, select

        from piis_bridge.ledger.models import FormEntry
        from piis_bridge.observability.health import last_successful_nightly, open_circuits
        from piis_bridge.pipeline.models import (
            CircuitState,
            Effect,
            QuarantineEntry,
            StageStat,
            SyncRun,
            SyncRunCpas,
        )

        with self.engine.connect() as conn:
            runs = GaugeMetricFamily(
                "piis_runs", "Runs recorded, by CPAS and status.", labels=["cpas", "status"]
            )
            for cpas_id, status, n in conn.execute(
                select(SyncRunCpas.cpas_id, SyncRun.status, func.count())
                .join(SyncRun, SyncRun.id == SyncRunCpas.run_id)
                .group_by(SyncRunCpas.cpas_id, SyncRun.status)
            ):
                runs.add_metric([cpas_id, status], n)
            yield runs

            duration = GaugeMetricFamily(
                "piis_run_last_duration_seconds",
                "Duration of the newest finished run, by CPAS.",
                labels=["cpas"],
            )
            latest: dict[str, tuple[datetime, float]] = {}
            for cpas_id, started, finished in conn.execute(
                select(SyncRunCpas.cpas_id, SyncRun.started_at, SyncRun.finished_at)
                .join(SyncRun, SyncRun.id == SyncRunCpas.run_id)
                .where(SyncRun.finished_at.is_not(None))
                .order_by(SyncRun.finished_at.desc())
                .limit(500)
            ):
                if cpas_id not in latest and finished is not None and started is not None:
                    latest[cpas_id] = (
                        finished,
                        (_aware(finished) - _aware(started)).total_seconds(),
                    )
            for cpas_id, (_, seconds) in sorted(latest.items()):
                duration.add_metric([cpas_id], seconds)
            yield duration

            last_ok = GaugeMetricFamily(
                "piis_nightly_last_success_timestamp_seconds",
                "End of the newest successful nightly run (Unix time).",
                labels=["cpas"],
            )
            since = GaugeMetricFamily(
                "piis_nightly_seconds_since_success",
                "Seconds since the newest successful nightly run.",
                labels=["cpas"],
            )
            for cpas_id, when in sorted(
                last_successful_nightly(self.engine, self.settings.cpas).items()
            ):
                last_ok.add_metric([cpas_id], when.timestamp())
                since.add_metric([cpas_id], (now - when).total_seconds())
            yield last_ok
            yield since

            running = conn.execute(
                select(SyncRun.id)
                .where(SyncRun.status == "running")
                .order_by(SyncRun.started_at.desc())
                .limit(1)
            ).scalar()
            newest = (
                running
                or conn.execute(
                    select(SyncRun.id).order_by(SyncRun.started_at.desc()).limit(1)
                ).scalar()
            )
            units = GaugeMetricFamily(
                "piis_stage_units",
                "Units done per stage in the current (or newest) run.",
                labels=["stage"],
            )
            busy = GaugeMetricFamily(
                "piis_stage_busy_seconds", "Busy seconds per stage in that run.", labels=["stage"]
            )
            if newest:
                for stage, n, seconds in conn.execute(
                    select(StageStat.stage, StageStat.units, StageStat.busy_seconds).where(
                        StageStat.run_id == newest
                    )
                ):
                    units.add_metric([stage], n)
                    busy.add_metric([stage], seconds)
            yield units
            yield busy

            quarantine = GaugeMetricFamily(
                "piis_quarantine_open", "Open quarantine entries.", labels=["cpas", "stage"]
            )
            for cpas_id, stage, n in conn.execute(
                select(QuarantineEntry.cpas_id, QuarantineEntry.stage, func.count())
                .where(QuarantineEntry.status == "open")
                .group_by(QuarantineEntry.cpas_id, QuarantineEntry.stage)
            ):
                quarantine.add_metric([cpas_id, stage], n)
            yield quarantine

            forms = GaugeMetricFamily(
                "piis_forms",
                "Federal forms in the ledger, by CPAS, form and status.",
                labels=["cpas", "form", "status"],
            )
            for cpas_id, kind, status, n in conn.execute(
                select(FormEntry.cpas_id, FormEntry.kind, FormEntry.status, func.count()).group_by(
                    FormEntry.cpas_id, FormEntry.kind, FormEntry.status
                )
            ):
                forms.add_metric([cpas_id, kind, status], n)
            yield forms

            codes = GaugeMetricFamily(
                "piis_forms_refused_codes",
                f"Federal error codes of forms refused in the last {self.REFUSED_CODES_DAYS} days.",
                labels=["cpas", "code"],
            )
            counted: dict[tuple[str, str], int] = {}
            since_day = now - timedelta(days=self.REFUSED_CODES_DAYS)
            for cpas_id, errors in conn.execute(
                select(FormEntry.cpas_id, FormEntry.errors).where(
                    FormEntry.status == "refused", FormEntry.updated_at >= since_day
                )
            ):
                for error in errors or []:
                    code = str(error.get("code", "?"))[:16] if isinstance(error, dict) else "?"
                    counted[(cpas_id, code)] = counted.get((cpas_id, code), 0) + 1
            for (cpas_id, code), n in sorted(counted.items()):
                codes.add_metric([cpas_id, code], n)
            yield codes

            waiting = GaugeMetricFamily(
                "piis_effects_waiting_retry",
                "Side effects waiting for a retry after a transient failure.",
                labels=["cpas", "kind"],
            )
            for cpas_id, kind, n in conn.execute(
                select(Effect.cpas_id, Effect.kind, func.count())
                .where(
                    and_(
                        Effect.next_attempt_at.is_not(None),
                        Effect.attempts > 0,
                        Effect.state.in_(("pending", "sending")),
                    )
                )
                .group_by(Effect.cpas_id, Effect.kind)
            ):
                waiting.add_metric([cpas_id, kind], n)
            yield waiting

            circuit = GaugeMetricFamily(
                "piis_circuit_open",
                "1 while a remote's circuit breaker is open.",
                labels=["remote"],
            )
            until_ts = GaugeMetricFamily(
                "piis_circuit_open_until_timestamp_seconds",
                "Until when an open circuit stays open (Unix time).",
                labels=["remote"],
            )
            opened = open_circuits(self.engine, now)
            for (remote,) in conn.execute(select(CircuitState.remote)):
                circuit.add_metric([_remote_label(remote)], 1 if remote in opened else 0)
            for remote, until in opened.items():
                until_ts.add_metric([_remote_label(remote)], until.timestamp())
            yield circuit
            yield until_ts

        depth = GaugeMetricFamily(
            "piis_queue_depth", "Messages waiting in each broker queue.", labels=["queue"]
        )
        for queue, n in queue_depths(self.settings).items():
            depth.add_metric([queue], n)
        yield depth


def _remote_label(remote: str) -> str:
    """Circuit names are '<role>:<cpas>' style identifiers of remotes, never of persons; cut to be safe."""
    return remote[:80]


def queue_depths(settings: Settings) -> dict[str, int]:
    """Messages waiting per pipeline queue (0 for a queue never declared); {} when the broker is down."""
    from piis_bridge.observability.health import pipeline_queues

    url = settings.broker_url
    if url.startswith("filesystem://"):
        return {}
    try:
        from kombu import Connection

        depths = {}
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            for queue in pipeline_queues():
                channel = conn.channel()
                try:
                    depths[queue] = int(
                        channel.queue_declare(queue=queue, passive=True).message_count
                    )
                except Exception:  # noqa: BLE001 - not declared yet: nothing waits
                    depths[queue] = 0
                finally:
                    with contextlib.suppress(Exception):  # a closing channel has nothing to tell
                        channel.close()
        return depths
    except Exception:  # noqa: BLE001
        return {}


def registry_for(settings: Settings, engine: Any = None) -> CollectorRegistry:
    """The registry ``monitor serve`` exposes: the database collector, plus every worker process's
    latency samples when ``PROMETHEUS_MULTIPROC_DIR`` is set (else this process's own)."""
    registry = CollectorRegistry()
    registry.register(BridgeCollector(settings, engine))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(CALL_SECONDS)
    return registry


def exposition(settings: Settings, engine: Any = None) -> bytes:
    """The Prometheus text exposition, once (for tests and ``monitor metrics``)."""
    return generate_latest(registry_for(settings, engine))
