"""The conformance kit fails plugins that break the contract (a kit that cannot fail proves nothing).

Each broken variant of the reference plugin runs the kit in a real pytest subprocess; the test
checks that exactly the expected conformance tests fail.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from piis_bridge.testing import (
    LogCollector,
    NissGuard,
)
from tests.plugins._helpers import A_NISS

BROKEN = textwrap.dedent("""
    import logging
    import pytest
    from piis_bridge.hooks import hookimpl
    from piis_bridge.hooks.types import ChangePage, MappingOutcome, PushResult, RecordProblem
    from piis_bridge.testing import (CaseSystemPluginConformance, PluginUnderTest, SampleCaseSystem,
                                     SampleCaseSystemPlugin, SampleHarness)


    class SkipsAfterCursor(SampleCaseSystemPlugin):
        @hookimpl
        def piis_case_fetch_changes(self, cpas, cursor, page_size):
            page = super().piis_case_fetch_changes(cpas, cursor, page_size)
            bumped = str(int(page.cursor) + 1) if page.cursor and page.has_more else page.cursor
            return ChangePage(records=page.records, cursor=bumped, has_more=page.has_more)


    class NotIdempotent(SampleCaseSystemPlugin):
        @hookimpl
        def piis_case_push(self, cpas, items):
            return [PushResult(key=i.key, status="created") for i in items]


    class LogsPayload(SampleCaseSystemPlugin):
        @hookimpl
        def piis_case_map_record(self, cpas, record):
            logging.getLogger("acme").debug("mapping %s", record.payload.get("beneficiary"))
            return super().piis_case_map_record(cpas, record)


    class RaisesOnBadRecord(SampleCaseSystemPlugin):
        @hookimpl
        def piis_case_map_record(self, cpas, record):
            outcome = super().piis_case_map_record(cpas, record)
            if outcome.problems:
                raise ValueError("bad record")
            return outcome


    class ProblemsWithoutField(SampleCaseSystemPlugin):
        @hookimpl
        def piis_case_map_record(self, cpas, record):
            outcome = super().piis_case_map_record(cpas, record)
            if outcome.problems:
                return MappingOutcome(record_id=record.record_id, problems=[
                    RecordProblem(record_id=record.record_id, field="", reason="invalid")])
            return outcome


    def _make(cls):
        class Test(CaseSystemPluginConformance):
            @pytest.fixture
            def case_plugin(self):
                system = SampleCaseSystem()
                return PluginUnderTest(name="sample", plugin=cls(system), harness=SampleHarness(system))
        Test.__name__ = "Test" + cls.__name__
        return Test


    TestSkipsAfterCursor = _make(SkipsAfterCursor)
    TestNotIdempotent = _make(NotIdempotent)
    TestLogsPayload = _make(LogsPayload)
    TestRaisesOnBadRecord = _make(RaisesOnBadRecord)
    TestProblemsWithoutField = _make(ProblemsWithoutField)
""")


@pytest.fixture(scope="module")
def kit_report(tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    root = tmp_path_factory.mktemp("brokenkit")
    (root / "test_broken.py").write_text(BROKEN, encoding="utf-8")
    report = root / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "test_broken.py",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return ET.parse(report).getroot()


@pytest.fixture(scope="module")
def kit_results(kit_report: ET.Element) -> dict[str, set[str]]:
    failed: dict[str, set[str]] = {}
    for case in kit_report.iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        if case.find("failure") is not None or case.find("error") is not None:
            failed.setdefault(cls, set()).add(case.get("name", "").split("[")[0])
    return failed


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (
            "TestSkipsAfterCursor",
            {
                "test_cursor_resumes_exactly_where_it_stopped",
                "test_first_sync_returns_every_new_record_exactly_once",
            },
        ),
        ("TestNotIdempotent", {"test_push_is_idempotent_on_the_key"}),
        ("TestLogsPayload", {"test_no_niss_reaches_the_logs"}),
        ("TestRaisesOnBadRecord", {"test_problems_carry_the_record_id_and_a_field_path"}),
        ("TestProblemsWithoutField", {"test_problems_carry_the_record_id_and_a_field_path"}),
    ],
)
def test_the_kit_fails_exactly_the_broken_behaviour(
    kit_results: dict[str, set[str]], variant: str, expected: set[str]
) -> None:
    assert kit_results.get(variant, set()) == expected


def test_the_guard_sees_a_niss_in_log_records_and_console(
    capfd: pytest.CaptureFixture[str],
) -> None:
    handler = LogCollector()
    guard = NissGuard(handler, capfd)
    logger = logging.getLogger("guard-test")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("clean line 12345678901")  # 11 digits, not a valid NISS
        assert guard.leaks() == []
        logger.debug("beneficiary %s", {"niss": A_NISS})
        print("printed 85.07.30-033.28")  # noqa: T201
        leaks = guard.leaks()
    finally:
        logger.removeHandler(handler)
    assert len(leaks) == 2 and all(A_NISS not in leak and "[NISS]" in leak for leak in leaks)
    with pytest.raises(pytest.fail.Exception, match="a NISS reached the logs"):
        guard.check()


def test_the_guard_ignores_log_bookkeeping_but_sees_extras(
    capfd: pytest.CaptureFixture[str],
) -> None:
    handler = LogCollector()
    guard = NissGuard(handler, capfd)
    record = logging.makeLogRecord({"msg": "clean", "relativeCreated": float(f"11454.{A_NISS}")})
    handler.handle(record)
    assert guard.leaks() == []
    handler.handle(logging.makeLogRecord({"msg": "clean", "beneficiary": A_NISS}))
    assert len(guard.leaks()) == 1


def _reports(kit_report: ET.Element, variant: str, test: str) -> list[tuple[str, str]]:
    """(failure|error, message) of one kit test of one variant: what its author reads."""
    out = []
    for case in kit_report.iter("testcase"):
        if case.get("classname", "").endswith(variant) and case.get("name") == test:
            out.extend(
                (el.tag, el.get("message") or "") for el in case if el.tag in ("failure", "error")
            )
    return out


def test_a_non_idempotent_push_is_explained(kit_report: ET.Element) -> None:
    ((kind, message),) = _reports(
        kit_report, "TestNotIdempotent", "test_push_is_idempotent_on_the_key"
    )
    assert kind == "failure"
    assert (
        "the second push of the same key" in message
        and "created a new item (expected: duplicate)" in message
    )


def test_a_niss_leak_is_reported_once(kit_report: ET.Element) -> None:
    reports = _reports(kit_report, "TestLogsPayload", "test_no_niss_reaches_the_logs")
    assert [kind for kind, _ in reports] == ["failure"], reports  # not again as a teardown error
    assert "a NISS reached the logs" in reports[0][1] and A_NISS not in reports[0][1]
