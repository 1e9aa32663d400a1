"""The federal and transfer conformance kits fail plugins that break their contract.

Like tests/plugins/test_kit_catches_bugs.py: broken wrappers around the real plugins run the kit in
a real pytest subprocess (with the real simulator and keys), and exactly the expected tests fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BROKEN = textwrap.dedent('''
    import logging
    import uuid
    from dataclasses import replace

    import pytest

    from piis_plugins.federal import FederalPlugin
    from piis_plugins.transfer import TransferPlugin
    from piis_bridge.hooks import hookimpl
    from piis_bridge.testing import FederalPluginConformance, PluginUnderTest, TransferPluginConformance
    from tests.federal.test_federal_conformance import STUDIES, SimulatorHarness
    from tests.transfer._support import CHARLEROI, LIEGE, new_key
    from tests.transfer.test_transfer_conformance import TwoCpasHarness


    class UnstableKeys(FederalPlugin):
        """Gives every build a fresh random key: a rebuilt contract becomes a new claim."""

        @hookimpl
        def piis_federal_build_forms(self, cpas, contract, event):
            return [f.model_copy(update={"client_reference": str(uuid.uuid4())})
                    for f in super().piis_federal_build_forms(cpas, contract, event)]


    class ReportsDuplicatesAsNew(TransferPlugin):
        """Answers 'accepted' to a package it already holds: the sender cannot tell a replay."""

        @hookimpl
        def piis_transfer_import(self, cpas, package):
            outcome = super().piis_transfer_import(cpas, package)
            return replace(outcome, status="accepted") if outcome.status == "duplicate" else outcome


    class LogsThePackage(TransferPlugin):
        """Logs the package it imports (the contract inside holds the NISS)."""

        @hookimpl
        def piis_transfer_import(self, cpas, package):
            outcome = super().piis_transfer_import(cpas, package)
            if outcome.status == "accepted":
                draft = self.service(cpas).draft_of(outcome.package_id)
                logging.getLogger("acme.transfer").info("imported %s", draft.beneficiary.niss)
            return outcome


    class TestUnstableKeys(FederalPluginConformance):
        @pytest.fixture
        def federal_plugin(self, federal_simulator):
            return PluginUnderTest(
                name="federal", plugin=UnstableKeys(), harness=SimulatorHarness(federal_simulator), cpas_id="gent",
                cpas={"name": STUDIES.cpas.name, "ins_code": str(STUDIES.cpas.ins_code), "bce": str(STUDIES.cpas.bce)},
                settings={"endpoint": federal_simulator.endpoint, "operation_timeout": 5.0, "retries": 1})


    def _transfer(cls):
        class Test(TransferPluginConformance):
            @pytest.fixture
            def transfer_plugin(self, tmp_path):
                root = tmp_path / "parties"
                root.mkdir()
                keys = {p.bce: new_key(p.bce) for p in (CHARLEROI, LIEGE)}
                return PluginUnderTest(name="transfer", plugin=cls(), harness=TwoCpasHarness(root, keys))
        Test.__name__ = "Test" + cls.__name__
        return Test


    TestReportsDuplicatesAsNew = _transfer(ReportsDuplicatesAsNew)
    TestLogsThePackage = _transfer(LogsThePackage)
''')


@pytest.fixture(scope="module")
def kit_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    root = tmp_path_factory.mktemp("brokenrolekits")
    (root / "test_broken_roles.py").write_text(BROKEN, encoding="utf-8")
    report = root / "report.xml"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "test_broken_roles.py",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    failed: dict[str, set[str]] = {}
    passed: dict[str, set[str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        bucket = (
            failed if case.find("failure") is not None or case.find("error") is not None else passed
        )
        bucket.setdefault(cls, set()).add(case.get("name", "").split("[")[0])
    assert passed, f"nothing ran:\n{run.stdout[-3000:]}"
    return failed


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        # The same contract built twice must be the same form; resubmitting it then becomes a second claim.
        (
            "TestUnstableKeys",
            {
                "test_building_twice_gives_the_same_idempotency_keys",
                "test_submitting_the_same_forms_twice_never_creates_a_second_claim",
            },
        ),
        ("TestReportsDuplicatesAsNew", {"test_the_same_package_imported_twice_is_imported_once"}),
        ("TestLogsThePackage", {"test_no_niss_reaches_the_logs"}),
    ],
)
def test_the_role_kits_fail_exactly_the_broken_behaviour(
    kit_results: dict[str, set[str]], variant: str, expected: set[str]
) -> None:
    assert kit_results.get(variant, set()) == expected
