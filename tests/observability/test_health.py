"""``piis-bridge health``: each check under its failure, Nagios exit codes, a test per threshold setting."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from piis_bridge.observability.health import Status, pipeline_queues, run_checks
from piis_bridge.pipeline.tasks import QUEUES as PIPELINE_QUEUES
from tests.conftest import require_service
from tests.observability.conftest import NOW, Db, settings_for


def _status(report, name: str) -> Status:
    return next(c.status for c in report.checks if c.name == name)


def _summary(report, name: str) -> str:
    return next(c.summary for c in report.checks if c.name == name)


def test_queue_names_follow_the_pipelines_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipeline_queues() == PIPELINE_QUEUES
    monkeypatch.setenv("PIIS_PIPELINE_QUEUE_PREFIX", "cpas2")
    assert pipeline_queues() == ("cpas2.default", "cpas2.casesystem", "cpas2.federal")


def test_all_ok_after_recent_nightly_runs(tmp_path: Path, db: Db) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=2))
    db.run("liege", ended=NOW - dt.timedelta(hours=3))
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert report.status == Status.OK, report.to_json()
    assert [c.name for c in report.checks] == [
        "database",
        "broker",
        "workers",
        "nightly",
        "quarantine",
        "circuits",
        "certificates",
        "disk",
    ]


def test_missing_database_is_critical_and_not_created(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report = run_checks(settings, now=NOW)
    assert report.status == Status.CRITICAL
    assert "does not exist" in _summary(report, "database")
    assert _status(report, "nightly") == Status.UNKNOWN
    assert not (tmp_path / "app.sqlite3").exists()


def test_unmigrated_database_is_critical(tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "app.sqlite3").close()
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert _status(report, "database") == Status.CRITICAL
    assert "piis-bridge db upgrade" in _summary(report, "database")


def test_unreachable_postgresql_is_critical_without_credentials(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, database_url="postgresql://bridge:s3cret@127.0.0.1:1/piis")
    report = run_checks(settings, now=NOW)
    assert _status(report, "database") == Status.CRITICAL
    text = json.dumps(report.to_json())
    assert "unreachable" in text and "127.0.0.1:1" in text and "s3cret" not in text


def test_broker_down_is_critical(tmp_path: Path, db: Db) -> None:
    settings = settings_for(tmp_path, broker_url="redis://:pw@127.0.0.1:1/0")
    report = run_checks(settings, now=NOW)
    assert _status(report, "broker") == Status.CRITICAL
    assert "redis://127.0.0.1:1/0" in _summary(report, "broker") and "pw" not in _summary(
        report, "broker"
    )


@pytest.mark.services
def test_no_worker_on_a_reachable_broker_is_critical_within_the_ping_time(
    tmp_path: Path, db: Db
) -> None:
    require_service("redis")
    settings = settings_for(
        tmp_path, broker_url="redis://127.0.0.1:6379/13", monitoring={"worker_ping_seconds": 0.5}
    )
    start = time.monotonic()
    report = run_checks(settings, now=NOW)
    assert time.monotonic() - start < 8
    assert _status(report, "broker") == Status.OK
    assert _status(report, "workers") == Status.CRITICAL
    assert "no worker answered" in _summary(report, "workers")


@pytest.mark.services
def test_a_real_worker_consuming_every_queue_is_ok(tmp_path: Path, db: Db) -> None:
    require_service("redis")
    from piis_bridge.pipeline import EmbeddedWorker
    from tests.pipeline.conftest import PLUGIN, make_settings

    settings = make_settings(tmp_path, "http://127.0.0.1:9", broker_url="redis://127.0.0.1:6379/13")
    from piis_bridge.migrations import upgrade_database

    upgrade_database(settings.database_url)
    with EmbeddedWorker(settings, concurrency=1, extra_plugins=[PLUGIN]):
        deadline = time.monotonic() + 30
        while True:
            report = run_checks(settings, now=NOW)
            if _status(report, "workers") == Status.OK or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert _status(report, "workers") == Status.OK, _summary(report, "workers")
        assert "every queue consumed" in _summary(report, "workers")
        details = next(c.details for c in report.checks if c.name == "workers")
        assert set(details["consumers"]) == set(pipeline_queues())
        assert all(nodes == details["workers"] for nodes in details["consumers"].values())
        # The same workers seen from a changed configuration: they must be restarted.
        changed = settings.model_copy(update={"nightly_time": dt.time(4, 15)})
        stale = run_checks(changed, now=NOW)
        assert _status(stale, "workers") == Status.CRITICAL, _summary(stale, "workers")
        assert "restart the workers" in _summary(stale, "workers")


@pytest.mark.parametrize(
    ("age_hours", "expected"),
    [(25.9, Status.OK), (26.1, Status.WARNING), (49.9, Status.WARNING), (50.1, Status.CRITICAL)],
)
def test_nightly_age_default_thresholds(
    tmp_path: Path, db: Db, age_hours: float, expected: Status
) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=age_hours))
    db.run("liege", ended=NOW)
    assert _status(run_checks(settings_for(tmp_path), now=NOW), "nightly") == expected


def test_nightly_thresholds_are_settings(tmp_path: Path, db: Db) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=5))
    db.run("liege", ended=NOW)
    assert _status(run_checks(settings_for(tmp_path), now=NOW), "nightly") == Status.OK
    warn = settings_for(
        tmp_path, monitoring={"nightly_warning_hours": 4, "nightly_critical_hours": 48}
    )
    assert _status(run_checks(warn, now=NOW), "nightly") == Status.WARNING
    crit = settings_for(
        tmp_path, monitoring={"nightly_warning_hours": 2, "nightly_critical_hours": 4}
    )
    assert _status(run_checks(crit, now=NOW), "nightly") == Status.CRITICAL


def test_failed_replay_and_statement_runs_are_not_a_successful_nightly(
    tmp_path: Path, db: Db
) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=60))
    db.run("gent", ended=NOW, status="failed")
    db.run("gent", ended=NOW, trigger="replay")
    db.run("gent", ended=NOW, trigger="statement")
    db.run("gent", ended=NOW, pull_state="failed")
    db.run("liege", ended=NOW)
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert _status(report, "nightly") == Status.CRITICAL
    assert "gent: last successful nightly 60.0 h ago" in _summary(report, "nightly")


def test_never_run_warns(tmp_path: Path, db: Db) -> None:
    db.run("liege", ended=NOW)
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert _status(report, "nightly") == Status.WARNING
    assert "gent: no successful nightly run yet" in _summary(report, "nightly")


def test_quarantine_thresholds(tmp_path: Path, db: Db) -> None:
    db.run("gent")
    db.run("liege")
    assert _status(run_checks(settings_for(tmp_path), now=NOW), "quarantine") == Status.OK
    db.quarantine("gent", 3)
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert _status(report, "quarantine") == Status.WARNING and "gent: 3 open" in _summary(
        report, "quarantine"
    )
    assert (
        _status(
            run_checks(settings_for(tmp_path, monitoring={"quarantine_warning": 4}), now=NOW),
            "quarantine",
        )
        == Status.OK
    )
    assert (
        _status(
            run_checks(settings_for(tmp_path, monitoring={"quarantine_critical": 3}), now=NOW),
            "quarantine",
        )
        == Status.CRITICAL
    )


def test_open_circuit_warns_until_it_closes(tmp_path: Path, db: Db) -> None:
    db.run("gent")
    db.run("liege")
    db.circuit("federal:gent", NOW + dt.timedelta(minutes=4))
    db.circuit("casesystem:liege", NOW - dt.timedelta(minutes=1))  # already closed again
    report = run_checks(settings_for(tmp_path), now=NOW)
    assert _status(report, "circuits") == Status.WARNING
    assert _summary(report, "circuits") == "federal:gent open until 2026-12-06T12:04+00:00"


def self_signed_certificate(path: Path, days: float) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cpas test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize(
    ("days", "expected"), [(31, Status.OK), (29, Status.WARNING), (6, Status.CRITICAL)]
)
def test_certificate_expiry(tmp_path: Path, db: Db, days: int, expected: Status) -> None:
    cert = self_signed_certificate(tmp_path / "federal.pem", days)
    settings = settings_for(
        tmp_path,
        cpas={
            "gent": {
                "name": "OCMW Gent",
                "ins_code": "44021",
                "bce": "0207567726",
                "plugins": {
                    "federal": {"cert_file": str(cert), "key_file": "/nonexistent/key.pem"}
                },
            }
        },
    )
    report = run_checks(settings, now=NOW)
    assert _status(report, "certificates") == expected
    assert "key_file" not in json.dumps(report.to_json())  # a key is not a certificate
    tighter = settings.model_copy(
        update={
            "monitoring": settings.monitoring.model_copy(
                update={"certificate_warning_days": 5, "certificate_critical_days": 1}
            )
        }
    )
    assert _status(run_checks(tighter, now=NOW), "certificates") == Status.OK


def test_unreadable_certificate_is_critical(tmp_path: Path, db: Db) -> None:
    settings = settings_for(
        tmp_path,
        cpas={
            "gent": {
                "name": "OCMW Gent",
                "ins_code": "44021",
                "bce": "0207567726",
                "plugins": {"transfer": {"tls_cert_path": str(tmp_path / "missing.pem")}},
            }
        },
    )
    report = run_checks(settings, now=NOW)
    assert _status(report, "certificates") == Status.CRITICAL
    assert "cpas.gent.plugins.transfer.tls_cert_path" in _summary(report, "certificates")


def test_disk_thresholds(tmp_path: Path, db: Db) -> None:
    db.run("gent")
    db.run("liege")
    huge = 10**9  # MB: no disk has that much free
    assert _status(run_checks(settings_for(tmp_path), now=NOW), "disk") == Status.OK
    warn = settings_for(
        tmp_path, monitoring={"disk_warning_free_mb": huge, "disk_critical_free_mb": 0}
    )
    assert _status(run_checks(warn, now=NOW), "disk") == Status.WARNING
    crit = settings_for(
        tmp_path, monitoring={"disk_warning_free_mb": huge, "disk_critical_free_mb": huge}
    )
    assert _status(run_checks(crit, now=NOW), "disk") == Status.CRITICAL


def test_inverted_thresholds_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nightly_warning_hours must not be greater"):
        settings_for(tmp_path, monitoring={"nightly_warning_hours": 60})


def run_cli(
    tmp_path: Path, *args: str, config: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIIS_CONFIG": str(tmp_path / "piis-bridge.toml")}
    (tmp_path / "piis-bridge.toml").write_text(
        config
        or (
            f'database_url = "sqlite:///{tmp_path}/app.sqlite3"\nstate_dir = "{tmp_path}/state"\n'
            '[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0207567726"\n'
        )
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "piis-bridge"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    missing = run_cli(tmp_path, "health")
    assert missing.returncode == 2, missing.stderr
    assert missing.stdout.startswith("piis-bridge CRITICAL") and "Traceback" not in missing.stderr
    db = Db(f"sqlite:///{tmp_path}/app.sqlite3")
    db.run("gent", ended=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
    late = run_cli(tmp_path, "health", "--json")
    assert late.returncode == 1, late.stdout + late.stderr
    body = json.loads(late.stdout)
    assert body["status"] == "warning" and body["exit_code"] == 1
    db.run("gent", ended=dt.datetime.now(dt.UTC))
    ok = run_cli(tmp_path, "health")
    assert ok.returncode == 0, ok.stdout
    db.engine.dispose()


def test_safe_url_keeps_sqlite_paths_and_drops_credentials() -> None:
    from piis_bridge.observability.health import safe_url

    assert (
        safe_url("sqlite:///var/demo/piis-bridge.sqlite3")
        == "sqlite:///var/demo/piis-bridge.sqlite3"
    )
    assert safe_url("sqlite:////abs/app.sqlite3") == "sqlite:////abs/app.sqlite3"
    assert (
        safe_url("postgresql://u:pw@db.internal:5432/piis") == "postgresql://db.internal:5432/piis"
    )
