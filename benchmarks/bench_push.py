"""Client CPU per pushed item: the neptunus plugin's ``piis_case_push`` against the case-system simulator.

    .venv/bin/python benchmarks/bench_push.py --items 4000 --batch 100

The simulator runs in its own process (benchmarks/_simhost.py), seeded with ``--dossiers``; the items are
federal statuses (PUT .../federale-status) and deadline alerts (POST /api/v1/taken) in the pipeline's mix
(about three statuses per task), each with a fresh key, pushed in batches like the push stage does.
Reported: this process's CPU seconds per item (user + system, every thread: what the worker pays), items
per second, and the simulator's CPU per item.  On a shared machine compare CPU, not wall time.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=None, help="override the plugin's push threads"
    )
    args = parser.parse_args()

    from piis_plugins.neptunus import make_plugin

    from piis_bridge.hooks.types import CpasContext, PushItem
    from piis_bridge.logging import configure_logging

    configure_logging(level="WARNING")
    if args.threads:
        import piis_plugins.neptunus.plugin as neptunus_plugin

        neptunus_plugin._PUSH_THREADS = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        sim = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "_simhost.py"),
                "case",
                f"{tmp}/case.db",
                str(args.dossiers),
                "7",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = sim.stdout.readline().split()
            url = line[1]
            plugin = make_plugin()
            settings = {"base_url": url, "client_id": "piis-bridge", "client_secret": "geheim"}
            feed_ctx = CpasContext(
                cpas_id="bench",
                name="OCMW Bench",
                ins_code="11002",
                bce="0212345272",
                state_dir=Path(tmp),
                settings=settings,
            )
            ids: list[str] = []
            cursor = None
            while len(ids) < args.items:
                page = plugin.piis_case_fetch_changes(cpas=feed_ctx, cursor=cursor, page_size=1000)
                ids.extend(r.record_id for r in page.records)
                cursor = page.cursor
                if not page.has_more:
                    break
            for rnd in range(args.rounds):
                run = uuid.uuid4().hex[:8]
                items = []
                for i in range(args.items):
                    rid = ids[i % len(ids)]
                    if i % 4 == 3:
                        items.append(
                            PushItem(
                                key=f"{run}-t-{i}",
                                record_id=rid,
                                kind="deadline_alert",
                                title="Termijn: verlenging GPMI",
                                body="Het contract loopt af.",
                                data={"deadline": "2026-12-31"},
                            )
                        )
                    else:
                        items.append(
                            PushItem(
                                key=f"{run}-s-{i}",
                                record_id=rid,
                                kind="federal_answer",
                                title="AANVAARD",
                                body="Formulier B aanvaard.",
                                data={"formulier": "B", "ticket": "T-1", "code": "0"},
                            )
                        )
                payloads = [i.model_dump_json() for i in items]
                sim_before = _cpu_of(sim.pid)
                cpu0, t0 = time.process_time(), time.perf_counter()
                statuses: dict[str, int] = {}
                for start in range(0, len(items), args.batch):
                    batch = [
                        PushItem.model_validate_json(p)
                        for p in payloads[start : start + args.batch]
                    ]
                    for r in plugin.piis_case_push(cpas=feed_ctx, items=batch):
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
                sim_cpu = _cpu_of(sim.pid) - sim_before
                n = len(items)
                print(
                    f"round {rnd}: items={n} batch={args.batch} client_cpu={cpu:.2f}s "
                    f"({cpu / n * 1e6:.0f} us/item) wall={wall:.2f}s ({n / wall:.0f}/s) "
                    f"sim_cpu={sim_cpu:.2f}s ({sim_cpu / n * 1e6:.0f} us/item) {statuses} "
                    f"load={os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            plugin.close()
        finally:
            sim.stdin.close()
            sim.wait(timeout=30)
            sim.stdout.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
