"""Each broken dependency of issue #14 item 6, through the real command line (a subprocess, as an
operator types it): one paragraph naming what failed, the setting and where it came from, the host
or path and the fix; exit code 2 (configuration) or 3 (dependency unavailable); no traceback unless
``--debug``.  Workers refuse to start with the same paragraph.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import require_service


def cli(*args: str, env: dict[str, str], cwd: Path, user: int | None = None, timeout: float = 120):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PIIS_")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "piis-bridge"), *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        user=user,
    )
    return done


def assert_paragraph(done, code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    text = " ".join(done.stderr.split())
    for needle in needles:
        assert needle in text, (needle, done.stderr)
    assert "Fix:" in text


def _sqlite_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PIIS_DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3",
        "PIIS_STATE_DIR": str(tmp_path / "state"),
        "PIIS_RESULT_BACKEND": f"db+sqlite:///{tmp_path}/results.sqlite3",
        **extra,
    }


@pytest.mark.services
def test_missing_database(tmp_path: Path) -> None:
    require_service("postgres")
    name = f"piis_missing_{uuid.uuid4().hex[:8]}"
    done = cli(
        "db",
        "upgrade",
        env={"PIIS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"},
        cwd=tmp_path,
    )
    assert_paragraph(
        done,
        3,
        "database not found",
        f"no database '{name}'",
        "Setting database_url = postgresql://postgres@127.0.0.1:5432/",
        "(from environment PIIS_DATABASE_URL)",
        "Target: 127.0.0.1:5432",
        "createdb",
    )


@pytest.mark.services
def test_wrong_database_port(tmp_path: Path) -> None:
    done = cli(
        "db",
        "upgrade",
        env={"PIIS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/piis"},
        cwd=tmp_path,
    )
    assert_paragraph(
        done,
        3,
        "database unreachable",
        "Target: 127.0.0.1:1",
        "start PostgreSQL, or correct the host",
    )


@pytest.mark.services
def test_wrong_database_user(tmp_path: Path) -> None:
    require_service("postgres")
    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        'database_url = "postgresql://piis_no_such_role@127.0.0.1:5432/postgres"\n',
        encoding="utf-8",
    )
    done = cli("db", "upgrade", env={"PIIS_CONFIG": str(config)}, cwd=tmp_path)
    assert_paragraph(done, 2, "database login refused", f"(from file {config})", "create that role")


def test_postgres_scheme_is_named_with_its_fix(tmp_path: Path) -> None:
    done = cli(
        "runs",
        "list",
        env={"PIIS_DATABASE_URL": "postgres://piis@127.0.0.1:5432/piis"},
        cwd=tmp_path,
    )
    assert_paragraph(
        done,
        2,
        "database URL not understood",
        "write postgresql:// instead of postgres://",
        "(from environment PIIS_DATABASE_URL)",
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = cli(
        "--debug",
        "runs",
        "list",
        env={"PIIS_DATABASE_URL": "postgres://piis@127.0.0.1:5432/piis"},
        cwd=tmp_path,
    )
    assert (
        done.returncode != 0 and "Traceback" in done.stderr and "NoSuchModuleError" in done.stderr
    )


@pytest.mark.services
@pytest.mark.parametrize(
    "broker_url", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"]
)
def test_worker_refuses_to_start_with_the_broker_down(tmp_path: Path, broker_url: str) -> None:
    env = _sqlite_env(tmp_path, PIIS_BROKER_URL=broker_url)
    assert cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    done = cli("worker", "--queues", "default", env=env, cwd=tmp_path)
    assert_paragraph(
        done,
        3,
        "broker unreachable",
        "Target: 127.0.0.1:1",
        "(from environment PIIS_BROKER_URL)",
        "start the broker",
    )


@pytest.mark.services
def test_worker_refuses_a_wrong_broker_password(tmp_path: Path) -> None:
    require_service("rabbitmq")
    env = _sqlite_env(tmp_path, PIIS_BROKER_URL="amqp://guest:not-the-password@127.0.0.1:5672//")
    assert cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    done = cli("worker", "--queues", "default", env=env, cwd=tmp_path)
    assert_paragraph(
        done, 2, "broker login refused", "amqp://guest:***@127.0.0.1:5672//", "PIIS_BROKER_URL"
    )
    assert "not-the-password" not in done.stderr


def test_worker_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    done = cli("worker", env=_sqlite_env(tmp_path), cwd=tmp_path)
    assert_paragraph(done, 3, "database not migrated", "piis-bridge db upgrade")


def test_worker_refuses_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "piis-bridge.toml"
    config.write_text('log_formt = "json"\n', encoding="utf-8")
    done = cli("worker", env={"PIIS_CONFIG": str(config)}, cwd=tmp_path)
    assert (
        done.returncode == 2
        and "log_formt: unknown key" in done.stderr
        and "Traceback" not in done.stderr
    )


@pytest.mark.skipif(
    os.geteuid() != 0 and sys.platform != "linux", reason="needs a user that cannot write"
)
def test_read_only_data_directory(tmp_path: Path) -> None:
    """A data directory the service user cannot write (as root: run as 'nobody', like the piis user)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="piis-ro-", dir="/tmp"))
    try:
        base.chmod(0o755)
        state = base / "state"
        state.mkdir(mode=0o555)
        state.chmod(0o555)
        env = {
            "PIIS_DATABASE_URL": f"sqlite:///{base}/app.sqlite3",
            "PIIS_STATE_DIR": str(state),
            "HOME": str(base),
        }
        done = cli("worker", env=env, cwd=base, user=65534 if os.geteuid() == 0 else None)
        assert_paragraph(
            done,
            2,
            "permission denied",
            f"cannot write {state}/.piis-write-probe",
            "(from environment PIIS_STATE_DIR)",
            "chown piis:piis",
        )
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_full_data_directory(tmp_path: Path) -> None:
    """ENOSPC from the kernel: the write probe of the data directory lands on /dev/full."""
    state = tmp_path / "state"
    state.mkdir()
    (state / ".piis-write-probe").symlink_to("/dev/full")
    done = cli("worker", env=_sqlite_env(tmp_path), cwd=tmp_path)
    assert_paragraph(
        done,
        3,
        "disk full",
        "no space left to write",
        f"Target: {state}/.piis-write-probe",
        "free space",
    )


