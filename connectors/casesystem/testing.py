"""pytest fixtures for the casesystem simulator (loaded in every pytest run via ``pytest11``).

Keep this import cheap: the simulator module is imported inside the fixture only.

Fixtures:

``casesystem_simulator``
    A real NeptunusWeb-like HTTP simulator on a free 127.0.0.1 port, seeded with 50 dossiers
    (seed 1), its SQLite state in the test's tmp dir.  Attributes: ``url``, ``store``, ``config``
    (client id ``piis-bridge``, secret ``geheim``), ``seed(n)``, ``inject(status, count, retry_after)``.
``casesystem_client``
    A :class:`~piis_connectors.casesystem.client.CaseSystemClient` for that simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["casesystem_simulator", "casesystem_client"]


@pytest.fixture
def casesystem_simulator(tmp_path: Any) -> Iterator[Any]:
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

    sim = CaseSystemSimulator(SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0)
    sim.seed(50)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def casesystem_client(casesystem_simulator: Any) -> Iterator[Any]:
    from piis_connectors.casesystem.client import CaseSystemClient

    client = CaseSystemClient(casesystem_simulator.url, "piis-bridge", "geheim", timeout=10, backoff=0.01)
    try:
        yield client
    finally:
        client.close()
