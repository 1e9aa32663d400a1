"""Health checks: ``piis-bridge health`` (Nagios exit codes) and ``/healthz`` / ``/readyz``.

Why one function for the CLI and HTTP: a monitoring system that runs the command and one that polls
the URL must see the same verdict.  Each check is independent and never raises: a check that cannot
run is itself the finding (database unreachable is CRITICAL, not a traceback).  Texts name CPAS ids,
counts, hosts and paths, never a person: the URLs printed are stripped of their credentials.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from piis_bridge.i18n import Join
from piis_bridge.i18n.text import Num, Text, text_json

if TYPE_CHECKING:
    from piis_bridge.config import Settings
    from piis_bridge.observability.settings import MonitoringSettings

__all__ = [
    "Check",
    "HealthReport",
    "Status",
    "certificate_files",
    "pipeline_queues",
    "readiness",
    "run_checks",
    "safe_url",
]


def pipeline_queues() -> tuple[str, ...]:
    """The pipeline's queues under this installation's prefix (``PIIS_PIPELINE_QUEUE_PREFIX``)."""
    from piis_bridge.pipeline.runtime import PipelineOptions
    from piis_bridge.pipeline.tasks import queue_names

    return queue_names(PipelineOptions().queue_prefix)


class Status(IntEnum):
    """Nagios plugin exit codes."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass
class Check:
    """One check's verdict.  ``summary`` is English (a :class:`~piis_bridge.i18n.text.Text`: the
    command line and the console write it in the reader's language with ``say``)."""

    name: str
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Language-neutral: the English ``summary`` as always, and ``message`` (its message id and
        values), the same in every language, for a consumer that writes it in its own."""
        return {
            "name": self.name,
            "status": self.status.name.lower(),
            "summary": self.summary,
            "message": text_json(self.summary),
            "details": self.details,
        }


@dataclass
class HealthReport:
    checks: list[Check]
    checked_at: datetime

    @property
    def status(self) -> Status:
        worst = max((c.status for c in self.checks), default=Status.OK)
        return Status.CRITICAL if worst == Status.UNKNOWN else worst

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.name.lower(),
            "exit_code": int(self.status),
            "checked_at": self.checked_at.isoformat(),
            "checks": [c.to_json() for c in self.checks],
        }


def safe_url(url: str) -> str:
    """The URL without user and password (for messages and health output)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if (
        not parts.netloc
    ):  # sqlite:///relative/path holds no credentials; urlunsplit would drop a slash
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _joined(parts: Iterable[str]) -> Text:
    """Several findings of one check in one summary, separated by "; " (as before)."""
    return Text("{parts}", parts=Join("; ", list(parts)))


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


# --- the checks ---------------------------------------------------------------------------------


def check_database(settings: Settings) -> tuple[Check, Any]:
    """Reachable and migrated to the newest revision.  Returns the engine for the checks that read it."""
    from sqlalchemy import text

    from piis_bridge.db import make_engine

    where = safe_url(settings.database_url)
    path = _sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        return Check(
            "database",
            Status.CRITICAL,
            Text(
                "database file {path} does not exist; run 'piis-bridge db upgrade'", path=str(path)
            ),
            {"url": where},
        ), None
    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            from alembic.runtime.migration import MigrationContext

            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - the finding is the failure itself
        return Check(
            "database",
            Status.CRITICAL,
            Text("database {url} unreachable ({error})", url=where, error=type(exc).__name__),
            {"url": where},
        ), None
    head = _head_revision()
    if current != head:
        return Check(
            "database",
            Status.CRITICAL,
            Text(
                "database {url} is at revision {revision}, the code needs {head}: "
                "run 'piis-bridge db upgrade'",
                url=where,
                revision=current or Text("none"),
                head=str(head),
            ),
            {"url": where, "revision": current, "head": head},
        ), engine
    return Check(
        "database",
        Status.OK,
        Text("database {url} reachable, revision {revision}", url=where, revision=str(current)),
        {"url": where, "revision": current},
    ), engine


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    from piis_bridge.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def check_broker(settings: Settings, timeout: float) -> Check:
    url = settings.broker_url
    if url.startswith("filesystem://"):
        return Check(
            "broker",
            Status.OK,
            Text("embedded filesystem broker (a worker is started per run)"),
            {"url": "filesystem://"},
        )
    where = safe_url(url)
    try:
        from kombu import Connection

        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return Check(
            "broker",
            Status.CRITICAL,
            Text("broker {url} unreachable ({error})", url=where, error=type(exc).__name__),
            {"url": where},
        )
    return Check("broker", Status.OK, Text("broker {url} reachable", url=where), {"url": where})


