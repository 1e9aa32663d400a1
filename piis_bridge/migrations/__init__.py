"""Alembic migrations of the application database (``piis-bridge db upgrade``).

Why migrations rather than ``create_all``: the production database (PostgreSQL) outlives releases;
every schema change ships as a reviewed, ordered revision that runs the same on SQLite and
PostgreSQL (``render_as_batch`` for SQLite's limited ALTER TABLE).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_database"]

_HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(_HERE / "versions"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the database at *database_url* to *revision* (idempotent)."""
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from piis_bridge.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The latest revision this version of piis-bridge ships (what ``db upgrade`` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
