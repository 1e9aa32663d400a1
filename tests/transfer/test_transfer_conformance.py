"""The transfer plugin runs the conformance kit (issue #4): Charleroi exports, Liège imports.

Keys are made in the test (``tests/transfer/_support.py``); each CPAS has its own SQLite database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import piis_plugins.transfer
import pytest
from cryptography.hazmat.primitives import serialization
from piis_plugins.transfer.plugin import service_for

from piis_bridge.model import Consent
from piis_bridge.testing import PluginUnderTest, TransferPluginConformance
from piis_bridge.transfer import find_residence_change
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, example, moved


def _identity(party: Any) -> dict[str, str]:
    return {"name": party.name, "ins_code": party.ins_code, "bce": party.bce}


class TwoCpasHarness:
    sender = "charleroi"
    receiver = "liege"

    def __init__(self, root: Path, keys: dict[str, Any]) -> None:
        self.root = root
        for party in (CHARLEROI, LIEGE):
            key = keys[party.bce]
            (root / f"{party.bce}.pem").write_bytes(
                key.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            (root / f"{party.bce}.pub.pem").write_bytes(key.public_pem())

    def _settings(self, me: Any, peer: Any) -> dict[str, Any]:
        return {
            "database_url": f"sqlite:///{self.root / f'{me.ins_code}.sqlite3'}",
            "signing_key_path": str(self.root / f"{me.bce}.pem"),
            "trust": {peer.bce: str(self.root / f"{peer.bce}.pub.pem")},
            "peers": {
                peer.ins_code: {"name": peer.name, "bce": peer.bce, "url": "https://127.0.0.1:1"}
            },
        }

    def parties(self) -> dict[str, dict[str, Any]]:
        return {
            self.sender: {**_identity(CHARLEROI), "settings": self._settings(CHARLEROI, LIEGE)},
            self.receiver: {**_identity(LIEGE), "settings": self._settings(LIEGE, CHARLEROI)},
        }

    def _service(self, host: Any, cpas_id: str) -> Any:
        return service_for(host, cpas_id)

    def ready_case(self, host: Any, index: int) -> str:
        contract = example("sanction-history")
        contract = contract.model_copy(
            update={
                "contract_id": f"CHA-2025-{500 + index}",
                "cpas": contract.cpas.model_copy(update=_identity(CHARLEROI)),
            }
        )
        contract = moved(contract, LIEGE, MOVE_DATE)
        service = self._service(host, self.sender)
        case, _ = service.open_case(
            contract, find_residence_change(contract), record_id=contract.contract_id
        )
        service.record_consent(
            case.case_id, Consent.GIVEN, by="D. Renard", channel="interview, signed form"
        )
        return case.case_id

    def imported(self, host: Any, package_id: str) -> int:
        return sum(
            r.package_id == package_id for r in self._service(host, self.receiver).list_received()
        )

    def draft_status(self, host: Any, package_id: str) -> Any:
        return self._service(host, self.receiver).draft_of(package_id).status


class TestTransferPluginConformance(TransferPluginConformance):
    @pytest.fixture
    def transfer_plugin(self, tmp_path: Path, cpas_keys: dict[str, Any]) -> PluginUnderTest:
        root = tmp_path / "parties"
        root.mkdir()
        return PluginUnderTest(
            name="transfer", plugin=piis_plugins.transfer, harness=TwoCpasHarness(root, cpas_keys)
        )
