"""Benchmark of the operator console's pages on a large installation: p50/p95 per page.

    .venv/bin/python benchmarks/bench_console.py                        # SQLite, 280,000 dossiers
    .venv/bin/python benchmarks/bench_console.py --postgres             # a throw-away PostgreSQL database
    .venv/bin/python benchmarks/bench_console.py --dossiers 28000 --forms 100000 --quarantine 10000

Seeds the application database (migrated by alembic) with ``--dossiers`` pulled dossiers over four
CPAS (one ``sync_item`` each in the last nightly run, a federal form effect and a deadline alert
each), ``--forms`` entries in the federal form ledger (a tenth refused, with a federal code) and
``--quarantine`` quarantine entries (open, replayed, dismissed), then requests every page
``--repeat`` times as an admin of every CPAS through the ASGI stack (Starlette's test client: the
application's whole request path, no network) with varying filters and pages, and prints p50 and
p95 per page in milliseconds.  The goal is p95 < 300 ms.  Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=DeprecationWarning)

from sqlalchemy import insert

from piis_bridge.config import Settings
from piis_bridge.console import accounts
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.ledger.models import FormEntry, niss_hash
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline.models import Effect, QuarantineEntry, SyncRun, SyncRunCpas, WorkItem

CPAS = ("gent", "antwerpen", "liege", "namur")
PASSWORD = "benchmark password"
NISS = "85073003328"
NISS_HASH = niss_hash(NISS)  # what the ledger looks forms up by (the NISS itself is encrypted)
BATCH = 20_000


def _batches(engine, table, rows):
    buf = []
    for row in rows:
        buf.append(row)
        if len(buf) >= BATCH:
            with engine.begin() as conn:
                conn.execute(insert(table), buf)
            buf = []
    if buf:
        with engine.begin() as conn:
            conn.execute(insert(table), buf)


def seed(engine, dossiers: int, forms: int, quarantine: int) -> None:
    now = datetime.now(UTC)
    rng = random.Random(7)
    runs = [f"run{n:04d}" for n in range(60)]
    with engine.begin() as conn:
        conn.execute(
            insert(SyncRun.__table__),
            [
                dict(
                    id=r,
                    trigger="nightly",
                    cpas_ids=list(CPAS),
                    status="finished",
                    dossier=None,
                    schedule_key=None,
                    started_at=now - timedelta(days=60 - i, hours=1),
                    finished_at=now - timedelta(days=60 - i),
                    counts={},
                    report=None,
                )
                for i, r in enumerate(runs)
            ],
        )
        conn.execute(
            insert(SyncRunCpas.__table__),
            [
                dict(
                    run_id=r,
                    cpas_id=c,
                    state="pulled",
                    pages=1,
                    fetched=dossiers // len(CPAS),
                    attempts=1,
                    notices_state="none",
                )
                for r in runs
                for c in CPAS
            ],
        )
    last = runs[-1]
    t0 = time.perf_counter()
    _batches(
        engine,
        WorkItem.__table__,
        (
            dict(
                run_id=last,
                cpas_id=CPAS[n % 4],
                record_id=f"D{n:07d}",
                version="1",
                state="done",
                attempts=1,
                payload=json.dumps({"record_id": f"D{n:07d}", "payload": {"niss": NISS}}),
                forms=1,
                findings=2,
                updated_at=now,
            )
            for n in range(dossiers)
        ),
    )
    _batches(
        engine,
        Effect.__table__,
        (
            row
            for n in range(dossiers)
            for row in (
                dict(
                    key=f"form:{CPAS[n % 4]}:{uuid.UUID(int=n)}",
                    kind="form",
                    run_id=last,
                    cpas_id=CPAS[n % 4],
                    record_id=f"D{n:07d}",
                    state="answered",
                    answer="ACCEPTED",
                    payload_type="piis_bridge.forms:FederalForm",
                    payload=json.dumps({"niss": NISS, "dossier": f"D{n:07d}"}),
                    # every row names every column: an executemany takes its columns from the first row
                    worker_id=None,
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                ),
                dict(
                    key=f"push:{CPAS[n % 4]}:alert:D{n:07d}:R-EVA-01:abcd1234:"
                    f"{(now + timedelta(days=n % 400 - 100)).date()}",
                    kind="push",
                    run_id=last,
                    cpas_id=CPAS[n % 4],
                    record_id=f"D{n:07d}",
                    state="done",
                    answer=None,
                    payload_type="x:PushItem",
                    payload=json.dumps(
                        {
                            "title": "next evaluation due",
                            "due": str((now + timedelta(days=n % 400 - 100)).date()),
                            "data": {
                                "rule": "R-EVA-01",
                                "status": "pending",
                                "worker_id": _worker(n),
                                "worker_name": _worker(n),
                            },
                        }
                    ),
                    worker_id=_worker(n),
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                ),
            )
        ),
    )
    statuses = ["accepted"] * 8 + ["refused", "sent"]
    _batches(
        engine,
        FormEntry.__table__,
        (
            dict(
                key=str(uuid.UUID(int=10**9 + n)),
                cpas_id=CPAS[n % 4],
                kind="BCD"[n % 3],
                niss=NISS,
                niss_hash=NISS_HASH,
                dossier=f"D{n % dossiers:07d}",
                period_key=f"2026-{n % 12 + 1:02d}-01",
                version=1,
                status=statuses[n % 10],
                payload="{}",
                xml="<x/>",
                payload_hash="h",
                content_hash="c",
                errors=[{"code": "-300020", "message": "NISS not integrated"}]
                if statuses[n % 10] == "refused"
                else [],
                created_at=now - timedelta(days=n % 365),
                updated_at=now,
            )
            for n in range(forms)
        ),
    )
    _batches(
        engine,
        QuarantineEntry.__table__,
        (
            dict(
                run_id=runs[n % 60],
                cpas_id=CPAS[n % 4],
                record_id=f"D{rng.randrange(dossiers):07d}",
                stage=("map", "evaluate", "submit")[n % 3],
                reason="beneficiary.niss: NISS checksum invalid",
                problems=[{"field": "beneficiary.niss", "reason": "NISS checksum invalid"}],
                item_id=None,
                effect_id=None,
                status=("open", "replayed", "dismissed")[n % 3],
                replay_run_id=None,
                created_at=now - timedelta(days=n % 60),
            )
            for n in range(quarantine)
        ),
    )
    print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)


def _worker(n: int) -> str:
    """The social worker in charge of seeded dossier *n*: 36 per CPAS (dossier n is in CPAS n % 4),
    and one dossier in ten unassigned (""), as the pipeline's alerts stage writes them."""
    k = n % 160
    return "" if k % 10 == 0 else f"sw{k:03d}"


