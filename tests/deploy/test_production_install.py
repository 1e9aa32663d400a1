"""The production install, as IT staff do it: a wheel with only the ``prod,xmlsec`` extras, PostgreSQL,
real workers and one beat as separate processes on Redis and on RabbitMQ, a nightly run against the
case-system and federal simulators.

What it proves that the rest of the suite cannot (the dev venv has the test extras, which hide a
missing runtime dependency such as ``packaging`` for kombu's redis transport):

1. ``python -m build`` makes a wheel from the checkout (copied, so the checkout stays clean);
2. the wheel installs with ``[prod,xmlsec]`` into a fresh venv without pytest or the test extras
   (the venv is cached per dependency set, keyed by the wheel's ``Requires-Dist`` and the Python
   version; the wheel itself is reinstalled every time, and ``pip check`` must pass);
3. the services are started with EXACTLY the ``command:`` lines of ``deploy/compose.yaml``
   (migrate, worker-default, worker-remote, beat, nightly-now), from that venv;
4. the nightly run finishes and its forms are accepted in the federal simulator's own state, for
   the configured OCMW only.

Unique queue names (``PIIS_PIPELINE_QUEUE_PREFIX``), a unique Redis DB number and a unique
PostgreSQL database keep parallel runs apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT, require_service

pytestmark = [pytest.mark.services, pytest.mark.slow]

GENT = ("0212345173", "44021", "OCMW Gent")  # the simulators' seed OCMW Gent (docs/casesystem.md)
COMPOSE = Path(ROOT) / "deploy" / "compose.yaml"
CACHE = Path(
    os.environ.get("PIIS_PRODTEST_CACHE", Path.home() / ".cache" / "piis-bridge" / "prod-venv")
)
_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    "*.sqlite3",
    "node_modules",
)


def compose_commands() -> dict[str, list[str]]:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return {
        name: service["command"]
        for name, service in services.items()
        if name in ("migrate", "worker-default", "worker-remote", "beat", "nightly-now")
    }


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src") / "piis-bridge"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    out = tmp_path_factory.mktemp("dist")
    done = _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)], timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list(out.glob("piis_bridge-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    # The import packages and their data are in the wheel: a build that forgets one passes no test here.
    for needed in (
        "piis_bridge/migrations/versions/",
        "piis_plugins/federal/",
        "piis_connectors/federal/xsd/",
        "piis_mappings/neptunus/contract.yaml",
        "piis_connectors/casesystem/simulator.py",
    ):
        assert any(n.startswith(needed) for n in names), needed
    return wheels[0]


@pytest.fixture(scope="module")
def prod_venv(wheel: Path) -> Path:
    """A venv with the wheel and only its prod,xmlsec extras; cached per dependency set."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        requires = sorted(
            line
            for line in zf.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist:")
        )
    key = hashlib.sha256("\n".join([sys.version, "prod,xmlsec", *requires]).encode()).hexdigest()[
        :16
    ]
    home = CACHE / key
    py = home / "bin" / "python"
    if not (home / ".complete").exists():
        shutil.rmtree(home, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(home)
        done = _run(
            [str(py), "-m", "pip", "install", "--quiet", f"{wheel}[prod,xmlsec]"], timeout=1200
        )
        assert done.returncode == 0, done.stderr[-4000:]
        (home / ".complete").write_text(key)
    # The wheel of this checkout, every time (its dependencies are the cached ones, checked by pip check).
    done = _run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)],
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    check = _run([str(py), "-m", "pip", "check"], timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # Production means no test extras: what the test extras would hide must fail here.
    assert _run([str(py), "-c", "import pytest"]).returncode != 0
    assert _run([str(py), "-c", "import hypothesis"]).returncode != 0
    return home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port} within {timeout} s")


