"""The real command line under a one-CPAS configuration, shared by the language tests of the
operators' commands (``test_admin_cli_languages``, ``test_ops_texts_languages``).

Kept in one place so that the configuration every such test runs under -- OCMW Gent on the neptunus
case system, speaking the language under test -- is written once, and a change of the settings'
shape is made once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app


def gent_config(root: Path, language: str, extra: str = "") -> Path:
    """Write ``root/piis-bridge.toml``: a one-CPAS configuration (OCMW Gent, the neptunus case
    system, SQLite under *root*) speaking *language*; *extra* is appended as TOML."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "piis-bridge.toml"
    path.write_text(
        f'''environment = "simulator"
database_url = "sqlite:///{root / "app.sqlite3"}"
state_dir = "{root / "state"}"

[cpas.gent]
name = "OCMW Gent"
ins_code = "44021"
bce = "0207567726"
case_system = "neptunus"
language = "{language}"
{extra}''',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def use_config(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point PIIS_CONFIG at a configuration (and nothing else of the environment's PIIS_*)."""
    for name in list(os.environ):
        if name.startswith("PIIS_") and name not in ("PIIS_DATA_KEYS", "PIIS_HASH_KEY"):
            monkeypatch.delenv(name)

    def use(path: Path) -> None:
        monkeypatch.setenv("PIIS_CONFIG", str(path))

    return use


def cli(*args: str) -> tuple[int, str]:
    """The real application, built after the configuration is chosen (plugins add commands)."""
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output
