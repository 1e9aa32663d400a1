"""Optional OpenTelemetry tracing: one trace per run and one per dossier of the run.

The run's trace has a span per celery task (stage) and per remote call.  Each dossier (a record of the
run, ``sync_item``) has its own trace with a span per stage it went through (process, submit, push,
collect), each linked to the task span that did the work, so an operator can follow one dossier
through a night without reading the whole run.

Off unless ``monitoring.tracing_endpoint`` names an OTLP/HTTP collector (and the ``otel`` extra is
installed): traces leave the machine, so nothing is sent by default.  Why the run id is the trace id:
it is already 128 random bits, so every task of a run, in any worker process, joins the same trace
without passing context through celery messages, and an operator finds a run's trace from
``piis-bridge runs show``.  Span attributes are CPAS ids, stages, hooks, outcomes and counts; never a
record id, a person or a NISS.

Why a dossier is named by its item number: the record id comes from the vendor and may embed a NISS
(``GPMI-<NISS>`` was seen), while ``sync_item.id`` is a surrogate the bridge made, meaningless outside
its database; the dossier's trace id is derived from the run id and that number
(:func:`dossier_trace_id`), so the spans of one dossier written by different worker processes, hours
apart, meet in one trace without any context passed between them.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piis_bridge.config import Settings

__all__ = [
    "DossierTimer",
    "configure",
    "dossier_spans",
    "dossier_trace_id",
    "enabled",
    "remote_span",
    "shutdown",
    "task_finished",
    "task_started",
]

_state: dict[str, Any] = {
    "tracer": None,
    "provider": None,
    "pid": None,
    "endpoint": None,
    "dossiers": False,
}
# (trace id, span id) the next span must take: how a dossier's root span gets the ids its later stages,
# in other processes, derive on their own (see _ids_generator).
_forced_ids: ContextVar[tuple[int, int] | None] = ContextVar("piis_forced_ids", default=None)
_open: dict[str, tuple[Any, Any]] = {}  # celery task id -> (span, context token)


def enabled() -> bool:
    return _state["tracer"] is not None and _state["pid"] == os.getpid()


def configure(settings: Settings) -> bool:
    """Set up the exporter in this process (again after a fork); False when tracing is off."""
    endpoint = settings.monitoring.tracing_endpoint
    if not endpoint:
        return False
    if enabled() and _state["endpoint"] == endpoint:
        _state["dossiers"] = settings.monitoring.tracing_dossiers
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
    provider = TracerProvider(
        resource=Resource.create({"service.name": "piis-bridge"}), id_generator=_ids_generator()
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, timeout=5),
            schedule_delay_millis=1000,
            # One chunk of process writes a span per dossier at once (250 by default) and the SDK drops
            # what does not fit its queue (2,048 by default): room for several chunks between exports.
            max_queue_size=16384,
        )
    )
    _state.update(
        tracer=provider.get_tracer("piis_bridge"),
        provider=provider,
        pid=os.getpid(),
        endpoint=endpoint,
        dossiers=settings.monitoring.tracing_dossiers,
    )
    return True


def _ids_generator() -> Any:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class _Ids(RandomIdGenerator):
        """Random ids, except for a dossier's root span, which takes the ids derived from its dossier."""

        def generate_trace_id(self) -> int:
            forced = _forced_ids.get()
            return forced[0] if forced else super().generate_trace_id()

        def generate_span_id(self) -> int:
            forced = _forced_ids.get()
            return forced[1] if forced else super().generate_span_id()

    return _Ids()


def shutdown() -> None:
    """Flush and stop (a worker child that ends, a CLI that is done)."""
    provider = _state.get("provider")
    if provider is not None and _state["pid"] == os.getpid():
        provider.shutdown()
    _state.update(tracer=None, provider=None, pid=None, endpoint=None, dossiers=False)


