"""Benchmark of the nightly pipeline with the real plugins: wall time, throughput per stage, CPU and peak memory
of every process (workers, PostgreSQL backends, both simulators).

    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 2000                   # embedded (SQLite + filesystem broker)
    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 2000 --broker redis    # Redis + PostgreSQL
    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 10000 --incremental 2000
    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 10000 --nights 30 --incremental 2000

By default (``--backend real``) the real neptunus plugin reads the case-system simulator, seeded with varied
synthetic dossiers (the simulator's own generator, ``--seed``), and the real federal plugin builds, validates and
submits the forms B/C/D to the NovaPrima simulator (batch mode).  Each simulator runs in its own process
(benchmarks/_simhost.py) so that its CPU seconds and peak memory are reported apart from the workers'.

``--incremental K``: after the full run, K dossiers are changed in the case system (its /admin/wijzig) and a
second run is measured.  ``--nights N`` (with ``--incremental K``, default 2000): N nights of K changed
dossiers are replayed after the full run (each a real run, so the history tables grow as in production), then
one more K-dossier night is measured; every night's wall time and worker CPU is printed, so growth shows.

As a production install (deploy/README.md), personal data is encrypted at rest: each run gets fresh data
and hash keys (``--encryption on``, the default; ``--encryption off`` stores values as given, as the figures
before 2026-12-07 did).  With ``--broker redis`` the PostgreSQL server's settings that move its figures are
printed first; ``--keep-database`` keeps the run's database for its tables' counters.

``--backend pipetest`` is NOT the real path: a loopback test remote (tests/pipeline/remote.py) with one example
contract copied and a six-field JSON test form; kept only to measure the pipeline's bookkeeping on its own.

Reported per run: ``worker_cpu`` (user + system seconds of the celery worker's process group), ``pg_cpu``
(PostgreSQL backends serving the benchmark's database, from /proc), ``case_cpu``/``federal_cpu`` (the simulator
processes) and ``runner_cpu`` (this process: progress polling, sweeper), each with its peak resident memory;
with ``--broker redis`` also ``pg_server_cpu`` (PostgreSQL's own processes: checkpointer, WAL and background
writers, autovacuum -- server-wide, so on a shared machine it includes other clients' share),
``broker_cpu`` (the Redis server, server-wide too) and a ``postgresql`` line: WAL written, its full-page
images, checkpoints, pages the backends had to write out themselves, and the database's size after the run
(server-wide counters too): what makes PostgreSQL's cost per contract grow with a run (deploy/README.md,
section 6, "Sizing", gives these figures for IT staff).
On a shared machine compare runs by CPU, not wall time; the load average before and after each run is printed.
Not collected by pytest (testpaths = tests).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def processes() -> dict[int, tuple[str, int, float, int]]:
    """Every process: pid -> (command name, process group, CPU seconds so far, resident kB), one pass over /proc."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
            fields = tail.split()
            out[int(pid)] = (
                head.split("(", 1)[1],
                int(fields[2]),
                (int(fields[11]) + int(fields[12])) / _TICKS,
                int(fields[21]) * _PAGE_KB,
            )
        except (OSError, IndexError, ValueError):
            continue
    return out


