"""The alembic history creates exactly the tables the models declare (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from piis_bridge.db import Base, make_engine
from piis_bridge.migrations import current_revision, upgrade_database


def _diff(url: str) -> list:
    import importlib

    for module in (
        "piis_bridge.pipeline.models",
        "piis_bridge.ledger.models",
        "piis_bridge.transfer.tables",
        "piis_bridge.ops.tables",
    ):
        importlib.import_module(module)
    upgrade_database(url)
    upgrade_database(url)  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
            )
    finally:
        engine.dispose()


def test_sqlite_schema_matches_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.sqlite3"
    assert _diff(url) == []
    assert current_revision(url) is not None


@pytest.mark.services
def test_postgresql_schema_matches_models(pg_url: str) -> None:
    assert _diff(pg_url) == []
