"""The files of a new case-system plugin package (see :func:`piis_bridge.templates.render_plugin`)."""

from __future__ import annotations

from piis_bridge.templates._common import PYPROJECT, readme, skeleton

__all__ = ["FILES"]

_README = readme(
    "case-system plugin: it reads PIIS contracts from the `{{name}}` case system and pushes federal answers "
    "and deadline alerts back to it",
    """[cpas.liege]
case_system = "{{name}}"

[cpas.liege.plugins.{{name}}]
base_url = "https://{{name}}.example/api"
# api_token: environment variable PIIS_CPAS__LIEGE__PLUGINS__{{NAME}}__API_TOKEN""",
)

_PLUGIN = (
    '''"""{{name}}: a piis-bridge case-system plugin.

piis-bridge calls these hooks for every CPAS whose configuration says ``case_system = "{{name}}"``;
``cpas.settings`` holds this plugin's settings for that CPAS (validated by :class:`Settings`).
Replace each ``NotImplementedError`` with the real thing; ``pytest`` runs the piis-bridge
conformance kit against it.  Reference: piis-bridge ``docs/plugins.md``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import ChangePage, CpasContext, MappingOutcome, PushItem, PushResult, SourceRecord

__all__ = [
    "Settings",
    "piis_plugin_settings",
    "piis_case_fetch_changes",
    "piis_case_map_record",
    "piis_case_push",
]

PLUGIN_NAME = "{{name}}"


'''
    + skeleton(
        """    base_url: str
    # A secret: from PIIS_CPAS__<ID>__PLUGINS__{{NAME}}__API_TOKEN or api_token_file, never the TOML file.
    api_token: SecretStr | None = None
"""
    )
    + """

@hookimpl
def piis_case_fetch_changes(cpas: CpasContext, cursor: str | None, page_size: int) -> ChangePage:
    settings = Settings.model_validate(cpas.settings)  # noqa: F841 - use settings.base_url
    raise _todo(
        "piis_case_fetch_changes",
        "return a ChangePage with at most page_size SourceRecords changed after `cursor` "
        "(None on the first sync), the cursor to resume from, and has_more",
    )


@hookimpl
def piis_case_map_record(cpas: CpasContext, record: SourceRecord) -> MappingOutcome:
    raise _todo(
        "piis_case_map_record",
        "return MappingOutcome(record_id=..., contract=PIISContract(...)), or problems=[RecordProblem(...)] "
        "naming each bad field, or skip_reason for records that are not contracts",
    )


@hookimpl
def piis_case_push(cpas: CpasContext, items: list[PushItem]) -> list[PushResult]:
    raise _todo(
        "piis_case_push",
        "create a task per PushItem, idempotent on item.key (created the first time, duplicate after), "
        "and return one PushResult per item in the same order",
    )
"""
)

_TESTS = '''"""The piis-bridge conformance kit, run against this plugin.

``{{Class}}Harness`` drives your system (a sandbox or a local simulator) the way a social worker
would; implement it next to the hooks.  Until then these tests fail with a message naming what
is missing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import {{package}} as plugin
from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.testing import CaseSystemPluginConformance, PluginUnderTest

SETTINGS = {"base_url": "http://127.0.0.1:9"}


class {{Class}}Harness:
    """Creates and changes records in the {{name}} system under test."""

    def create_record(self, index: int) -> str:
        raise NotImplementedError("harness: create a valid contract record (distinct per index); return its id")

    def modify_record(self, record_id: str) -> None:
        raise NotImplementedError("harness: change the record so that it comes back in the change feed")

    def create_invalid_record(self) -> str:
        raise NotImplementedError("harness: create a record whose mapping must report problems; return its id")

    def task_count(self, key: str) -> int:
        raise NotImplementedError("harness: count the tasks created in your system with this idempotency key")


def test_the_entry_point_names_the_plugin_module() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["piis_bridge"] == {"{{name}}": "{{package}}"}


def test_the_plugin_loads_with_valid_hooks_and_settings(tmp_path: Path) -> None:
    cpas = {"name": "CPAS de test", "ins_code": "62063", "bce": "0207916035", "case_system": "{{name}}",
            "federal": None, "transfer": None, "plugins": {"{{name}}": SETTINGS}}
    host = PluginHost(Settings(cpas={"test": cpas}, state_dir=tmp_path), plugins=[("{{name}}", plugin)],
                      load_entrypoints=False, strict=False)
    assert host.problems == []
    (info,) = host.plugin_infos()
    assert {"piis_case_fetch_changes", "piis_case_map_record", "piis_case_push"} <= set(info.hooks)


class Test{{Class}}Conformance(CaseSystemPluginConformance):
    @pytest.fixture
    def case_plugin(self) -> PluginUnderTest:
        return PluginUnderTest(name="{{name}}", plugin=plugin, harness={{Class}}Harness(), settings=SETTINGS)
'''

FILES: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "README.md": _README,
    "src/{{package}}/__init__.py": _PLUGIN,
    "src/{{package}}/py.typed": "",
    "tests/test_conformance.py": _TESTS,
}
