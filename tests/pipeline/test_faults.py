"""Issue #12, the fault-injection proof with the real plugins and both simulators (embedded stack: a
real celery worker subprocess, filesystem broker, SQLite; and a private PostgreSQL cluster).

With 2 and 4 worker processes: SIGKILL of one worker process, of the federal simulator (a process of
its own, restarted on the same port and data), then of the whole worker tree.  Each form reaches the
federal simulator exactly once (its own tables, duplicates included), every processed dossier has its
form, every answer is pushed back, and the run finishes by itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import EmbeddedWorker, PipelineOptions, Runtime, make_celery_app
from piis_bridge.pipeline.models import Effect, WorkItem
from piis_bridge.pipeline.runner import wait_for_run
from piis_bridge.pipeline.runs import unbalanced
from piis_bridge.pipeline.stages import create_run
from piis_bridge.pipeline.sweeper import sweep
from piis_bridge.pipeline.tasks import CeleryEnqueuer
from tests.pipeline.realworld import World


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, what: str, tick=None, pacing: bool = False) -> None:
    """Wait for *predicate*; *tick* (restart a dead worker, sweep) runs every second meanwhile, as the
    runner's ``wait_for_run`` and beat do in a real installation: work a killed process held is
    re-enqueued.

    ``pacing``: the wait only decides *when* the next fault is injected; past *timeout* the fault is
    injected anyway and the run's end (finished by itself, every form exactly once) is still asserted.
    (The >180 s stall seen after a child's SIGKILL with 2 processes was billiard's blocking pool
    deadlocked on its task-pipe lock, held by the killed idle child: ``app.pool_child_lost``.)"""
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while not predicate():
        if pacing and time.monotonic() >= deadline:
            print(f"pacing: {what} not reached within {timeout} s; injecting the next fault anyway")
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if tick is not None and time.monotonic() - last >= 1.0:
            last = time.monotonic()
            # the database restarting, the disk full: sweep again next second
            with contextlib.suppress(Exception):
                tick()
        time.sleep(0.1)


class FederalProcess:
    """The federal simulator in a process of its own (so that it can be SIGKILLed), same port and data
    across restarts."""

    def __init__(self, db: Path) -> None:
        self.db, self.port, self.proc = db, _free_port(), None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/connectors/webservice/KSZBCSSWebServiceConnectorPort"

    @property
    def db_path(self) -> Path:
        return self.db

    def start(self) -> FederalProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "piis_connectors.federal.simulator.server",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        _wait(up, 30, "the federal simulator")
        return self

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


@pytest.fixture
def fault_world(tmp_path: Path):
    from piis_connectors.casesystem.seed import OCMWS
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.admin import SimulatorAdmin

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(250)
    case.start()
    federal = FederalProcess(tmp_path / "novaprima.sqlite3").start()
    admin = SimulatorAdmin(federal.base_url)
    for kbo, ins, name in OCMWS[:2]:
        admin.register_cpas(kbo, ins, name=name)
    admin.close()
    world = World(case=case, federal=federal, ocmws=OCMWS[:2], tmp=tmp_path)
    world.seeded = 250
    try:
        yield world
    finally:
        if federal.proc is not None and federal.proc.poll() is None:
            federal.kill()
        case.stop()


def _settings(world: World, database_url: str | None = None):
    settings = world.settings(database_url=database_url)
    for cpas in (
        settings.cpas.values()
    ):  # a call never outlives 2 s: a form marked sent is settled after that
        cpas.plugins["federal"].update(operation_timeout=1.5, connect_timeout=0.5, retries=0)
    return settings


def _options(tmp_path: Path) -> PipelineOptions:
    return PipelineOptions(
        broker_dir=tmp_path / "broker",
        lease_seconds=3,
        requeue_after=8,
        collect_delay=0.3,
        chunk_size=10,
        submit_batch=7,
        retry_base=0.2,
        retry_cap=2.0,
        breaker_cooldown=2.0,
    )


def _check(world: World, rt: Runtime, summary) -> None:
    c = summary.counts
    assert summary.status == "finished", summary
    got = world.receptions()
    assert got and max(got.values()) == 1, {k: n for k, n in got.items() if n > 1}
    with rt.session() as s:
        keys = {
            k.split(":", 2)[-1] for k in s.scalars(select(Effect.key).where(Effect.kind == "form"))
        }
        answered = {
            k.split(":", 2)[-1]
            for k in s.scalars(
                select(Effect.key).where(Effect.kind == "form", Effect.state == "answered")
            )
        }
        without_form = s.scalar(
            select(func.count())
            .select_from(WorkItem)
            .where(WorkItem.state == "done", WorkItem.forms == 0)
        )
        answer_pushes = set(
            s.scalars(
                select(Effect.key).where(
                    Effect.kind == "push", Effect.key.like("push:%:fed:%"), Effect.state == "done"
                )
            )
        )
    assert set(got) == keys == answered, (
        len(got),
        len(keys),
        len(answered),
    )  # every form received once, answered
    assert without_form == 0  # every processed dossier has its form
    assert c["processed"] > 50 and c["forms_answered"] == len(keys)
    assert len(answer_pushes) == len(answered)  # every answer pushed back
    assert (
        c["fetched"]
        == c["processed"] + c["skipped"] + c["items_quarantined"] + c["rejected"] + c["repeats"]
    )
    assert unbalanced(c) == []


def _run_with_faults(
    world: World,
    tmp_path: Path,
    processes: int,
    database_url: str | None = None,
    mid_run=None,
    broker_url: str | None = None,
) -> None:
    settings = _settings(world, database_url)
    if broker_url is not None:
        settings = settings.model_copy(update={"broker_url": broker_url})
    options = _options(tmp_path)
    env = {
        f"PIIS_PIPELINE_{k.upper()}": str(v)
        for k, v in options.model_dump(exclude_none=True).items()
    }
    upgrade_database(settings.database_url)
    rt = Runtime(settings, options)
    enq = CeleryEnqueuer(make_celery_app(runtime=rt))
    worker = EmbeddedWorker(settings, concurrency=processes, env=env).start()
    try:
        run_id = create_run(rt)
        enq.start(run_id)
        received = lambda n: lambda: sum(world.receptions().values()) >= n  # noqa: E731

        def tick() -> None:  # what the runner does every second: restart a dead worker, sweep
            worker.ensure_alive()
            sweep(rt, enq)

        _wait(received(15), 180, "the first forms", tick)
        children = _children(worker.proc.pid)
        assert children, "the worker has no prefork children"
        os.kill(children[0], signal.SIGKILL)  # one worker process dies mid-task
        _wait(received(40), 180, "more forms", tick, pacing=True)
        world.federal.kill()  # the federal service dies mid-run...
        time.sleep(1.0)
        world.federal.start()  # ...and comes back on the same port with its data
        if mid_run is not None:
            mid_run()
        _wait(received(70), 180, "forms after the federal restart", tick, pacing=True)
        worker.kill()  # the whole worker tree
        time.sleep(0.5)
        worker.start()
        summary = wait_for_run(rt, run_id, timeout=300, sweep_every=1.0, worker=worker)
        _check(world, rt, summary)
    finally:
        worker.stop(cold=True)
        rt.close()


@pytest.mark.parametrize("processes", [2, 4])
def test_sigkill_of_a_worker_of_the_federal_simulator_and_of_the_whole_tree(
    tmp_path: Path, fault_world, processes: int
) -> None:
    _run_with_faults(fault_world, tmp_path, processes)


@pytest.fixture
def private_postgres():
    """A PostgreSQL cluster of this test alone (initdb in a temp dir, a free loopback port), so that it
    can be restarted mid-run; the machine's shared PostgreSQL is never touched."""
    import shutil
    import tempfile

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not bins or shutil.which("runuser") is None:
        pytest.skip("no PostgreSQL server binaries (initdb/pg_ctl) on this machine")
    bindir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="piis-outbox-pg-"))
    data = root / "data"
    shutil.chown(root, "postgres", "postgres")
    port = _free_port()

    def as_postgres(*args: str, check: bool = True) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )

    def pg_ctl(*args: str, check: bool = True) -> None:
        as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", *args, check=check)

    as_postgres(
        str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    )
    pg_ctl("-o", options, "-l", str(root / "log"), "start")

    def restart() -> None:
        pg_ctl("-m", "immediate", "-o", options, "-l", str(root / "log"), "restart")

    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        pg_ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_restart_mid_run_with_the_other_faults(
    tmp_path: Path, fault_world, private_postgres
) -> None:
    url, restart = private_postgres
    _run_with_faults(fault_world, tmp_path, 2, database_url=url, mid_run=restart)


