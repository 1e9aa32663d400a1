"""The files of a new transfer plugin package: a contract handed over between CPAS (``--kind transfer``)."""

from __future__ import annotations

from piis_bridge.templates._common import PYPROJECT, readme, skeleton

__all__ = ["FILES"]

_README = readme(
    "transfer plugin: when a beneficiary moves, it exports the PIIS package at the old CPAS, delivers it, "
    "and imports it once, as a draft to review, at the new CPAS",
    '''[cpas.liege]
transfer = "{{name}}"

[cpas.liege.plugins.{{name}}]
outbox = "/var/lib/piis-bridge/{{name}}"''',
)

_PLUGIN = (
    '''"""{{name}}: a piis-bridge transfer plugin (hand-over of a PIIS between two CPAS).

piis-bridge calls these hooks for every CPAS whose configuration says ``transfer = "{{name}}"``;
``cpas.settings`` holds this plugin's settings for that CPAS (validated by :class:`Settings`).
Replace each ``NotImplementedError`` with the real thing; ``pytest`` runs the piis-bridge transfer
conformance kit against it.  Reference: piis-bridge ``docs/plugins.md`` (transfer hooks, the kit).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import CpasContext
from piis_bridge.model import TransferRequest
from piis_bridge.transfer import DeliveryReceipt, Destination, ExportedPackage, IncomingPackage, ReceiveOutcome

__all__ = ["Settings", "piis_plugin_settings", "piis_transfer_export", "piis_transfer_send", "piis_transfer_import"]

PLUGIN_NAME = "{{name}}"


'''
    + skeleton(
        """    outbox: str | None = None
"""
    )
    + """

@hookimpl
def piis_transfer_export(cpas: CpasContext, transfer: str | TransferRequest) -> ExportedPackage | None:
    raise _todo(
        "piis_transfer_export",
        "return the signed package of the transfer case `transfer` (None when there is no such case)",
    )


@hookimpl
def piis_transfer_send(
    cpas: CpasContext, package: ExportedPackage, destination: Destination | None
) -> DeliveryReceipt:
    raise _todo("piis_transfer_send", "deliver the package to the destination CPAS and return the receipt")


@hookimpl
def piis_transfer_import(cpas: CpasContext, package: IncomingPackage | bytes) -> ReceiveOutcome:
    raise _todo(
        "piis_transfer_import",
        "verify the package, import it once as a DRAFT contract (never active), and refuse a package whose bytes "
        "changed",
    )
"""
)

_TESTS = '''"""The piis-bridge transfer conformance kit, run against this plugin.

``{{Class}}Harness`` names the two CPAS of the hand-over and looks into their systems; implement it next
to the hooks.  Until then these tests fail with a message naming what is missing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import {{package}} as plugin
from piis_bridge.testing import PluginUnderTest, TransferPluginConformance, make_bce


class {{Class}}Harness:
    """The old CPAS (sender) and the new one (receiver)."""

    sender = "oldcpas"
    receiver = "newcpas"

    def parties(self) -> dict[str, dict[str, Any]]:
        return {self.sender: {"name": "CPAS A", "ins_code": "52011", "bce": make_bce(11), "settings": {}},
                self.receiver: {"name": "CPAS B", "ins_code": "62063", "bce": make_bce(12), "settings": {}}}

    def ready_case(self, host: Any, index: int) -> str:
        raise NotImplementedError("harness: open a transfer case at the sender (a moved beneficiary who "
                                  "consented), distinct per index; return its id")

    def imported(self, host: Any, package_id: str) -> int:
        raise NotImplementedError("harness: count how many times the receiver holds this package")

    def draft_status(self, host: Any, package_id: str) -> Any:
        raise NotImplementedError("harness: the ContractStatus of the contract the receiver made from the package")


def test_the_entry_point_names_the_plugin_module() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["piis_bridge"] == {"{{name}}": "{{package}}"}


class Test{{Class}}TransferConformance(TransferPluginConformance):
    @pytest.fixture
    def transfer_plugin(self) -> PluginUnderTest:
        return PluginUnderTest(name="{{name}}", plugin=plugin, harness={{Class}}Harness())
'''

FILES: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "README.md": _README,
    "src/{{package}}/__init__.py": _PLUGIN,
    "src/{{package}}/py.typed": "",
    "tests/test_conformance.py": _TESTS,
}
