"""``piis-bridge plugins`` and ``plugins check`` against the installed entry points and a config file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app

CPAS = '[cpas.liege]\nname = "CPAS de Liège"\nins_code = "62063"\nbce = "0207916035"\nfederal = "federal"\n'


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PIIS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_plugins_lists_every_installed_plugin_with_distribution_and_state(tmp_path: Path) -> None:
    (tmp_path / "piis-bridge.toml").write_text('[plugins]\ndisabled = ["transfer"]\n', encoding="utf-8")
    result = _run("plugins", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    plugins = {p["name"]: p for p in data["plugins"]}
    assert {"federal", "neptunus", "filedrop", "transfer"} <= set(plugins)
    assert plugins["neptunus"]["distribution"] == "piis-bridge" and plugins["neptunus"]["version"]
    assert plugins["transfer"]["enabled"] is False and plugins["federal"]["enabled"] is True
    table = _run("plugins")
    assert table.exit_code == 0 and "disabled" in table.output and "piis-bridge" in table.output


def test_plugins_check_passes_on_the_embedded_defaults() -> None:
    result = _run("plugins", "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_plugins_check_names_unknown_plugin_settings_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "x.toml"
    config.write_text(CPAS + '[cpas.liege.plugins.fedral]\nendpoint = "http://127.0.0.1:1"\n', encoding="utf-8")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1
    assert "cpas.liege.plugins.fedral: no enabled plugin named 'fedral'; did you mean 'federal'?" in result.output


def test_plugins_check_reports_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "x.toml"
    config.write_text('log_formt = "json"\n', encoding="utf-8")
    result = _run("plugins", "check", "-c", str(config))
    assert result.exit_code == 1 and "log_formt: unknown key" in result.output


def test_a_broken_configuration_does_not_take_the_cli_down(tmp_path: Path) -> None:
    (tmp_path / "piis-bridge.toml").write_text("not toml at all = = =\n", encoding="utf-8")
    result = _run("--help")
    assert result.exit_code == 0 and "plugins" in result.output


def test_a_broken_environment_does_not_take_the_cli_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")  # a CPAS with no name...
    assert _run("--help").exit_code == 0
    result = _run("plugins", "check")
    assert result.exit_code == 1 and "cpas.liege.name: Field required" in result.output
    assert "geheim" not in result.output


def test_the_shipped_example_configuration_passes_plugins_check(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "piis-bridge.example.toml"
    monkeypatch.setenv("PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
    result = _run("plugins", "check", "--config", str(example))
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output and "2 CPAS configured" in result.output


def test_a_plugin_whose_command_registration_raises_is_reported_and_the_cli_still_works(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from piis_bridge.hooks import hookimpl
    from piis_bridge.hooks import manager

    class Broken:
        @hookimpl
        def piis_register_commands(self, cli):
            @cli.group("sim", help="simulators").command("broken")
            def broken() -> None:
                pass

            raise RuntimeError("missing optional dependency")

    original = manager.PluginHost.__init__

    def with_broken(self, settings=None, *, plugins=(), **kw):
        original(self, settings, plugins=[*plugins, ("broken", Broken())], **kw)

    monkeypatch.setattr(manager.PluginHost, "__init__", with_broken)
    app = build_app()
    built = capsys.readouterr()
    assert built.out == "", "nothing may reach stdout while the CLI is assembled"
    assert "plugin 'broken' failed to register its commands (RuntimeError: missing optional dependency)" in built.err
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "plugins" in result.stdout
    sim = CliRunner().invoke(build_app(), ["sim", "--help"])
    assert "broken" not in sim.stdout
