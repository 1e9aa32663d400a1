"""Shared test configuration.

Tests that need the machine's PostgreSQL, Redis or RabbitMQ are marked ``services``.  Off CI they
are skipped when the service is not reachable; with CI=true a missing service is a failure, never a
skip.
"""

from __future__ import annotations

import os
import socket

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN_CI = os.environ.get("CI", "").lower() == "true"

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
}


def service_available(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (off CI) or fail (CI=true) when a real local service is not reachable."""
    if service_available(name):
        return
    message = f"{name} is not reachable on {SERVICES[name][0]}:{SERVICES[name][1]}"
    if IN_CI:
        pytest.fail(message + " (CI=true: service tests must run)")
    pytest.skip(message)
