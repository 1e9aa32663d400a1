"""Small builders shared by the plugin-system tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piis_bridge.config import Settings
from piis_bridge.hooks.types import SourceRecord

# Real check digits: INS 62063 (Liège), 21004 (Bruxelles); BCE mod-97 valid.
CPAS = {
    "liege": {"name": "CPAS de Liège", "ins_code": "62063", "bce": "0207916035"},
    "bruxelles": {"name": "CPAS de Bruxelles", "ins_code": "21004", "bce": "0212560454"},
}
A_NISS = "85073003328"  # checksum-valid test NISS


def settings(tmp_path: Path, routes: dict[str, dict[str, Any]], **extra: Any) -> Settings:
    cpas = {
        cpas_id: {**CPAS[cpas_id], "federal": None, "transfer": None, **route}
        for cpas_id, route in routes.items()
    }
    return Settings(cpas=cpas, state_dir=tmp_path / "state", **extra)


def record(record_id: str, *, source: str = "alpha", n: int = 0) -> SourceRecord:
    return SourceRecord(
        source=source,
        record_id=record_id,
        kind="piis_contract",
        modified_at=datetime(2026, 1, 1, 0, 0, n, tzinfo=UTC),
        payload={"n": n},
    )