def check_workers(settings: Settings, timeout: float, engine: Any = None) -> Check:
    """Scale-out only: at least one worker consumes each queue (the embedded mode starts its own)."""
    if settings.broker_url.startswith("filesystem://"):
        return Check(
            "workers",
            Status.OK,
            Text("embedded mode: a worker is started for each run"),
            {"mode": "embedded"},
        )
    try:
        from celery import Celery

        app = Celery("piis_bridge_health", broker=settings.broker_url, set_as_current=False)
        try:
            replies = app.control.inspect(timeout=timeout).active_queues() or {}
        finally:
            app.close()
    except Exception as exc:  # noqa: BLE001
        return Check(
            "workers",
            Status.CRITICAL,
            Text("cannot ask the workers ({error})", error=type(exc).__name__),
            {},
        )
    if not replies:
        return Check(
            "workers",
            Status.CRITICAL,
            Text("no worker answered; start 'piis-bridge worker'"),
            {"workers": []},
        )
    wanted = pipeline_queues()
    consumed: dict[str, list[str]] = {q: [] for q in wanted}
    for worker, active in replies.items():
        for queue in active or []:
            consumed.setdefault(queue.get("name", "?"), []).append(worker)
    missing = [q for q in wanted if not consumed.get(q)]
    details: dict[str, Any] = {
        "workers": sorted(replies),
        "queues": {q: len(w) for q, w in consumed.items()},
        # which worker serves which queue (node names), for the console's overview
        "consumers": {q: sorted(w) for q, w in consumed.items()},
    }
    if missing:
        return Check(
            "workers",
            Status.CRITICAL,
            Text("no worker consumes {queues}", queues=", ".join(missing)),
            details,
        )
    stale = _stale_workers(settings, engine, sorted(replies)) if engine is not None else {}
    if stale:
        details["stale"] = stale
        return Check(
            "workers",
            Status.CRITICAL,
            Text(
                "{workers} run(s) another configuration than this one: restart the workers",
                workers=", ".join(sorted(stale)),
            ),
            details,
        )
    return Check(
        "workers",
        Status.OK,
        Text("{n} worker(s) online, every queue consumed", n=len(replies)),
        details,
    )


def _stale_workers(settings: Settings, engine: Any, nodes: list[str]) -> dict[str, str]:
    """node -> its recorded configuration fingerprint, for the answering workers whose fingerprint differs
    from this configuration's (ops.preflight records it when a worker starts)."""
    from sqlalchemy import select

    from piis_bridge.ops.preflight import config_fingerprint
    from piis_bridge.ops.tables import WorkerConfig

    ours = config_fingerprint(settings)
    with engine.connect() as conn:
        rows = conn.execute(
            select(WorkerConfig.node, WorkerConfig.fingerprint).where(WorkerConfig.node.in_(nodes))
        ).all()
    return {node: fingerprint for node, fingerprint in rows if fingerprint != ours}


def check_nightly(settings: Settings, engine: Any, m: MonitoringSettings, now: datetime) -> Check:
    last = last_successful_nightly(engine, list(settings.cpas))
    worst, parts = Status.OK, []
    details: dict[str, float | None] = {}
    for cpas_id in settings.cpas:
        when = last.get(cpas_id)
        if when is None:
            status, text = (
                Status.WARNING,
                Text("{cpas}: no successful nightly run yet", cpas=cpas_id),
            )
            details[cpas_id] = None
        else:
            hours = (now - when).total_seconds() / 3600
            details[cpas_id] = round(hours, 2)
            status = (
                Status.CRITICAL
                if hours > m.nightly_critical_hours
                else Status.WARNING
                if hours > m.nightly_warning_hours
                else Status.OK
            )
            text = Text(
                "{cpas}: last successful nightly {hours} h ago", cpas=cpas_id, hours=Num(hours, 1)
            )
        worst = max(worst, status)
        if status != Status.OK:
            parts.append(text)
    if not settings.cpas:
        return Check("nightly", Status.OK, Text("no CPAS configured"), {})
    summary = (
        _joined(parts)
        if parts
        else Text(
            "every CPAS had a successful nightly within {hours} h",
            hours=format(m.nightly_warning_hours, "g"),
        )
    )
    return Check("nightly", worst, summary, {"hours_since": details})


