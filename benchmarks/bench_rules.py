"""Benchmark: evaluate the PIIS rules for 100,000 contracts on one core.

    .venv/bin/python benchmarks/bench_rules.py            # 100,000 contracts
    .venv/bin/python benchmarks/bench_rules.py -n 20000   # quicker

The contracts are the five examples (examples/*.json) with every date except the birth date
(which the NISS encodes) shifted by a pseudo-random number of days (-2000..+2000), so deadlines
fall on every weekday, month end and holiday; each contract is judged on a reference date near its
own dates.  Generation (pydantic validation) is timed separately from evaluation.  Not collected
by the test run (testpaths = tests).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from piis_bridge.model import PIISContract  # noqa: E402
from piis_bridge.rules import evaluate  # noqa: E402
from piis_bridge.rules.engine import default_registry  # noqa: E402

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEEP = {"birth_date"}


def _shift(node: Any, delta: timedelta, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {k: _shift(v, delta, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, delta, key) for v in node]
    if isinstance(node, str) and key not in _KEEP and _DATE.match(node):
        shifted = date.fromisoformat(node) + delta
        if key == "month":  # RI months are first-of-month
            shifted = shifted.replace(day=1)
        return shifted.isoformat()
    return node


def _examples() -> list[dict[str, Any]]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        out.extend(json.loads(path.read_text(encoding="utf-8"))["contracts"])
    return out


def generate(n: int, seed: int = 20161101) -> list[tuple[PIISContract, date]]:
    rng = random.Random(seed)
    bases = _examples()
    out: list[tuple[PIISContract, date]] = []
    while len(out) < n:
        base = bases[len(out) % len(bases)]
        delta = timedelta(days=rng.randint(-2000, 2000))
        data = _shift(base, delta)
        months = [m["month"] for m in data.get("ri_months", [])]
        if len(set(months)) != len(months):  # two months collapsed onto one first-of-month: skip
            continue
        try:
            contract = PIISContract.model_validate(data)
        except Exception:  # noqa: BLE001 - a shift can make a variant invalid; skip it
            continue
        on = date.fromisoformat(base["start_date"]) + delta + timedelta(days=rng.randint(0, 500))
        out.append((contract, on))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of contracts (default 100000)")
    args = parser.parse_args(argv)
    default_registry()  # import the rule modules before timing
    t0 = time.perf_counter()
    contracts = generate(args.n)
    t1 = time.perf_counter()
    errors = findings = 0
    for contract, on in contracts:
        report = evaluate(contract, on=on)
        findings += len(report.findings)
        errors += report.has_errors
    t2 = time.perf_counter()
    seconds = t2 - t1
    print(f"generated {len(contracts)} contracts in {t1 - t0:.1f} s (pydantic validation, not part of the figure)")
    print(f"evaluated {len(contracts)} contracts in {seconds:.2f} s on one core: "
          f"{len(contracts) / seconds:,.0f} contracts/s; {findings} findings, {errors} contracts with errors; "
          f"{len(default_registry())} rules registered")


if __name__ == "__main__":
    main()
