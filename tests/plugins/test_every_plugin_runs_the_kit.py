"""Every installed plugin runs the conformance kit that matches the hooks it implements (issue #4).

The kit itself runs in each plugin's own test module (tests/casesystem/test_neptunus_plugin.py for
neptunus, tests/federal/test_federal_conformance.py, tests/transfer/test_transfer_conformance.py,
with the harness each plugin's author maintains); this test makes sure no plugin ships without it,
including a plugin added later.  A plugin implementing none of the role hooks (the ``demo`` plugin
only registers a command) has no role contract to check: it passes the strict startup checks only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from piis_bridge.config import default_settings
from piis_bridge.hooks.manager import PluginHost

TESTS = Path(__file__).resolve().parents[1]

# hook-name prefix -> the conformance class a plugin implementing any such hook must run
KITS = {
    "piis_case_": "CaseSystemPluginConformance",
    "piis_federal_": "FederalPluginConformance",
    "piis_transfer_": "TransferPluginConformance",
}


def kits_required(hooks: tuple[str, ...] | list[str]) -> set[str]:
    return {kit for prefix, kit in KITS.items() if any(h.startswith(prefix) for h in hooks)}


def _plugins_under_conformance() -> dict[str, dict[str, str]]:
    """conformance class -> {plugin name -> test file}, for every ``class TestX(<Kit>)`` in tests/."""
    covered: dict[str, dict[str, str]] = {kit: {} for kit in KITS.values()}
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            bases = {getattr(b, "id", getattr(b, "attr", None)) for b in cls.bases} & set(
                KITS.values()
            )
            if not bases or not cls.name.startswith("Test"):
                continue
            for call in (n for n in ast.walk(cls) if isinstance(n, ast.Call)):
                if getattr(call.func, "id", None) == "PluginUnderTest":
                    for kw in call.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            for kit in bases:
                                covered[kit][kw.value.value] = str(path.relative_to(TESTS.parent))
    return covered


@pytest.fixture(scope="module")
def installed() -> dict[str, tuple[str, ...]]:
    host = PluginHost(default_settings(), strict=False)
    return {i.name: i.hooks for i in host.plugin_infos()}


@pytest.mark.parametrize("kit", sorted(KITS.values()))
def test_every_plugin_with_role_hooks_passes_through_its_kit(
    installed: dict[str, tuple[str, ...]], kit: str
) -> None:
    covered = _plugins_under_conformance()[kit]
    needing = {name for name, hooks in installed.items() if kit in kits_required(hooks)}
    missing = sorted(needing - set(covered))
    assert missing == [], f"plugins without a {kit} test: {missing}"


def test_the_scan_finds_the_known_conformance_suites() -> None:
    covered = _plugins_under_conformance()
    assert (
        covered["CaseSystemPluginConformance"]["sample"]
        == "tests/plugins/test_conformance_sample.py"
    )
    assert "neptunus" in covered["CaseSystemPluginConformance"]
    assert (
        covered["FederalPluginConformance"]["federal"]
        == "tests/federal/test_federal_conformance.py"
    )
    assert (
        covered["TransferPluginConformance"]["transfer"]
        == "tests/transfer/test_transfer_conformance.py"
    )


def test_the_role_of_a_plugin_follows_its_hooks(installed: dict[str, tuple[str, ...]]) -> None:
    assert kits_required(installed["federal"]) == {"FederalPluginConformance"}
    assert kits_required(installed["transfer"]) == {"TransferPluginConformance"}
    assert kits_required(installed["neptunus"]) == {"CaseSystemPluginConformance"}
    # a plugin implementing one hook of a role still needs that role's kit
    assert kits_required(["piis_case_push"]) == {"CaseSystemPluginConformance"}
    assert kits_required(["piis_transfer_import", "piis_federal_submit"]) == {
        "TransferPluginConformance",
        "FederalPluginConformance",
    }


def test_command_only_plugins_need_no_role_kit_but_must_load_strictly(
    installed: dict[str, tuple[str, ...]],
) -> None:
    command_only = {name for name, hooks in installed.items() if not kits_required(hooks)}
    assert "demo" in command_only and installed["demo"] == ("piis_register_commands",)
    host = PluginHost(
        default_settings(), strict=True
    )  # raises on any invalid hook or settings model
    assert command_only <= {i.name for i in host.plugin_infos() if i.error is None and i.enabled}


def test_every_installed_plugin_loads_with_valid_hooks_and_settings_model() -> None:
    """The part of conformance every plugin must pass, command-only ones included: strict startup."""
    host = PluginHost(default_settings(), strict=False)
    assert host.problems == []
    infos = host.plugin_infos()
    assert {"federal", "neptunus", "filedrop", "transfer", "demo"} <= {i.name for i in infos}
    assert [i.name for i in infos if i.error] == []
