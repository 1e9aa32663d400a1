"""Benchmark: full and incremental pull from the NeptunusWeb-like simulator (issue #6).

Run on demand (not collected by pytest)::

    .venv/bin/python benchmarks/bench_casesystem.py                 # 50,000 dossiers, 1,000 changes
    .venv/bin/python benchmarks/bench_casesystem.py --dossiers 5000 --changes 1000 --no-map
    .venv/bin/python benchmarks/bench_casesystem.py --filedrop 50000    # one nightly CSV export instead

What it measures, each phase in a fresh process so that its peak RSS is its own:

1. the simulator (its own process, real HTTP on 127.0.0.1) is seeded with N dossiers;
2. full pull: every contract through ``piis_case_fetch_changes`` (pages of 1,000), and - unless
   ``--no-map`` - ``piis_case_map_record`` to the canonical model; records are not kept (the
   pipeline processes a page at a time), so memory is bounded by the page size;
3. 1,000 contracts are modified (one write transaction each, like a user saving a screen);
4. incremental pull from the cursor persisted after the full pull.

The incremental pull must cost in proportion to the changes: the feed is a keyset query on an index
over (modified, id), so the simulator serves exactly the changed records; the script prints the
number of records the simulator served in each phase to show it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ADMIN = {"X-Admin-Key": "beheer"}


def _serve(db: str, dossiers: int, queue: Any) -> None:
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

    sim = CaseSystemSimulator(SimulatorConfig(db_path=Path(db)), host="127.0.0.1", port=0)
    started = time.perf_counter()
    contracts = sim.seed(dossiers)
    queue.put((sim.url, contracts, time.perf_counter() - started))
    sim.serve_forever()


def _pull(
    url: str, cursor: str | None, page_size: int, map_records: bool, state_dir: str
) -> dict[str, Any]:
    from piis_plugins.neptunus import make_plugin

    from piis_bridge.config import default_settings
    from piis_bridge.hooks.types import CpasContext
    from piis_bridge.logging import configure_logging

    configure_logging(level="WARNING")

    ctx = CpasContext(
        cpas_id="bench",
        name="OCMW Bench",
        ins_code="44021",
        bce="0207916035",
        state_dir=Path(state_dir),
        settings={"base_url": url, "client_id": "piis-bridge", "client_secret": "geheim"},
    )
    plugin = make_plugin()
    plugin.piis_startup(default_settings())  # load + validate the mapping files before timing
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    records = pages = ok = problems = 0
    fetch_seconds = 0.0
    while True:
        t0 = time.perf_counter()
        page = plugin.piis_case_fetch_changes(ctx, cursor, page_size)
        fetch_seconds += time.perf_counter() - t0
        pages += 1
        records += len(page.records)
        if map_records:
            for record in page.records:
                outcome = plugin.piis_case_map_record(ctx, record)
                ok += outcome.ok
                problems += bool(outcome.problems)
        cursor = page.cursor  # persisted after the page is processed
        if not page.has_more:
            break
    elapsed = time.perf_counter() - started
    plugin.close()
    return {
        "records": records,
        "pages": pages,
        "seconds": round(elapsed, 2),
        "fetch_seconds": round(fetch_seconds, 2),
        "records_per_second": round(records / elapsed) if elapsed else None,
        "mapped_ok": ok,
        "quarantined": problems,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "cursor": cursor,
    }


def _phase(*args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_pull, *args).result()


def _served(url: str) -> int:
    return int(httpx.get(url + "/admin/stats", headers=ADMIN).json().get("items_served", 0))


def run(dossiers: int, changes: int, page_size: int, map_records: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-casesystem-") as tmp:
        queue = ctx.Queue()
        server = ctx.Process(
            target=_serve, args=(str(Path(tmp) / "sim.sqlite"), dossiers, queue), daemon=True
        )
        server.start()
        try:
            url, contracts, seed_seconds = queue.get(timeout=600)
            full = _phase(url, None, page_size, map_records, tmp)
            served_full = _served(url)
            t0 = time.perf_counter()
            touched = httpx.post(
                url + "/admin/wijzig",
                json={"aantal": changes, "seed": 5},
                headers=ADMIN,
                timeout=600,
            ).json()["gewijzigd"]
            touch_seconds = time.perf_counter() - t0
            incremental = _phase(url, full["cursor"], page_size, map_records, tmp)
            served_incremental = _served(url) - served_full
            empty = _phase(url, incremental["cursor"], page_size, map_records, tmp)
        finally:
            server.terminate()
            server.join(10)
    for phase in (full, incremental, empty):
        phase.pop("cursor")
    return {
        "dossiers": dossiers,
        "contracts": contracts,
        "seed_seconds": round(seed_seconds, 1),
        "page_size": page_size,
        "mapped": map_records,
        "full_pull": {**full, "served_by_simulator": served_full},
        "changes": touched,
        "change_seconds": round(touch_seconds, 1),
        "incremental_pull": {**incremental, "served_by_simulator": served_incremental},
        "nothing_changed_pull": empty,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument(
        "--no-map", action="store_true", help="fetch only, do not map to the canonical model"
    )
    parser.add_argument(
        "--also",
        type=int,
        default=None,
        metavar="DOSSIERS",
        help="repeat with a case system of this size, to compare incremental costs",
    )
    parser.add_argument(
        "--filedrop",
        type=int,
        default=None,
        metavar="DOSSIERS",
        help="instead: one nightly CSV export of this many dossiers through the filedrop plugin",
    )
    args = parser.parse_args(argv)
    if args.filedrop:
        json.dump(bench_filedrop(args.filedrop, args.page_size), sys.stdout, indent=2)
        print()
        return 0
    result = run(args.dossiers, args.changes, args.page_size, not args.no_map)
    json.dump(result, sys.stdout, indent=2)
    print()
    if args.also:
        other = run(args.also, args.changes, args.page_size, not args.no_map)
        json.dump(other, sys.stdout, indent=2)
        print()
        print(
            f"incremental pull of {args.changes} changes: {result['incremental_pull']['seconds']} s with "
            f"{result['contracts']} contracts vs {other['incremental_pull']['seconds']} s with {other['contracts']}",
            file=sys.stderr,
        )
    inc, full = result["incremental_pull"], result["full_pull"]
    if inc["served_by_simulator"] != inc["records"] or inc["records"] < result["changes"]:
        print(
            "FAIL: the incremental pull did not cost in proportion to the changes", file=sys.stderr
        )
        return 1
    print(
        f"full pull: {full['records']} records in {full['seconds']} s, peak RSS {full['peak_rss_mb']} MB; "
        f"incremental: {inc['records']} records in {inc['seconds']} s, peak RSS {inc['peak_rss_mb']} MB",
        file=sys.stderr,
    )
    return 0


def bench_filedrop(rows: int, page_size: int = 1000) -> dict[str, Any]:
    """One nightly CSV export of *rows* contracts through the filedrop plugin (fetch + map)."""
    return _phase_filedrop(rows, page_size)


def _filedrop_pull(rows: int, page_size: int) -> dict[str, Any]:
    import os

    from piis_connectors.casesystem.seed import generate
    from piis_connectors.filedrop.samples import csv_row, write_csv
    from piis_plugins.filedrop import make_plugin

    from piis_bridge.config import default_settings
    from piis_bridge.hooks.types import CpasContext
    from piis_bridge.logging import configure_logging

    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-filedrop-") as tmp:
        root = Path(tmp)
        (root / "incoming").mkdir()
        docs = generate(rows, seed=1)
        path = write_csv(root / "incoming" / "nacht.csv", (csv_row(c.data) for c in docs))
        os.utime(path, (time.time() - 60, time.time() - 60))
        size_mb = path.stat().st_size / 1e6
        ctx = CpasContext(
            cpas_id="bench",
            name="OCMW Bench",
            ins_code="44021",
            bce="0207916035",
            state_dir=root,
            settings={"directory": str(root), "settle_seconds": 1},
        )
        plugin = make_plugin()
        plugin.piis_startup(default_settings())  # load + validate the mapping files before timing
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        cursor, records, ok = None, 0, 0
        while True:
            page = plugin.piis_case_fetch_changes(ctx, cursor, page_size)
            records += len(page.records)
            ok += sum(plugin.piis_case_map_record(ctx, r).ok for r in page.records)
            cursor = page.cursor
            if not page.has_more:
                break
        elapsed = time.perf_counter() - started
        done = (root / "done" / "nacht.csv").exists()
    return {
        "rows": records,
        "file_mb": round(size_mb, 1),
        "seconds": round(elapsed, 2),
        "records_per_second": round(records / elapsed),
        "mapped_ok": ok,
        "moved_to_done": done,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
    }


def _phase_filedrop(rows: int, page_size: int) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_filedrop_pull, rows, page_size).result()


if __name__ == "__main__":
    raise SystemExit(main())
