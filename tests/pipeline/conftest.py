"""Fixtures of the pipeline tests: the test remote, settings, and per-test PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.config import Settings
from tests.pipeline.remote import Remote, RemoteState

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "pipetest=tests.pipeline.plugin"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def pipetest_config(
    root: Path,
    url: str,
    *,
    database_url: str | None = None,
    result_backend: bool = True,
    language: str | None = None,
) -> Path:
    """Write ``root/piis-bridge.toml``: one CPAS (OCMW gent) whose case system and federal service
    are the test remote at *url* (the ``pipetest`` plugin, :data:`PLUGIN`); SQLite under *root*
    unless *database_url* is given.  The one configuration the command-line tests of the pipeline
    run under, written here once so that a change of the settings' shape is made once."""
    lines = [
        'environment = "simulator"',
        f'database_url = "{database_url or f"sqlite:///{root}/app.sqlite3"}"',
    ]
    if result_backend:
        lines.append(f'result_backend = "db+sqlite:///{root}/results.sqlite3"')
    lines += [
        f'state_dir = "{root}/state"',
        "[plugins]",
        'enabled = ["pipetest"]',
        "[cpas.gent]",
        'name = "OCMW gent"',
        'ins_code = "44021"',
        'bce = "0207567726"',
        'case_system = "pipetest"',
        'federal = "pipetest"',
        'transfer = ""',
    ]
    if language:
        lines.append(f'language = "{language}"')
    lines += ["[cpas.gent.plugins.pipetest]", f'url = "{url}"']
    config = root / "piis-bridge.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker subprocess imports the test plugin (tests.pipeline.plugin) by module path.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture
def make_remote() -> Iterator[Callable[..., Remote]]:
    remotes: list[Remote] = []

    def make(records: int, **kw: int) -> Remote:
        remote = Remote(RemoteState(records, **kw)).__enter__()
        remotes.append(remote)
        return remote

    yield make
    for remote in remotes:
        remote.__exit__()


def make_settings(
    tmp_path: Path,
    remote_url: str,
    *,
    database_url: str | None = None,
    broker_url: str = "filesystem://",
    cpas: tuple[str, ...] = ("gent",),
    transfer: str | None = None,
    rule_parameters: dict[str, dict[str, Any]] | None = None,
) -> Settings:
    """Settings for CPAS served by the pipetest plugin; ``rule_parameters`` per CPAS id go to the
    plugin's ``piis_rule_parameters``; ``transfer`` names the CPAS's transfer plugin."""

    def plugin_settings(cpas_id: str) -> dict[str, Any]:
        extra = (rule_parameters or {}).get(cpas_id)
        return {"url": remote_url, **({"rule_parameters": extra} if extra else {})}

    return Settings.model_validate(
        {
            "database_url": database_url or f"sqlite:///{tmp_path}/app.sqlite3",
            "broker_url": broker_url,
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["pipetest"]},
            "cpas": {
                c: {
                    "name": f"OCMW {c}",
                    "ins_code": "44021",
                    "bce": "0207567726",
                    "case_system": "pipetest",
                    "federal": "pipetest",
                    "transfer": transfer,
                    "plugins": {"pipetest": plugin_settings(c)},
                }
                for c in cpas
            },
        }
    )


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (the shared ``test`` database is left alone)."""
    from tests.conftest import require_service

    require_service("postgres")
    import psycopg

    name = f"piis_pipe_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
