"""The IT-staff commands on a real embedded run: run, runs list|show, quarantine list|show|replay.

Also the incremental run (the cursor persisted per CPAS: a second run fetches only what changed)
and a run for one dossier.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from tests.pipeline.conftest import PLUGIN, pipetest_config


@pytest.fixture
def cli_env(tmp_path: Path, make_remote, monkeypatch: pytest.MonkeyPatch):
    remote = make_remote(60, bad_every=20)
    config = pipetest_config(tmp_path, remote.url)
    monkeypatch.setenv("PIIS_CONFIG", str(config))
    monkeypatch.setenv("PIIS_PIPELINE_BROKER_DIR", str(tmp_path / "broker"))
    monkeypatch.setenv("PIIS_EXTRA_PLUGINS", PLUGIN)
    return remote


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_run_inspect_replay_incremental_and_one_dossier(cli_env) -> None:
    remote = cli_env
    code, out = _invoke("run", "--json", "--timeout", "90")
    assert code == 0, out
    first = json.loads(out.strip().splitlines()[-1])
    assert first["status"] == "finished"
    assert first["counts"]["fetched"] == 60 and first["counts"]["items_quarantined"] == 3
    assert len(remote.state.effects) == 57

    code, out = _invoke("runs", "list")
    assert code == 0 and first["run_id"] in out
    code, out = _invoke("runs", "show", first["run_id"])
    assert code == 0 and "records fetched" in out and "60" in out

    code, out = _invoke("quarantine", "list")
    assert code == 0 and out.count("beneficiary.niss") == 3 and "D000020" in out
    entry = re.search(r"│\s*(\d+)\s*│\s*gent\s*│\s*D000020", out).group(1)
    code, out = _invoke("quarantine", "show", entry)
    assert code == 0 and "NISS checksum invalid" in out and "stage=map" in out

    # The mapping is fixed; replaying the quarantine submits the three dossiers, once.
    import os

    os.environ["PIPETEST_MAPPING_FIXED"] = "1"
    try:
        code, out = _invoke("quarantine", "replay", "--timeout", "90")
    finally:
        del os.environ["PIPETEST_MAPPING_FIXED"]
    assert code == 0, out
    assert "finished" in out
    assert len(remote.state.effects) == 60
    code, out = _invoke("quarantine", "list")
    assert "D000020" not in out

    # Incremental: five dossiers change; the next run fetches only those (cursor kept per CPAS).
    remote.state.touch(["D000001", "D000002", "D000003", "D000004", "D000005"])
    code, out = _invoke("run", "--json", "--timeout", "90")
    second = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and second["counts"]["fetched"] == 5
    assert len(remote.state.effects) == 65 and remote.state.out_of_order == 0

    # One dossier by hand: processed as the case system holds it now (a version no run fetched yet).
    remote.state.touch(["D000007"])
    code, out = _invoke(
        "run", "--cpas", "gent", "--dossier", "D000007", "--json", "--timeout", "90"
    )
    third = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and third["counts"]["fetched"] == 1
    assert len(remote.state.effects) == 66
    assert remote.state.effects_of("D000007") == ["1", "2"]  # the form of the new version went out
    code, out = _invoke(
        "run", "--cpas", "gent", "--dossier", "D000007", "--json", "--timeout", "90"
    )
    assert code == 0 and len(remote.state.effects) == 66  # the same version again: nothing new

    # A dossier the case system does not have: said plainly, exit 1.
    code, out = _invoke("run", "--cpas", "gent", "--dossier", "D999999", "--timeout", "90")
    assert code == 1
    assert "gent: the case system of gent has no record D999999 (deleted, or never existed)" in out

    code, out = _invoke("run", "--cpas", "nowhere")
    assert code == 2 and "unknown CPAS nowhere" in out


def test_progress_display_and_summary_tables_render_every_count() -> None:
    from rich.console import Console

    from piis_bridge.cli.pipeline_commands import RunProgress, stages_table, summary_table
    from piis_bridge.pipeline.runner import RunSummary

    summary = RunSummary(
        run_id="r1",
        status="finished",
        elapsed_seconds=3.2,
        counts={
            "fetched": 10,
            "processed": 7,
            "skipped": 1,
            "items_quarantined": 2,
            "forms": 8,
            "forms_answered": 8,
            "answers": {"ACCEPTED": 7, "REFUSED": 1},
            "pushed": 9,
            "push_open": 1,
            "pull_errors": {"liege": "down"},
        },
        stages={
            "pull": {"units": 10, "tasks": 1, "busy_seconds": 0.1, "units_per_busy_second": 100.0}
        },
    )
    console = Console(record=True, width=120)
    display = RunProgress(console)
    display(summary)
    tasks = {t.description.strip(): (t.completed, t.total) for t in display.progress.tasks}
    assert tasks["mapped + rules + forms"] == (10, 10)
    assert tasks["federal forms answered"] == (8, 8)
    assert tasks["pushed back"] == (9, 10)
    console.print(summary_table(summary))
    console.print(stages_table(summary))
    text = console.export_text()
    assert "federal answer REFUSED" in text and "pull failed: liege" in text and "100.0" in text
