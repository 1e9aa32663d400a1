"""The real plugins against both simulators, for the exactly-once and fault-injection tests.

``receptions`` counts what reached the federal simulator in its *own* state: every form row it
created (one per first reception of a ClientReference) plus every later reception of the same
ClientReference in a batch (``batch_dups``), so a form sent twice counts twice even though the
simulator answered the second one as a duplicate.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from piis_bridge.config import Settings


def real_cpas(
    case_url: str,
    federal_endpoint: str,
    kbo: str,
    ins: str,
    name: str,
    *,
    transfer: str | None = None,
    mode: str = "batch",
    **extra: Any,
) -> dict[str, Any]:
    """One CPAS served by the real plugins: NeptunusWeb at *case_url* (its tenant filter on *kbo*)
    and the federal plugin at *federal_endpoint*; *extra* settings (e.g. ``language``) as given."""
    return {
        "name": name,
        "ins_code": ins,
        "bce": kbo,
        "case_system": "neptunus",
        **extra,
        "federal": "federal",
        "transfer": transfer,
        "plugins": {
            "neptunus": {
                "base_url": case_url,
                "client_id": "piis-bridge",
                "client_secret": "geheim",
                "ocmw_kbo": kbo,
            },
            "federal": {"endpoint": federal_endpoint, "mode": mode},
        },
    }


@dataclass
class World:
    case: Any
    federal: Any
    ocmws: list[tuple[str, str, str]]
    tmp: Path

    def settings(
        self,
        *,
        database_url: str | None = None,
        broker_url: str = "filesystem://",
        mode: str = "batch",
    ) -> Settings:
        cpas = {
            f"c{i}": real_cpas(self.case.url, self.federal.endpoint, kbo, ins, name, mode=mode)
            for i, (kbo, ins, name) in enumerate(self.ocmws)
        }
        return Settings.model_validate(
            {
                "database_url": database_url or f"sqlite:///{self.tmp}/app.sqlite3",
                "broker_url": broker_url,
                "result_backend": f"db+sqlite:///{self.tmp}/results.sqlite3",
                "state_dir": str(self.tmp / "state"),
                "plugins": {"enabled": ["neptunus", "federal"]},
                "cpas": cpas,
            }
        )

    def receptions(self) -> Counter[str]:
        """ClientReference -> how many times the federal simulator received it (its own tables)."""
        db = sqlite3.connect(self.federal.db_path, timeout=30)
        try:
            got: Counter[str] = Counter(r for (r,) in db.execute("SELECT client_ref FROM forms"))
            got.update(r for (r,) in db.execute("SELECT client_ref FROM batch_dups"))
        finally:
            db.close()
        return got

    def dossiers(self) -> set[tuple[str, str]]:
        """(kbo, contract number) of every contract the case system holds for the configured OCMWs."""
        from piis_connectors.casesystem.seed import generate

        kbos = {k for k, _, _ in self.ocmws}
        return {
            (c.ocmw, c.data["contractnummer"]) for c in generate(self.seeded, 1) if c.ocmw in kbos
        }

    seeded: int = 0


def start_world(tmp: Path, dossiers: int, ocmws: int = 2) -> World:
    from piis_connectors.casesystem.seed import OCMWS
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(dossiers)
    case.start()
    federal = start_running_simulator(tmp / "novaprima.sqlite3")
    chosen = OCMWS[:ocmws]
    for kbo, ins, name in chosen:
        federal.admin.register_cpas(kbo, ins, name=name)
    world = World(case=case, federal=federal, ocmws=chosen, tmp=tmp)
    world.seeded = dossiers
    return world


def stop_world(world: World) -> None:
    try:
        world.federal.stop()
    finally:
        world.case.stop()
