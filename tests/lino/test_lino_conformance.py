"""The case-system conformance kit against a running Lino Welfare (the demo "gerd" site)."""

from __future__ import annotations

import piis_plugins.lino
import pytest

from piis_bridge.testing import CaseSystemPluginConformance, PluginUnderTest
from tests.lino.harness import LinoHarness


class TestLinoConformance(CaseSystemPluginConformance):
    @pytest.fixture
    def case_plugin(self, lino_settings):
        harness = LinoHarness(
            lino_settings["url"], lino_settings["user"], lino_settings["password"]
        )
        yield PluginUnderTest(
            name="lino",
            plugin=piis_plugins.lino,
            harness=harness,
            settings=dict(lino_settings),
            cpas_id="eupen",
            cpas={"name": "ÖSHZ Eupen", "ins_code": "63023", "bce": "0212345470"},
        )
        harness.client.close()
