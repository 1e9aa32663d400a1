"""Benchmark: evaluate the PIIS rules for 100,000 contracts on one core.

    .venv/bin/python benchmarks/bench_rules.py            # 100,000 contracts
    .venv/bin/python benchmarks/bench_rules.py -n 20000   # quicker
    .venv/bin/python benchmarks/bench_rules.py -n 20000 --by-family   # where the time goes

The contracts are the five examples (examples/*.json) with every date except the birth date
(which the NISS encodes) shifted by a pseudo-random number of days (-2000..+2000), so deadlines
fall on every weekday, month end and holiday; each contract is judged on a reference date near its
own dates.  Generation (pydantic validation) is timed separately from evaluation.  Not collected
by the test run (testpaths = tests).
"""

from __future__ import annotations

import argparse
import dataclasses
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
from piis_bridge.rules.registry import RuleRegistry  # noqa: E402

# a date in compact JSON, with the key it belongs to when it is an object member
_DATE = re.compile(r'(?:"(?P<key>\w+)":)?"(?P<day>\d{4}-\d{2}-\d{2})"')


def _shift(text: str, delta: timedelta) -> str:
    """Shift every date of a compact JSON contract by *delta*, except the birth date (the NISS
    encodes it); RI months stay first-of-month."""

    def one(m: re.Match[str]) -> str:
        key = m.group("key")
        if key == "birth_date":
            return m.group(0)
        shifted = date.fromisoformat(m.group("day")) + delta
        if key == "month":
            shifted = shifted.replace(day=1)
        prefix = f'"{key}":' if key else ""
        return f'{prefix}"{shifted.isoformat()}"'

    return _DATE.sub(one, text)


def examples() -> list[dict[str, Any]]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        out.extend(json.loads(path.read_text(encoding="utf-8"))["contracts"])
    return out


def generate(n: int, seed: int = 20161101) -> list[tuple[PIISContract, date]]:
    rng = random.Random(seed)
    bases = examples()
    texts = [json.dumps(b, separators=(",", ":")) for b in bases]
    out: list[tuple[PIISContract, date]] = []
    while len(out) < n:
        i = len(out) % len(bases)
        base = bases[i]
        delta = timedelta(days=rng.randint(-2000, 2000))
        try:
            contract = PIISContract.model_validate_json(_shift(texts[i], delta))
        except Exception:  # noqa: BLE001 - e.g. two RI months collapsing onto one first-of-month
            continue
        on = date.fromisoformat(base["start_date"]) + delta + timedelta(days=rng.randint(0, 500))
        out.append((contract, on))
    return out


def _timed_registry(registry: RuleRegistry, spent: dict[str, float]) -> RuleRegistry:
    """A copy of *registry* whose checks add their CPU time to ``spent[family]``."""
    timed = RuleRegistry()
    for rule in registry:
        if rule.check is None:
            timed.add(rule)
            continue

        def check(ctx: object, _inner=rule.check, _family=rule.family) -> None:
            t = time.process_time()
            try:
                _inner(ctx)
            finally:
                spent[_family] = spent.get(_family, 0.0) + time.process_time() - t

        timed.add(dataclasses.replace(rule, check=check))
    return timed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", type=int, default=100_000, help="number of contracts (default 100000)"
    )
    parser.add_argument(
        "--by-family",
        action="store_true",
        help="also print the CPU time per rule family (slower: times every check)",
    )
    args = parser.parse_args(argv)
    registry = default_registry()  # import the rule modules before timing
    t0 = time.perf_counter()
    contracts = generate(args.n)
    t1 = time.perf_counter()
    errors = findings = 0
    cpu0 = time.process_time()
    for contract, on in contracts:
        report = evaluate(contract, on=on, registry=registry)
        findings += len(report.findings)
        errors += report.has_errors
    cpu = time.process_time() - cpu0
    seconds = time.perf_counter() - t1
    n = len(contracts)
    print(
        f"generated {n} contracts in {t1 - t0:.1f} s (pydantic validation, not part of the figure)"
    )
    print(
        f"evaluated {n} contracts in {seconds:.2f} s wall, {cpu:.2f} s CPU on one core: "
        f"{n / seconds:,.0f} contracts/s ({cpu / n * 1e6:.0f} us CPU each); {findings} findings, "
        f"{errors} contracts with errors; {len(registry)} rules registered"
    )
    if args.by_family:
        spent: dict[str, float] = {}
        timed = _timed_registry(registry, spent)
        for contract, on in contracts:
            evaluate(contract, on=on, registry=timed)
        for family, total in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"  R-{family:<4} {total:7.2f} s CPU  ({total / n * 1e6:6.0f} us per contract)")


if __name__ == "__main__":
    main()
