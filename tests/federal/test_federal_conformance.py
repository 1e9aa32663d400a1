"""The federal plugin runs the conformance kit against a real NovaPrima simulator (issue #4)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import piis_plugins.federal
import pytest

from piis_bridge.forms import FederalForm
from piis_bridge.model import load_file
from piis_bridge.testing import FederalPluginConformance, PluginUnderTest
from tests.federal.conftest import niss

STUDIES = load_file(Path(__file__).resolve().parents[2] / "examples" / "studies.json").contracts[0]


class SimulatorHarness:
    """Contracts of OCMW Gent whose beneficiaries the simulator knows; claims = forms it holds."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.kbo = str(STUDIES.cpas.bce)
        sim.admin.register_cpas(self.kbo, str(STUDIES.cpas.ins_code), STUDIES.cpas.name, 7000)
        sim.admin.set_clock(datetime(2025, 9, 10, 9))

    def contract(self, index: int) -> Any:
        person = niss("850730", 100 + index)
        self.sim.admin.integrate(self.kbo, person, start="2025-01-01")
        beneficiary = STUDIES.beneficiary.model_copy(update={"niss": person})
        return STUDIES.model_copy(
            update={"contract_id": f"GNT-2025-{900 + index}", "beneficiary": beneficiary}
        )

    def break_form(self, form: FederalForm) -> FederalForm:
        return form.model_copy(update={"rubrics": {**form.rubrics, "MonthlyAmount": 100_000_000}})

    def claims(self) -> int:
        return len(self.sim.admin.forms())

    def record_mutation(self, contract: Any, kind: str, on: date) -> None:
        person = str(contract.beneficiary.niss)
        if kind == "move":
            self.sim.admin.mutate(
                person, "move", on, new_ins="21001", new_municipality="Anderlecht"
            )
        elif kind == "niss_replaced":
            self.sim.admin.mutate(
                person, "replaced", on, new_ssin=niss("850730", 600 + len(self.sim.admin.forms()))
            )
        else:
            self.sim.admin.mutate(person, kind, on)


class TestFederalPluginConformance(FederalPluginConformance):
    @pytest.fixture
    def federal_plugin(self, federal_simulator: Any) -> PluginUnderTest:
        return PluginUnderTest(
            name="federal",
            plugin=piis_plugins.federal,
            harness=SimulatorHarness(federal_simulator),
            cpas_id="gent",
            cpas={
                "name": STUDIES.cpas.name,
                "ins_code": str(STUDIES.cpas.ins_code),
                "bce": str(STUDIES.cpas.bce),
            },
            settings={
                "endpoint": federal_simulator.endpoint,
                "operation_timeout": 5.0,
                "retries": 1,
                "mode": "batch",
            },
        )