def _remote_parent(trace_id: int, span_id: int) -> Any:
    """A context whose parent is a sampled span of another process: how a run's tasks and a dossier's
    later stages join their trace without any context passed through celery."""
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    parent = SpanContext(
        trace_id=trace_id,
        span_id=span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _run_context(run_id: str) -> Any:
    return _remote_parent(int(run_id, 16), random.getrandbits(64) or 1)


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


def dossier_trace_id(run_id: str, item_id: int) -> str:
    """The trace id (32 hex digits) of one dossier of one run: what to paste in the tracing UI."""
    return _dossier_ids(run_id, item_id)[0].to_bytes(16, "big").hex()


def _dossier_ids(run_id: str, item_id: int) -> tuple[int, int]:
    # A digest of two surrogates (the run's random id, the item's row number): nothing personal in or
    # out.  Zero is an invalid id in OpenTelemetry, hence the "or 1".
    digest = hashlib.sha256(f"piis-dossier:{run_id}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1


def _dossiers_on() -> bool:
    return enabled() and bool(_state["dossiers"])


def _link_to_current() -> list[Any]:
    from opentelemetry import trace
    from opentelemetry.trace import Link

    current = trace.get_current_span().get_span_context()
    return [Link(current)] if current.is_valid else []


class DossierTimer:
    """Times each dossier of a loop and writes the dossier's root span (the process stage) after it.

    Used by the process stage, whose loop handles one dossier at a time: ``start()`` at the top of
    each turn, ``finish()`` once after the loop with each dossier's outcome.  A turn ends where the
    next one starts, so the loop body needs no ``with`` block around its many exits.  Does nothing
    (and costs one boolean test per call) when dossier tracing is off.
    """

    def __init__(self, stage: str, run_id: str) -> None:
        self.stage, self.run_id = stage, run_id
        self.on = _dossiers_on()
        self._starts: list[tuple[int, str, int]] = []

    def start(self, item_id: int, cpas_id: str) -> None:
        if self.on:
            self._starts.append((item_id, cpas_id, time.time_ns()))

    def finish(self, attributes: Mapping[int, Mapping[str, Any]]) -> None:
        """Write one span per dossier timed; ``attributes`` by item id (outcome, counts)."""
        if not self.on or not self._starts:
            return
        from opentelemetry import context as otel_context

        end = time.time_ns()
        links = _link_to_current()
        tracer = _state["tracer"]
        ends = [start for _, _, start in self._starts[1:]] + [end]
        for (item_id, cpas_id, start), stop in zip(self._starts, ends, strict=True):
            token = _forced_ids.set(_dossier_ids(self.run_id, item_id))
            try:
                span = tracer.start_span(
                    f"dossier {self.stage}",
                    context=otel_context.Context(),  # a root: the dossier's own trace
                    links=links,
                    attributes=_dossier_attributes(
                        self.stage, self.run_id, item_id, cpas_id, attributes.get(item_id, {})
                    ),
                    start_time=start,
                )
            finally:
                _forced_ids.reset(token)
            span.end(end_time=max(stop, start))
        self._starts.clear()


def dossier_spans(
    stage: str,
    entries: Iterable[tuple[str, int | None, str, Mapping[str, Any]]],
    start_ns: int,
) -> None:
    """One span per dossier a batch stage handled (submit, push, collect), in each dossier's trace.

    ``entries`` are (run id, item id, CPAS, attributes); the span covers the batch (``start_ns`` to
    now), is a child of the dossier's root span and links to the task span that did the work.
    Entries without an item id (a push made outside a record) are left out.
    """
    if not _dossiers_on():
        return
    end = time.time_ns()
    links = _link_to_current()
    tracer = _state["tracer"]
    for run_id, item_id, cpas_id, attributes in entries:
        if item_id is None:
            continue
        span = tracer.start_span(
            f"dossier {stage}",
            context=_remote_parent(*_dossier_ids(run_id, item_id)),
            links=links,
            attributes=_dossier_attributes(stage, run_id, item_id, cpas_id, attributes),
            start_time=start_ns,
        )
        span.end(end_time=max(end, start_ns))


def _dossier_attributes(
    stage: str, run_id: str, item_id: int, cpas_id: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "piis.stage": stage,
        "piis.run_id": run_id,
        "piis.cpas": cpas_id,
        "piis.item": item_id,
    }
    for key, value in extra.items():
        if value is not None:
            attributes[f"piis.{key}"] = value
    return attributes
