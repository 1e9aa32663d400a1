"""Retry policy, error classification, circuit breaker and the nightly schedule across DST."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.hooks.types import PluginFailure
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline.reliability import (
    CircuitBreaker,
    PermanentError,
    RetryPolicy,
    TransientError,
    is_transient,
)
from piis_bridge.pipeline.schedule import due_schedule_key, nightly_due_at

BRU = ZoneInfo("Europe/Brussels")


def _failure(kind: str, message: str = "") -> PluginFailure:
    return PluginFailure(
        plugin="p", hook="piis_federal_submit", error_type=kind, message=message or kind
    )


# ---------------------------------------------------------------- retry policy


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0, max_attempts=5)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling  # full jitter spreads over the whole range
        assert min(delays) < 0.2 * ceiling
    assert not policy.exhausted(4) and policy.exhausted(5)


@pytest.mark.parametrize(
    "kind,message",
    [
        ("TransientError", ""),
        ("ConnectError", "connection refused"),
        ("ReadTimeout", "timed out"),
        ("CaseSystemUnavailable", "gave up"),
        ("HTTPStatusError", "Client error '429 Too Many Requests' for url"),
        ("HTTPStatusError", "Server error '503 Service Unavailable'"),
        ("HTTPStatusError", "Server error '500 x'"),
        ("Fault", "MSG00003 BCSS unavailable"),
    ],
)
def test_transient_failures_are_retried(kind: str, message: str) -> None:
    assert is_transient(_failure(kind, message))


@pytest.mark.parametrize(
    "kind,message",
    [
        ("ValidationError", "beneficiary.niss: invalid"),
        ("HTTPStatusError", "Client error '400 Bad Request'"),
        ("HTTPStatusError", "Client error '404 Not Found' for url http://127.0.0.1:5003/x"),
        ("TypeError", "bad"),
        ("KeyError", "'D000500'"),
    ],
)
def test_permanent_failures_are_not_retried(kind: str, message: str) -> None:
    assert not is_transient(_failure(kind, message))


def test_exception_classes_decide_for_themselves() -> None:
    class Throttled(TransientError):
        pass

    assert is_transient(Throttled("slow down"))
    assert not is_transient(PermanentError("503 but permanent by decision"))


# ---------------------------------------------------------------- circuit breaker


def test_circuit_opens_after_threshold_then_lets_exactly_one_probe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.sqlite3"
    upgrade_database(url)
    sessions = make_sessionmaker(make_engine(url))
    breaker = CircuitBreaker(threshold=3, cooldown=10)
    t0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    with sessions() as s:
        assert breaker.allow(s, "federal:gent", t0) == 0
        assert not breaker.failure(s, "federal:gent", t0)
        assert not breaker.failure(s, "federal:gent", t0)
        assert breaker.failure(s, "federal:gent", t0)  # third consecutive failure opens it
        assert breaker.allow(s, "federal:gent", t0 + timedelta(seconds=4)) == pytest.approx(6)
        assert breaker.allow(s, "casesystem:gent", t0) == 0  # per remote system
        later = t0 + timedelta(seconds=11)
    with sessions() as a, sessions() as b:
        first, second = (
            breaker.allow(a, "federal:gent", later),
            breaker.allow(b, "federal:gent", later),
        )
        assert sorted([first, second]) == [0, 10]  # one probe, the other waits
    with sessions() as s:
        breaker.success(s, "federal:gent")
        assert breaker.allow(s, "federal:gent", later) == 0
        assert breaker.state(s, "federal:gent").failures == 0


# ---------------------------------------------------------------- nightly schedule (Europe/Brussels)


def test_nightly_time_is_local_winter_and_summer() -> None:
    assert nightly_due_at(date(2026, 1, 15), time(2, 30), BRU) == datetime(
        2026, 1, 15, 1, 30, tzinfo=UTC
    )
    assert nightly_due_at(date(2026, 7, 15), time(2, 30), BRU) == datetime(
        2026, 7, 15, 0, 30, tzinfo=UTC
    )


def test_spring_forward_night_runs_once_when_the_clock_skips_0230() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist -> run at 01:30 UTC (03:30 CEST).
    due = nightly_due_at(date(2026, 3, 29), time(2, 30), BRU)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due_schedule_key(due - timedelta(minutes=1), time(2, 30), BRU) is None  # not yet
    assert due_schedule_key(due, time(2, 30), BRU) == "nightly:2026-03-29"


def test_fall_back_night_runs_at_the_first_0230_only() -> None:
    # 2026-10-25: 02:30 happens twice (CEST then CET); the first one, 00:30 UTC, is the run.
    due = nightly_due_at(date(2026, 10, 25), time(2, 30), BRU)
    assert due == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # An hour later (the second 02:30) the key is the same night: the unique key stops a second run.
    assert due_schedule_key(due + timedelta(hours=1), time(2, 30), BRU) == "nightly:2026-10-25"


def test_every_minute_of_a_year_dispatches_each_night_exactly_once_per_key() -> None:
    keys = set()
    t = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    while t < end:
        key = due_schedule_key(t, time(2, 30), BRU, catchup=timedelta(minutes=30))
        if key:
            keys.add(key)
        t += timedelta(minutes=10)
    assert len(keys) == 365  # one run per local night, DST nights included


def test_a_missed_night_older_than_the_catch_up_window_is_skipped() -> None:
    due = nightly_due_at(date(2026, 11, 23), time(2, 30), BRU)
    assert (
        due_schedule_key(due + timedelta(hours=11), time(2, 30), BRU, timedelta(hours=12))
        == "nightly:2026-11-23"
    )
    assert (
        due_schedule_key(due + timedelta(hours=13), time(2, 30), BRU, timedelta(hours=12)) is None
    )
    with pytest.raises(ValueError):
        due_schedule_key(datetime(2026, 11, 23, 3, 0), time(2, 30), BRU)
