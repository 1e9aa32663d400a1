"""Lint, format and type checks, run as tests so CI runs them through the README's test command.

Why tests and not a separate CI step: ``.ci/run`` is exactly ``python3 dev.py test``; a check that lives
only in a CI script is one a contributor never runs locally.  Each test runs the tool the ``test`` extra
installs (pinned in pyproject.toml, configured there too) over the whole tree and fails with the tool's
own output, so the failure message is the list of findings to fix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(600)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _assert_clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}",
            pytrace=False,
        )


def test_ruff_check_is_clean() -> None:
    """Every rule pyproject.toml selects holds over the tree ([tool.ruff.lint])."""
    _assert_clean(_run("ruff", "check", "--no-cache", "."), "ruff check .")


def test_ruff_format_is_clean() -> None:
    """The tree is formatted (line length 100): a diff never mixes layout with meaning."""
    _assert_clean(_run("ruff", "format", "--check", "--no-cache", "."), "ruff format --check .")


def test_mypy_is_clean() -> None:
    """mypy with the pydantic plugin over piis_bridge, piis_plugins and piis_connectors ([tool.mypy])."""
    _assert_clean(_run("mypy"), "mypy")


def test_mypy_sees_every_package() -> None:
    """The symlinks that let mypy resolve the renamed packages point at the real directories.

    Why: a missing link would make mypy check nothing for that package and still pass.
    """
    links = ROOT / ".typecheck"
    for package, directory in {
        "piis_plugins": "plugins",
        "piis_connectors": "connectors",
    }.items():
        link = links / package
        assert link.is_symlink(), f"{link} must be a symlink to ../{directory}"
        assert link.resolve() == (ROOT / directory).resolve()
