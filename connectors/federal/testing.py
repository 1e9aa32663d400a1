"""pytest fixtures for the federal simulator (loaded through the pytest11 entry point; part of the plugin
conformance kit).  Kept cheap to import: everything heavy is imported inside the fixtures.

``federal_simulator`` starts a real simulator (HTTP on 127.0.0.1, a free port, SQLite in a tmp dir) and
yields a :class:`RunningSimulator` with ``base_url``, ``endpoint``, ``wsdl_url``, ``db_path`` and ``admin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["RunningSimulator", "federal_simulator", "start_running_simulator"]


@dataclass
class RunningSimulator:
    server: Any
    admin: Any
    db_path: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def wsdl_url(self) -> str:
        return self.server.wsdl_url

    def restart(self) -> RunningSimulator:
        """Stop and start again on the same SQLite file (state must survive)."""
        from piis_connectors.federal.admin import SimulatorAdmin
        from piis_connectors.federal.simulator.server import start_simulator

        self.admin.close()
        self.server.stop()
        self.server = start_simulator(self.db_path)
        self.admin = SimulatorAdmin(self.server.base_url)
        return self

    def stop(self) -> None:
        self.admin.close()
        self.server.stop()


def start_running_simulator(db_path: Path, **kwargs: Any) -> RunningSimulator:
    from piis_connectors.federal.admin import SimulatorAdmin
    from piis_connectors.federal.simulator.server import start_simulator

    server = start_simulator(db_path, **kwargs)
    return RunningSimulator(
        server=server, admin=SimulatorAdmin(server.base_url), db_path=Path(db_path)
    )


@pytest.fixture
def federal_simulator(tmp_path: Path) -> Iterator[RunningSimulator]:
    sim = start_running_simulator(tmp_path / "novaprima.sqlite3")
    try:
        yield sim
    finally:
        sim.stop()
