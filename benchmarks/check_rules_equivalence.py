"""Check that a change to the rules changes no result: save the reports of a fixed caseload, then compare.

    .venv/bin/python benchmarks/check_rules_equivalence.py --save /tmp/before.pickle   # before the change
    .venv/bin/python benchmarks/check_rules_equivalence.py --compare /tmp/before.pickle  # after it

The caseload is the five examples (each judged on three reference dates) plus ``-n`` contracts from the
benchmark generator (``bench_rules.generate``, fixed seed), each with ``Report.model_dump()``; the
agenda of the generated contracts over three windows (with and without overdue items) is saved too.
Why a script and not a test: it is a before/after tool for performance work, and the full caseload
takes longer than a test should.  ``tests/rules/test_perf_equivalence.py`` keeps a small fixed sample.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_rules import _examples, generate  # noqa: E402

from piis_bridge.model import PIISContract  # noqa: E402
from piis_bridge.rules import evaluate  # noqa: E402
from piis_bridge.rules.agenda import agenda  # noqa: E402
from piis_bridge.rules.subsidies import subsidy_plan, subsidy_window  # noqa: E402

_WINDOWS = ((date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 1, 1), date(2026, 12, 31)),
            (date(2010, 1, 1), date(2035, 12, 31)))


def results(n: int) -> dict[str, Any]:
    examples = [PIISContract.model_validate(c) for c in _examples()]
    generated = generate(n)
    out: dict[str, Any] = {"examples": [], "generated": [], "plans": [], "agenda": []}
    for c in examples:
        for on in (date(2016, 12, 1), date(2018, 6, 15), date(2026, 11, 22)):
            out["examples"].append(evaluate(c, on=on).model_dump())
    for c, on in generated:
        out["generated"].append(evaluate(c, on=on).model_dump())
    for c in [*examples, *(c for c, _ in generated[:500])]:
        out["plans"].append((subsidy_plan(c).model_dump(), subsidy_window(c).model_dump()))
    contracts = [*examples, *(c for c, _ in generated)]
    for start, end in _WINDOWS:
        for overdue in (False, True):
            out["agenda"].append([i.as_dict() for i in agenda(contracts, start, end, overdue=overdue)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="generated contracts (default 3000)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    now = results(args.n)
    if args.save:
        args.save.write_bytes(pickle.dumps(now))
        print(f"saved {sum(len(v) for v in now.values())} results to {args.save}")
        return 0
    before = pickle.loads(args.compare.read_bytes())
    bad = 0
    for key, values in before.items():
        if len(values) != len(now[key]):
            print(f"{key}: {len(values)} results before, {len(now[key])} now")
            bad += 1
            continue
        for i, (old, new) in enumerate(zip(values, now[key], strict=True)):
            if old != new:
                bad += 1
                if bad <= 5:
                    print(f"{key}[{i}] differs")
                    if isinstance(old, dict):
                        for k in old:
                            if old[k] != new.get(k):
                                print(f"  {k}: {old[k]!r}\n  -> {new.get(k)!r}")
    total = sum(len(v) for v in before.values())
    print(f"{total} results compared: {'all identical' if not bad else f'{bad} differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
