"""Optional OpenTelemetry tracing: one trace per run, a span per celery task (stage) and per remote call.

Off unless ``monitoring.tracing_endpoint`` names an OTLP/HTTP collector (and the ``otel`` extra is
installed): traces leave the machine, so nothing is sent by default.  Why the run id is the trace id:
it is already 128 random bits, so every task of a run, in any worker process, joins the same trace
without passing context through celery messages, and an operator finds a run's trace from
``piis-bridge runs show``.  Span attributes are CPAS ids, stages, hooks, outcomes and counts; never a
record id, a person or a NISS.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piis_bridge.config import Settings

__all__ = ["configure", "enabled", "remote_span", "shutdown", "task_finished", "task_started"]

_state: dict[str, Any] = {"tracer": None, "provider": None, "pid": None, "endpoint": None}
_open: dict[str, tuple[Any, Any]] = {}  # celery task id -> (span, context token)


def enabled() -> bool:
    return _state["tracer"] is not None and _state["pid"] == os.getpid()


def configure(settings: Settings) -> bool:
    """Set up the exporter in this process (again after a fork); False when tracing is off."""
    endpoint = settings.monitoring.tracing_endpoint
    if not endpoint:
        return False
    if enabled() and _state["endpoint"] == endpoint:
        return True
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "monitoring.tracing_endpoint is set but OpenTelemetry is not installed: "
            "pip install 'piis-bridge[otel]' (or unset the setting)"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": "piis-bridge"}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, timeout=5), schedule_delay_millis=1000
        )
    )
    _state.update(
        tracer=provider.get_tracer("piis_bridge"),
        provider=provider,
        pid=os.getpid(),
        endpoint=endpoint,
    )
    return True


def shutdown() -> None:
    """Flush and stop (a worker child that ends, a CLI that is done)."""
    provider = _state.get("provider")
    if provider is not None and _state["pid"] == os.getpid():
        provider.shutdown()
    _state.update(tracer=None, provider=None, pid=None, endpoint=None)


def _run_context(run_id: str) -> Any:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    parent = SpanContext(
        trace_id=int(run_id, 16),
        span_id=random.getrandbits(64) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def task_started(
    task_id: str | None, task_name: str, run_id: str | None, cpas_id: str | None
) -> None:
    """celery task_prerun: a span named after the stage, in the run's trace."""
    if not enabled() or task_id is None:
        return
    from opentelemetry import context

    ctx = _run_context(run_id) if run_id else None
    attributes = {"piis.stage": task_name.rsplit(".", 1)[-1]}
    if run_id:
        attributes["piis.run_id"] = run_id
    if cpas_id:
        attributes["piis.cpas"] = cpas_id
    span = _state["tracer"].start_span(task_name, context=ctx, attributes=attributes)
    from opentelemetry import trace

    token = context.attach(trace.set_span_in_context(span))
    _open[task_id] = (span, token)


def task_finished(task_id: str | None, state: str | None) -> None:
    if task_id is None or task_id not in _open:
        return
    from opentelemetry import context
    from opentelemetry.trace import Status, StatusCode

    span, token = _open.pop(task_id)
    if state and state not in ("SUCCESS",):
        span.set_status(Status(StatusCode.ERROR, state))
    span.end()
    context.detach(token)


@contextmanager
def remote_span(role: str, hook: str) -> Iterator[Any]:
    """A child span around one plugin call to a remote system (only inside a traced task)."""
    if not enabled():
        yield None
        return
    from opentelemetry.trace import Status, StatusCode

    with _state["tracer"].start_as_current_span(
        f"remote {hook.removeprefix('piis_')}",
        attributes={"piis.role": role, "piis.hook": hook},
        record_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_status(
                Status(StatusCode.ERROR, type(exc).__name__)
            )  # the type only: texts may hold data
            raise
