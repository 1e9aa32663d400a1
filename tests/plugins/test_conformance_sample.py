"""The conformance kit against the in-memory sample case system and its reference plugin."""

from __future__ import annotations

import pytest

from piis_bridge.testing import (
    CaseSystemPluginConformance,
    PluginUnderTest,
    SampleCaseSystemPlugin,
    SampleHarness,
)


class TestSampleConformance(CaseSystemPluginConformance):
    @pytest.fixture
    def case_plugin(self, sample_case_system) -> PluginUnderTest:
        return PluginUnderTest(
            name="sample",
            plugin=SampleCaseSystemPlugin(sample_case_system),
            harness=SampleHarness(sample_case_system),
        )
