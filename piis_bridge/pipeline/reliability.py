"""Retry policy, error classification and the circuit breaker per remote system.

Why classify at all: retrying a permanent error (a malformed record, a schema violation, a plugin
bug) only delays the quarantine and hammers the remote; not retrying a transient one (a timeout, a
429, a 503, the federal service down for maintenance) loses a night.  The plugin host reports a
plugin's exception as a :class:`~piis_bridge.hooks.types.PluginFailure` (type name + redacted
message), so the classification works on those: exception types that mean "try again later", HTTP
429/5xx in the message, and the BCSS "service unavailable" code.  A plugin can make its intent
explicit by raising :class:`TransientError` (or a subclass) for anything worth retrying.

The circuit breaker lives in the application database (``sync_circuit``) so that every worker
process on every host sees the same state: after ``threshold`` consecutive transient failures of a
remote system nobody calls it for ``cooldown`` seconds; then exactly one task (the one that wins the
conditional update) probes it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from piis_bridge.hooks.types import PluginFailure
from piis_bridge.pipeline.models import CircuitState, rowcount

__all__ = [
    "CircuitBreaker",
    "PermanentError",
    "RetryPolicy",
    "TransientError",
    "is_transient",
    "is_transient_text",
]


class TransientError(Exception):
    """Raise (or subclass) in a plugin for an error worth retrying later (remote down, throttled)."""


class PermanentError(Exception):
    """An error that retrying cannot fix; the record or side effect goes to quarantine."""


_TRANSIENT_TYPES = frozenset(
    {
        "TransientError",
        "TimeoutError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
        "ConnectError",
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "TimeoutException",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "NetworkError",
        "TransportError",
        "OperationalError",
        "ServiceUnavailable",
        "RateLimited",
        "TooManyRequests",
    }
)
_TRANSIENT_SUFFIXES = (
    "Unavailable",
    "Timeout",
    "Throttled",
    "RateLimited",
    "TransientError",
    "Busy",
)
# HTTP 429/502/503/504 and the BCSS "service unavailable" fault (federal spec, simulator section 10.4).
_TRANSIENT_TEXT = re.compile(
    r"\b(408|425|429|500|502|503|504|MSG00003)\b|too many requests|temporarily unavailable|"
    r"service unavailable|timed out|connection refused",
    re.IGNORECASE,
)


def is_transient_text(message: str) -> bool:
    """True when a plugin's answer for one item reads like an outage (429, 5xx, timeout), not a refusal."""
    return bool(_TRANSIENT_TEXT.search(message or ""))


def is_transient(failure: PluginFailure | BaseException) -> bool:
    """True when the failure is worth retrying later."""
    if isinstance(failure, BaseException):
        if isinstance(failure, TransientError):
            return True
        if isinstance(failure, PermanentError):
            return False
        kind, message = type(failure).__name__, str(failure)
    else:
        kind, message = failure.error_type, failure.message
    if kind in _TRANSIENT_TYPES or kind.endswith(_TRANSIENT_SUFFIXES):
        return True
    return bool(_TRANSIENT_TEXT.search(message))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS architecture blog; celery's ``retry_jitter``).

    Delays stay short (``cap``) on purpose: a countdown longer than the Redis visibility timeout is
    redelivered again and again (celery#2599); the database row, not the message, keeps the state.
    """

    base: float = 1.0
    cap: float = 60.0
    max_attempts: int = 12

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(0, ceiling) if ceiling > 0 else 0.0

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


@dataclass(frozen=True)
class CircuitBreaker:
    """Per-remote breaker stored in ``sync_circuit`` (shared by every worker)."""

    threshold: int = 5
    cooldown: float = 30.0

    def allow(self, session: Session, remote: str, now: datetime | None = None) -> float:
        """0 when the call may go ahead, else the seconds until the next probe is allowed."""
        now = now or datetime.now(UTC)
        state = session.get(CircuitState, remote)
        if state is None or state.opened_until is None:
            return 0.0
        if state.opened_until > now:
            return (state.opened_until - now).total_seconds()
        # Half-open: let exactly one caller probe, by moving the window forward atomically.
        won = rowcount(
            session.execute(
                update(CircuitState)
                .where(
                    CircuitState.remote == remote, CircuitState.opened_until == state.opened_until
                )
                .values(opened_until=now + timedelta(seconds=self.cooldown), updated_at=now)
            )
        )
        session.commit()
        return 0.0 if won else self.cooldown

    def success(self, session: Session, remote: str) -> None:
        state = session.get(CircuitState, remote)
        if state is not None and (state.failures or state.opened_until):
            state.failures, state.opened_until = 0, None
            session.commit()

    def failure(self, session: Session, remote: str, now: datetime | None = None) -> bool:
        """Record a transient failure; True when the circuit is (now) open."""
        now = now or datetime.now(UTC)
        state = session.get(CircuitState, remote)
        if state is None:
            state = CircuitState(remote=remote, failures=0)
            session.add(state)
        state.failures += 1
        state.updated_at = now
        if state.failures >= self.threshold:
            state.opened_until = now + timedelta(seconds=self.cooldown)
        session.commit()
        return state.opened_until is not None and state.opened_until > now

    def state(self, session: Session, remote: str) -> CircuitState | None:
        return session.scalars(select(CircuitState).where(CircuitState.remote == remote)).first()