def check_quarantine(settings: Settings, engine: Any, m: MonitoringSettings) -> Check:
    counts = open_quarantine(engine)
    worst, parts = Status.OK, []
    for cpas_id, n in sorted(counts.items()):
        status = (
            Status.CRITICAL
            if n >= m.quarantine_critical
            else Status.WARNING
            if n >= m.quarantine_warning
            else Status.OK
        )
        worst = max(worst, status)
        if status != Status.OK:
            parts.append(Text("{cpas}: {n} open", cpas=cpas_id, n=n))
    summary = (
        Text("{open}; see 'piis-bridge quarantine list'", open=_joined(parts))
        if parts
        else Text("no open quarantine entry")
    )
    return Check("quarantine", worst, summary, {"open": counts})


def check_circuits(engine: Any, now: datetime) -> Check:
    circuits = open_circuits(engine, now)
    if not circuits:
        return Check(
            "circuits", Status.OK, Text("every remote reachable (no open circuit)"), {"open": {}}
        )
    text = _joined(
        Text(
            "{remote} open until {until}",
            remote=remote,
            until=until.isoformat(timespec="minutes"),
        )
        for remote, until in circuits.items()
    )
    return Check(
        "circuits", Status.WARNING, text, {"open": {r: u.isoformat() for r, u in circuits.items()}}
    )


def certificate_files(settings: Settings) -> dict[str, Path]:
    """Every certificate file named in plugin settings (keys with 'cert' or 'ca' ending in _file/_path).

    Why by name: the core does not know each plugin's settings, and a certificate setting is named as
    such by every bundled plugin (cert_file, wsse_cert_file, tls_cert_path, tls_ca_path)."""
    found: dict[str, Path] = {}
    for cpas_id, cpas in settings.cpas.items():
        for plugin, values in cpas.plugins.items():
            for key, value in values.items():
                name = key.lower()
                if (
                    isinstance(value, str | Path)
                    and name.endswith(("_file", "_path"))
                    and ("cert" in name or name.startswith("tls_ca") or name == "ca_file")
                ):
                    found[f"cpas.{cpas_id}.plugins.{plugin}.{key}"] = Path(value)
    return found


def certificate_expiry(path: Path) -> datetime:
    """The earliest notAfter of the PEM certificates in *path*."""
    from cryptography import x509

    data = path.read_bytes()
    certs = x509.load_pem_x509_certificates(data)
    return min(c.not_valid_after_utc for c in certs)


def check_certificates(settings: Settings, m: MonitoringSettings, now: datetime) -> Check:
    files = certificate_files(settings)
    if not files:
        return Check("certificates", Status.OK, Text("no certificate configured"), {})
    worst, parts = Status.OK, []
    details: dict[str, object] = {}
    for setting, path in sorted(files.items()):
        try:
            expires = certificate_expiry(path)
        except (OSError, ValueError, ssl.SSLError) as exc:
            worst = Status.CRITICAL
            parts.append(
                Text(
                    "{setting}: cannot read {path} ({error})",
                    setting=setting,
                    path=str(path),
                    error=type(exc).__name__,
                )
            )
            details[setting] = None
            continue
        days = (expires - now).total_seconds() / 86400
        details[setting] = {
            "path": str(path),
            "expires": expires.isoformat(),
            "days_left": round(days, 1),
        }
        status = (
            Status.CRITICAL
            if days < m.certificate_critical_days
            else Status.WARNING
            if days < m.certificate_warning_days
            else Status.OK
        )
        worst = max(worst, status)
        if status != Status.OK:
            parts.append(
                Text(
                    "{setting}: {path} expires {date} ({days} days)",
                    setting=setting,
                    path=str(path),
                    date=expires.date(),
                    days=Num(days, 0),
                )
            )
    summary = (
        _joined(parts)
        if parts
        else Text(
            "{n} certificate(s) valid for more than {days} days",
            n=len(files),
            days=m.certificate_warning_days,
        )
    )
    return Check("certificates", worst, summary, details)


