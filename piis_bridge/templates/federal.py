"""The files of a new federal plugin package: forms B/C/D to a federal service (``--kind federal``)."""

from __future__ import annotations

from piis_bridge.templates._common import PYPROJECT, readme, skeleton

__all__ = ["FILES"]

_README = readme(
    "federal plugin: it builds the federal forms B, C and D of a contract event and submits them to a "
    "federal service (SPP IS / NovaPrima, or another transport), then fetches their answers",
    '''[cpas.liege]
federal = "{{name}}"

[cpas.liege.plugins.{{name}}]
endpoint = "https://{{name}}.example/soap"''',
)

_PLUGIN = (
    '''"""{{name}}: a piis-bridge federal plugin (forms B, C and D).

piis-bridge calls these hooks for every CPAS whose configuration says ``federal = "{{name}}"``;
``cpas.settings`` holds this plugin's settings for that CPAS (validated by :class:`Settings`).
Replace each ``NotImplementedError`` with the real thing; ``pytest`` runs the piis-bridge federal
conformance kit against it.  Reference: piis-bridge ``docs/plugins.md`` (federal hooks, the kit).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from piis_bridge.forms import ContractEvent, FederalForm, SubmissionOutcome
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import CpasContext
from piis_bridge.model import PIISContract

__all__ = ["Settings", "piis_plugin_settings", "piis_federal_build_forms", "piis_federal_submit",
           "piis_federal_fetch_results"]

PLUGIN_NAME = "{{name}}"


'''
    + skeleton(
        """    endpoint: str
"""
    )
    + """

@hookimpl
def piis_federal_build_forms(cpas: CpasContext, contract: PIISContract, event: ContractEvent) -> list[FederalForm]:
    raise _todo(
        "piis_federal_build_forms",
        "return the FederalForms (B, C or D) this event requires, each with a stable client_reference or "
        "content (the idempotency key) and record_id = contract.contract_id; raise for a form you cannot build",
    )


@hookimpl
def piis_federal_submit(cpas: CpasContext, forms: list[FederalForm]) -> list[SubmissionOutcome]:
    raise _todo(
        "piis_federal_submit",
        "send the forms, never creating a second claim for a key already sent (ask the service first), and "
        "return one SubmissionOutcome per form, in order",
    )


@hookimpl
def piis_federal_fetch_results(cpas: CpasContext, tickets: list[str]) -> list[SubmissionOutcome]:
    raise _todo(
        "piis_federal_fetch_results",
        "return the outcomes of the forms still pending under these tickets (final once answered)",
    )
"""
)

_TESTS = '''"""The piis-bridge federal conformance kit, run against this plugin.

``{{Class}}Harness`` drives the federal service under test (a sandbox, or piis-bridge's NovaPrima
simulator: the ``federal_simulator`` fixture); implement it next to the hooks.  Until then these tests
fail with a message naming what is missing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import {{package}} as plugin
from piis_bridge.forms import FederalForm
from piis_bridge.testing import FederalPluginConformance, PluginUnderTest

SETTINGS = {"endpoint": "http://127.0.0.1:9/not-configured"}


class {{Class}}Harness:
    """The federal service under test, seen from the kit."""

    def contract(self, index: int) -> Any:
        raise NotImplementedError("harness: return a valid contract of the test CPAS (distinct per index) that "
                                  "the service accepts (piis_bridge.testing.minimal_contract helps)")

    def break_form(self, form: FederalForm) -> FederalForm:
        raise NotImplementedError("harness: return the form changed so that your local validation refuses it")

    def claims(self) -> int:
        raise NotImplementedError("harness: count the forms (claims) the service holds")


def test_the_entry_point_names_the_plugin_module() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["piis_bridge"] == {"{{name}}": "{{package}}"}


class Test{{Class}}FederalConformance(FederalPluginConformance):
    @pytest.fixture
    def federal_plugin(self) -> PluginUnderTest:
        return PluginUnderTest(name="{{name}}", plugin=plugin, harness={{Class}}Harness(), settings=SETTINGS)
'''

FILES: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "README.md": _README,
    "src/{{package}}/__init__.py": _PLUGIN,
    "src/{{package}}/py.typed": "",
    "tests/test_conformance.py": _TESTS,
}