ASSIGNED = [k for k in range(160) if k % 10]  # seeded dossier numbers (mod 160) with a worker


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dossiers", type=int, default=280_000)
    ap.add_argument("--forms", type=int, default=1_000_000)
    ap.add_argument("--quarantine", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument(
        "--postgres",
        action="store_true",
        help="a fresh database on 127.0.0.1:5432 instead of SQLite",
    )
    ap.add_argument(
        "--reuse", metavar="URL", help="measure again on a database this script seeded before"
    )
    args = ap.parse_args()
    if args.reuse:
        run(args.reuse, args, seeded=True)
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench_console_"))
    pg_name = None
    if args.postgres:
        import psycopg

        pg_name = f"bench_console_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{tmp}/bench.sqlite3"
    try:
        run(url, args)
    finally:
        if pg_name:
            import psycopg

            with psycopg.connect(
                "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def run(url: str, args: argparse.Namespace, seeded: bool = False) -> None:
    from starlette.testclient import TestClient

    from piis_bridge.console.app import create_app

    upgrade_database(url)
    engine = make_engine(url)
    if not seeded:
        seed(engine, args.dossiers, args.forms, args.quarantine)
        # PostgreSQL: VACUUM too, as autovacuum would after a bulk load (index-only scans need the
        # visibility map); SQLite: ANALYZE for the planner.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            )
        with make_sessionmaker(engine)() as s:
            accounts.add_user(s, "bench", PASSWORD, "admin", ["*"], actor="bench")
            s.commit()
        if engine.dialect.name == "sqlite":
            print(f"database kept for --reuse {url}", flush=True)
    settings = Settings.model_validate(
        {
            "database_url": url,
            "cpas": {c: {"name": c, "ins_code": "44021", "bce": "0207567726"} for c in CPAS},
        }
    )
    client = TestClient(create_app(settings, engine=engine), base_url="https://bench")
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    assert (
        client.post(
            "/login",
            data={"csrf": token, "username": "bench", "password": PASSWORD},
            follow_redirects=False,
        ).status_code
        == 303
    )
    rng = random.Random(1)
    n_pages_q = max(1, args.quarantine // 3 // 50)
    pages = {
        "overview /": lambda: "/",
        "runs": lambda: f"/runs?page={rng.randint(1, 2)}",
        "runs filtered": lambda: f"/runs?cpas={rng.choice(CPAS)}&status=finished",
        "run detail": lambda: f"/runs/run{rng.randrange(60):04d}",
        "quarantine": lambda: f"/quarantine?page={rng.randint(1, n_pages_q)}",
        "quarantine filtered": lambda: (
            f"/quarantine?cpas={rng.choice(CPAS)}&stage=map&status=all&older=10"
        ),
        "quarantine entry": lambda: f"/quarantine/{rng.randint(1, args.quarantine)}",
        "dossier history": lambda: (lambda n: f"/dossiers/{CPAS[n % 4]}/D{n:07d}")(
            rng.randrange(args.dossiers)
        ),
        "forms ledger": lambda: f"/forms?page={rng.randint(1, 200)}",
        "forms refused+code": lambda: f"/forms?status=refused&code=-300020&cpas={rng.choice(CPAS)}",
        "forms month+type": lambda: (
            f"/forms?month=2026-{rng.randint(1, 12):02d}&kind={rng.choice('BCD')}"
        ),
        "transfers": lambda: "/transfers",
        "agenda": lambda: f"/agenda?page={rng.randint(1, 20)}",
        "agenda one CPAS": lambda: f"/agenda?cpas={rng.choice(CPAS)}",
        "agenda one worker": lambda: (lambda n: f"/agenda?cpas={CPAS[n % 4]}&worker={_worker(n)}")(
            rng.choice(ASSIGNED)
        ),
        "agenda unassigned": lambda: f"/agenda?cpas={rng.choice(CPAS)}&worker=unassigned",
        "agenda export worker": lambda: (
            lambda n: f"/agenda.csv?cpas={CPAS[n % 4]}&worker={_worker(n)}"
        )(rng.choice(ASSIGNED)),
        "audit": lambda: "/audit",
    }
    print(f"{'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, make in pages.items():
        client.get(make())  # warm
        times = []
        for _ in range(args.repeat):
            path = make()
            t = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        worst = max(worst, p95)
        print(
            f"{name:<22} {statistics.median(times):>8.1f} {p95:>8.1f} {times[-1]:>8.1f}", flush=True
        )
    print(
        f"worst p95: {worst:.1f} ms ({'under' if worst < 300 else 'OVER'} the 300 ms goal); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
