"""Alembic environment: the URL comes from the caller (``piis-bridge db upgrade``), never a file."""

from __future__ import annotations

import contextlib
import importlib

from alembic import context

from piis_bridge.db import Base, make_engine

# Every module declaring tables on Base must be imported so autogenerate sees them.
for _module in (
    "piis_bridge.pipeline.models",
    "piis_bridge.ledger.models",
    "piis_bridge.transfer.tables",
    "piis_bridge.ops.tables",
    "piis_bridge.console.models",
    "piis_bridge.observability.models",
):
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("database_url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
