"""Benchmark of the federal path (issue #5): build + validate, and submit + acknowledge, online vs batch.

Run:  .venv/bin/python benchmarks/bench_federal.py --forms 100000 --online 200 --build 5000

What is measured (each on its own, on this machine):
1. forms built from a canonical contract + serialised + validated against our DIS XSD, per second, and beside
   it ``raw_lxml_build_validate_per_s``: lxml alone building the same forms' elements with SubElement from
   their already-mapped values and validating them against the same compiled schema (the yardstick of issue
   #20; ``build_validate_share_of_raw_lxml`` is the project's rate as a share of it, goal >= 0.60), one form
   at a time as ``FederalService.prepare`` does online; the two are timed in alternating slices of the same
   forms, in wall and CPU seconds (``*_cpu_*``: what a shared machine moves least).  ``batch_*``: the
   nightly path, each form built, keyed and serialised, then chunks of 1,000 parsed and validated in one
   call each (``_prepare_chunk``), against lxml building and validating the same chunks;
   ``--build-only`` stops after this part;
2. batch, end to end: build + validate + record in the ledger (SQLite) + send in SSDN batches of
   ``--batch-size`` forms over real HTTP through zeep + NovaPrima simulator evaluation + results fetched
   and written back to the ledger (every form ACCEPTED), per second;
3. online, end to end: one form per SOAP call, answered immediately, per second;
4. peak RSS of this process (client side) and of the simulator process.  Forms are streamed from a
   generator in chunks, so peak memory must not grow with ``--forms`` (compare two runs).

The CPU seconds of the client (this process) and of the simulator process during the batch run are printed
too (``batch_client_cpu_s``, ``batch_simulator_cpu_s``): on a shared machine they move far less than the wall
time, and on two cores the batch can only finish in about the larger of the two when both overlap.

The simulator runs in its own process (``python -m piis_connectors.federal.simulator.server``), as the
remote side would, so client and server do not share a GIL.  NISS integration (ManageAccess REGISTER) is
part of the timed path: the plugin integrates every new NISS itself before its first form (one SSDN message
per chunk); ``batch_integration_s`` is the time spent in it (a first run: every NISS is new).
``--preintegrate`` measures the steady state instead: every NISS already integrated (through the
simulator's admin API) and known as such by the plugin's ledger, so no ManageAccess call is made (the
setting of the figures measured before the plugin integrated NISS itself).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KBO, INS = "0207567726", "44021"


def _niss(i: int) -> str:
    """The i-th distinct valid NISS (born 1950-1999, counters 1..997)."""
    day, counter = divmod(i, 997)
    birth = date(1950, 1, 1).toordinal() + day % 18000
    d = date.fromordinal(birth)
    base = f"{d:%y%m%d}{counter + 1:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def _contracts(template: Any, start: int, count: int) -> Iterator[Any]:
    beneficiary = template.beneficiary
    for i in range(start, start + count):
        yield template.model_copy(
            update={
                "contract_id": f"B{i:09d}",
                "beneficiary": beneficiary.model_copy(update={"niss": _niss(i)}),
            }
        )


def _start_simulator(db: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "piis_connectors.federal.simulator.server",
            "--port",
            "0",
            "--db",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("ready "):
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.split()[1]


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=100_000, help="forms in the batch run")
    parser.add_argument("--online", type=int, default=1_000, help="forms in the online run")
    parser.add_argument("--build", type=int, default=20_000, help="forms in the build+validate run")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument(
        "--preintegrate", action="store_true", help="integrate through the admin API first"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="measure build + validate and raw lxml only"
    )
    args = parser.parse_args(argv)

    from piis_connectors.federal.admin import SimulatorAdmin
    from piis_plugins.federal.building import FormBuilder, to_element, to_xml, validate_form
    from piis_plugins.federal.service import FederalService

    from piis_bridge.forms import ContractEvent
    from piis_bridge.hooks.types import CpasContext
    from piis_bridge.ledger import Ledger
    from piis_bridge.model import load_file

    [template] = load_file(ROOT / "examples" / "studies.json").contracts
    event = ContractEvent.from_contract(template)
    builder = FormBuilder()
    figures: dict[str, Any] = {
        "forms": args.forms,
        "online_forms": args.online,
        "batch_size": args.batch_size,
    }

    # 1. build + validate ------------------------------------------------------------------------
    import os

    figures["load_average_at_start"] = round(os.getloadavg()[0], 1)
    contracts = list(_contracts(template, 10_000_000, args.build))  # made before the clock starts
    # The yardstick (issue #20): lxml alone building an equivalent element with SubElement from the same
    # field values (already mapped, already ordered) and validating it against the same compiled schema,
    # in the same process; the project's rate is reported as a share of it.  The two are timed in
    # alternating slices of the same forms so that a neighbour's load on a shared machine weighs on both
    # alike; wall and CPU seconds are both reported.
    from piis_connectors.federal import dis, schemas
    from piis_plugins.federal.building import dis_fields

    raw_fields = [
        (f.kind.value, dis_fields(f))
        for f in (builder.build("gent", c, event).with_key() for c in contracts)
    ]
    schema = schemas.dis_schema()
    ours, raw = [0.0, 0.0], [0.0, 0.0]  # wall s, CPU s
    for start in range(0, args.build, 500):
        t0, c0 = time.perf_counter(), time.process_time()
        # the project's path, as FederalService.prepare runs it for one form
        for contract in contracts[start : start + 500]:
            form = builder.build("gent", contract, event).with_key()
            if validate_form(form, to_element(form)):
                raise AssertionError("benchmark form is not valid")
        t1, c1 = time.perf_counter(), time.process_time()
        for kind, fields in raw_fields[start : start + 500]:
            if not schema.validate(dis.build_form(kind, fields)):
                raise AssertionError("raw lxml form is not valid")
        t2, c2 = time.perf_counter(), time.process_time()
        ours[0], ours[1] = ours[0] + t1 - t0, ours[1] + c1 - c0
        raw[0], raw[1] = raw[0] + t2 - t1, raw[1] + c2 - c1
    # The nightly batch path (FederalService._prepare_chunk): each form built, keyed and serialised, then a
    # chunk of them parsed in one pass and validated in one call; its yardstick is lxml building the same
    # chunk with SubElement into one DIS_DecisionRequest and validating it in one call.
    batch_ours, batch_raw = 0.0, 0.0  # CPU s
    for start in range(0, args.build, 1000):
        c0 = time.process_time()
        xml = [
            to_xml(builder.build("gent", c, event).with_key())
            for c in contracts[start : start + 1000]
        ]
        if not schema.validate(dis.parse_forms(xml)):
            raise AssertionError("benchmark chunk is not valid")
        c1 = time.process_time()
        holder = dis.build_decision_request(
            dis.build_form(kind, fields) for kind, fields in raw_fields[start : start + 1000]
        )
        if not schema.validate(holder):
            raise AssertionError("raw lxml chunk is not valid")
        c2 = time.process_time()
        batch_ours, batch_raw = batch_ours + c1 - c0, batch_raw + c2 - c1
    figures["build_validate_per_s"] = round(args.build / ours[0])
    figures["raw_lxml_build_validate_per_s"] = round(args.build / raw[0])
    figures["build_validate_share_of_raw_lxml"] = round(raw[0] / ours[0], 2)
    figures["build_validate_cpu_us_per_form"] = round(ours[1] / args.build * 1e6, 1)
    figures["raw_lxml_cpu_us_per_form"] = round(raw[1] / args.build * 1e6, 1)
    figures["build_validate_cpu_share_of_raw_lxml"] = round(raw[1] / ours[1], 2)
    figures["batch_build_validate_cpu_us_per_form"] = round(batch_ours / args.build * 1e6, 1)
    figures["batch_raw_lxml_cpu_us_per_form"] = round(batch_raw / args.build * 1e6, 1)
    figures["batch_build_validate_cpu_share_of_raw_lxml"] = round(batch_raw / batch_ours, 2)

    if args.build_only:
        print(json.dumps(figures, indent=2))
        return figures

    with tempfile.TemporaryDirectory() as tmp:
        proc, base = _start_simulator(Path(tmp) / "sim.sqlite3")
        try:
            admin = SimulatorAdmin(base)
            admin.register_cpas(KBO, INS, "OCMW Gent", 6500)
            admin.set_clock(datetime(2025, 9, 10, 9))
            admin.configure(batch_delay=0.0)
            t0 = time.perf_counter()
            total = args.forms + args.online
            for i in range(0, total if args.preintegrate else 0, 10_000):
                admin.integrate_many(
                    KBO, [_niss(j) for j in range(i, min(total, i + 10_000))], start="2025-01-01"
                )
            figures["setup_integration_s"] = round(time.perf_counter() - t0, 1)
            integrating = [0.0]

            def timed(ensure: Any) -> Any:
                def wrapper(needs: Any) -> Any:
                    start = time.perf_counter()
                    try:
                        return ensure(needs)
                    finally:
                        integrating[0] += time.perf_counter() - start

                return wrapper

            def service(name: str, mode: str) -> FederalService:
                ctx = CpasContext(
                    cpas_id="gent",
                    name="OCMW Gent",
                    ins_code=INS,
                    bce=KBO,
                    state_dir=Path(tmp),
                    settings={
                        "endpoint": base + "/connectors/webservice/KSZBCSSWebServiceConnectorPort",
                        "mode": mode,
                        "batch_size": args.batch_size,
                        "operation_timeout": 120,
                    },
                )
                return FederalService(ctx, Ledger.open(f"sqlite:///{Path(tmp) / name}"))

            # 2. batch end to end ----------------------------------------------------------------
            batch = service("batch.sqlite3", "batch")
            if args.preintegrate:
                for i in range(0, args.forms, 10_000):
                    people = {
                        _niss(j): date(2025, 1, 1) for j in range(i, min(args.forms, i + 10_000))
                    }
                    batch.ledger.integration_pending("gent", people)
                    batch.ledger.integration_done("gent", people)
            batch.ensure_integrated = timed(batch.ensure_integrated)  # type: ignore[method-assign]
            forms = (builder.build("gent", c, event) for c in _contracts(template, 0, args.forms))
            cpu0, sim_cpu0 = time.process_time(), _cpu_s(proc.pid)
            t0 = time.perf_counter()
            streamed = batch.submit_stream(forms)
            t3 = time.perf_counter()
            counts = batch.ledger.counts("gent")
            if counts.get("accepted") != args.forms:
                raise AssertionError(f"not every form was accepted: {counts} {streamed}")
            figures.update(
                batch_client_cpu_s=round(time.process_time() - cpu0, 1),
                batch_simulator_cpu_s=round(_cpu_s(proc.pid) - sim_cpu0, 1),
            )
            figures.update(
                batch_total_s=round(t3 - t0, 1),
                batch_per_s=round(args.forms / (t3 - t0)),
                batch_integration_s=round(integrating[0], 1),
            )

            # 3. online end to end ---------------------------------------------------------------
            online = service("online.sqlite3", "online")
            forms = (
                builder.build("gent", c, event)
                for c in _contracts(template, args.forms, args.online)
            )
            t0 = time.perf_counter()
            online.record_stream(forms, chunk=args.batch_size)
            online.send_built(mode="online")
            t1 = time.perf_counter()
            counts = online.ledger.counts("gent")
            if counts.get("accepted") != args.online:
                raise AssertionError(f"online: not every form was accepted: {counts}")
            figures["online_per_s"] = round(args.online / (t1 - t0))

            figures["load_average_at_end"] = round(os.getloadavg()[0], 1)
            figures["client_peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
            figures["simulator_peak_rss_mb"] = round(_vm_hwm_mb(proc.pid), 1)
            admin.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