def check_disk(settings: Settings, m: MonitoringSettings) -> Check:
    folders = {"state_dir": settings.state_dir}
    db = _sqlite_path(settings.database_url)
    if db is not None:
        folders["database"] = db.parent
    worst, parts, details = Status.OK, [], {}
    for name, folder in folders.items():
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        usage = shutil.disk_usage(probe)
        free_mb = usage.free // (1024 * 1024)
        details[name] = {"path": str(folder), "free_mb": free_mb}
        status = (
            Status.CRITICAL
            if free_mb < m.disk_critical_free_mb
            else Status.WARNING
            if free_mb < m.disk_warning_free_mb
            else Status.OK
        )
        worst = max(worst, status)
        if status != Status.OK:
            parts.append(
                Text("{name} {folder}: {free} MB free", name=name, folder=str(folder), free=free_mb)
            )
    summary = _joined(parts) if parts else Text("enough free disk space")
    return Check("disk", worst, summary, details)


# --- shared reads (also used by metrics and alerts) ---------------------------------------------


def last_successful_nightly(engine: Any, cpas_ids: Iterable[str]) -> dict[str, datetime]:
    """cpas id -> end of its newest finished full run (nightly or manual; not a replay, a statement or a
    one-dossier run) in which that CPAS's pull did not fail."""
    from sqlalchemy import select

    from piis_bridge.pipeline.models import SyncRun, SyncRunCpas

    wanted = set(cpas_ids)
    result: dict[str, datetime] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(SyncRunCpas.cpas_id, SyncRun.finished_at)
            .join(SyncRun, SyncRun.id == SyncRunCpas.run_id)
            .where(
                SyncRun.status == "finished",
                SyncRun.dossier.is_(None),
                SyncRun.trigger.not_in(("statement", "replay")),
                SyncRunCpas.state != "failed",
            )
        ).all()
    for cpas_id, finished in rows:
        if cpas_id in wanted and finished is not None:
            finished = finished if finished.tzinfo else finished.replace(tzinfo=UTC)
            if cpas_id not in result or finished > result[cpas_id]:
                result[cpas_id] = finished
    return result


def open_quarantine(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from piis_bridge.pipeline.models import QuarantineEntry

    with engine.connect() as conn:
        rows = conn.execute(
            select(QuarantineEntry.cpas_id, func.count())
            .where(QuarantineEntry.status == "open")
            .group_by(QuarantineEntry.cpas_id)
        ).all()
    return {cpas_id: int(n) for cpas_id, n in rows}


def open_circuits(engine: Any, now: datetime) -> dict[str, datetime]:
    from sqlalchemy import select

    from piis_bridge.pipeline.models import CircuitState

    with engine.connect() as conn:
        rows = conn.execute(
            select(CircuitState.remote, CircuitState.opened_until).where(
                CircuitState.opened_until.is_not(None)
            )
        ).all()
    out = {}
    for remote, until in rows:
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if until > now:
            out[remote] = until
    return out


# --- the whole report ---------------------------------------------------------------------------


def run_checks(
    settings: Settings, *, now: datetime | None = None, workers: bool = True
) -> HealthReport:
    """Every check, in an order an operator reads top-down (dependencies first)."""
    m = settings.monitoring
    now = now or datetime.now(UTC)
    checks: list[Check] = []
    db_check, engine = check_database(settings)
    checks.append(db_check)
    checks.append(check_broker(settings, m.worker_ping_seconds))
    if workers:
        checks.append(check_workers(settings, m.worker_ping_seconds, engine))
    readers: list[tuple[str, Callable[[], Check]]] = [
        ("nightly", lambda: check_nightly(settings, engine, m, now)),
        ("quarantine", lambda: check_quarantine(settings, engine, m)),
        ("circuits", lambda: check_circuits(engine, now)),
    ]
    for name, read in readers:
        if engine is None:
            checks.append(
                Check(name, Status.UNKNOWN, Text("not checked: the database is not usable"), {})
            )
            continue
        try:
            checks.append(read())
        except Exception as exc:  # noqa: BLE001 - a broken read is a finding, not a crash
            checks.append(
                Check(
                    name,
                    Status.UNKNOWN,
                    Text("not checked ({error})", error=type(exc).__name__),
                    {},
                )
            )
    checks.append(check_certificates(settings, m, now))
    checks.append(check_disk(settings, m))
    if engine is not None:
        engine.dispose()
    return HealthReport(checks=checks, checked_at=now)


def readiness(settings: Settings) -> HealthReport:
    """``/readyz``: what must work for this process to serve (database migrated, broker reachable)."""
    db_check, engine = check_database(settings)
    if engine is not None:
        engine.dispose()
    return HealthReport(
        checks=[db_check, check_broker(settings, settings.monitoring.worker_ping_seconds)],
        checked_at=datetime.now(UTC),
    )
