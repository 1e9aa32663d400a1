"""Configuration: TOML file + PIIS_ environment, unknown keys and inline secrets are errors."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from piis_bridge.config import (
    ConfigError,
    Settings,
    is_secret_key,
    load_settings,
    resolve_secret_files,
)

ROOT = Path(__file__).resolve().parents[2]
CPAS = '[cpas.liege]\nname = "CPAS de Liège"\nins_code = "62063"\nbce = "0207916035"\ncase_system = "neptunus"\n'


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PIIS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str, name: str = "piis-bridge.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_without_any_file() -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.broker_url == "filesystem://"
    assert (
        settings.nightly_time == time(2, 30) and str(settings.nightly_zone()) == "Europe/Brussels"
    )
    assert settings.cpas == {} and settings.plugins.strict is True


def test_the_default_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    _write(tmp_path, 'log_format = "json"\n')
    assert load_settings().log_format == "json"


def test_piis_config_names_the_file_and_it_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIIS_CONFIG", str(tmp_path / "elsewhere.toml"))
    with pytest.raises(ConfigError, match=r"elsewhere\.toml does not exist"):
        load_settings()
    _write(tmp_path, 'log_level = "DEBUG"\n', "elsewhere.toml")
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('log_formt = "json"\n', "log_formt"),
        (CPAS + 'nmae = "x"\n', "cpas.liege.nmae"),
        ('[plugins]\ndisable = ["transfer"]\n', "plugins.disable"),
    ],
)
def test_unknown_keys_are_errors_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert f"{key}: unknown key (not a setting)" in str(err.value)


def test_a_secret_written_in_the_file_is_refused_with_the_variable_to_use(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CPAS + '[cpas.liege.plugins.neptunus]\nclient_id = "x"\nclient_secret = "geheim"\n',
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert "cpas.liege.plugins.neptunus.client_secret" in text
    assert "PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__CLIENT_SECRET" in text
    assert "geheim" not in text


def test_a_url_with_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, 'database_url = "postgresql+psycopg://piis:hunter2@db/piis"\n')
    with pytest.raises(ConfigError, match="database_url: set PIIS_DATABASE_URL") as err:
        load_settings(path)
    assert "hunter2" not in str(err.value)


def test_environment_overrides_the_file_and_supplies_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path,
        'log_format = "console"\n' + CPAS + '[cpas.liege.plugins.neptunus]\nclient_id = "x"\n',
    )
    monkeypatch.setenv("PIIS_LOG_FORMAT", "json")
    monkeypatch.setenv("PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
    monkeypatch.setenv("PIIS_DATABASE_URL", "postgresql+psycopg://piis:hunter2@db/piis")
    settings = load_settings(path)
    assert settings.log_format == "json"
    assert settings.plugin_settings("liege", "neptunus") == {
        "client_id": "x",
        "client_secret": "geheim",
    }
    assert "hunter2" in settings.database_url


def test_secret_files_are_read_and_conflicts_reported(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("geheim\n", encoding="utf-8")
    path = _write(
        tmp_path, CPAS + f'[cpas.liege.plugins.neptunus]\nclient_secret_file = "{secret}"\n'
    )
    assert load_settings(path).plugin_settings("liege", "neptunus") == {"client_secret": "geheim"}
    with pytest.raises(ConfigError, match="both client_secret and client_secret_file"):
        resolve_secret_files({"client_secret": "a", "client_secret_file": str(secret)}, where="x")
    with pytest.raises(ConfigError, match=r"x.client_secret_file: cannot read secret file"):
        resolve_secret_files({"client_secret_file": str(tmp_path / "missing")}, where="x")


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("client_secret", True),
        ("password", True),
        ("api_token", True),
        ("api_key", True),
        ("client_secret_file", False),
        ("base_url", False),
        ("token_url", False),
        ("page_size", False),
    ],
)
def test_which_keys_count_as_secrets(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_a_disabled_plugin_cannot_serve_a_cpas(tmp_path: Path) -> None:
    path = _write(tmp_path, '[plugins]\ndisabled = ["neptunus"]\n' + CPAS)
    with pytest.raises(
        ConfigError, match=r"cpas\.liege\.case_system: plugin 'neptunus' is disabled"
    ):
        load_settings(path)


def test_identifiers_and_time_zone_are_validated(tmp_path: Path) -> None:
    path = _write(
        tmp_path, 'timezone = "Europe/Bruxelles"\n' + CPAS.replace("0207916035", "0207916036")
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert (
        "timezone: unknown time zone 'Europe/Bruxelles' (expected e.g. 'Europe/Brussels') (file "
        in str(err.value)
    )
    assert "cpas.liege.bce:" in str(err.value)


def test_cpas_ids_are_short_lower_case_names(tmp_path: Path) -> None:
    path = _write(tmp_path, CPAS.replace("[cpas.liege]", '[cpas."Liège"]'))
    with pytest.raises(ConfigError, match="CPAS id 'Liège' must be lower-case"):
        load_settings(path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "log_format = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


def test_the_shipped_example_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(ROOT / "piis-bridge.example.toml")
    assert isinstance(settings, Settings)
    assert (
        settings.cpas["gent"].case_system == "neptunus"
        and settings.cpas["gent"].federal == "federal"
    )
    assert (
        settings.cpas["bruxelles"].case_system == "filedrop"
        and settings.cpas["bruxelles"].federal is None
    )
    assert settings.environment == "simulator"
    assert settings.broker_url == "filesystem://" and settings.database_url.startswith("sqlite")


def test_plugins_can_be_disabled_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIIS_PLUGINS__DISABLED", '["transfer", "filedrop"]')
    settings = load_settings()
    assert settings.plugins.disabled == ["transfer", "filedrop"]
    assert not settings.plugins.is_enabled("transfer") and settings.plugins.is_enabled("neptunus")


def test_the_routed_plugin_cannot_be_disabled_for_its_cpas(tmp_path: Path) -> None:
    path = _write(tmp_path, CPAS + 'disabled_plugins = ["neptunus"]\n')
    with pytest.raises(
        ConfigError, match="case_system plugin 'neptunus' is listed in disabled_plugins"
    ):
        load_settings(path)