class _Sampler(threading.Thread):
    """CPU seconds and peak resident memory of each measured process family, sampled every 0.2 s.

    Families: ``worker`` (the celery worker's process group), ``case`` and ``federal`` (the simulator
    processes), ``pg`` (PostgreSQL backends whose title names the benchmark's database).  Why CPU: the
    machine is shared, so wall time is noisy; CPU seconds compare runs.  CPU a process spends after the
    last sample before it exits is missed (at most 0.2 s each); CPU spent before the run started (the
    simulators' seeding, a backend's earlier work) is subtracted.
    """

    def __init__(self, workers, sims: dict[str, int], pg_database: str | None) -> None:
        super().__init__(daemon=True)
        self.workers, self.sims, self.pg_database = workers, sims, pg_database
        self.stop = threading.Event()
        self._cmdline: dict[int, str] = {}
        # pg_server and broker are server-wide (PostgreSQL's own processes: postmaster, checkpointer,
        # WAL and background writers, autovacuum; the Redis server): all their CPU during the run is
        # counted, so on a shared machine it includes other clients' share.
        self.cpu: dict[str, dict[int, float]] = {
            k: {} for k in ("worker", "pg", "pg_server", "broker", *sims)
        }
        self.peak_kb: dict[str, int] = dict.fromkeys(self.cpu, 0)
        self.base: dict[int, float] = {}
        for _family, pid_cpu in self._families(processes()).items():
            for pid, (cpu, _rss) in pid_cpu.items():
                self.base[pid] = cpu

    def _is_ours(self, pid: int) -> bool:
        if pid not in self._cmdline:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    self._cmdline[pid] = f.read().decode(errors="replace")
            except OSError:
                self._cmdline[pid] = ""
        return f" {self.pg_database} " in self._cmdline[pid]

    def _is_server(self, pid: int) -> bool:
        """PostgreSQL's own processes: the postmaster and the auxiliary ones (checkpointer, writers,
        autovacuum), i.e. every ``postgres`` process that is not a client's backend -- a backend's
        title names its client, ``host(port)`` or ``[local]``."""
        self._is_ours(pid)  # reads the command line once
        title = self._cmdline[pid]
        return not ("(" in title and ")" in title) and "[local]" not in title

    def _families(self, procs) -> dict[str, dict[int, tuple[float, int]]]:
        groups = {w.proc.pid for w in self.workers if w.proc is not None and w.proc.poll() is None}
        fam: dict[str, dict[int, tuple[float, int]]] = {k: {} for k in self.cpu}
        for pid, (comm, pgrp, cpu, rss) in procs.items():
            if pgrp in groups:
                fam["worker"][pid] = (cpu, rss)
            elif self.pg_database and comm == "postgres" and self._is_ours(pid):
                fam["pg"][pid] = (cpu, rss)
            elif self.pg_database and comm == "postgres" and self._is_server(pid):
                fam["pg_server"][pid] = (cpu, rss)
            elif self.pg_database and comm == "redis-server":
                fam["broker"][pid] = (cpu, rss)
            else:
                for name, spid in self.sims.items():
                    if pid == spid:
                        fam[name][pid] = (cpu, rss)
        return fam

    def sample(self) -> None:
        for family, pid_cpu in self._families(processes()).items():
            self.peak_kb[family] = max(
                self.peak_kb[family], sum(rss for _cpu, rss in pid_cpu.values())
            )
            for pid, (cpu, _rss) in pid_cpu.items():
                self.cpu[family][pid] = max(self.cpu[family].get(pid, 0.0), cpu)

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            time.sleep(0.2)

    def cpu_seconds(self, family: str) -> float:
        return sum(cpu - self.base.get(pid, 0.0) for pid, cpu in self.cpu[family].items())


def new_pg_database() -> str:
    """A new, uniquely named PostgreSQL database for one benchmark run (bench_sql uses it too)."""
    import psycopg

    name = f"piis_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


# The server settings a run's PostgreSQL figures depend on (write volume, checkpoints, vacuum, plans).
PG_SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_compression",
    "synchronous_commit",
    "autovacuum",
    "jit",
)


