"""The federal plugin gives back what it opened: a ledger's connection pool is closed when the plugin
closes (process shutdown) and when a CPAS's settings change (the old service is replaced), counted on
the real PostgreSQL server (``pg_stat_activity``), not on SQLAlchemy's bookkeeping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import piis_plugins.federal
import psycopg
import pytest

from piis_bridge.hooks.types import CpasContext
from piis_bridge.ledger import Ledger
from tests.pipeline.conftest import pg_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.services

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _connections(url: str) -> int:
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _ctx(tmp_path: Path, url: str, **settings: object) -> CpasContext:
    return CpasContext(
        cpas_id="gent",
        name="OCMW Gent",
        ins_code="44021",
        bce="0207567726",
        state_dir=tmp_path,
        settings={"database_url": url, "endpoint": "http://127.0.0.1:9/never", **settings},
    )


@pytest.fixture
def plugin() -> Iterator[piis_plugins.federal.FederalPlugin]:
    made = piis_plugins.federal.make_plugin()
    yield made
    made.close()


def _use(service: object) -> None:
    """One ledger read, so the pool holds a connection to the server."""
    with service.ledger.sessions() as s:  # type: ignore[attr-defined]
        s.connection().exec_driver_sql("SELECT 1")


def test_closing_the_plugin_closes_its_ledgers_connections(
    plugin, pg_url: str, tmp_path: Path
) -> None:
    service = plugin.service(_ctx(tmp_path, pg_url))
    _use(service)
    assert _connections(pg_url) >= 1
    plugin.close()
    assert _connections(pg_url) == 0
    assert plugin.service(_ctx(tmp_path, pg_url)) is not service  # forgotten, made anew on use


def test_changed_settings_close_the_replaced_service(plugin, pg_url: str, tmp_path: Path) -> None:
    first = plugin.service(_ctx(tmp_path, pg_url, operation_timeout=2.0))
    _use(first)
    assert _connections(pg_url) == 1
    second = plugin.service(_ctx(tmp_path, pg_url, operation_timeout=3.0))
    assert second is not first
    _use(second)
    assert _connections(pg_url) == 1  # the first service's pool was closed, not left open
    assert plugin.service(_ctx(tmp_path, pg_url, operation_timeout=3.0)) is second


def test_a_ledger_on_a_callers_engine_leaves_that_engine_open(pg_url: str) -> None:
    from piis_bridge.db import make_engine

    engine = make_engine(pg_url)
    try:
        ledger = Ledger.open(engine=engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        ledger.close()
        assert _connections(pg_url) == 1  # the caller's pool: still the caller's
    finally:
        engine.dispose()
    assert _connections(pg_url) == 0
