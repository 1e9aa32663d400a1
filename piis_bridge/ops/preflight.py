"""Checks a worker (and ``run --no-embedded``) makes before it starts: configuration, database,
broker, data directory; and the configuration fingerprint that tells a stale worker from a fresh one.

Why: a worker started with a wrong database used to say "ready" and fail every task; a CLI that
could not reach the broker left a run row behind that the sweeper executed minutes later.  Each
check raises :class:`~piis_bridge.ops.errors.OperatorError` (one paragraph, an exit code) before
anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import UTC
from typing import Any

from piis_bridge.i18n import N_, Join
from piis_bridge.i18n.text import Text, text_json
from piis_bridge.ops.errors import OperatorError, broker_error, explain, filesystem_error

__all__ = [
    "check_broker",
    "check_database",
    "check_plugins",
    "check_state_dir",
    "config_fingerprint",
    "preflight",
    "record_run_fingerprint",
    "record_worker_fingerprint",
    "run_is_fresh",
    "stale_worker_message",
]


def _masked(value: Any) -> Any:
    from piis_bridge.config import is_secret_key

    if isinstance(value, dict):
        return {
            k: ("***" if is_secret_key(str(k)) else _masked(v)) for k, v in sorted(value.items())
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def config_fingerprint(settings: Any) -> str:
    """16 hex digits over the effective configuration (secret values left out).

    Two processes with the same fingerprint route every CPAS the same way to the same endpoints.
    Secrets are left out so a CLI run by an operator without the service's secret environment
    does not count as a different configuration.
    """
    data = _masked(json.loads(settings.model_dump_json()))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def check_database(settings: Any, *, migrated: bool = True) -> None:
    """Connect, and (``migrated``) check the schema is at the latest revision."""
    from sqlalchemy import text

    from piis_bridge.db import make_engine

    engine = None
    try:
        engine = make_engine(
            settings.database_url,
            pool_pre_ping=False,
            **(
                {"connect_args": {"connect_timeout": 5}}
                if settings.database_url.startswith("postgres")
                else {}
            ),
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - translated below
        raise (explain(exc, settings) or exc) from None
    finally:
        if engine is not None:
            engine.dispose()
    if migrated:
        from piis_bridge.migrations import current_revision, head_revision

        current, head = current_revision(settings.database_url), head_revision()
        if current != head:
            raise OperatorError(
                Text("database not migrated"),
                Text(
                    "the schema is at revision {revision}, this version needs {head}",
                    revision=current or Text("none"),
                    head=str(head),
                ),
                Text("run piis-bridge db upgrade (once, before the workers and beat start)"),
                3,
                "database_url",
                None,
                settings.source_of("database_url"),
            )


def check_broker(settings: Any, *, timeout: float = 5.0) -> None:
    """Open a connection to ``broker_url`` (nothing to check for the embedded filesystem broker)."""
    if settings.broker_url.startswith("filesystem://"):
        return
    from kombu import Connection

    try:
        with Connection(settings.broker_url, connect_timeout=timeout) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as exc:  # noqa: BLE001 - translated below
        found = explain(exc, settings, during="broker")
        raise (found if found is not None else broker_error(settings, str(exc).lower())) from None


def check_state_dir(settings: Any) -> None:
    """The data directory exists (or can be created) and takes a write."""
    path = settings.state_dir
    probe = path / ".piis-write-probe"  # one name: a crashed check leaves no litter behind
    try:
        path.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(probe)
        raise filesystem_error(settings, exc) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def check_plugins(settings: Any) -> None:
    """The plugins load and fit the configuration (routing, plugin settings, required endpoints)."""
    from piis_bridge.hooks.manager import PluginHost, PluginStartupError
    from piis_bridge.ops.errors import EXIT_CONFIG

    try:
        PluginHost(settings, strict=True)
    except PluginStartupError as exc:
        raise OperatorError(
            Text("plugin configuration error"),
            Text("{problems}", problems=Join("; ", exc.problems)),
            Text(
                "correct the settings named above (piis-bridge plugins check lists them with "
                "their source)"
            ),
            EXIT_CONFIG,
        ) from None


def preflight(
    settings: Any,
    *,
    database: bool = True,
    broker: bool = True,
    state_dir: bool = True,
    plugins: bool = True,
) -> None:
    """Every check, in the order an operator fixes them: plugins and settings, files, database, broker."""
    if plugins:
        check_plugins(settings)
    if state_dir:
        check_state_dir(settings)
    if database:
        check_database(settings)
    if broker:
        check_broker(settings)


def record_run_fingerprint(session_factory: Any, run_id: str, fingerprint: str) -> None:
    from piis_bridge.ops.tables import RunConfig

    with session_factory() as s:
        s.merge(RunConfig(run_id=run_id, fingerprint=fingerprint))
        s.commit()


def record_worker_fingerprint(session_factory: Any, node: str, fingerprint: str) -> None:
    from piis_bridge.ops.tables import WorkerConfig

    with session_factory() as s:
        s.merge(WorkerConfig(node=node[:200], fingerprint=fingerprint, pid=os.getpid()))
        s.commit()


def stale_worker_message(node: str, run_fingerprint: str, worker_fingerprint: str) -> Text:
    return Text(
        N_(
            "worker {node} runs with another configuration (fingerprint {worker}) than the one this "
            "run was started with ({run}): restart the workers after a configuration change "
            "(systemctl restart 'piis-bridge-worker@*', or docker compose restart), and start runs "
            "with the same configuration file and environment as the workers; then start the run "
            "again"
        ),
        node=node,
        worker=worker_fingerprint,
        run=run_fingerprint,
    )


def run_is_fresh(rt: Any, run_id: str) -> bool:
    """False (and the run marked failed with "restart the workers") when this worker's configuration
    differs from the one *run_id* was started with.  Checked once per run and process.

    Why: a worker that kept an old configuration would fail the run's tasks one by one (a CPAS it
    does not know: ``KeyError``) while the run shows ``0/?`` until a timeout.
    """
    cache: dict[str, bool] = rt.__dict__.setdefault("_piis_fresh_runs", {})
    if run_id in cache:
        return cache[run_id]
    if len(cache) > 1000:
        cache.clear()
    mine = rt.__dict__.get("_piis_fingerprint")
    if mine is None:
        mine = rt.__dict__["_piis_fingerprint"] = config_fingerprint(rt.settings)
    from datetime import datetime

    from piis_bridge.ops.tables import RunConfig
    from piis_bridge.pipeline.models import SyncRun

    with rt.session() as s:
        row = s.get(RunConfig, run_id)
        fresh = row is None or row.fingerprint == mine
        if not fresh:
            run = s.get(SyncRun, run_id)
            if run is not None and run.status == "running":
                node = rt.__dict__.get("worker_node") or f"pid {os.getpid()}"
                run.status = "failed"
                run.finished_at = datetime.now(UTC)
                error = stale_worker_message(node, row.fingerprint, mine)
                run.report = {
                    **(run.report or {}),
                    "error": str(error),
                    # the same as message id + values, said in the reader's language (issue #19)
                    "error_text": text_json(error),
                }
                s.commit()
    cache[run_id] = fresh
    return fresh