def pg_server_settings() -> str:
    """One line naming the PostgreSQL server's settings that move its CPU per contract, so that a
    figure can be compared with a server configured otherwise (deploy/README.md recommends some)."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            [list(PG_SETTINGS)],
        ).fetchall()
    return "postgresql: " + " ".join(f"{name}={value}" for name, value in rows)


def pg_write_counters(url: str) -> dict[str, int]:
    """Server-wide counters of what PostgreSQL wrote (WAL bytes and full-page images, checkpoints,
    pages a backend had to write out itself to free a buffer) and the run database's size.

    Taken before and after a run, their differences show *why* PostgreSQL's CPU per contract grows
    with a run's size: full-page images after every checkpoint (more checkpoints when ``max_wal_size``
    is small, more distinct pages touched when the indexes are large), and backends evicting dirty
    pages themselves once the working set no longer fits in ``shared_buffers``.  Server-wide like
    ``pg_server_cpu``: on a shared server other clients' writes are included.
    """
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT wal_bytes::bigint, wal_fpi, pg_database_size(current_database()) FROM pg_stat_wal"
        ).fetchone()
        counters = {"wal_bytes": int(row[0]), "wal_fpi": int(row[1]), "db_bytes": int(row[2])}
        # PostgreSQL 17 moved these columns of pg_stat_bgwriter to pg_stat_checkpointer and pg_stat_io
        if conn.info.server_version >= 170000:
            counters["checkpoints"] = int(
                conn.execute(
                    "SELECT num_timed + num_requested FROM pg_stat_checkpointer"
                ).fetchone()[0]
            )
            counters["backend_writes"] = int(
                conn.execute(
                    "SELECT coalesce(sum(writes), 0) FROM pg_stat_io WHERE backend_type = 'client backend'"
                ).fetchone()[0]
            )
        else:
            cp, writes = conn.execute(
                "SELECT checkpoints_timed + checkpoints_req, buffers_backend FROM pg_stat_bgwriter"
            ).fetchone()
            counters["checkpoints"], counters["backend_writes"] = int(cp), int(writes)
    return counters


def drop_pg(url: str) -> None:
    """Drop a database made by :func:`new_pg_database`, closing its sessions."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _workers(settings, extra_plugins, env, concurrency: int, topology: str):
    """The worker processes of a run: one serving every queue, or the deployment's two groups.

    ``deploy`` starts exactly the worker groups of deploy/compose.yaml (and the systemd units):
    ``default`` (the CPU work: mapping, rules, forms) on prefork with *concurrency* children, and the
    two remote queues (``casesystem``, ``federal``: HTTP waits) on 4 threads, so the waits of the
    remote calls overlap the CPU work as they do in production.
    """
    from piis_bridge.pipeline.runner import EmbeddedWorker

    common = {"extra_plugins": extra_plugins, "env": env}
    if topology == "single":
        return [EmbeddedWorker(settings, concurrency=concurrency, **common)]
    return [
        EmbeddedWorker(
            settings, concurrency=concurrency, queues=["default"], name="bench-default", **common
        ),
        EmbeddedWorker(
            settings,
            concurrency=4,
            pool="threads",
            queues=["casesystem", "federal"],
            name="bench-remote",
            **common,
        ),
    ]


def _one_run(
    rt,
    settings,
    options,
    extra_plugins,
    concurrency: int,
    sims: dict[str, int],
    pg_database,
    topology: str,
):
    from piis_bridge.pipeline.app import make_celery_app
    from piis_bridge.pipeline.runner import wait_for_run
    from piis_bridge.pipeline.stages import create_run
    from piis_bridge.pipeline.tasks import CeleryEnqueuer

    env = {
        f"PIIS_PIPELINE_{k.upper()}": str(v)
        for k, v in options.model_dump(exclude_none=True).items()
    }
    workers = _workers(settings, extra_plugins, env, concurrency, topology)
    sampler = _Sampler(workers, sims, pg_database)
    own_cpu = time.process_time()
    for worker in workers:
        worker.start()
    sampler.start()
    try:
        t0 = time.perf_counter()  # the run's clock starts with the worker: its start-up is included
        enq = CeleryEnqueuer(make_celery_app(runtime=rt))
        run_id = create_run(rt)
        enq.start(run_id)
        summary = wait_for_run(rt, run_id, timeout=7200, sweep_every=30.0, worker=workers[0])
        wall = time.perf_counter() - t0
        sampler.sample()
    finally:
        sampler.stop.set()
        for worker in workers:
            worker.stop(cold=True)
    sampler.join()
    return summary, wall, sampler, time.process_time() - own_cpu


