"""Benchmark of the nightly pipeline: wall time, throughput per stage, peak memory.

    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 2000                 # embedded, test remote
    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 2000 --broker redis  # Redis + PostgreSQL
    .venv/bin/python benchmarks/bench_pipeline.py --dossiers 100000 --incremental 2000
    .venv/bin/python benchmarks/bench_pipeline.py --backend real --dossiers 2000  # neptunus + federal simulators

``--backend pipetest`` (default) reads a small loopback HTTP remote (tests/pipeline/remote.py) whose
records map to a real canonical contract (examples/studies.json), so the figures are the pipeline's
own cost plus the rules engine (evaluated on every contract), without the simulators' cost.
``--backend real`` runs the real neptunus and federal plugins against their simulators.
``--incremental K``: after the full run, K dossiers change and a second run is measured.

Peak memory is the highest resident set of the worker's process group, sampled every 0.2 s, plus
this process's own peak.  ``worker_cpu`` is the CPU seconds (user + system) of the worker's processes
and ``runner_cpu`` this process's (the sweeper, the progress polling): on a shared machine compare
runs by CPU, not wall time; the load average before and after each run is printed with it.
Not collected by pytest (testpaths = tests).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def _rss_of_group(pgid: int) -> int:
    """Sum of VmRSS (kB) of the processes in a process group."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of_group(pgid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process in a process group, by pid."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, ProcessLookupError, IndexError, ValueError):
            continue
    return out


