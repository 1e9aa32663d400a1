"""Benchmark of the part-2 rules on a large caseload (run on demand: ``python benchmarks/bench_agenda.py``).

Builds N contracts from the five example contracts (copies with their own contract ids, no
re-validation), then measures:

- ``agenda``: the sorted agenda of a one-month window and of a one-year window over all contracts,
  with the process's maximum resident memory, to show that memory follows the window, not the
  caseload (the contracts come from a generator);
- ``subsidy``: the month-by-month subsidy plan of every contract;
- ``evaluate``: the full rule engine (all families, part 1 and part 2) on a sample, per contract.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from piis_bridge.model import PIISContract, load_file
from piis_bridge.rules.agenda import agenda
from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.subsidies import subsidy_plan

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def caseload(n: int) -> Iterator[PIISContract]:
    bases = [load_file(p).contracts[0] for p in sorted(EXAMPLES.glob("*.json"))]
    for i in range(n):
        base = bases[i % len(bases)]
        yield base.model_copy(update={"contract_id": f"{base.contract_id}-{i:06d}"})


def _timed(label: str, fn, n: int) -> float:
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    size = len(result) if hasattr(result, "__len__") else result
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<48} {elapsed:8.2f} s  {n / elapsed:8.0f} contracts/s  max RSS {rss:6.0f} MiB  -> {size}",
        flush=True,
    )
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "-n", type=int, default=100_000, help="number of contracts (default 100000)"
    )
    parser.add_argument(
        "--small", type=int, default=20_000, help="contracts for the slower measurements"
    )
    parser.add_argument(
        "--sample", type=int, default=2_000, help="contracts for the full-engine timing"
    )
    args = parser.parse_args(argv)
    n = args.n
    print(f"{n} contracts (streamed from a generator: never all in memory)")
    _timed(
        "agenda, window 2026-11-01..2026-11-30",
        lambda: agenda(caseload(n), date(2026, 11, 1), date(2026, 11, 30)),
        n,
    )
    _timed(
        "agenda, window 2026-01-01..2026-12-31",
        lambda: agenda(caseload(n), date(2026, 1, 1), date(2026, 12, 31)),
        n,
    )
    small = args.small
    _timed(
        f"agenda, first 50 items of 2026 (heap), {small}",
        lambda: agenda(caseload(small), date(2026, 1, 1), date(2026, 12, 31), limit=50),
        small,
    )
    _timed(
        f"subsidy plan (all months) of {small} contracts",
        lambda: sum(subsidy_plan(c).total_cents > 0 for c in caseload(small)),
        small,
    )
    sample = args.sample
    _timed(
        f"full engine (all rules) on {sample} contracts",
        lambda: sum(1 for c in caseload(sample) if evaluate(c, on=date(2026, 11, 22))),
        sample,
    )


if __name__ == "__main__":
    main()
