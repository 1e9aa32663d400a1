"""The README's main command: ``piis-bridge demo`` runs the whole nightly job on embedded defaults.

Run as a real subprocess, exactly as ``python3 dev.py demo`` does (smaller numbers), and judged on
what it prints and on its exit status.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("piis-bridge")
    proc = subprocess.run(
        [
            str(exe),
            "demo",
            "--dossiers",
            "40",
            "--changes",
            "5",
            "--workdir",
            str(tmp_path / "demo"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "160"},
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    # a clean run prints no warning: not celery's root warning, not a worker killed under its master
    noise = [
        line
        for line in (out + proc.stderr).splitlines()
        if re.search(r"Warning\b|WARNING|warnings\.warn|exited with|Traceback|superuser", line)
    ]
    assert noise == [], noise
    # the simulated clock is fixed to the seed: the same split every day, a normal night (mostly accepted)
    assert re.search(r"simulated clock: +2026-11-03 02:30:00", out)
    assert "NovaPrima's answers: ACCEPTED 18, BLOCKED 1" in out, re.findall(
        r"NovaPrima's answers.*", out
    )
    assert "2. PIIS rules as of 2026-11-03" in out
    # the end says where the state is and what to run next, with the right database
    config = tmp_path / "demo" / "piis-bridge.toml"
    assert (
        f"PIIS_CONFIG={config} .venv/bin/piis-bridge runs list" in out.replace("\n", " ")
        or str(config) in out
    )
    listed = subprocess.run(
        [str(exe), "runs", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIIS_CONFIG": str(config), "COLUMNS": "200"},
    )
    assert listed.returncode == 0 and listed.stdout.count("finished") == 2, (
        listed.stdout + listed.stderr
    )
    assert "5 valid, 0 problem(s)" not in out  # one line per example file
    assert out.count(" valid, 0 problem(s)") == 5
    full, incremental = re.findall(r"records fetched\s*│\s*(\d+)", out)
    assert int(full) > 0 and 0 < int(incremental) < int(full)
    assert "sent twice: 0" in out
    assert "demo finished" in out and "with problems" not in out
