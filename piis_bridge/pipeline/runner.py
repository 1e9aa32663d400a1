"""Start a run and follow it to the end: the embedded default, or against running workers.

Embedded (``piis-bridge run``, ``piis-bridge demo``): one process tree, nothing to install.  This
process migrates the SQLite database, starts a celery worker subprocess on the filesystem broker,
enqueues the run, plays the role of beat (it runs the stale-work sweeper), restarts the worker if it
dies, and returns the run's summary once the database says the run is finished.

Scale-out (``--no-embedded``): workers and beat run elsewhere (systemd, compose); this only records
the run, enqueues it on the configured broker and (optionally) follows it in the database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from piis_bridge.config import Settings, load_settings
from piis_bridge.logging import get_logger
from piis_bridge.pipeline.models import SyncRun, utcnow
from piis_bridge.pipeline.runs import create_run, run_counts, stage_stats
from piis_bridge.pipeline.runtime import EXTRA_PLUGINS_ENV, PipelineOptions, Runtime
from piis_bridge.pipeline.statement import create_statement_run, statement_rows
from piis_bridge.pipeline.tasks import CeleryEnqueuer, queue_names

__all__ = [
    "EmbeddedWorker",
    "RunSummary",
    "replay",
    "run_nightly",
    "run_status",
    "run_summary",
    "wait_for_run",
]

_log = get_logger("piis_bridge.pipeline.runner")


@dataclass
class RunSummary:
    """What ``piis-bridge run`` prints at the end (and what the demo and the benchmark read)."""

    run_id: str
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    statements: list[dict[str, Any]] = field(
        default_factory=list
    )  # a statement run: per CPAS, with differences
    error: str | None = None  # why a failed run failed as a whole (e.g. "restart the workers")
    reason: str | None = None  # why a run ended without finishing by itself (stalled, abandoned)

    @property
    def ok(self) -> bool:
        return self.status == "finished" and not self.counts.get("quarantined")


def _die_with_parent() -> None:
    """Linux: the embedded worker gets SIGKILL if the process that started it dies (no orphans)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class EmbeddedWorker:
    """A ``celery worker`` subprocess serving every pipeline queue (prefork, *concurrency* children).

    ``queues`` (short names: ``default``, ``casesystem``, ``federal``) and ``pool`` let a benchmark
    start the deployment's worker groups instead (deploy/compose.yaml: ``default`` on prefork, the two
    remote queues on threads), so what it measures is the shape production runs.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int = 2,
        extra_plugins: Sequence[str] = (),
        env: dict[str, str] | None = None,
        loglevel: str | None = None,
        queues: Sequence[str] | None = None,
        pool: str = "prefork",
        name: str = "piis-embedded",
    ) -> None:

        self._settings_json = settings.model_dump_json()
        self._settings_file: str | None = None
        self.env = dict(os.environ)
        self.env.pop("PIIS_PIPELINE_SETTINGS_JSON", None)
        if loglevel is None:  # quiet unless log_level was set (PIIS_LOG_LEVEL=DEBUG or the file)
            loglevel = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
        if extra_plugins:
            self.env[EXTRA_PLUGINS_ENV] = ",".join(extra_plugins)
        self.env.update(env or {})
        all_queues = queue_names(self.env.get("PIIS_PIPELINE_QUEUE_PREFIX", "piis"))
        if queues is not None:
            unknown = set(queues) - {q.rsplit(".", 1)[1] for q in all_queues}
            if unknown:
                raise ValueError(
                    f"unknown queue(s) {sorted(unknown)}: default, casesystem, federal"
                )
            all_queues = tuple(q for q in all_queues if q.rsplit(".", 1)[1] in queues)
        self.args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "piis_bridge.pipeline.worker:app",
            "worker",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-Q",
            ",".join(all_queues),
            "-l",
            loglevel,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _write_settings_file(self) -> None:
        """The settings (with secrets) go to a fresh 0600 file the worker reads and removes."""
        import tempfile

        from piis_bridge.pipeline.worker import SETTINGS_ENV

        self._remove_settings_file()
        fd, path = tempfile.mkstemp(prefix="piis-worker-settings-", suffix=".json")  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self._settings_json)
        self._settings_file = self.env[SETTINGS_ENV] = path

    def _remove_settings_file(self) -> None:
        if self._settings_file:
            with contextlib.suppress(OSError):
                os.unlink(self._settings_file)
            self._settings_file = None

    def start(self) -> EmbeddedWorker:
        self._write_settings_file()
        # Own process group, so a stop (or a SIGKILL in the crash test) reaches the prefork children.
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=None,
            preexec_fn=_die_with_parent,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_alive(self) -> None:
        if self.proc is not None and not self.alive():
            from piis_bridge.pipeline.app import POOL_DEADLOCK_EXIT

            self.restarts += 1
            _log.warning(
                "embedded worker exited after one of its processes was killed, restarting"
                if self.proc.returncode == POOL_DEADLOCK_EXIT
                else "embedded worker died, restarting",
                returncode=self.proc.returncode,
                restarts=self.restarts,
            )
            self.start()

    def kill(self) -> None:
        """SIGKILL the whole worker process group (crash tests)."""
        self._remove_settings_file()
        if self.proc is not None and self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0, *, cold: bool = False) -> None:
        """Warm shutdown (let the current tasks finish), then SIGKILL after *timeout* seconds.

        ``cold`` (the run is over, nothing is left to do) waits only briefly: killing the worker is
        safe at any time for the pipeline (the database holds the state; the sweeper re-enqueues).
        """
        self._remove_settings_file()
        if self.proc is None or not self.alive():
            return
        # SIGTERM to the main worker only: it stops its pool children itself (a SIGTERM to the whole group
        # killed them under it, and it printed "ForkPoolWorker-N exited with signal 15" like a crash).
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(2.0 if cold else timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> EmbeddedWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(cold=exc[0] is None)


def run_summary(rt: Runtime, run_id: str) -> RunSummary:
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None:
            raise KeyError(f"no run {run_id}")
        if run.status == "running":
            counts, stages = run_counts(s, run_id), stage_stats(s, run_id)
        else:
            counts, stages = dict(run.counts), dict((run.report or {}).get("stages", {}))
        end = run.finished_at or utcnow()
        statements = statement_rows(s, run_id) if run.trigger == "statement" else []
        return RunSummary(
            run_id=run_id,
            status=run.status,
            counts=counts,
            stages=stages,
            elapsed_seconds=round((end - run.started_at).total_seconds(), 3),
            statements=statements,
            error=(run.report or {}).get("error"),
            reason=run.reason,
        )


# Counting a moving run's items and effects reads every row of the run; while a run moves the
# follower counts at most this share of its time (the rest of each poll reads the run's one row).
# Measured: counting every half second cost the embedded runner 54.6 s of CPU at 100,000 dossiers
# and 332.9 s at 280,000 (0.44 then 0.97 ms per contract: a term that grows with the square of
# the run; the workers' own cost is flat at ~1.8 ms per contract).
COUNT_SHARE = 0.05


def run_status(rt: Runtime, run_id: str) -> str:
    """The run's status alone: one row read by its key, whatever the run's size."""
    with rt.session() as s:
        status = s.scalar(select(SyncRun.status).where(SyncRun.id == run_id))
    if status is None:
        raise KeyError(f"no run {run_id}")
    return str(status)


def wait_for_run(
    rt: Runtime,
    run_id: str,
    *,
    timeout: float | None = None,
    poll: float = 0.5,
    progress: Callable[[RunSummary], None] | None = None,
    sweep_every: float | None = None,
    worker: EmbeddedWorker | None = None,
) -> RunSummary:
    """Follow a run in the database until it is no longer running (or *timeout* seconds passed).

    Every *poll* seconds only the run's status is read, so following a run costs the same at
    1,000 dossiers as at 280,000.  The counts *progress* shows are taken when one is given, at most
    :data:`COUNT_SHARE` of the time (a count that took 0.2 s waits 4 s for the next), and once more
    at the end; the summary returned is the run's own (its stored counts once it ended).
    """
    from piis_bridge.pipeline.sweeper import sweep

    deadline = None if timeout is None else time.monotonic() + timeout
    last_sweep = float(
        "-inf"
    )  # sweep at once: a short run must not wait a minute for what a crash left
    next_count = float("-inf")
    enq = None
    while True:
        try:
            status = run_status(rt, run_id)
            ended = status != "running"
            late = deadline is not None and time.monotonic() > deadline
            summary = None
            if ended or late or (progress is not None and time.monotonic() >= next_count):
                started = time.monotonic()
                summary = run_summary(rt, run_id)
                next_count = time.monotonic() + max(
                    poll, (time.monotonic() - started) / COUNT_SHARE
                )
        except OperationalError as exc:  # the database restarting: follow the run once it is back
            _log.warning(
                "database unavailable while following the run, retrying", error=str(exc)[:200]
            )
            if deadline is not None and time.monotonic() > deadline:
                raise
            time.sleep(max(poll, 1.0))
            continue
        if summary is not None:
            if progress is not None:
                progress(summary)
            if summary.status != "running" or late:
                return summary
        if worker is not None:
            worker.ensure_alive()
        if sweep_every is not None and time.monotonic() - last_sweep >= sweep_every:
            from piis_bridge.pipeline.app import make_celery_app

            enq = enq or CeleryEnqueuer(make_celery_app(runtime=rt))
            try:
                sweep(rt, enq)
            except (OperationalError, OSError) as exc:  # database restarting, disk full: next time
                _log.warning("sweep skipped", error=str(exc)[:200])
            last_sweep = time.monotonic()
        time.sleep(poll)


def run_nightly(
    settings: Settings | None = None,
    *,
    cpas: Sequence[str] | None = None,
    dossier: str | None = None,
    embedded: bool = True,
    wait: bool = True,
    options: PipelineOptions | None = None,
    extra_plugins: Sequence[str] = (),
    concurrency: int = 2,
    timeout: float | None = None,
    progress: Callable[[RunSummary], None] | None = None,
    trigger: str = "manual",
    statement: date | None = None,
) -> RunSummary:
    """Run the nightly synchronisation now and return its summary.

    :param settings: the configuration (default: ``load_settings()``).
    :param cpas: only these CPAS ids (default: every configured CPAS).
    :param dossier: re-process this one dossier (needs exactly one ``cpas``).
    :param embedded: start a worker subprocess on the filesystem broker and SQLite (default); when
        false, enqueue on the configured broker for workers that run elsewhere.
    :param wait: follow the run to its end (always true when embedded).
    :param extra_plugins: ``name=module`` plugins the worker must load (see ``PIIS_EXTRA_PLUGINS``).
    :param concurrency: prefork children of the embedded worker.
    :param timeout: stop following after this many seconds (the run goes on in the database).
    :param progress: called with a :class:`RunSummary` about twice a second.
    :param statement: instead of a sync, fetch the federal monthly statement of this month and
        reconcile it against the form ledger (what beat does once a month).
    """

    def start(rt: Runtime, enq: CeleryEnqueuer) -> str:
        if statement is not None:
            run_id = create_statement_run(rt, statement, cpas_ids=cpas)
            assert run_id is not None
            enq.start(run_id)
            return run_id
        if rt.settings.retention_days:  # personal data of finished work: see piis_bridge.retention
            from piis_bridge.retention import purge_finished

            purge_finished(rt.engine, rt.settings.retention_days)
        run_id = create_run(rt, cpas_ids=cpas, dossier=dossier, trigger=trigger)
        assert run_id is not None
        _enqueue_or_forget(rt, run_id, enq)
        return run_id

    return _execute(
        start,
        settings=settings,
        embedded=embedded,
        wait=wait,
        options=options,
        extra_plugins=extra_plugins,
        concurrency=concurrency,
        timeout=timeout,
        progress=progress,
    )


def _enqueue_or_forget(rt: Runtime, run_id: str, enq: CeleryEnqueuer) -> None:
    """Record the run's configuration fingerprint, enqueue it; if the broker refuses, remove the run.

    Why: a run row whose start message never left would be executed minutes later by the sweeper,
    long after the operator was told it failed.
    """
    from sqlalchemy import delete

    from piis_bridge.ops.preflight import config_fingerprint, record_run_fingerprint
    from piis_bridge.ops.tables import RunConfig
    from piis_bridge.pipeline.models import SyncRunCpas

    record_run_fingerprint(rt.sessions, run_id, config_fingerprint(rt.settings))
    try:
        enq.start(run_id)
    except BaseException:
        with rt.session() as s:
            s.execute(delete(SyncRunCpas).where(SyncRunCpas.run_id == run_id))
            s.execute(delete(RunConfig).where(RunConfig.run_id == run_id))
            s.execute(delete(SyncRun).where(SyncRun.id == run_id))
            s.commit()
        raise


def replay(
    entry_ids: Sequence[int] | None,
    settings: Settings | None = None,
    *,
    embedded: bool = True,
    wait: bool = True,
    options: PipelineOptions | None = None,
    extra_plugins: Sequence[str] = (),
    concurrency: int = 2,
    timeout: float | None = None,
    progress: Callable[[RunSummary], None] | None = None,
) -> RunSummary | None:
    """Replay quarantined entries (all open ones when *entry_ids* is None) in a new run."""
    from piis_bridge.pipeline.runs import replay_quarantine

    def start(rt: Runtime, enq: CeleryEnqueuer) -> str | None:
        return replay_quarantine(rt, entry_ids, enq)

    return _execute(
        start,
        settings=settings,
        embedded=embedded,
        wait=wait,
        options=options,
        extra_plugins=extra_plugins,
        concurrency=concurrency,
        timeout=timeout,
        progress=progress,
    )


def _execute(
    start: Callable[[Runtime, CeleryEnqueuer], str | None],
    *,
    settings: Settings | None,
    embedded: bool,
    wait: bool,
    options: PipelineOptions | None,
    extra_plugins: Sequence[str],
    concurrency: int,
    timeout: float | None,
    progress: Callable[[RunSummary], None] | None,
) -> Any:
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline.app import make_celery_app

    settings = settings or load_settings()
    options = options or PipelineOptions()
    if embedded and not settings.broker_url.startswith("filesystem://"):
        settings = settings.model_copy(update={"broker_url": "filesystem://"})
    upgrade_database(settings.database_url)
    rt = Runtime(settings, options, extra_plugins=extra_plugins)
    app = make_celery_app(runtime=rt)
    enq = CeleryEnqueuer(app)
    try:
        if not embedded:
            from piis_bridge.ops.preflight import check_broker

            check_broker(settings)  # nothing is recorded when the workers cannot be reached
            run_id = start(rt, enq)
            if run_id is None:
                return None
            return (
                wait_for_run(rt, run_id, timeout=timeout, progress=progress)
                if wait
                else run_summary(rt, run_id)
            )
        env = {
            f"PIIS_PIPELINE_{k.upper()}": str(v)
            for k, v in options.model_dump(exclude_none=True).items()
        }
        with EmbeddedWorker(
            settings, concurrency=concurrency, extra_plugins=extra_plugins, env=env
        ) as worker:
            run_id = start(rt, enq)
            if run_id is None:
                return None
            return wait_for_run(
                rt,
                run_id,
                timeout=timeout,
                progress=progress,
                sweep_every=min(options.sweep_seconds, max(5.0, options.lease_seconds / 2)),
                worker=worker,
            )
    finally:
        rt.close()
