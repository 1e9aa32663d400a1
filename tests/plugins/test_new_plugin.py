"""``piis-bridge new-plugin NAME``: a plugin package that loads, declares its entry point and runs the kit."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.templates import PluginTemplateError, render_plugin


def _pytest(project: Path) -> dict[str, str]:
    """Run the generated project's tests in a subprocess; test name -> passed/failed + message."""
    report = project / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcome = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        skipped = case.find("skipped") is not None
        outcome[case.get("name", "")] = (
            ("skipped" if skipped else "passed")
            if failure is None
            else "failed: " + (failure.get("message") or "")
        )
    return outcome


# The kit's checks of the optional piis_case_fetch_record skip for a plugin that does not implement it.
_OPTIONAL = (
    "test_fetch_record_returns_the_feeds_current_version",
    "test_fetch_record_of_an_unknown_id_is_none",
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = CliRunner().invoke(build_app(), ["new-plugin", "acme_care", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / "piis-bridge-acme-care"


def test_the_skeleton_declares_its_entry_point_and_loads_as_a_plugin(project: Path) -> None:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "piis-bridge-acme-care"
    assert meta["project"]["entry-points"]["piis_bridge"] == {"acme_care": "piis_bridge_acme_care"}
    assert any(dep.startswith("piis-bridge>=") for dep in meta["project"]["dependencies"])

    spec = importlib.util.spec_from_file_location(
        "piis_bridge_acme_care", project / "src/piis_bridge_acme_care/__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    host = PluginHost(plugins=[("acme_care", module)], load_entrypoints=False, strict=True)
    (info,) = host.plugin_infos()
    assert info.hooks == (
        "piis_case_fetch_changes",
        "piis_case_map_record",
        "piis_case_push",
        "piis_plugin_settings",
    )


def test_the_stubs_fail_the_kit_with_a_message_naming_the_missing_piece(project: Path) -> None:
    results = _pytest(project)
    assert results.pop("test_the_entry_point_names_the_plugin_module") == "passed"
    assert results.pop("test_the_plugin_loads_with_valid_hooks_and_settings") == "passed"
    assert [results.pop(name) for name in _OPTIONAL] == ["skipped", "skipped"]
    assert len(results) == 13
    for name, result in results.items():
        assert result.startswith("failed: ") and "NotImplementedError" in result, (name, result)
        assert (
            "harness: " in result
            or "acme_care: piis_case_fetch_changes is not implemented yet" in result
        ), result


def test_once_the_hooks_are_written_the_generated_tests_pass(project: Path) -> None:
    plugin_file = project / "src/piis_bridge_acme_care/__init__.py"
    plugin_file.write_text(
        plugin_file.read_text(encoding="utf-8")
        + """

# --- a vendor's implementation (here: the kit's in-memory sample system) ---
from piis_bridge.testing.sample import SampleCaseSystem, SampleCaseSystemPlugin

IMPL = SampleCaseSystemPlugin(SampleCaseSystem(), name=PLUGIN_NAME)


@hookimpl
def piis_case_fetch_changes(cpas, cursor, page_size):
    return IMPL.piis_case_fetch_changes(cpas, cursor, page_size)


@hookimpl
def piis_case_map_record(cpas, record):
    return IMPL.piis_case_map_record(cpas, record)


@hookimpl
def piis_case_push(cpas, items):
    return IMPL.piis_case_push(cpas, items)
""",
        encoding="utf-8",
    )
    tests = project / "tests/test_conformance.py"
    text = (
        tests.read_text(encoding="utf-8")
        .replace(
            "return PluginUnderTest(",
            "from piis_bridge.testing import SampleCaseSystem, SampleHarness\n"
            "        plugin.IMPL.system = system = SampleCaseSystem()\n"
            "        return PluginUnderTest(",
        )
        .replace("harness=AcmeCareHarness()", "harness=SampleHarness(system)")
    )
    tests.write_text(text, encoding="utf-8")
    results = _pytest(project)
    assert [results.pop(name) for name in _OPTIONAL] == ["skipped", "skipped"]
    assert len(results) == 15 and set(results.values()) == {"passed"}, results


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Acme", "use 2-31 lower-case letters"),
        ("a", "use 2-31 lower-case letters"),
        ("acme--care", "use 2-31 lower-case letters"),
        ("acme-", "use 2-31 lower-case letters"),
        ("1acme", "use 2-31 lower-case letters"),
        ("neptunus", "taken by a built-in plugin"),
        ("piis-bridge-federal", "taken by a built-in plugin"),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(PluginTemplateError, match=message):
        render_plugin(name, tmp_path)


@pytest.mark.parametrize("typed", ["acme-cases", "acme_cases", "piis-bridge-acme-cases"])
def test_the_names_vendors_use_are_accepted_and_derived(typed: str) -> None:
    from piis_bridge.templates import plugin_names

    names = plugin_names(typed)
    assert (names["name"], names["package"], names["dist"]) == (
        "acme_cases",
        "piis_bridge_acme_cases",
        "piis-bridge-acme-cases",
    )


@pytest.mark.parametrize(
    "kind, hooks",
    [
        (
            "federal",
            {"piis_federal_build_forms", "piis_federal_submit", "piis_federal_fetch_results"},
        ),
        ("transfer", {"piis_transfer_export", "piis_transfer_send", "piis_transfer_import"}),
    ],
)
def test_federal_and_transfer_templates_load_as_plugins(
    tmp_path: Path, kind: str, hooks: set[str]
) -> None:
    result = CliRunner().invoke(
        build_app(), ["new-plugin", "acme-cases", "--kind", kind, "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0 and f"({kind} plugin)" in result.output, result.output
    project = tmp_path / "piis-bridge-acme-cases"
    spec = importlib.util.spec_from_file_location(
        "piis_bridge_acme_cases", project / "src/piis_bridge_acme_cases/__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (info,) = PluginHost(
        plugins=[("acme_cases", module)], load_entrypoints=False, strict=True
    ).plugin_infos()
    assert hooks | {"piis_plugin_settings"} == set(info.hooks)
    assert "not published on PyPI" in (project / "README.md").read_text(encoding="utf-8")


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_app(), ["new-plugin", "acme", "--kind", "vendor", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "case-system, federal, transfer" in result.output


def test_an_existing_project_is_never_overwritten(project: Path) -> None:
    result = CliRunner().invoke(
        build_app(), ["new-plugin", "acme_care", "--dir", str(project.parent)]
    )
    assert result.exit_code == 2 and "already exists" in result.output