@pytest.mark.services
def test_a_run_that_could_not_be_enqueued_leaves_no_run_behind(tmp_path: Path) -> None:
    env = _sqlite_env(
        tmp_path,
        PIIS_BROKER_URL="redis://127.0.0.1:1/0",
        PIIS_DEPLOYMENT="scale-out",
        PIIS_ENVIRONMENT="simulator",
    )
    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        '[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0212345173"\n',
        encoding="utf-8",
    )
    env["PIIS_CONFIG"] = str(config)
    assert cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    done = cli("run", "--no-wait", env=env, cwd=tmp_path)
    assert_paragraph(done, 3, "broker unreachable")
    with sqlite3.connect(tmp_path / "app.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM sync_run").fetchone()[0] == 0


def test_worker_refuses_a_routed_federal_plugin_without_endpoint(tmp_path: Path) -> None:
    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        '[plugins]\nenabled = ["federal"]\n[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\n'
        'bce = "0212345173"\nfederal = "federal"\ntransfer = ""\n',
        encoding="utf-8",
    )
    done = cli("worker", env={**_sqlite_env(tmp_path), "PIIS_CONFIG": str(config)}, cwd=tmp_path)
    assert_paragraph(
        done,
        2,
        "plugin configuration error",
        "cpas.gent.plugins.federal.endpoint: required setting missing",
        "PIIS_CPAS__GENT__PLUGINS__FEDERAL__ENDPOINT",
    )


@pytest.mark.services
def test_a_bare_celery_worker_with_a_wrong_database_does_not_say_ready(tmp_path: Path) -> None:
    """The issue's worker "ready" on a wrong database: started with bare celery, as old units did."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIIS_")}
    env.update(
        PIIS_DATABASE_URL="postgresql://postgres@127.0.0.1:1/piis",
        PIIS_STATE_DIR=str(tmp_path / "state"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "piis_bridge.pipeline.worker:app",
            "worker",
            "-Q",
            "nothing",
            "-c",
            "1",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "database unreachable" in done.stderr and "ready" not in done.stdout + done.stderr
