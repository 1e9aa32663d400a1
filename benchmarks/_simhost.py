"""Host one simulator in its own process for the benchmarks, so its CPU and memory are measured apart.

    python benchmarks/_simhost.py case DB_PATH DOSSIERS SEED  # case-system (neptunus) simulator, seeded
    python benchmarks/_simhost.py federal DB_PATH            # NovaPrima / BCSS simulator

Prints ``ready <url> <base url>`` on stdout once it listens, then serves until stdin closes (the benchmark
holds the pipe; when the benchmark ends or dies, the simulator stops with it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    kind, db = argv[0], Path(argv[1])
    if kind == "case":
        from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

        sim = CaseSystemSimulator(SimulatorConfig(db_path=db), host="127.0.0.1", port=0)
        sim.seed(int(argv[2]), int(argv[3]))
        sim.start()
        url = base = sim.url
    elif kind == "federal":
        from piis_connectors.federal.simulator.server import start_simulator

        sim = start_simulator(db)
        url, base = sim.endpoint, sim.base_url
    else:
        raise SystemExit(f"unknown simulator kind {kind!r}: case or federal")
    print(f"ready {url} {base}", flush=True)
    try:
        sys.stdin.read()  # blocks until the benchmark closes the pipe
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
