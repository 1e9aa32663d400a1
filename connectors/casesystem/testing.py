"""pytest fixtures for the casesystem simulator (loaded in every pytest run via ``pytest11``).

Keep this import cheap: the simulator module is imported inside the fixture only.

Fixtures:

``casesystem_simulator``
    A real NeptunusWeb-like HTTP simulator on a free 127.0.0.1 port, seeded with 50 dossiers
    (seed 1), its SQLite state in the test's tmp dir.  Attributes: ``url``, ``store``, ``config``
    (client id ``piis-bridge``, secret ``geheim``), ``seed(n)``, ``inject(status, count, retry_after)``.
``casesystem_client``
    A :class:`~piis_connectors.casesystem.client.CaseSystemClient` for that simulator.
``casesystem_harness``
    A :class:`SimulatorHarness` for that simulator: the ``CaseSystemHarness`` of the conformance
    kit (create / modify / invalid records, count pushed tasks), for plugins that talk to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["SimulatorHarness", "casesystem_client", "casesystem_harness", "casesystem_simulator"]


class SimulatorHarness:
    """Drives the simulator the way a social worker's edits would (conformance-kit harness)."""

    def __init__(self, sim: Any, template_seed: int = 11) -> None:
        from piis_connectors.casesystem.seed import generate

        self.sim = sim
        self.template = next(iter(generate(1, seed=template_seed))).data

    def document(self, contract_id: str) -> dict[str, Any]:
        """A valid vendor contract document with this contract number."""
        import copy

        doc = copy.deepcopy(self.template)
        doc["contractnummer"] = contract_id
        return doc

    def create_record(self, index: int) -> str:
        cid = f"CONF-{index:05d}"
        self.sim.store.put(cid, self.document(cid))
        return cid

    def modify_record(self, record_id: str) -> None:
        self.sim.store.touch([record_id], lambda d: d.update(status="LOP"))

    def create_invalid_record(self) -> str:
        """Invalid NISS check digits, an unknown domain code and an impossible date."""
        cid = "CONF-BAD"
        doc = self.document(cid)
        niss = doc["client"]["rijksregisternummer"]
        doc["client"]["rijksregisternummer"] = niss[:-2] + f"{(int(niss[-2:]) + 1) % 100:02d}"
        doc["domeinen"] = ["WERK", "ASTROLOGIE"]
        doc["startdatum"] = "31-02-2025"
        self.sim.store.put(cid, doc)
        return cid

    def task_count(self, key: str) -> int:
        return int(self.sim.store.count_key(key))


@pytest.fixture
def casesystem_simulator(tmp_path: Any) -> Iterator[Any]:
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

    sim = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    sim.seed(50)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def casesystem_client(casesystem_simulator: Any) -> Iterator[Any]:
    from piis_connectors.casesystem.client import CaseSystemClient

    client = CaseSystemClient(
        casesystem_simulator.url, "piis-bridge", "geheim", timeout=10, backoff=0.01
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def casesystem_harness(casesystem_simulator: Any) -> SimulatorHarness:
    return SimulatorHarness(casesystem_simulator)
