"""docs/architecture.md "Where a newcomer adds…": the "a plugin" and "a mapping" steps, followed literally.

Why: a how-to nobody runs drifts from the code.  Each test reads its step's text from the document, does
what it says (the command it names, the file it names), and checks every promise the step makes, so a
change to the command, the generated package, the mapping format or the document fails here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.config import CpasSettings, Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import SourceRecord
from piis_bridge.mapping import load_mapping
from piis_bridge.model import PIISContract

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _step(what: str) -> str:
    """The text of the bullet ``- **<what>**: ...`` of the "Where a newcomer adds…" section."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Where a newcomer adds…", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"^- \*\*{re.escape(what)}\*\*: (.*?)(?=^- \*\*|\Z)", section, re.M | re.S)
    assert found, f"docs/architecture.md has no step for {what!r}"
    return " ".join(found.group(1).split())


def test_add_a_plugin_as_the_architecture_document_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _step("a plugin")
    command = re.search(r"`piis-bridge (new-plugin) NAME`", step)
    assert command, step
    # "`piis-bridge new-plugin NAME` generates a package ..."
    result = CliRunner().invoke(
        build_app(), [command.group(1), "acme-cases", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (project,) = tmp_path.iterdir()
    package = project / "src" / "piis_bridge_acme_cases"

    # "... with the entry point ..."
    assert "entry point" in step
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = meta["project"]["entry-points"]["piis_bridge"]
    assert entry_points == {"acme_cases": "piis_bridge_acme_cases"}

    # "... hook stubs ...": the package loads as a plugin, is routed to a CPAS without a problem, and
    # each stub, when called, fails naming the hook and where it is documented.
    assert "hook stubs" in step
    spec = importlib.util.spec_from_file_location("piis_bridge_acme_cases", package / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Installed, the package is imported by name: pydantic resolves the settings' annotations there.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    cpas = CpasSettings.model_validate(
        {
            "name": "CPAS de Liège",
            "ins_code": "62063",
            "bce": "0207916035",
            "case_system": "acme_cases",
            "federal": None,
            "transfer": None,
            "plugins": {"acme_cases": {"base_url": "https://acme.example/api"}},
        }
    )
    settings = Settings(cpas={"liege": cpas}, state_dir=tmp_path / "state")
    host = PluginHost(settings, plugins=[("acme_cases", module)], load_entrypoints=False)
    assert host.problems == []
    (info,) = host.plugin_infos()
    assert host.case_fetch_changes("liege", None) is None
    (failure,) = host.drain_failures()
    assert failure.plugin == "acme_cases" and failure.error_type == "NotImplementedError"
    assert "docs/plugins.md#plugin_hook_piis_case_fetch_changes" in failure.message

    # "... and a test using the conformance kit (`piis_bridge.testing`)"
    assert "`piis_bridge.testing`" in step
    tests = "".join(p.read_text(encoding="utf-8") for p in (project / "tests").glob("test_*.py"))
    assert "from piis_bridge.testing import" in tests and "Conformance" in tests

    # "`docs/plugins.md` documents every hook": every hook the skeleton implements has its section.
    assert "`docs/plugins.md` documents every hook" in step
    reference = (DOCS / "plugins.md").read_text(encoding="utf-8")
    for hook in info.hooks:
        assert f'<a id="plugin_hook_{hook}"></a>' in reference, hook


def _record(payload: dict[str, object]) -> SourceRecord:
    return SourceRecord(
        source="neptunus",
        record_id=str(payload["contractnummer"]),
        kind="piis_contract",
        modified_at=datetime(2026, 11, 3, tzinfo=UTC),
        payload=payload,
    )


def test_add_a_mapping_as_the_architecture_document_says(tmp_path: Path) -> None:
    from piis_connectors.casesystem.seed import generate

    step = _step("a mapping")
    # "a YAML file in `mappings/<vendor>/` (format in `docs/casesystem.md`)"
    where = re.search(r"`mappings/<vendor>/` \(format in `docs/(\w+\.md)`\)", step)
    assert where, step
    assert "mapping_version" in (DOCS / where.group(1)).read_text(encoding="utf-8")
    shipped = ROOT / "mappings" / "neptunus" / "contract.yaml"
    document = yaml.safe_load(shipped.read_text(encoding="utf-8"))

    # A vendor's new contract model code, and "bump its `mapping_version`".
    assert "bump its `mapping_version`" in step
    document["code_lists"]["gpmi_type"]["ALG2"] = "GENERAL"
    document["mapping_version"] += 1
    mine = tmp_path / "mappings" / "acme" / "contract.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert load_mapping(mine, PIISContract).mapping_version == document["mapping_version"]

    # The run uses it: the neptunus plugin reads it from its `mapping_file` setting.
    seed = next(iter(generate(1, seed=7)))
    cpas = CpasSettings.model_validate(
        {
            "name": "OCMW Test",
            "ins_code": "11002",
            "bce": seed.ocmw,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {
                "neptunus": {
                    "base_url": "http://127.0.0.1:9",
                    "client_id": "piis-bridge",
                    "client_secret": "not-used-by-mapping",
                    "ocmw_kbo": seed.ocmw,
                    "mapping_file": str(mine),
                }
            },
        }
    )
    import piis_plugins.neptunus as neptunus

    host = PluginHost(
        Settings(cpas={"gent": cpas}, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
    )
    assert host.problems == []
    known = host.case_map_record("gent", _record({**seed.data, "gpmi_type": "ALG2"}))
    assert known.contract is not None, known.problems
    assert [str(tag) for tag in known.contract.form_tags] == ["GENERAL"]

    # "Unknown codes are reported by the run, never guessed."
    assert "Unknown codes are reported by the run, never guessed" in step
    unknown = host.case_map_record("gent", _record({**seed.data, "gpmi_type": "QQQ"}))
    assert unknown.contract is None
    assert any(p.field.startswith("gpmi_type") or "QQQ" in p.reason for p in unknown.problems), (
        unknown.problems
    )
