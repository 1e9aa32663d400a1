"""The overview's installation health: workers online and certificates, from ``piis-bridge health``.

Why the observability checks and not a query of our own: an operator who sees "3 workers online" in
the console and CRITICAL from Nagios must be looking at one verdict.  The console calls
:func:`piis_bridge.observability.health.check_workers` and ``check_certificates`` (the same
functions as ``piis-bridge health`` and ``/readyz``) and only adds, for display, each worker's
recorded configuration fingerprint (``ops_worker_config``, through the query layer) and the scope:
a user sees the certificates of his own CPAS only.

Why cached: asking the workers is a broadcast that waits ``monitoring.worker_ping_seconds``; the
overview loads this part separately (``/overview/health``) and the result is kept
:data:`HEALTH_TTL` seconds per console process, so ten operators on the overview do not ping the
workers ten times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piis_bridge.config import Settings

__all__ = ["HEALTH_TTL", "CertificateRow", "InstallationHealth", "WorkerRow", "installation_health"]

HEALTH_TTL = 30.0


@dataclass(frozen=True)
class WorkerRow:
    node: str
    fingerprint: str | None  # recorded when the worker started; None: never recorded
    current: bool  # runs the configuration this console reads


@dataclass(frozen=True)
class CertificateRow:
    setting: str  # cpas.<id>.plugins.<plugin>.<key>
    cpas_id: str
    path: str
    expires: datetime | None  # None: the file could not be read
    days_left: float | None
    status: str  # ok / warning / critical, by the monitoring thresholds


@dataclass(frozen=True)
class InstallationHealth:
    checked_at: datetime
    workers_status: str
    workers_summary: str
    embedded: bool
    queues: dict[str, int]  # queue -> workers consuming it
    workers: list[WorkerRow]
    fingerprint: str  # this configuration's
    certificates_status: str
    certificates: list[CertificateRow]

    def certificates_of(self, cpas_ids: Sequence[str]) -> list[CertificateRow]:
        return [c for c in self.certificates if c.cpas_id in cpas_ids]


_cache: dict[str, tuple[float, InstallationHealth]] = {}
_lock = threading.Lock()


def _days_status(days: float | None, settings: Settings) -> str:
    m = settings.monitoring
    if days is None or days < m.certificate_critical_days:
        return "critical"
    return "warning" if days < m.certificate_warning_days else "ok"


def _measure(settings: Settings, engine: Any, now: datetime) -> InstallationHealth:
    from piis_bridge.observability.health import check_certificates, check_workers
    from piis_bridge.ops.preflight import config_fingerprint
    from piis_bridge.ops.queries import worker_fingerprints

    m = settings.monitoring
    workers = check_workers(settings, m.worker_ping_seconds, engine)
    nodes = list(workers.details.get("workers", []))
    ours = config_fingerprint(settings)
    recorded = worker_fingerprints(engine, nodes) if nodes else {}
    certs = check_certificates(settings, m, now)
    rows = []
    for setting, info in sorted(certs.details.items()):
        cpas_id = setting.split(".")[1] if setting.startswith("cpas.") else ""
        if info is None:  # unreadable: check_certificates says so in its summary
            rows.append(CertificateRow(setting, cpas_id, "", None, None, "critical"))
            continue
        days = float(info["days_left"])
        rows.append(
            CertificateRow(
                setting,
                cpas_id,
                str(info["path"]),
                datetime.fromisoformat(info["expires"]),
                days,
                _days_status(days, settings),
            )
        )
    return InstallationHealth(
        checked_at=now,
        workers_status=workers.status.name.lower(),
        workers_summary=workers.summary,
        embedded=workers.details.get("mode") == "embedded",
        queues=dict(workers.details.get("queues", {})),
        workers=[WorkerRow(n, recorded.get(n), recorded.get(n) == ours) for n in sorted(nodes)],
        fingerprint=ours,
        certificates_status=certs.status.name.lower(),
        certificates=rows,
    )


def installation_health(
    settings: Settings, engine: Any, *, now: datetime | None = None, ttl: float = HEALTH_TTL
) -> InstallationHealth:
    """The workers and certificates as ``piis-bridge health`` sees them, at most *ttl* seconds old."""
    key = str(engine.url)
    clock = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if ttl > 0 and hit is not None and hit[0] > clock:
        return hit[1]
    result = _measure(settings, engine, now or datetime.now(UTC))
    with _lock:
        _cache[key] = (clock + ttl, result)
    return result
