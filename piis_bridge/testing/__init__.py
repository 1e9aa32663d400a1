"""Conformance kit for plugin authors, loaded as a pytest plugin (entry point ``pytest11``).

Loaded in every pytest run where piis-bridge is installed, so importing it stays cheap: fixtures
import what they need when used, and the heavier names below are loaded on first access.

Fixtures:

``sample_case_system``
    An in-memory vendor case system (:class:`~piis_bridge.testing.sample.SampleCaseSystem`).
``niss_guard``
    Captures log records (all levels), stdout and stderr; ``check()`` (also run at teardown) fails
    if a checksum-valid NISS reached any of them.

Classes (``from piis_bridge.testing import ...``): :class:`CaseSystemPluginConformance`,
:class:`FederalPluginConformance`, :class:`TransferPluginConformance` (subclass them),
:class:`PluginUnderTest`, :class:`CaseSystemHarness`, :class:`SampleCaseSystem`,
:class:`SampleCaseSystemPlugin`, :class:`SampleHarness`; test data (:mod:`piis_bridge.testing.data`):
:func:`make_niss`, :func:`make_bce`, :func:`make_ins` (identifiers with valid check digits),
:func:`minimal_contract` and :func:`minimal_contract_payload`.  The connectors add the
``federal_simulator`` and ``casesystem_simulator`` fixtures from their own pytest plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = [
    "CaseSystemHarness",
    "CaseSystemPluginConformance",
    "FederalHarness",
    "FederalPluginConformance",
    "NissGuard",
    "NoticeHarness",
    "PluginUnderTest",
    "SampleCaseSystem",
    "SampleCaseSystemPlugin",
    "SampleHarness",
    "TransferHarness",
    "TransferPluginConformance",
    "make_bce",
    "make_ins",
    "make_niss",
    "minimal_contract",
    "minimal_contract_payload",
    "niss_guard",
    "sample_case_system",
]

_LAZY = {
    "CaseSystemHarness": "piis_bridge.testing.conformance",
    "CaseSystemPluginConformance": "piis_bridge.testing.conformance",
    "PluginUnderTest": "piis_bridge.testing.conformance",
    "FederalHarness": "piis_bridge.testing.federal",
    "FederalPluginConformance": "piis_bridge.testing.federal",
    "NoticeHarness": "piis_bridge.testing.federal",
    "TransferHarness": "piis_bridge.testing.transfer",
    "TransferPluginConformance": "piis_bridge.testing.transfer",
    "SampleCaseSystem": "piis_bridge.testing.sample",
    "SampleCaseSystemPlugin": "piis_bridge.testing.sample",
    "SampleHarness": "piis_bridge.testing.sample",
    "make_niss": "piis_bridge.testing.data",
    "make_bce": "piis_bridge.testing.data",
    "make_ins": "piis_bridge.testing.data",
    "minimal_contract": "piis_bridge.testing.data",
    "minimal_contract_payload": "piis_bridge.testing.data",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class LogCollector(logging.Handler):
    """Every log record's text, as :class:`NissGuard` scans it for a NISS (public: the guard's own
    tests drive it)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is still inspected field by field
            message = str(record.msg)
        parts = [message, str(record.msg)]
        # The fields a handler could render: the message and any ``extra``; not the numeric
        # bookkeeping (timestamps, thread ids), whose digits can pass a NISS checksum by chance.
        parts.extend(str(v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.texts.append(f"{record.name}: " + " | ".join(parts))


class NissGuard:
    """Fails when a checksum-valid NISS appears in captured logs or console output."""

    def __init__(self, handler: LogCollector, capfd: pytest.CaptureFixture[str]) -> None:
        self._handler = handler
        self._capfd = capfd
        self._console: list[str] = []
        self.reported = False  # a leak fails the test once, not again as a teardown error

    def texts(self) -> list[str]:
        out, err = self._capfd.readouterr()
        self._console.extend(t for t in (out, err) if t)
        return [*self._handler.texts, *self._console]

    def leaks(self) -> list[str]:
        """The captured lines holding a NISS, with the NISS masked (safe to print)."""
        from piis_bridge.logging import redact

        return [redact(text)[:300] for text in self.texts() if redact(text) != text]

    def check(self) -> None:
        if self.reported:
            return
        leaks = self.leaks()
        if leaks:
            self.reported = True
            pytest.fail(
                f"a NISS reached the logs or console output ({len(leaks)} line(s), masked here):\n"
                + "\n".join(leaks[:10]),
                pytrace=False,
            )


@pytest.fixture
def niss_guard(capfd: pytest.CaptureFixture[str]) -> Iterator[NissGuard]:
    handler = LogCollector()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    guard = NissGuard(handler, capfd)
    try:
        yield guard
        guard.check()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def sample_case_system() -> Any:
    from piis_bridge.testing.sample import SampleCaseSystem

    return SampleCaseSystem()
