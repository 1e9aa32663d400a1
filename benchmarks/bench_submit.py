"""Client CPU per form of the pipeline's federal calls: ``FederalService.submit`` (record, integrate, send a
batch) of 100 forms at a time, then ``fetch_results`` of the tickets (collect), as the submit and collect
stages call them, against the NovaPrima simulator in its own process.

    .venv/bin/python benchmarks/bench_submit.py --forms 3000 --rounds 2

The ledger is SQLite by default: what is measured is this process's CPU, i.e. the Python side (forms,
SOAP, ORM), not the database server's.  ``--postgres``: the ledger in a new PostgreSQL database (as the
pipeline's), and the CPU of its backends per form is printed too (``pg``; the server's own processes
are not counted); the database is dropped at the end.  Each round uses new NISS (every NISS is
integrated once, as in a first night).  Forms are built before the clock starts.  Not collected by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--postgres", action="store_true", help="the ledger in a new PostgreSQL database"
    )
    args = parser.parse_args()

    import bench_federal as bf
    from piis_connectors.federal.admin import SimulatorAdmin
    from piis_plugins.federal.building import FormBuilder
    from piis_plugins.federal.service import FederalService

    from piis_bridge.forms import ContractEvent
    from piis_bridge.hooks.types import CpasContext
    from piis_bridge.ledger import Ledger
    from piis_bridge.logging import configure_logging
    from piis_bridge.model import load_file

    configure_logging(level="WARNING")
    [template] = load_file(ROOT / "examples" / "studies.json").contracts
    event = ContractEvent.from_contract(template)
    builder = FormBuilder()
    pg_url = None
    if args.postgres:
        from bench_pipeline import new_pg_database

        pg_url = new_pg_database()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = bf._start_simulator(Path(tmp) / "sim.sqlite3")
        try:
            admin = SimulatorAdmin(base)
            admin.register_cpas(bf.KBO, bf.INS, "OCMW Gent", 6500)
            admin.set_clock(datetime(2025, 9, 10, 9))
            admin.configure(batch_delay=0.0)
            ctx = CpasContext(
                cpas_id="gent",
                name="OCMW Gent",
                ins_code=bf.INS,
                bce=bf.KBO,
                state_dir=Path(tmp),
                settings={
                    "endpoint": base + "/connectors/webservice/KSZBCSSWebServiceConnectorPort",
                    "mode": "batch",
                    "batch_size": args.batch,
                },
            )
            t0 = time.process_time()
            service = FederalService(
                ctx, Ledger.open(pg_url or f"sqlite:///{Path(tmp) / 'ledger.sqlite3'}")
            )
            service.client  # noqa: B018 - the zeep client, built once per process and CPAS
            print(f"service + client construction: {time.process_time() - t0:.3f} s CPU")
            for rnd in range(args.rounds):
                start = (rnd + 1) * 1_000_000
                forms = [
                    builder.build("gent", c, event)
                    for c in bf._contracts(template, start, args.forms)
                ]
                sim0 = bf._cpu_s(proc.pid)
                pg0 = _pg_cpu(pg_url)
                c0 = time.process_time()
                tickets = set()
                for i in range(0, len(forms), args.batch):
                    for o in service.submit(forms[i : i + args.batch]):
                        tickets.add(o.ticket)
                c1 = time.process_time()
                pg1 = _pg_cpu(pg_url)
                answered = service.fetch_results(sorted(t for t in tickets if t), wait=30.0)
                c2 = time.process_time()
                pg = _pg_cpu(pg_url)
                if len(answered) != args.forms:
                    raise AssertionError(f"{len(answered)} answers for {args.forms} forms")
                n = args.forms
                print(
                    f"round {rnd}: forms={n} submit {(c1 - c0) / n * 1e6:.0f} us/form, "
                    f"collect {(c2 - c1) / n * 1e6:.0f} us/form, simulator "
                    f"{(bf._cpu_s(proc.pid) - sim0) / n * 1e6:.0f} us/form, "
                    + (
                        f"pg submit {_pg_delta(pg0, pg1) / n * 1e6:.0f} us/form, "
                        f"pg collect {_pg_delta(pg1, pg) / n * 1e6:.0f} us/form, "
                        if pg_url
                        else ""
                    )
                    + f"load={os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            admin.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if pg_url:
                from bench_pipeline import drop_pg

                service.close()
                drop_pg(pg_url)
    return 0


def _pg_cpu(url: str | None) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the database of *url*."""
    if not url:
        return {}
    import bench_federal as bf
    import psycopg

    with psycopg.connect(url) as conn:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        ]
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # the backend ended meanwhile
            out[pid] = bf._cpu_s(pid)
    return out


def _pg_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


if __name__ == "__main__":
    raise SystemExit(main())
