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
    (tmp_path / "piis-bridge.toml").write_text(
        '[plugins]\ndisabled = ["transfer"]\n', encoding="utf-8"
    )
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
    config.write_text(
        CPAS + '[cpas.liege.plugins.fedral]\nendpoint = "http://127.0.0.1:1"\n', encoding="utf-8"
    )
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1
    assert (
        "cpas.liege.plugins.fedral: no enabled plugin named 'fedral'; did you mean 'federal'?"
        in result.output
    )


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
    monkeypatch.setenv(
        "PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim"
    )  # a CPAS with no name...
    assert _run("--help").exit_code == 0
    result = _run("plugins", "check")
    assert result.exit_code == 1 and "cpas.liege.name: Field required" in result.output
    assert "geheim" not in result.output


def test_the_shipped_example_configuration_passes_plugins_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = Path(__file__).resolve().parents[2] / "piis-bridge.example.toml"
    monkeypatch.setenv("PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
    result = _run("--lang", "en", "plugins", "check", "--config", str(example))  # its CPAS are fr
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output and "2 CPAS configured" in result.output
    # Where each effective setting came from.
    assert "cpas.gent.plugins.federal.endpoint = http://127.0.0.1:8765" in result.output
    assert f"(file {example})" in result.output
    assert (
        "cpas.gent.plugins.neptunus.client_secret = *** (environment PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET)"
        in result.output
    )
    assert (
        "cpas.bruxelles.federal = none (default): forms are neither built nor sent" in result.output
    )


def test_a_plugin_whose_command_registration_raises_is_reported_and_the_cli_still_works(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from piis_bridge.hooks import hookimpl, manager

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
    assert (
        "plugin 'broken' failed to register its commands (RuntimeError: missing optional dependency)"
        in built.err
    )
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "plugins" in result.stdout
    sim = CliRunner().invoke(build_app(), ["sim", "--help"])
    assert "broken" not in sim.stdout


def test_plugins_check_fails_on_a_routed_federal_plugin_without_its_endpoint(
    tmp_path: Path,
) -> None:
    config = tmp_path / "x.toml"
    config.write_text(CPAS, encoding="utf-8")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1
    assert "cpas.liege.plugins.federal.endpoint: required setting missing" in result.output
    assert "PIIS_CPAS__LIEGE__PLUGINS__FEDERAL__ENDPOINT" in result.output


def test_a_loopback_endpoint_needs_the_simulator_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "x.toml"
    config.write_text(
        CPAS + '[cpas.liege.plugins.federal]\nendpoint = "http://127.0.0.1:8765/x"\n',
        encoding="utf-8",
    )
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1
    assert (
        f"cpas.liege.plugins.federal.endpoint = http://127.0.0.1:8765/x (file {config}) is a loopback address"
        in result.output
    )
    monkeypatch.setenv("PIIS_ENVIRONMENT", "simulator")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "environment = simulator (environment PIIS_ENVIRONMENT)" in result.output
    assert "cpas.liege.plugins.federal.mode = batch (default)" in result.output


def test_a_multi_tenant_case_system_without_its_identity_filter_fails_the_check(
    tmp_path: Path,
) -> None:
    config = tmp_path / "x.toml"
    base = (
        'environment = "simulator"\n[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0212345173"\n'
        'case_system = "neptunus"\n[cpas.gent.plugins.neptunus]\nbase_url = "http://127.0.0.1:8700"\n'
        'client_id = "x"\nclient_secret_file = "%s"\n' % (tmp_path / "secret")
    )
    (tmp_path / "secret").write_text("geheim", encoding="utf-8")
    config.write_text(base, encoding="utf-8")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1
    assert "cpas.gent.plugins.neptunus.ocmw_kbo: 'neptunus' serves several CPAS" in result.output
    config.write_text(base + 'ocmw_kbo = "0212345272"\n', encoding="utf-8")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 1 and "is not the BCE of cpas.gent (0212345173)" in result.output
    config.write_text(base + 'ocmw_kbo = "0212345173"\n', encoding="utf-8")
    result = _run("plugins", "check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "cpas.gent.federal = none (default): forms are neither built nor sent" in result.output
