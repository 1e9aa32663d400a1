"""Benchmark of the process stage's per-record Python, without the database (issue #20).

    .venv/bin/python benchmarks/bench_process.py --records 600 --reps 3

Each record goes the way ``pipeline.process._process_claimed`` takes it: the stored record parsed, mapped
through the plugin host (neptunus plugin, shipped mapping), the person hash, the rules, the forms built
through the host (federal plugin), their keys and payloads, the deadline alerts' push rows.  Left out: the
SQL (claims, item writes, effect inserts), so the figure is the stage's Python alone.  The records are the
case-system simulator's seed dossiers over its five OCMW; no simulator runs (nothing here calls one).

Prints CPU microseconds per record (minimum and median of the repetitions).  On a shared machine that
figure moves with the load: alternate A/B runs, or count instructions, which the load does not change:
``valgrind --tool=callgrind`` of ``--records 0`` and ``--records N`` (the same set-up and warm-up), the
difference divided by N.  Not collected by pytest (testpaths = tests).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_pipeline

TODAY = date(2026, 12, 6)
PERSON_KEY = (
    b"k" * 32
)  # a fixed key: the person hash is the HMAC the runtime makes, under another key


def _runtime(tmp: Path) -> tuple[Any, dict[str, str]]:
    from bench_pipeline import neptunus_cpas
    from piis_connectors.casesystem.seed import OCMWS

    from piis_bridge.config import Settings
    from piis_bridge.pipeline.runtime import PipelineOptions, Runtime

    cpas = neptunus_cpas("http://127.0.0.1:9", "http://127.0.0.1:9")  # nothing is called
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp}/db.sqlite3",
            "broker_url": "memory://",
            "state_dir": str(tmp / "state"),
            "plugins": {"enabled": ["neptunus", "federal"]},
            "cpas": cpas,
        }
    )
    return Runtime(settings, PipelineOptions()), {
        kbo: name.split()[-1].lower() for kbo, _, name in OCMWS
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    from piis_connectors.casesystem.seed import generate

    from piis_bridge.forms import event_for_contract
    from piis_bridge.hooks.types import SourceRecord
    from piis_bridge.pipeline import process
    from piis_bridge.pipeline.outbox import call

    rt, cpas_of = _runtime(Path(tempfile.mkdtemp()))
    host = rt.host
    made = max(args.records, 30)
    seeds = list(itertools.islice(generate(made, 1), made))
    now = datetime.now(UTC)
    stored = [
        (
            cpas_of[s.ocmw],
            SourceRecord(  # as the neptunus plugin makes it from a feed item
                source="neptunus",
                record_id=s.data["contractnummer"],
                kind="piis_contract",
                modified_at=now,
                version=str(s.data.get("versie")),
                payload=s.data,
                cpas_bce=s.ocmw,
            ).model_dump_json(),
        )
        for s in seeds
    ]
    parse = getattr(process, "_stored_record", SourceRecord.model_validate_json)

    def one(cpas_id: str, payload: str, item_id: int) -> int:
        record = parse(payload)
        contract = call(host, "case_map_record", cpas_id, record, run_id="r").value.contract
        hmac.new(PERSON_KEY, contract.beneficiary.niss.encode(), hashlib.sha256).hexdigest()
        settings, registry = rt.rules(cpas_id)
        _, alerts = process._evaluate(contract, TODAY, settings, registry)
        event = event_for_contract(contract)
        forms = call(host, "federal_build_forms", cpas_id, contract, event, run_id="r").value
        rows = process.form_rows(forms, "r", cpas_id, record.record_id, item_id)
        worker = process.worker_in_charge(contract, TODAY) if alerts else None
        rows += process.alert_rows(alerts, worker, "r", cpas_id, record.record_id, item_id)
        return len(rows)

    for i, (cpas_id, payload) in enumerate(stored[:20]):  # warm-up: mappings, registries, calendars
        one(cpas_id, payload, i)
    times, rows = [], 0
    for _ in range(args.reps):
        c0 = time.process_time()
        rows = sum(one(c, p, i) for i, (c, p) in enumerate(stored[: args.records]))
        times.append((time.process_time() - c0) / max(args.records, 1) * 1e6)
    out = {
        "records": args.records,
        "rows": rows,
        "us_per_record_min": round(min(times)),
        "us_per_record_median": round(statistics.median(times)),
    }
    print(out)
    return out


if __name__ == "__main__":
    main()
