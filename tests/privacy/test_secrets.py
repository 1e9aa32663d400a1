"""Secrets: a URL with a password is refused in any TOML setting; the embedded worker gets its
settings through a 0600 file, never a secret in its environment or command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from piis_bridge.config import ConfigError, load_settings

CPAS = '[cpas.liege]\nname = "CPAS de Liège"\nins_code = "62063"\nbce = "0207916035"\ncase_system = "neptunus"\n'


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PIIS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "piis-bridge.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("toml", "key", "env"),
    [
        (
            'result_backend = "db+postgresql://u:PW-s3cret@db/piis"\n',
            "result_backend",
            "PIIS_RESULT_BACKEND",
        ),
        (
            'broker_url = "amqp://guest:PW-s3cret@127.0.0.1:5672//"\n',
            "broker_url",
            "PIIS_BROKER_URL",
        ),
        ('broker_url = "redis://:PW-s3cret@127.0.0.1:6379/0"\n', "broker_url", "PIIS_BROKER_URL"),
        (
            CPAS
            + '[cpas.liege.plugins.federal]\nendpoint = "https://u:PW-s3cret@federal.example/ws"\n',
            "cpas.liege.plugins.federal.endpoint",
            "PIIS_CPAS__LIEGE__PLUGINS__FEDERAL__ENDPOINT",
        ),
        (
            CPAS
            + '[cpas.liege.plugins.neptunus]\nmirrors = ["https://a.example", "https://u:PW-s3cret@b.example"]\n',
            "cpas.liege.plugins.neptunus.mirrors.1",
            "PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__MIRRORS__1",
        ),
    ],
)
def test_any_url_with_a_password_is_refused_like_other_secrets(
    tmp_path: Path, toml: str, key: str, env: str
) -> None:
    text = _load(tmp_path, toml)
    assert "secrets must not be written in the configuration file" in text
    assert f"{key}: set {env} in the environment" in text
    assert "PW-s3cret" not in text


def test_same_message_as_a_secret_key(tmp_path: Path) -> None:
    a = _load(tmp_path, CPAS + '[cpas.liege.plugins.neptunus]\nclient_secret = "PW-s3cret"\n')
    b = _load(tmp_path, 'result_backend = "db+postgresql://u:PW-s3cret@db/piis"\n')
    assert a.splitlines()[0] == b.splitlines()[0]


def test_urls_without_password_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "piis-bridge.toml"
    path.write_text(
        'result_backend = "db+postgresql://u@db/piis"\nbroker_url = "amqp://127.0.0.1//"\n',
        encoding="utf-8",
    )
    assert load_settings(path).result_backend == "db+postgresql://u@db/piis"


def test_embedded_worker_gets_a_0600_settings_file_and_no_secret_inline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from piis_bridge.pipeline.runner import EmbeddedWorker
    from piis_bridge.pipeline.worker import SETTINGS_ENV, read_settings_file

    monkeypatch.setenv("PIIS_RESULT_BACKEND", "db+postgresql://u:PW-s3cret@127.0.0.1/x")
    settings = load_settings()
    worker = EmbeddedWorker(settings)
    monkeypatch.delenv(
        "PIIS_RESULT_BACKEND"
    )  # what the parent's own environment had is not our copy
    worker.env.pop("PIIS_RESULT_BACKEND", None)
    worker._write_settings_file()
    try:
        path = worker.env[SETTINGS_ENV]
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert not any("PW-s3cret" in v for v in worker.env.values())
        assert not any("PW-s3cret" in a for a in worker.args)
        assert "PIIS_PIPELINE_SETTINGS_JSON" not in worker.env
        assert read_settings_file(path).result_backend.endswith("PW-s3cret@127.0.0.1/x")
        assert not os.path.exists(path)  # read once, then removed
    finally:
        worker._remove_settings_file()


def test_a_settings_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    from piis_bridge.pipeline.worker import read_settings_file

    path = tmp_path / "s.json"
    path.write_text(load_settings().model_dump_json(), encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="expected 600"):
        read_settings_file(str(path))


def test_embedded_worker_log_level_follows_piis_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    from piis_bridge.pipeline.runner import EmbeddedWorker

    def level(worker: EmbeddedWorker) -> str:
        return worker.args[worker.args.index("-l") + 1]

    assert (
        level(EmbeddedWorker(load_settings())) == "WARNING"
    )  # quiet by default under `piis-bridge run`
    monkeypatch.setenv("PIIS_LOG_LEVEL", "DEBUG")
    assert level(EmbeddedWorker(load_settings())) == "DEBUG"
