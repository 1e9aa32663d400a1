"""Client CPU per form of the pipeline's federal calls: ``FederalService.submit`` (record, integrate, send a
batch) of 100 forms at a time, then ``fetch_results`` of the tickets (collect), as the submit and collect
stages call them, against the NovaPrima simulator in its own process.

    .venv/bin/python benchmarks/bench_submit.py --forms 3000 --rounds 2

The ledger is SQLite here (the pipeline's is PostgreSQL): what is measured is this process's CPU, i.e. the
Python side (forms, SOAP, ORM), not the database server's.  Each round uses new NISS (every NISS is
integrated once, as in a first night).  Forms are built before the clock starts.  Not collected by pytest.
"""

from __future__ import annotations

import argparse
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
            service = FederalService(ctx, Ledger.open(f"sqlite:///{Path(tmp) / 'ledger.sqlite3'}"))
            service.client  # noqa: B018 - the zeep client, built once per process and CPAS
            print(f"service + client construction: {time.process_time() - t0:.3f} s CPU")
            for rnd in range(args.rounds):
                start = (rnd + 1) * 1_000_000
                forms = [
                    builder.build("gent", c, event)
                    for c in bf._contracts(template, start, args.forms)
                ]
                sim0 = bf._cpu_s(proc.pid)
                c0 = time.process_time()
                tickets = set()
                for i in range(0, len(forms), args.batch):
                    for o in service.submit(forms[i : i + args.batch]):
                        tickets.add(o.ticket)
                c1 = time.process_time()
                answered = service.fetch_results(sorted(t for t in tickets if t), wait=30.0)
                c2 = time.process_time()
                if len(answered) != args.forms:
                    raise AssertionError(f"{len(answered)} answers for {args.forms} forms")
                n = args.forms
                print(
                    f"round {rnd}: forms={n} submit {(c1 - c0) / n * 1e6:.0f} us/form, "
                    f"collect {(c2 - c1) / n * 1e6:.0f} us/form, simulator "
                    f"{(bf._cpu_s(proc.pid) - sim0) / n * 1e6:.0f} us/form, "
                    f"load={os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            admin.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
