"""Every installed case-system plugin runs the conformance kit somewhere in tests/.

The kit itself runs in each plugin's own test module (tests/casesystem/test_neptunus_plugin.py for
neptunus, with the simulator harness its author maintains); this test makes sure no case-system
plugin ships without it, including a plugin added later.
"""

from __future__ import annotations

import ast
from pathlib import Path

from piis_bridge.config import default_settings
from piis_bridge.hooks.manager import PluginHost

TESTS = Path(__file__).resolve().parents[1]


def _plugins_under_conformance() -> dict[str, str]:
    """plugin name -> test file, for every ``class TestX(CaseSystemPluginConformance)``."""
    covered: dict[str, str] = {}
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            bases = {getattr(b, "id", getattr(b, "attr", None)) for b in cls.bases}
            if "CaseSystemPluginConformance" not in bases or not cls.name.startswith("Test"):
                continue
            for call in (n for n in ast.walk(cls) if isinstance(n, ast.Call)):
                if getattr(call.func, "id", None) == "PluginUnderTest":
                    for kw in call.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            covered[kw.value.value] = str(path.relative_to(TESTS.parent))
    return covered


def test_every_case_system_plugin_passes_through_the_kit() -> None:
    host = PluginHost(default_settings(), strict=False)
    case_plugins = {i.name for i in host.plugin_infos() if "piis_case_fetch_changes" in i.hooks}
    covered = _plugins_under_conformance()
    missing = sorted(case_plugins - set(covered))
    assert missing == [], f"case-system plugins without a CaseSystemPluginConformance test: {missing}"


def test_the_scan_finds_the_known_conformance_suites() -> None:
    covered = _plugins_under_conformance()
    assert covered["sample"] == "tests/plugins/test_conformance_sample.py"
    assert "neptunus" in covered


def test_every_installed_plugin_loads_with_valid_hooks_and_settings_model() -> None:
    """The part of conformance every plugin (federal, transfer too) must pass: strict startup."""
    host = PluginHost(default_settings(), strict=False)
    assert host.problems == []
    infos = host.plugin_infos()
    assert {"federal", "neptunus", "filedrop", "transfer"} <= {i.name for i in infos}
    assert [i.name for i in infos if i.error] == []
