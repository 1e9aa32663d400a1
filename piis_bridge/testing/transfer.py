"""Conformance tests a transfer plugin runs against itself (hand-over of a PIIS between two CPAS).

Why two CPAS in one host: the kit checks the hooks the way the bridge calls them (export at the
old CPAS, import at the new one) without a network; delivery (``piis_transfer_send``) is the
transport's business and is tested with the plugin's own endpoint.  Properties checked: R-TRF-06
(what arrives is a draft to review, never an active contract), a package whose bytes changed is
rejected, a package imported twice is imported once, and no NISS reaches the logs.

A plugin author subclasses :class:`TransferPluginConformance` and provides one fixture,
``transfer_plugin``, returning a :class:`~piis_bridge.testing.conformance.PluginUnderTest` whose
``harness`` is a :class:`TransferHarness` (see docs/plugins.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pytest

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.testing.conformance import PluginUnderTest, cpas_settings, start_host

__all__ = ["TransferHarness", "TransferKit", "TransferPluginConformance", "tamper"]


@runtime_checkable
class TransferHarness(Protocol):
    """The two parties of the hand-over and what the kit needs to see on each side."""

    sender: str  # cpas id of the old CPAS (exports)
    receiver: str  # cpas id of the new CPAS (imports)

    def parties(self) -> dict[str, dict[str, Any]]:
        """cpas id -> ``{"name", "ins_code", "bce", "settings"}`` for both parties (settings: the plugin's)."""

    def ready_case(self, host: PluginHost, index: int) -> str:
        """At the sender, a transfer case to the receiver with the person's consent; return its id."""

    def imported(self, host: PluginHost, package_id: str) -> int:
        """How many times the receiver holds this package (0 = never imported)."""

    def draft_status(self, host: PluginHost, package_id: str) -> Any:
        """The status of the contract the receiver made from this package (a ``ContractStatus``)."""


def tamper(envelope: bytes | str) -> bytes:
    """The envelope with one character in its middle changed (what a flipped bit in transit does)."""
    raw = bytearray(envelope.encode() if isinstance(envelope, str) else envelope)
    i = len(raw) // 2
    while chr(raw[i]) in ".=~" and i < len(raw) - 1:  # change content, not a separator
        i += 1
    raw[i] = ord("A") if raw[i] != ord("A") else ord("B")
    return bytes(raw)


@dataclass
class TransferKit:
    host: PluginHost
    put: PluginUnderTest

    @property
    def harness(self) -> TransferHarness:
        return self.put.harness  # type: ignore[return-value]

    def _failures(self) -> str:
        return "; ".join(
            f"{f.hook}: {f.error_type}: {f.message} (record {f.record_id})"
            for f in self.host.failures
        )

    def export(self, case_id: str) -> Any:
        from piis_bridge.transfer import ExportedPackage

        package = self.host.transfer_export(self.harness.sender, case_id)
        if package is None:
            pytest.fail(f"piis_transfer_export failed: {self._failures()}")
        assert isinstance(package, ExportedPackage), f"export returned {type(package).__name__}"
        return package

    def import_(self, envelope: bytes | str) -> Any:
        """The receiver's answer; ``None`` when the hook raised (the failure is in ``host.failures``)."""
        from piis_bridge.transfer import IncomingPackage

        raw = envelope.encode() if isinstance(envelope, str) else envelope
        return self.host.transfer_import(self.harness.receiver, IncomingPackage(envelope=raw))


class TransferPluginConformance:
    """Subclass as ``TestXxxTransferConformance`` and provide the ``transfer_plugin`` fixture."""

    @pytest.fixture
    def transfer_plugin(self) -> PluginUnderTest:  # pragma: no cover - must be overridden
        raise NotImplementedError("provide a `transfer_plugin` fixture returning a PluginUnderTest")

    @pytest.fixture
    def transfer_kit(
        self, transfer_plugin: PluginUnderTest, tmp_path: Path
    ) -> Iterator[TransferKit]:
        put = transfer_plugin
        routes = {}
        for cpas_id, party in put.harness.parties().items():  # type: ignore[attr-defined]
            identity = {k: party[k] for k in ("name", "ins_code", "bce")}
            routes[cpas_id] = {
                **identity,
                "case_system": None,
                "federal": None,
                "transfer": put.name,
                "plugins": {put.name: party.get("settings") or {}},
            }
        settings = Settings(
            cpas=cpas_settings(routes),
            state_dir=tmp_path / "state",
            database_url=f"sqlite:///{tmp_path / 'kit.sqlite3'}",
        )
        host = start_host(settings, put)
        yield TransferKit(host=host, put=put)
        host.instances.close()  # the plugin's clients and engines (docs/plugins.md)

    def test_export_then_import_gives_a_draft_at_the_receiver(
        self, transfer_kit: TransferKit
    ) -> None:
        from piis_bridge.model import ContractStatus

        package = transfer_kit.export(transfer_kit.harness.ready_case(transfer_kit.host, 0))
        assert package.package_id and package.envelope
        outcome = transfer_kit.import_(package.envelope)
        assert outcome is not None, f"piis_transfer_import failed: {transfer_kit._failures()}"
        assert outcome.status == "accepted", (
            f"a genuine package was {outcome.status}: {outcome.reason}"
        )
        assert outcome.package_id == package.package_id
        assert transfer_kit.harness.imported(transfer_kit.host, package.package_id) == 1
        status = transfer_kit.harness.draft_status(transfer_kit.host, package.package_id)
        assert status == ContractStatus.DRAFT, (
            f"the receiver holds the contract as {status}, not a draft (R-TRF-06)"
        )

    def test_a_tampered_package_is_rejected(self, transfer_kit: TransferKit) -> None:
        package = transfer_kit.export(transfer_kit.harness.ready_case(transfer_kit.host, 1))
        outcome = transfer_kit.import_(tamper(package.envelope))
        assert outcome is None or outcome.status == "rejected", (
            f"a tampered package was {outcome.status}"
        )
        assert transfer_kit.harness.imported(transfer_kit.host, package.package_id) == 0, (
            "a tampered package was imported"
        )
        genuine = transfer_kit.import_(
            package.envelope
        )  # the real one still goes through afterwards
        assert genuine is not None and genuine.status == "accepted"

    def test_the_same_package_imported_twice_is_imported_once(
        self, transfer_kit: TransferKit
    ) -> None:
        package = transfer_kit.export(transfer_kit.harness.ready_case(transfer_kit.host, 2))
        first = transfer_kit.import_(package.envelope)
        second = transfer_kit.import_(package.envelope)
        assert first is not None and first.status == "accepted"
        assert second is not None and second.status == "duplicate", (
            f"the second import answered {second.status if second else transfer_kit._failures()}"
        )
        assert second.package_id == first.package_id and second.draft_ref == first.draft_ref
        assert transfer_kit.harness.imported(transfer_kit.host, package.package_id) == 1

    def test_an_export_failure_names_the_case(self, transfer_kit: TransferKit) -> None:
        assert (
            transfer_kit.host.transfer_export(transfer_kit.harness.sender, "no-such-case") is None
        )
        (failure,) = transfer_kit.host.failures
        assert failure.record_id == "no-such-case" and "no-such-case" in failure.message

    def test_no_niss_reaches_the_logs(self, transfer_kit: TransferKit, niss_guard: Any) -> None:
        logging.getLogger().setLevel(logging.DEBUG)
        package = transfer_kit.export(transfer_kit.harness.ready_case(transfer_kit.host, 3))
        transfer_kit.import_(tamper(package.envelope))
        transfer_kit.import_(package.envelope)
        transfer_kit.import_(package.envelope)
        transfer_kit.host.transfer_export(transfer_kit.harness.sender, "no-such-case")
        niss_guard.check()
