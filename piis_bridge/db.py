"""The application database: the source of truth for every side effect (ledger, outbox, runs).

SQLite by default (nothing to install), PostgreSQL in production; the URL comes from the
configuration (``PIIS_DATABASE_URL``).  Every table of the application is declared on
:class:`Base` so one metadata (and one alembic history) covers them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

__all__ = ["DEFAULT_SQLITE_PATH", "Base", "make_engine", "make_sessionmaker"]

DEFAULT_SQLITE_PATH = Path("var/piis-bridge.sqlite3")

# Stable constraint names so alembic migrations are reproducible on SQLite and PostgreSQL alike.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the worker and the CLI read while another process writes; a busy timeout
    # turns short lock contention into a wait instead of an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Prepared statements the sqlite3 module keeps per connection (its default: 128).  The pipeline's
# IN lists and multi-row inserts have a text per batch length, each a large prepared statement:
# with the default, each worker process's SQLite memory grew from 20 to 56 MB in a 40,000-dossier
# night (sqlite3_db_status STMT_USED 16 -> 43 MB), most of the embedded worker's growth.
SQLITE_CACHED_STATEMENTS = 32


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get their directory created and safe pragmas."""
    if url is None:
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # hide_parameters: a failed statement's text would otherwise carry its bound values (a NISS)
    # into exception messages, quarantine reasons and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("cached_statements", SQLITE_CACHED_STATEMENTS)
        kwargs["connect_args"] = connect_args
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
