"""The daily-work commands on real runs: ``runs show`` says why a run waits and lists its quarantined
records, listings say "none", and ``--json`` has the documented shape (docs/ops.md)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.conftest import PLUGIN, ROOT, make_settings, pipetest_config
from tests.pipeline.remote import Remote, RemoteState


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PIIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.chdir(tmp_path)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _config(tmp_path: Path, url: str) -> Path:
    return pipetest_config(tmp_path, url)


def test_listings_say_none_on_an_empty_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIIS_CONFIG", str(_config(tmp_path, "http://127.0.0.1:9")))
    monkeypatch.setenv("PIIS_EXTRA_PLUGINS", PLUGIN)
    code, out = _cli("runs", "list")
    assert code == 0 and out.startswith("runs: none (database sqlite:///"), out
    code, out = _cli("quarantine", "list")
    assert code == 0 and out.startswith("quarantine (open): none (database sqlite:///"), out
    code, out = _cli("forms", "list", "--cpas", "gent", "--status", "refused", "--month", "2026-11")
    assert (code, out) == (0, "forms of gent, refused, 2026-11: none\n")
    code, out = _cli(
        "rules", "agenda", "--cpas", "gent", "--from", "2026-12-01", "--to", "2026-12-31"
    )
    assert (code, out) == (0, "agenda 2026-12-01 to 2026-12-31: none\n")
    code, out = _cli("runs", "list", "--json")
    assert json.loads(out) == {"format": "piis-bridge/runs/1", "runs": []}
    code, out = _cli("forms", "list", "--cpas", "nowhere")
    assert code == 2 and "unknown CPAS 'nowhere'; configured: gent" in out


def test_runs_show_says_why_a_run_waits_and_lists_its_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Remote(RemoteState(40, bad_every=10)) as remote:
        remote.state.federal_down = True
        settings = make_settings(tmp_path, remote.url)
        upgrade_database(settings.database_url)
        options = PipelineOptions(
            retry_base=0.2,
            retry_cap=0.5,
            breaker_threshold=2,
            breaker_cooldown=600,
            broker_dir=tmp_path / "broker",
        )
        started = time.monotonic()
        summary = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=25)
        assert summary.status == "running" and time.monotonic() - started < 60
    monkeypatch.setenv("PIIS_CONFIG", str(_config(tmp_path, remote.url)))
    monkeypatch.setenv("PIIS_EXTRA_PLUGINS", PLUGIN)

    code, out = _cli("runs", "show", summary.run_id, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["format"] == "piis-bridge/run/1" and data["run"]["id"] == summary.run_id
    assert set(data) >= {"run", "counts", "waiting", "quarantined", "configuration", "stages"}
    circuits = data["waiting"]["open_circuits"]
    assert [c["remote"] for c in circuits] == ["federal:gent"] and circuits[0][
        "consecutive_failures"
    ] >= 2
    assert any(
        r.startswith("circuit federal:gent is open until ") for r in data["waiting"]["reasons"]
    )
    assert data["waiting"]["last_error"]["error"]  # in full, not cut at 80 characters
    assert data["waiting"]["pending"]["forms"] > 0
    assert sorted(q["record_id"] for q in data["quarantined"]) == [
        "D000010",
        "D000020",
        "D000030",
        "D000040",
    ]
    assert all(q["stage"] == "map" and q["reason"] for q in data["quarantined"])

    code, out = _cli("runs", "show", summary.run_id)
    text = " ".join(out.split())
    assert code == 0 and "Why it is waiting: circuit federal:gent is open until" in text
    assert "open circuits: federal:gent until" in text and "D000030" in text
    assert "quarantined records of this run" in text

    code, out = _cli("quarantine", "list", "--json")
    assert len(json.loads(out)["entries"]) == 4
