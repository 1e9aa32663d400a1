"""SQL statements per contract, per pipeline stage: what the database bookkeeping costs (issue #20).

    .venv/bin/python benchmarks/bench_sql.py --dossiers 1000                  # one full run
    .venv/bin/python benchmarks/bench_sql.py --dossiers 1000 --incremental 200 --nights 3

Runs the real plugins against both simulators (as benchmarks/bench_pipeline.py does) on a private
PostgreSQL database, but the stages run in this process, one after the other (the tests' inline
enqueuer), so that every statement can be attributed to the stage that sent it.  A SQLAlchemy
``before_cursor_execute`` listener counts the statements (an ``executemany`` counts once, with its
rows) and the commits per stage and per statement shape, with the time spent waiting for the
database; the report divides by the contracts the run processed.

Why in-process rather than the celery worker: the counts are exact and per stage; the benchmark's
CPU figures (worker, PostgreSQL) remain the measure of cost; this says where the statements come from.
Not collected by pytest (testpaths = tests).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


class _Counter:
    """Statements, rows and database wait per (stage, statement shape)."""

    def __init__(self) -> None:
        self.stage = "setup"
        self.statements: Counter[tuple[str, str]] = Counter()
        self.rows: Counter[tuple[str, str]] = Counter()
        self.seconds: defaultdict[tuple[str, str], float] = defaultdict(float)
        self.commits: Counter[str] = Counter()
        self.pg_cpu: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.backend: defaultdict[tuple[str, str], float] = defaultdict(float)

    @staticmethod
    def shape(sql: str) -> str:
        """The statement with its parameters and IN lists folded, cut to 150 characters."""
        sql = re.sub(r"%\(\w+\)s", "?", " ".join(sql.split()))
        sql = re.sub(r"\?(, \?)+", "?..", sql)
        sql = re.sub(r"(\?::\w+)(, \?::\w+)+", r"\1..", sql)  # the same list, with casts
        sql = re.sub(r"\(\?(\.\.)?\)(, \(\?(\.\.)?\))+", "(?..)..", sql)
        if sql.startswith("SELECT") and " FROM " in sql and len(sql) > 150:
            # a SELECT is told apart by its FROM and WHERE, not by its (long) column list
            head, _, tail = sql.partition(" FROM ")
            return f"{head[:40]}.. FROM {tail}"[:220]
        return sql[:150]

    @staticmethod
    def backend_ns(conn) -> int:
        """Nanoseconds on CPU so far of the PostgreSQL backend serving *conn* (/proc schedstat)."""
        if conn.dialect.name != "postgresql":
            return 0
        pid = conn.connection.dbapi_connection.info.backend_pid
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                return int(f.read().split()[0])
        except OSError:
            return 0

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        key = (self.stage, self.shape(statement))
        self.statements[key] += 1
        self.rows[key] += len(parameters) if executemany else 1
        # per connection: the federal ledger's engine runs statements on a thread of its own
        conn.info["bench_sql_t0"] = (self.backend_ns(conn), time.perf_counter())

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        key = (self.stage, self.shape(statement))
        ns0, t0 = conn.info.pop("bench_sql_t0", (self.backend_ns(conn), time.perf_counter()))
        self.seconds[key] += time.perf_counter() - t0
        self.backend[key] += (self.backend_ns(conn) - ns0) / 1e9

    def commit(self, conn) -> None:
        self.commits[self.stage] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--incremental", type=int, default=0)
    parser.add_argument("--nights", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=40, help="statement shapes listed per run")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=0.0,
        help="every S seconds, between two tasks, what the sweeper does to the tables "
        "(vacuum_bloated, refresh_statistics), counted as stage 'sweep'; 0: never (the default, "
        "as before: the inline run has no sweeper)",
    )
    args = parser.parse_args(argv)

    from bench_pipeline import drop_pg, new_pg_database, processes, real_setup
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from piis_bridge.config import Settings
    from piis_bridge.logging import configure_logging
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline import PipelineOptions, Runtime
    from piis_bridge.pipeline.stages import create_run
    from tests.pipeline.inline import InlineEnqueuer

    configure_logging("json", "WARNING")  # the worker logs at INFO to a file; here only the counts
    tmp = Path(tempfile.mkdtemp(prefix="bench-sql-"))
    database_url = new_pg_database()
    cleanup: list[Any] = []
    try:
        cpas, touch, _sims = real_setup(tmp, args.dossiers, args.seed, cleanup)
        settings = Settings.model_validate(
            {
                "database_url": database_url,
                "broker_url": "filesystem://",
                "result_backend": f"db+sqlite:///{tmp}/results.sqlite3",
                "state_dir": str(tmp / "state"),
                "plugins": {"enabled": ["neptunus", "federal"]},
                "cpas": cpas,
            }
        )
        upgrade_database(database_url)
        rt = Runtime(settings, PipelineOptions(broker_dir=tmp / "broker", collect_delay=0.2))
        counter = _Counter()
        # every engine, not only the pipeline's: the federal plugin's ledger has an engine of its own
        # (same database), and its statements are part of what submit and collect cost
        event.listen(Engine, "before_cursor_execute", counter.before)
        event.listen(Engine, "after_cursor_execute", counter.after)
        event.listen(Engine, "commit", counter.commit)

        pg_name = database_url.rsplit("/", 1)[1]

        def pg_cpu() -> float:
            """CPU seconds so far of the PostgreSQL backends serving this database."""
            total = 0.0
            for pid, (comm, _pgrp, cpu, _rss) in processes().items():
                if comm != "postgres":
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if f" {pg_name} ".encode() in f.read():
                            total += cpu
                except OSError:
                    continue
            return total

        from piis_bridge.pipeline.outbox import refresh_statistics, vacuum_bloated

        last_sweep = [time.perf_counter()]

        def sweep_tables() -> None:
            if not args.sweep_every or time.perf_counter() - last_sweep[0] < args.sweep_every:
                return
            counter.stage = "sweep"
            pg0, cpu0 = pg_cpu(), time.process_time()
            with rt.session() as s:
                vacuum_bloated(s)  # its VACUUM is counted by the listeners, with its backend CPU
                refresh_statistics(s)
            counter.pg_cpu["sweep"] += pg_cpu() - pg0
            counter.cpu["sweep"] += time.process_time() - cpu0
            last_sweep[0] = time.perf_counter()

        class Counting(InlineEnqueuer):
            def _run(self, name: str, args_: tuple[Any, ...], attempt: int) -> None:
                sweep_tables()
                counter.stage = name
                pg0, cpu0 = pg_cpu(), time.process_time()
                try:
                    super()._run(name, args_, attempt)
                finally:
                    counter.stage = "other"
                    counter.pg_cpu[name] += pg_cpu() - pg0
                    counter.cpu[name] += time.process_time() - cpu0

        runs: list[tuple[str, int]] = [("full", 0)]
        runs += [(f"night-{n + 1}", args.incremental) for n in range(args.nights)]
        if args.incremental and not args.nights:
            runs.append(("incremental", args.incremental))
        for night, (label, k) in enumerate(runs):
            if k:
                touch(k, night)
            counter.__init__()  # type: ignore[misc]
            enq = Counting(rt)
            cpu0, t0 = time.process_time(), time.perf_counter()
            run_id = create_run(rt, trigger="nightly" if night else "manual")
            enq.start(run_id)
            enq.drain(timeout=3600)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            from piis_bridge.pipeline.models import SyncRun

            with rt.session() as s:
                run = s.get_one(SyncRun, run_id)
                processed = run.counts.get("processed") or 0
                status = run.status
            _report(label, status, processed, cpu, wall, counter, enq.sent, args.top)
        rt.close()
    finally:
        for fn in reversed(cleanup):
            fn()
        if args.keep:
            print(f"kept {database_url}")
        else:
            drop_pg(database_url)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _report(label, status, processed, cpu, wall, c: _Counter, sent, top: int) -> None:
    n = max(processed, 1)
    total = sum(c.statements.values())
    db = sum(c.seconds.values())
    print(
        f"{label}: status={status} processed={processed} statements={total} "
        f"({total / n:.2f}/contract) commits={sum(c.commits.values())} "
        f"({sum(c.commits.values()) / n:.2f}/contract) db_wait={db:.1f}s this_process_cpu={cpu:.1f}s "
        f"pg_cpu={sum(c.pg_cpu.values()):.1f}s "
        f"wall={wall:.1f}s tasks={dict(sent)}"
    )
    stages: Counter[str] = Counter()
    for (stage, _), v in c.statements.items():
        stages[stage] += v
    for stage, v in stages.most_common():
        t = sum(sec for (st, _), sec in c.seconds.items() if st == stage)
        print(
            f"    stage {stage:<8} statements={v:<7} ({v / n:.2f}/contract) "
            f"commits={c.commits[stage]:<6} db_wait={t:.2f}s pg_cpu={c.pg_cpu[stage]:.2f}s "
            f"cpu={c.cpu[stage]:.2f}s ({1000 * (c.cpu[stage] + c.pg_cpu[stage]) / n:.2f} ms/contract)"
        )
    print("    by PostgreSQL CPU while the statement ran (commits not included):")
    for (stage, shape), pg in sorted(c.backend.items(), key=lambda kv: -kv[1])[:top]:
        v = c.statements[(stage, shape)]
        print(
            f"      {stage:<8} pg={pg:.2f}s x{v:<7} {1000 * pg / max(v, 1):.2f}ms/call "
            f"rows={c.rows[(stage, shape)]:<8} "
            f"db_wait={c.seconds[(stage, shape)]:.2f}s {shape}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