class _MemorySampler(threading.Thread):
    """Peak resident memory and CPU seconds of the worker's process group, sampled every 0.2 s.

    Why CPU: the machine is shared, so wall time is noisy; the workers' CPU seconds compare runs.
    (CPU a process spends after the last sample before it exits is missed: at most 0.2 s each.)
    """

    def __init__(self, worker) -> None:
        super().__init__(daemon=True)
        self.worker, self.peak_kb, self.stop = worker, 0, threading.Event()
        self.cpu: dict[int, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            proc = self.worker.proc
            if proc is not None and proc.poll() is None:
                self.peak_kb = max(self.peak_kb, _rss_of_group(proc.pid))
                for pid, seconds in _cpu_of_group(proc.pid).items():
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), seconds)
            time.sleep(0.2)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _pg_database() -> str:
    import psycopg

    name = f"piis_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _drop_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _one_run(rt, settings, options, extra_plugins, concurrency: int, broker: str):
    from piis_bridge.pipeline.app import make_celery_app
    from piis_bridge.pipeline.runner import EmbeddedWorker, wait_for_run
    from piis_bridge.pipeline.stages import create_run
    from piis_bridge.pipeline.tasks import CeleryEnqueuer

    env = {f"PIIS_PIPELINE_{k.upper()}": str(v) for k, v in options.model_dump(exclude_none=True).items()}
    worker = EmbeddedWorker(settings, concurrency=concurrency, extra_plugins=extra_plugins, env=env).start()
    sampler = _MemorySampler(worker)
    sampler.start()
    own_cpu = time.process_time()
    try:
        time.sleep(0)  # the run's clock starts when it is enqueued; worker start-up is included
        t0 = time.perf_counter()
        enq = CeleryEnqueuer(make_celery_app(runtime=rt))
        run_id = create_run(rt)
        enq.start(run_id)
        summary = wait_for_run(rt, run_id, timeout=3600, sweep_every=30.0, worker=worker)
        wall = time.perf_counter() - t0
    finally:
        sampler.stop.set()
        worker.stop(cold=True)
    return summary, wall, sampler.peak_kb, sampler.cpu_seconds, time.process_time() - own_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--incremental", type=int, default=0, help="then change this many and run again")
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    parser.add_argument("--backend", choices=["pipetest", "real"], default="pipetest")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from piis_bridge.config import Settings
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline import PipelineOptions, Runtime

    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    database_url = f"sqlite:///{tmp}/app.sqlite3" if args.broker == "embedded" else _pg_database()
    broker_url = "filesystem://" if args.broker == "embedded" else "redis://127.0.0.1:6379/12"
    if args.broker == "redis":
        import redis

        redis.Redis.from_url(broker_url).flushdb()
    options = PipelineOptions(broker_dir=tmp / "broker")
    cleanup = []
    results = []
    try:
        if args.backend == "pipetest":
            from tests.pipeline.remote import Remote, RemoteState

            remote = Remote(RemoteState(args.dossiers, two_forms_every=10)).__enter__()
            cleanup.append(remote.__exit__)
            cpas = {"gent": {"name": "OCMW Gent", "ins_code": "44021", "bce": "0207567726",
                             "case_system": "pipetest", "federal": "pipetest", "transfer": None,
                             "plugins": {"pipetest": {"url": remote.url}}}}
            enabled, extra = ["pipetest"], ["pipetest=tests.pipeline.plugin"]
            touch = lambda k: remote.state.touch([r["record_id"] for r in remote.state.records[:k]])  # noqa: E731
        else:
            from piis_connectors.casesystem.seed import OCMWS, generate
            from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
            from piis_connectors.federal.testing import start_running_simulator

            case = CaseSystemSimulator(SimulatorConfig(db_path=tmp / "neptunus.sqlite"), host="127.0.0.1", port=0)
            case.seed(args.dossiers)
            case.start()
            cleanup.append(case.stop)
            federal = start_running_simulator(tmp / "novaprima.sqlite3")
            cleanup.append(federal.stop)
            for kbo, ins, name in OCMWS:
                federal.admin.register_cpas(kbo, ins, name=name)
            by_kbo: dict[str, set[str]] = {}
            for c in generate(args.dossiers, 1):
                by_kbo.setdefault(c.ocmw, set()).add(c.data["client"]["rijksregisternummer"])
            for kbo, nisses in by_kbo.items():
                federal.admin.integrate_many(kbo, sorted(nisses))
            cpas = {name.split()[-1].lower(): {
                "name": name, "ins_code": ins, "bce": kbo, "case_system": "neptunus", "federal": "federal",
                "transfer": None, "plugins": {
                    "neptunus": {"base_url": case.url, "client_id": "piis-bridge", "client_secret": "geheim",
                                 "ocmw_kbo": kbo},
                    "federal": {"endpoint": federal.endpoint, "mode": "batch"}}} for kbo, ins, name in OCMWS}
            enabled, extra = ["neptunus", "federal"], []
            touch = None
        settings = Settings.model_validate({
            "database_url": database_url, "broker_url": broker_url,
            "result_backend": f"db+sqlite:///{tmp}/results.sqlite3", "state_dir": str(tmp / "state"),
            "plugins": {"enabled": enabled}, "cpas": cpas})
        upgrade_database(database_url)
        rt = Runtime(settings, options, extra_plugins=extra)
        runs = [("full", None)]
        if args.incremental and touch is not None:
            runs.append(("incremental", args.incremental))
        for label, k in runs:
            if k:
                touch(k)
            load = os.getloadavg()[0]
            summary, wall, peak_kb, worker_cpu, runner_cpu = _one_run(rt, settings, options, extra,
                                                                      args.concurrency, args.broker)
            c = summary.counts
            results.append({
                "run": label, "broker": args.broker, "backend": args.backend, "dossiers": c.get("fetched"),
                "status": summary.status, "wall_seconds": round(wall, 1),
                "records_per_second": round((c.get("fetched") or 0) / wall, 1),
                "forms": c.get("forms"), "forms_answered": c.get("forms_answered"), "pushed": c.get("pushed"),
                "quarantined": c.get("quarantined"), "worker_peak_rss_mb": round(peak_kb / 1024, 1),
                "worker_cpu_seconds": round(worker_cpu, 1), "runner_cpu_seconds": round(runner_cpu, 1),
                "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
                "stages": {k2: {"units": v["units"], "busy_s": v["busy_seconds"],
                                "units_per_busy_s": v["units_per_busy_second"], "span_s": v["span_seconds"]}
                           for k2, v in summary.stages.items()},
            })
        rt.close()
    finally:
        for fn in reversed(cleanup):
            fn()
        if args.broker == "redis":
            _drop_pg(database_url)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for r in results:
        r["runner_peak_rss_mb"] = round(own_peak, 1)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['run']:<12} {r['broker']:<9} {r['backend']:<9} dossiers={r['dossiers']:<7} "
                  f"status={r['status']} wall={r['wall_seconds']}s ({r['records_per_second']}/s) "
                  f"forms={r['forms']} worker_peak={r['worker_peak_rss_mb']}MB "
                  f"worker_cpu={r['worker_cpu_seconds']}s runner_cpu={r['runner_cpu_seconds']}s "
                  f"load={r['load_before']}->{r['load_after']}")
            for stage, st in r["stages"].items():
                print(f"    {stage:<9} units={st['units']:<7} busy={st['busy_s']}s "
                      f"({st['units_per_busy_s']}/busy-s) span={st['span_s']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
