"""Benchmark of the declarative mapping engine alone (issue #20): NeptunusWeb seed records -> PIISContract.

Run:  .venv/bin/python benchmarks/bench_mapping.py --records 6000

What is measured, in CPU seconds of this process (a shared machine moves CPU far less than wall time):
``apply_us_per_record`` is ``Mapping.apply`` as ``piis_case_map_record`` calls it (the shipped
``mappings/neptunus/contract.yaml`` onto the canonical model, pydantic validation included);
``validate_us_per_record`` is pydantic's own validation of the same mapped dicts; ``mapping_us_per_record``
is the difference, the engine's own work, and ``mapping_per_validation`` its ratio to pydantic's (issue
#20 measured 4x).  The two are timed in alternating slices of the same records.  The records come from the
case-system simulator's seed generator (``piis_connectors.casesystem.seed``), made before the clock starts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from importlib.resources import files
from typing import Any


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=6_000, help="seed contracts to map")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from piis_connectors.casesystem.seed import generate

    from piis_bridge.mapping import load_mapping
    from piis_bridge.model import PIISContract

    mapping = load_mapping(files("piis_mappings.neptunus") / "contract.yaml", PIISContract)
    docs = [s.data for s in itertools.islice(generate(args.records, args.seed), args.records)]
    mapped = [mapping.apply(d) for d in docs]
    if not all(r.ok for r in mapped):
        raise AssertionError("a seed record did not map")
    data = [r.data for r in mapped]
    apply_s = validate_s = 0.0
    for start in range(0, len(docs), 500):
        c0 = time.process_time()
        for doc in docs[start : start + 500]:
            mapping.apply(doc)
        c1 = time.process_time()
        for one in data[start : start + 500]:
            PIISContract.model_validate(one)
        c2 = time.process_time()
        apply_s, validate_s = apply_s + c1 - c0, validate_s + c2 - c1
    n = len(docs)
    figures = {
        "records": n,
        "apply_per_s_cpu": round(n / apply_s),
        "apply_us_per_record": round(apply_s / n * 1e6, 1),
        "validate_us_per_record": round(validate_s / n * 1e6, 1),
        "mapping_us_per_record": round((apply_s - validate_s) / n * 1e6, 1),
        "mapping_per_validation": round((apply_s - validate_s) / validate_s, 2),
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
