"""The nightly synchronisation: pull changes, apply the rules, submit federal forms, push back, report.

The application database is the source of truth (an outbox of work items and keyed side effects);
celery executes.  Entry points:

- :func:`run_nightly` — run now and return a :class:`RunSummary` (``piis-bridge run``, the demo);
- :func:`make_celery_app` — the celery app for workers and beat (``piis_bridge.pipeline.worker:app``);
- :mod:`piis_bridge.pipeline.stages` — the stage functions the tasks call;
- :mod:`piis_bridge.pipeline.sweeper` — the stale-work sweeper.

See ``docs/pipeline.md``.
"""

from __future__ import annotations

from piis_bridge.pipeline.app import make_celery_app
from piis_bridge.pipeline.reliability import (
    CircuitBreaker,
    PermanentError,
    RetryPolicy,
    TransientError,
)
from piis_bridge.pipeline.runner import EmbeddedWorker, RunSummary, run_nightly
from piis_bridge.pipeline.runtime import PipelineOptions, Runtime

__all__ = [
    "CircuitBreaker",
    "EmbeddedWorker",
    "PermanentError",
    "PipelineOptions",
    "RetryPolicy",
    "RunSummary",
    "Runtime",
    "TransientError",
    "make_celery_app",
    "run_nightly",
]
