"""Issue #20: an embedded worker's memory.  The sqlite3 module keeps 128 prepared statements per
connection by default; the pipeline's IN lists and multi-row inserts have one text per batch length,
each a large prepared statement, so each worker process's SQLite memory grew with the night (16 ->
43 MB of statements in a 40,000-dossier run).  ``make_engine`` bounds the cache; the memory it saves
is measured by ``benchmarks/bench_pipeline.py`` (README, Performance)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from piis_bridge.db import SQLITE_CACHED_STATEMENTS, make_engine


def _connect_params(engine: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect, conn_rec, cargs, cparams):  # type: ignore[no-untyped-def]
        seen.update(cparams)

    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    return seen


def test_sqlite_connections_keep_a_bounded_statement_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    assert _connect_params(engine)["cached_statements"] == SQLITE_CACHED_STATEMENTS
    assert SQLITE_CACHED_STATEMENTS < 128  # the sqlite3 module's own default


def test_a_callers_own_sqlite_connect_arguments_are_kept(tmp_path: Path) -> None:
    engine = make_engine(
        f"sqlite:///{tmp_path}/app.sqlite3",
        connect_args={"cached_statements": 7, "timeout": 12.5},
    )
    params = _connect_params(engine)
    assert params["cached_statements"] == 7 and params["timeout"] == 12.5