class Processes:
    """Every process the test starts, stopped (whole process group) whatever happens."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}.log (last lines)\n"
            + "\n".join(
                (self.workdir / f"{name}.log").read_text(errors="replace").splitlines()[-25:]
            )
            for name, _ in self.procs
        )

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def pg_database() -> Iterator[str]:
    require_service("postgres")
    import psycopg

    name = f"piis_prodtest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _purge_rabbit(url: str, queues: list[str]) -> None:
    from kombu import Connection

    with Connection(url) as conn:
        for q in queues:
            with contextlib.suppress(Exception):  # never declared
                conn.default_channel.queue_delete(q)


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_wheel_with_prod_extras_runs_the_nightly_job_on_real_workers(
    broker: str, prod_venv: Path, pg_database: str, tmp_path: Path
) -> None:
    require_service(broker)
    prefix = f"pt{uuid.uuid4().hex[:10]}"
    if broker == "redis":
        broker_url, backend = (
            f"redis://127.0.0.1:6379/{12 + os.getpid() % 4}",
            "redis://127.0.0.1:6379/15",
        )
    else:
        broker_url, backend = (
            "amqp://guest:guest@127.0.0.1:5672//",
            f"db+sqlite:///{tmp_path}/results.sqlite3",
        )
    bin_dir = prod_venv / "bin"
    case_port, fed_port = _free_port(), _free_port()
    kbo, ins, name = GENT
    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        f'''
environment = "simulator"
nightly_time = "{time.strftime("%H:%M", time.gmtime(time.time() + 6 * 3600))}:00"
timezone = "UTC"
[plugins]
enabled = ["neptunus", "federal", "transfer"]
[cpas.gent]
name = "{name}"
ins_code = "{ins}"
bce = "{kbo}"
case_system = "neptunus"
federal = "federal"
transfer = "transfer"
[cpas.gent.plugins.neptunus]
base_url = "http://127.0.0.1:{case_port}"
client_id = "piis-bridge"
ocmw_kbo = "{kbo}"
[cpas.gent.plugins.federal]
endpoint = "http://127.0.0.1:{fed_port}/connectors/webservice/KSZBCSSWebServiceConnectorPort"
mode = "batch"
''',
        encoding="utf-8",
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PIIS_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "PIIS_CONFIG": str(config),
            # What compose.yaml's x-app environment sets, pointed at this machine's services.
            "PIIS_DATABASE_URL": pg_database,
            "PIIS_BROKER_URL": broker_url,
            "PIIS_RESULT_BACKEND": backend,
            "PIIS_DEPLOYMENT": "scale-out",
            "PIIS_PIPELINE_QUEUE_PREFIX": prefix,
            "PIIS_PIPELINE_COLLECT_DELAY": "0.5",
            "PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET": "geheim",
        }
    )
    commands = compose_commands()
    procs = Processes(tmp_path)
    try:
        sim_env = dict(env)
        case = procs.start(
            "casesystem-sim",
            [
                str(bin_dir / "piis-bridge"),
                "sim",
                "casesystem",
                "--port",
                str(case_port),
                "--dossiers",
                "60",
                "--db",
                str(tmp_path / "cs.sqlite3"),
            ],
            sim_env,
        )
        fed = procs.start(
            "federal-sim",
            [
                str(bin_dir / "piis-bridge"),
                "sim",
                "federal",
                "--port",
                str(fed_port),
                "--db",
                str(tmp_path / "fed.sqlite3"),
                "--cpas",
                f"{kbo}:{ins}:{name}",
            ],
            sim_env,
        )
        _wait_port(case_port, case, "case-system simulator")
        _wait_port(fed_port, fed, "federal simulator")

        migrate = _run(commands["migrate"], env=env, cwd=tmp_path, timeout=300)
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        assert "database at revision" in migrate.stdout
        for service in ("worker-default", "worker-remote", "beat"):
            procs.start(service, commands[service], env)
        time.sleep(3)
        for service, proc in procs.procs:
            assert proc.poll() is None, f"{service} exited at start\n{procs.logs()}"

        run = _run(
            commands["nightly-now"] + ["--timeout", "240"], env=env, cwd=tmp_path, timeout=300
        )
        assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}\n{procs.logs()}"
        assert "Traceback" not in run.stderr
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        counts = summary["counts"]
        assert summary["status"] == "finished", summary
        assert counts["fetched"] > 0
        assert (
            counts["fetched"]
            == counts["processed"] + counts["skipped"] + counts["items_quarantined"]
        )
        assert (
            counts["forms"] > 0
            and counts["forms_answered"] + counts["forms_quarantined"] == counts["forms"]
        )

        # The federal simulator's own state: forms of this OCMW only, each received once, accepted ones
        # as many as the run says.
        forms = httpx.get(f"http://127.0.0.1:{fed_port}/admin/forms", timeout=10).json()
        assert forms and {f["kbo"] for f in forms} == {kbo}
        refs = [f["client_ref"] for f in forms]
        assert len(refs) == len(set(refs))
        accepted = [f for f in forms if f["evaluation"] == "ACCEPTED"]
        assert accepted, forms[:3]
        assert len(accepted) == (counts.get("answers") or {}).get("ACCEPTED", 0)
    finally:
        procs.stop()
        if broker == "rabbitmq":
            _purge_rabbit(
                broker_url, [f"{prefix}.{q}" for q in ("default", "casesystem", "federal")]
            )


def test_the_compose_file_and_the_dockerfile_install_from_the_checkout() -> None:
    """Never `pip install piis-bridge` (the name is not ours on PyPI); compose runs our commands."""
    commands = compose_commands()
    assert set(commands) == {"migrate", "worker-default", "worker-remote", "beat", "nightly-now"}
    assert all(cmd[0] == "piis-bridge" for cmd in commands.values())
    for path in ("deploy/Dockerfile", "deploy/README.md", "README.md"):
        text = (Path(ROOT) / path).read_text(encoding="utf-8")
        assert (
            "pip install 'piis-bridge[" not in text
            and "pip install piis-bridge" not in text.replace("never `pip install piis-bridge`", "")
        ), path
    assert "python -m build --wheel" in (Path(ROOT) / "deploy" / "Dockerfile").read_text(
        encoding="utf-8"
    )