class _SimProcess:
    """A simulator in its own process (benchmarks/_simhost.py); stops when its stdin closes."""

    def __init__(self, *args: str) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "_simhost.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            self.stop()
            raise SystemExit(f"simulator {args[0]} did not start")
        self.url, self.base_url = line[1], line[2]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001 - whatever wait raises, the child is killed
                self.proc.kill()
                self.proc.wait()


def neptunus_cpas(case_url: str, federal_url: str) -> dict[str, dict]:
    """The ``cpas`` settings of the simulators' five OCMW: the neptunus case system at *case_url*, the
    federal service at *federal_url* in batch mode (also bench_process's, which calls neither)."""
    from piis_connectors.casesystem.seed import OCMWS

    return {
        name.split()[-1].lower(): {
            "name": name,
            "ins_code": ins,
            "bce": kbo,
            "case_system": "neptunus",
            "federal": "federal",
            "transfer": None,
            "plugins": {
                "neptunus": {
                    "base_url": case_url,
                    "client_id": "piis-bridge",
                    "client_secret": "geheim",
                    "ocmw_kbo": kbo,
                },
                "federal": {"endpoint": federal_url, "mode": "batch"},
            },
        }
        for kbo, ins, name in OCMWS
    }


def real_setup(tmp: Path, dossiers: int, seed: int, cleanup: list):
    """Start both simulators (the case system seeded with *dossiers* varied dossiers), register the CPAS."""
    import httpx
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.federal.admin import SimulatorAdmin

    case = _SimProcess("case", str(tmp / "neptunus.sqlite"), str(dossiers), str(seed))
    cleanup.append(case.stop)
    federal = _SimProcess("federal", str(tmp / "novaprima.sqlite3"))
    cleanup.append(federal.stop)
    admin = SimulatorAdmin(federal.base_url)
    cleanup.append(admin.close)
    for kbo, ins, name in OCMWS:
        admin.register_cpas(kbo, ins, name=name)
    by_kbo: dict[str, set[str]] = {}
    for c in generate(dossiers, seed):
        by_kbo.setdefault(c.ocmw, set()).add(c.data["client"]["rijksregisternummer"])
    for kbo, nisses in by_kbo.items():
        admin.integrate_many(kbo, sorted(nisses))
    cpas = neptunus_cpas(case.url, federal.url)

    def touch(k: int, night: int) -> None:
        r = httpx.post(
            case.base_url + "/admin/wijzig",
            headers={"X-Admin-Key": "beheer"},
            json={"aantal": k, "seed": 1000 + night},
            timeout=600,
        )
        r.raise_for_status()

    return cpas, touch, {"case": case.pid, "federal": federal.pid}


