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
        [str(exe), "demo", "--dossiers", "40", "--changes", "5", "--workdir", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "160"},
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "5 valid, 0 problem(s)" not in out  # one line per example file
    assert out.count(" valid, 0 problem(s)") == 5
    assert "2. PIIS rules as of" in out
    full, incremental = re.findall(r"records fetched\s*│\s*(\d+)", out)
    assert int(full) > 0 and 0 < int(incremental) < int(full)
    assert "sent twice: 0" in out
    assert "demo finished" in out and "with problems" not in out
