"""The per-CPAS ``language`` setting: default, accepted values, and errors that say where and how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.config import ConfigError, load_settings

CPAS = '[cpas.eupen]\nname = "ÖSHZ Eupen"\nins_code = "63023"\nbce = "0212167110"\n'


def _file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "piis-bridge.toml"
    path.write_text(CPAS + extra, encoding="utf-8")
    return path


def test_default_is_english(tmp_path: Path) -> None:
    assert load_settings(_file(tmp_path)).cpas["eupen"].language == "en"


@pytest.mark.parametrize("value", ["fr", "nl", "de", "en", "DE"])
def test_the_four_languages_are_accepted(tmp_path: Path, value: str) -> None:
    assert (
        load_settings(_file(tmp_path, f'language = "{value}"\n')).cpas["eupen"].language
        == value.lower()
    )


def test_an_unsupported_language_names_the_setting_its_file_and_the_fix(tmp_path: Path) -> None:
    path = _file(tmp_path, 'language = "wa"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert str(path) in text and "cpas.eupen.language" in text
    assert "unsupported language 'wa'" in text and 'language = "fr", "nl", "de" or "en"' in text


def test_the_environment_sets_it_too_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIIS_CPAS__EUPEN__LANGUAGE", "de")
    assert load_settings(_file(tmp_path)).cpas["eupen"].language == "de"
    monkeypatch.setenv("PIIS_CPAS__EUPEN__LANGUAGE", "german")
    with pytest.raises(
        ConfigError,
        match="cpas.eupen.language: .*unsupported language 'german' "
        r"\(from the environment variable PIIS_CPAS__EUPEN__LANGUAGE\)",
    ):
        load_settings(_file(tmp_path))
