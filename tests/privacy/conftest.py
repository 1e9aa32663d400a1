"""Fixtures of the privacy tests: a fresh PostgreSQL database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (the shared ``test`` database is left alone)."""
    from tests.conftest import require_service

    require_service("postgres")
    import psycopg

    name = f"piis_priv_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
