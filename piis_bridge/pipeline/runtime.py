"""What a pipeline process needs: settings, tuning options, the database and the plugin host.

Why lazy and per process: with celery's prefork pool a SQLAlchemy pool (and any HTTP client a
plugin keeps) must not cross ``fork()`` (airflow#13265), so the engine and the plugin host are
built on first use in the process that uses them, and :meth:`Runtime.after_fork` drops them in a
freshly forked child.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from piis_bridge.config import Settings, load_settings
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.pipeline.reliability import CircuitBreaker, RetryPolicy

if TYPE_CHECKING:
    from piis_bridge.hooks.manager import PluginHost, PluginInstances

__all__ = ["EXTRA_PLUGINS_ENV", "PipelineOptions", "Runtime"]

EXTRA_PLUGINS_ENV = "PIIS_EXTRA_PLUGINS"


class PipelineOptions(BaseSettings):
    """Tuning of the nightly pipeline (``PIIS_PIPELINE_*`` environment variables).

    The defaults suit one CPAS of a few thousand dossiers up to 100,000 on a small machine.
    """

    model_config = SettingsConfigDict(env_prefix="PIIS_PIPELINE_", extra="ignore")

    page_size: int = Field(
        default=500, ge=1, le=10_000, description="Records per case-system page."
    )
    chunk_size: int = Field(default=250, ge=1, description="Records per evaluate/build task.")
    submit_batch: int = Field(default=100, ge=1, description="Forms per federal submission call.")
    push_batch: int = Field(default=100, ge=1, description="Items per push-back call.")
    lease_seconds: float = Field(
        default=300.0, gt=0, description="After this a claimed unit counts as abandoned."
    )
    sweep_seconds: float = Field(
        default=60.0, gt=0, description="Interval of the stale-work sweeper."
    )
    requeue_after: float = Field(
        default=180.0,
        gt=0,
        description="A unit pending this long without progress is enqueued again (lost message).",
    )
    retry_base: float = 1.0
    retry_cap: float = 60.0
    retry_max_attempts: int = 12
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    collect_delay: float = Field(
        default=2.0, description="Seconds before polling asynchronous answers again."
    )
    federal_rate_limit: str | None = Field(
        default=None, description="celery rate limit of federal calls per worker, e.g. '20/s'."
    )
    casesystem_rate_limit: str | None = Field(
        default=None, description="celery rate limit of case-system calls per worker."
    )
    nightly_catchup_hours: float = Field(
        default=12.0, description="A nightly run missed by more than this is skipped."
    )
    max_tasks_per_child: int | None = Field(
        default=1000,
        ge=1,
        description="A prefork child is replaced after this many tasks (bounds what a plugin leaks).",
    )
    max_memory_per_child_mb: int | None = Field(
        default=1024,
        ge=64,
        description="A prefork child using more resident memory is replaced after its task.",
    )
    statement_retry_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Minutes between two asks while the monthly statement is not available.",
    )
    statement_give_up_days: float = Field(
        default=14.0,
        gt=0,
        description="Days after it was due before a missing statement is reported as failed.",
    )
    queue_prefix: str = Field(
        default="piis",
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="Queue names are <prefix>.default|casesystem|federal (one vhost, "
        "several installations or test runs).",
    )
    broker_dir: Path | None = Field(
        default=None, description="Folder of the embedded filesystem broker (default var/broker)."
    )
    prune_after_days: float = Field(
        default=30.0,
        gt=0,
        description="Settled rows (answered forms, done pushes, processed items) of runs finished this many "
        "days ago are deleted when a run starts; the form ledger and the run reports stay.",
    )
    rules_date: date | None = Field(
        default=None,
        description="Judge the rules as of this day instead of today in the configured time zone (the demo's "
        "fixed night; replaying a past night). Leave unset in production.",
    )
    watchdog_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="A run with no progress for this long is ended as 'stalled', saying what it waited for "
        "(open circuits, retries, last errors); the next run of its CPAS takes its work over.",
    )


class Runtime:
    """Per-process state shared by the tasks of one celery app."""

    def __init__(
        self,
        settings: Settings | None = None,
        options: PipelineOptions | None = None,
        plugins: tuple[tuple[str, object], ...] = (),
        extra_plugins: Sequence[str] = (),
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.options = options if options is not None else PipelineOptions()
        self.plugins = (*plugins, *parse_plugin_specs(extra_plugins))
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        # The plugin objects of this process, shared by the per-thread hosts (their clients and engines
        # are thread-safe pools; docs/plugins.md "Plugin state").
        self._plugin_instances = _new_plugin_instances()
        self._person_hasher: Callable[[str], str] | None = None

    # ------------------------------------------------------------------ database
    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.database_url)
            return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The sessionmaker itself, for core services that open their own transactions (transfer)."""
        if self._sessions is None:
            self._sessions = make_sessionmaker(self.engine)
        return self._sessions

    def session(self) -> Session:
        return self.sessions()

    # ------------------------------------------------------------------ plugins
    @property
    def host(self) -> PluginHost:
        """The plugin host of this thread.

        Per thread because the pipeline reads a call's failures from ``host.failures`` right after
        the call; with celery's ``threads`` pool a shared list would mix two tasks' failures.
        """
        host = getattr(self._local, "host", None)
        if host is None:
            from piis_bridge.hooks.manager import PluginHost

            names = {name for name, _ in self.plugins}
            env = [(n, p) for n, p in extra_plugins_from_env() if n not in names]
            host = PluginHost(
                self.settings, plugins=(*self.plugins, *env), instances=self._plugin_instances
            )
            host.startup()
            self._local.host = host
        return host

    def person_key(self, niss: str) -> str:
        """The keyed hash a person's contracts are found by (:mod:`piis_bridge.pipeline.persons`)."""
        hasher = self._person_hasher
        if hasher is None:
            from piis_bridge.pipeline.persons import person_hasher

            with self.session() as s:
                hasher = self._person_hasher = person_hasher(s)
        return hasher(niss)

    # ------------------------------------------------------------------ rules

    def rules(self, cpas_id: str) -> tuple[Any, Any]:
        """(settings, registry) the rules judge this CPAS's contracts with, built once per thread.

        The settings are the defaults with what the plugins' ``piis_rule_parameters(cpas)`` give
        for this CPAS (a local deadline, closure days...); the registry is the core rules plus the
        plugins' ``piis_register_rules``.  Raises ``ValueError`` (or the host's
        ``PluginStartupError``) naming the CPAS when the parameters are wrong: the caller
        quarantines the records, which are replayed once the configuration is fixed.
        """
        cache: dict[str, tuple[Any, Any]] | None = getattr(self._local, "rules", None)
        if cache is None:
            cache = self._local.rules = {}
        found = cache.get(cpas_id)
        if found is None:
            from pydantic import ValidationError

            from piis_bridge.rules import DEFAULT_SETTINGS, build_registry

            host = self.host
            registry = getattr(self._local, "registry", None)
            if registry is None:
                registry = self._local.registry = build_registry(host)
            from piis_bridge.pipeline.outbox import call  # the one place plugin failures are read

            asked = call(host, "rule_parameters", cpas_id)
            parameters = asked.value
            if asked.failed:
                f = asked.failures[-1]
                raise ValueError(
                    f"cpas {cpas_id}: plugin {f.plugin!r} failed in piis_rule_parameters: "
                    f"{f.error_type}: {f.message}"
                )
            try:
                settings = (
                    DEFAULT_SETTINGS.with_parameters(parameters) if parameters else DEFAULT_SETTINGS
                )
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors(include_input=False)
                )
                raise ValueError(f"cpas {cpas_id}: invalid rule parameters: {problems}") from None
            found = cache[cpas_id] = (settings, registry)
        return found

    def task_done(self) -> None:
        """After each task (celery's ``task_postrun``, in the task's thread): forget what only that task needed.

        Why: a worker lives for weeks.  The plugin host records every plugin failure in
        ``host.failures`` (the stages read the failures of each call right after it), so without a
        drain the list grows with every failed call for the life of the process.
        """
        host = getattr(self._local, "host", None)
        if host is not None:
            host.drain_failures()

    # ------------------------------------------------------------------ policies
    @property
    def retry(self) -> RetryPolicy:
        o = self.options
        return RetryPolicy(base=o.retry_base, cap=o.retry_cap, max_attempts=o.retry_max_attempts)

    @property
    def breaker(self) -> CircuitBreaker:
        return CircuitBreaker(
            threshold=self.options.breaker_threshold, cooldown=self.options.breaker_cooldown
        )

    def after_fork(self) -> None:
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._engine = None
        self._sessions = None
        self._local = threading.local()
        self._lock = threading.Lock()
        # The parent's plugin objects hold its sockets: the child makes its own (never closes those).
        self._plugin_instances = _new_plugin_instances()

    def close_connections(self) -> None:
        """Close the database pool's connections (the engine is made again on next use).

        The worker's main process calls it before its pool forks, so no child inherits a socket.
        """
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._sessions = None

    def close(self) -> None:
        self._plugin_instances.close()
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._sessions = None


def _new_plugin_instances() -> PluginInstances:
    from piis_bridge.hooks.manager import PluginInstances

    return PluginInstances()


def extra_plugins_from_env() -> list[tuple[str, object]]:
    """Plugins named by ``PIIS_EXTRA_PLUGINS`` (``name=module,name=module``).

    Why: a worker started as a separate process (``celery worker``, systemd) can only load plugins
    it can import; this lets a site add an in-house plugin module without packaging an entry point,
    the way ``PYTEST_PLUGINS`` works for pytest.
    """
    return parse_plugin_specs(os.environ.get(EXTRA_PLUGINS_ENV, "").split(","))


def parse_plugin_specs(specs: Sequence[str]) -> list[tuple[str, object]]:
    """``["name=module", "module"]`` -> ``[(name, imported module), ...]``."""
    plugins: list[tuple[str, object]] = []
    for part in filter(None, (p.strip() for p in specs)):
        name, _, module = part.partition("=")
        if not module:
            name, module = module or part.rsplit(".", 1)[-1], part
        plugins.append((name, importlib.import_module(module)))
    return plugins