def _encryption_keys() -> None:
    """Fresh keys for this run in the environment the worker inherits: a production install has its
    data keys and hash key set (deploy/README.md), so the real path encrypts every personal-data column
    (AES-GCM, base64) and hashes with a secret key; measuring without them would leave that cost out."""
    from piis_bridge.crypto import new_key, reset_key_ring

    os.environ["PIIS_DATA_KEYS"] = f"bench1:{new_key()}"
    os.environ["PIIS_HASH_KEY"] = f"benchhash1:{new_key()}"
    for name in ("PIIS_DATA_KEYS_FILE", "PIIS_HASH_KEY_FILE"):
        os.environ.pop(name, None)
    reset_key_ring()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument(
        "--incremental", type=int, default=0, help="then change this many and run again"
    )
    parser.add_argument(
        "--nights",
        type=int,
        default=0,
        help="replay this many nights of --incremental changes (default 2000) before the measured one",
    )
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    parser.add_argument(
        "--backend",
        choices=["real", "pipetest"],
        default="real",
        help="real: neptunus + federal plugins against both simulators; "
        "pipetest: NOT the real path (test remote, one contract, JSON test form)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="the case-system simulator's generator seed"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--redis-db",
        type=int,
        default=8,
        help="Redis database of --broker redis (default 8; the tests use 11-15): two benchmarks "
        "running at once need two databases, or one's worker consumes the other's tasks",
    )
    parser.add_argument(
        "--topology",
        choices=["single", "deploy"],
        help="single: one worker serving every queue (the embedded default); deploy: the worker "
        "groups of deploy/compose.yaml (default on prefork, casesystem+federal on 4 threads). "
        "Default: single (on this 2-core machine deploy measured slower: the threads pool's GIL "
        "contention costs more CPU than the overlapped waits save; docs/pipeline.md)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--encryption",
        choices=("on", "off"),
        default="on",
        help="on (default, as a production install per deploy/README.md): fresh data and hash keys "
        "for this run (PIIS_DATA_KEYS, PIIS_HASH_KEY), so personal data is encrypted at rest (AES-GCM) "
        "as in production; off: stored as given, as on a development machine without keys",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="--broker redis: keep the run's PostgreSQL database (its name is printed) to inspect its "
        "tables' counters (pg_stat_user_tables) or plans afterwards; drop it yourself",
    )
    args = parser.parse_args(argv)
    if args.encryption == "on":
        _encryption_keys()
    if args.topology is None:
        args.topology = "single"
    if args.nights and not args.incremental:
        args.incremental = 2000

    from piis_bridge.config import Settings
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline import PipelineOptions, Runtime

    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    database_url = (
        f"sqlite:///{tmp}/app.sqlite3" if args.broker == "embedded" else new_pg_database()
    )
    pg_database = database_url.rsplit("/", 1)[1] if args.broker == "redis" else None
    if pg_database:
        print(pg_server_settings())
    # Redis database 8: the tests use 11 to 15 (tests/observability/test_metrics.py uses 12); a test's
    # worker on the same database and queue names consumed this benchmark's tasks and stalled it.
    broker_url = (
        "filesystem://" if args.broker == "embedded" else f"redis://127.0.0.1:6379/{args.redis_db}"
    )
    if args.broker == "redis":
        import redis

        redis.Redis.from_url(broker_url).flushdb()
    options = PipelineOptions(broker_dir=tmp / "broker")
    cleanup: list = []
    results = []
    sims: dict[str, int] = {}
    try:
        if args.backend == "pipetest":
            from tests.pipeline.remote import Remote, RemoteState

            remote = Remote(RemoteState(args.dossiers, two_forms_every=10)).__enter__()
            cleanup.append(remote.__exit__)
            cpas = {
                "gent": {
                    "name": "OCMW Gent",
                    "ins_code": "44021",
                    "bce": "0207567726",
                    "case_system": "pipetest",
                    "federal": "pipetest",
                    "transfer": None,
                    "plugins": {"pipetest": {"url": remote.url}},
                }
            }
            enabled, extra = ["pipetest"], ["pipetest=tests.pipeline.plugin"]

            def touch(k: int, night: int) -> None:
                remote.state.touch([r["record_id"] for r in remote.state.records[:k]])
        else:
            cpas, touch, sims = real_setup(tmp, args.dossiers, args.seed, cleanup)
            enabled, extra = ["neptunus", "federal"], []
        settings = Settings.model_validate(
            {
                "database_url": database_url,
                "broker_url": broker_url,
                "result_backend": f"db+sqlite:///{tmp}/results.sqlite3",
                "state_dir": str(tmp / "state"),
                "plugins": {"enabled": enabled},
                "cpas": cpas,
            }
        )
        upgrade_database(database_url)
        rt = Runtime(settings, options, extra_plugins=extra)
        runs: list[tuple[str, int | None]] = [("full", None)]
        runs += [(f"night-{n + 1}", args.incremental) for n in range(args.nights)]
        if args.incremental:
            runs.append(("incremental", args.incremental))
        for night, (label, k) in enumerate(runs):
            if k:
                touch(k, night)
            load = os.getloadavg()[0]
            written = pg_write_counters(database_url) if pg_database else None
            summary, wall, sampler, runner_cpu = _one_run(
                rt, settings, options, extra, args.concurrency, sims, pg_database, args.topology
            )
            c = summary.counts
            r = {
                "run": label,
                "broker": args.broker,
                "topology": args.topology,
                "backend": args.backend,
                "dossiers": c.get("fetched"),
                "status": summary.status,
                "wall_seconds": round(wall, 1),
                "records_per_second": round((c.get("fetched") or 0) / wall, 1),
                "forms": c.get("forms"),
                "forms_answered": c.get("forms_answered"),
                "pushed": c.get("pushed"),
                "quarantined": c.get("quarantined"),
                "worker_cpu_seconds": round(sampler.cpu_seconds("worker"), 1),
                "worker_peak_rss_mb": round(sampler.peak_kb["worker"] / 1024, 1),
                "runner_cpu_seconds": round(runner_cpu, 1),
                "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "stages": {
                    k2: {
                        "units": v["units"],
                        "busy_s": v["busy_seconds"],
                        "units_per_busy_s": v["units_per_busy_second"],
                        "span_s": v["span_seconds"],
                    }
                    for k2, v in summary.stages.items()
                },
            }
            for family in ("pg", "pg_server", "broker", *sims):
                if family in ("pg", "pg_server", "broker") and not pg_database:
                    continue
                r[f"{family}_cpu_seconds"] = round(sampler.cpu_seconds(family), 1)
                r[f"{family}_peak_rss_mb"] = round(sampler.peak_kb[family] / 1024, 1)
            if written is not None:
                after = pg_write_counters(database_url)
                r["pg_written"] = {k: after[k] - written[k] for k in written if k != "db_bytes"}
                r["pg_written"]["db_bytes"] = after["db_bytes"]
            results.append(r)
            _print(r, args.json, brief=label.startswith("night-"))
        rt.close()
    finally:
        for fn in reversed(cleanup):
            fn()
        if args.broker == "redis" and args.keep_database:
            print(f"kept database {database_url.rsplit('/', 1)[-1]}")
        elif args.broker == "redis":
            drop_pg(database_url)
        shutil.rmtree(tmp, ignore_errors=True)  # the simulators' and the embedded run's files
    print(
        f"runner_peak_rss_mb={round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}"
    )
    return 0