@pytest.fixture
def small_disk():
    """A 64 MiB tmpfs of this test alone (root only), for the disk-full fault."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    root = Path(tempfile.mkdtemp(prefix="piis-outbox-disk-"))
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(root)]).returncode
        != 0
    ):
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_disk_full_mid_run(tmp_path: Path, fault_world, small_disk: Path) -> None:
    """The application database and the broker on a small disk that fills up mid-run for a few
    seconds: every form still reaches the federal simulator once and the run finishes by itself."""
    world = fault_world
    settings = _settings(world, f"sqlite:///{small_disk}/app.sqlite3")
    options = _options(tmp_path).model_copy(update={"broker_dir": small_disk / "broker"})
    env = {
        f"PIIS_PIPELINE_{k.upper()}": str(v)
        for k, v in options.model_dump(exclude_none=True).items()
    }
    upgrade_database(settings.database_url)
    rt = Runtime(settings, options)
    enq = CeleryEnqueuer(make_celery_app(runtime=rt))
    worker = EmbeddedWorker(settings, concurrency=2, env=env).start()
    filler = small_disk / "filler"
    try:
        run_id = create_run(rt)
        enq.start(run_id)
        _wait(lambda: sum(world.receptions().values()) >= 20, 180, "the first forms")
        with open(filler, "wb") as f:  # the disk is full...
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        time.sleep(4)
        filler.unlink()  # ...for a few seconds
        summary = wait_for_run(rt, run_id, timeout=300, sweep_every=1.0, worker=worker)
        _check(world, rt, summary)
    finally:
        worker.stop(cold=True)
        rt.close()


@pytest.fixture
def private_redis(tmp_path: Path):
    """A Redis server of this test alone (a free loopback port): no other test's worker can take its
    messages, and the shared Redis is left alone."""
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server on this machine")
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def up() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        _wait(up, 30, "redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_redis_and_postgresql_with_every_fault(
    tmp_path: Path, fault_world, private_postgres, private_redis
) -> None:
    """The scale-out stack (Redis broker, PostgreSQL restarted mid-run) under the same faults."""
    url, restart = private_postgres
    _run_with_faults(
        fault_world, tmp_path, 2, database_url=url, mid_run=restart, broker_url=private_redis
    )
