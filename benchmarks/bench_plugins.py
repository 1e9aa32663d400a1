"""Plugin host overhead: a routed hook call through PluginHost vs calling the implementation directly.

Run: .venv/bin/python benchmarks/bench_plugins.py  (plain script, not collected by the test run).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from piis_bridge.config import Settings
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import MappingOutcome, SourceRecord


class _Skip:
    @hookimpl
    def piis_case_fetch_changes(self, cpas, cursor, page_size):
        return None

    @hookimpl
    def piis_case_map_record(self, cpas, record):
        return MappingOutcome(record_id=record.record_id, skip_reason="bench")


class _Wrapper:
    @hookimpl(wrapper=True)
    def piis_case_map_record(self, record):
        return (yield)


def _host(tmp: Path, *extra: tuple[str, object]) -> PluginHost:
    cpas = {
        "liege": {
            "name": "CPAS",
            "ins_code": "62063",
            "bce": "0207916035",
            "case_system": "skip",
            "federal": None,
            "transfer": None,
        }
    }
    return PluginHost(
        Settings(cpas=cpas, state_dir=tmp),
        plugins=[("skip", _Skip()), ("other", _Skip()), *extra],
        load_entrypoints=False,
    )


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main(n: int = 20_000) -> None:
    record = SourceRecord(source="skip", record_id="R1", kind="k", modified_at=datetime.now(UTC))
    with tempfile.TemporaryDirectory() as tmp:
        plugin = _Skip()
        direct = _rate(lambda: plugin.piis_case_map_record(None, record), n)
        host = _host(Path(tmp))
        routed = _rate(lambda: host.case_map_record("liege", record), n)
        wrapped_host = _host(Path(tmp), ("wrap", _Wrapper()))
        wrapped = _rate(lambda: wrapped_host.case_map_record("liege", record), n)
        start = time.perf_counter()
        for _ in range(20):
            _host(Path(tmp))
        startup_ms = (time.perf_counter() - start) / 20 * 1000
    print(f"direct call of the implementation : {direct:12,.0f} calls/s")
    print(
        f"routed through PluginHost         : {routed:12,.0f} calls/s  ({1e6 / routed:.1f} us/call)"
    )
    print(
        f"routed + one wrapper plugin       : {wrapped:12,.0f} calls/s  ({1e6 / wrapped:.1f} us/call)"
    )
    print(f"PluginHost construction+validation: {startup_ms:12.2f} ms (2 plugins, no entry points)")


if __name__ == "__main__":
    main()