def _print(r: dict, as_json: bool, brief: bool) -> None:
    if as_json:
        print(json.dumps(r), flush=True)
        return
    procs = " ".join(
        f"{f}_cpu={r[f + '_cpu_seconds']}s {f}_peak={r[f + '_peak_rss_mb']}MB"
        for f in ("pg", "pg_server", "broker", "case", "federal")
        if f + "_cpu_seconds" in r
    )
    print(
        f"{r['run']:<12} {r['broker']:<9} {r['topology']:<7} {r['backend']:<9} dossiers={r['dossiers']:<7} "
        f"status={r['status']} wall={r['wall_seconds']}s ({r['records_per_second']}/s) "
        f"forms={r['forms']} pushed={r['pushed']} quarantined={r['quarantined']} "
        f"worker_cpu={r['worker_cpu_seconds']}s worker_peak={r['worker_peak_rss_mb']}MB "
        f"{procs} runner_cpu={r['runner_cpu_seconds']}s load={r['load_before']}->{r['load_after']}",
        flush=True,
    )
    if "pg_written" in r:
        w = r["pg_written"]
        print(
            f"    postgresql wal={w['wal_bytes'] / 1e9:.2f}GB full_page_images={w['wal_fpi']} "
            f"checkpoints={w['checkpoints']} backend_writes={w['backend_writes']} "
            f"database={w['db_bytes'] / 1e9:.2f}GB",
            flush=True,
        )
    if brief:
        return
    for stage, st in r["stages"].items():
        print(
            f"    {stage:<9} units={st['units']:<7} busy={st['busy_s']}s "
            f"({st['units_per_busy_s']}/busy-s) span={st['span_s']}s",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
