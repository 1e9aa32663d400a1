"""What a newcomer meets right after the demo (issue #22): listings that say what they looked at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = Path(sys.executable).with_name("piis-bridge")


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "PIIS_CONFIG"}
    return subprocess.run(
        [str(EXE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, "COLUMNS": "200", **env},
    )


def test_runs_list_on_a_missing_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    done = _cli(tmp_path, "runs", "list")
    assert done.returncode == 0, done.stderr
    assert "runs: none (database sqlite:///var/piis-bridge.sqlite3 does not exist" in done.stdout
    assert "embedded defaults" in done.stdout
    assert not (tmp_path / "var").exists()


def test_runs_list_on_an_empty_database_names_it(tmp_path: Path) -> None:
    config = tmp_path / "piis-bridge.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/bridge.sqlite3"\n')
    from piis_bridge.migrations import upgrade_database

    upgrade_database(f"sqlite:///{tmp_path}/bridge.sqlite3")
    done = _cli(tmp_path, "runs", "list", PIIS_CONFIG=str(config))
    assert done.returncode == 0, done.stderr
    assert (
        f"runs: none (database sqlite:///{tmp_path}/bridge.sqlite3, configuration: {config})"
        in done.stdout
    )
    done = _cli(tmp_path, "quarantine", "list", PIIS_CONFIG=str(config))
    assert (
        done.returncode == 0
        and f"quarantine (open): none (database sqlite:///{tmp_path}/bridge.sqlite3)" in done.stdout
    ), done.stdout + done.stderr


def test_help_screens_show_no_type_on_flags() -> None:
    from typer.testing import CliRunner

    from piis_bridge.cli._registry import build_app

    app = build_app()
    runner = CliRunner()
    for args in (
        ["--help"],
        ["runs", "--help"],
        ["runs", "list", "--help"],
        ["demo", "--help"],
        ["new-plugin", "--help"],
    ):
        out = runner.invoke(app, args, env={"COLUMNS": "160"}).output
        assert "--help" in out and "<bool>" not in out, (args, out)


def test_readme_lists_every_doc_and_expands_the_acronyms() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    docs = sorted(p.name for p in (root / "docs").glob("*.md"))
    listed = readme.split("Every file of `docs/`:", 1)[1].split("\n\n", 1)[0]
    assert [d for d in docs if f"`{d}`" not in listed] == [], (
        "README: add the new docs/*.md to the docs list"
    )
    glossary = readme.split("## Words used here", 1)[1].split("\n## ", 1)[0]
    terms = [line.split("|")[1] for line in glossary.splitlines() if line.startswith("| ")]
    for term in (
        "DIS",
        "RI",
        "BCSS",
        "SSDN",
        "NovaPrima",
        "NISS",
        "BCE",
        "INS",
        "PIIS",
        "GPMI",
        "CPAS",
        "OCMW",
    ):
        assert any(term in t.replace("/", " ").split() for t in terms), term
    assert "## Next steps after the demo" in readme and "deploy/README.md" in readme
