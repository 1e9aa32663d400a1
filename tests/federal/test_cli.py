"""The CLI: forms build|submit|status|statement against the running simulator, and sim federal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from typer.testing import CliRunner

from piis_bridge.cli import build_app

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "examples" / "studies.json"


def _config(tmp_path: Path, endpoint: str) -> Path:
    path = tmp_path / "piis-bridge.toml"
    path.write_text(
        f'''
environment = "simulator"
database_url = "sqlite:///{tmp_path / "app.sqlite3"}"
state_dir = "{tmp_path / "state"}"

[cpas.gent]
name = "OCMW Gent"
ins_code = "44021"
bce = "0207567726"
case_system = "neptunus"
federal = "federal"

[cpas.gent.plugins.federal]
endpoint = "{endpoint}"
mode = "batch"
operation_timeout = 5.0
''',
        encoding="utf-8",
    )
    return path


def test_forms_build_submit_status_statement(federal_simulator, tmp_path) -> None:
    sim = federal_simulator
    sim.admin.register_cpas("0207567726", "44021", "OCMW Gent", 5500)
    sim.admin.set_clock(datetime(2025, 9, 10, 9))
    sim.admin.integrate("0207567726", "05093020265", start="2025-01-01")
    config = str(_config(tmp_path, sim.endpoint))
    app = build_app()
    runner = CliRunner()
    built = runner.invoke(
        app, ["forms", "build", str(STUDIES), "--cpas", "gent", "--config", config]
    )
    assert built.exit_code == 0, built.output
    assert "built" in built.output and "05093020265" not in built.output
    sent = runner.invoke(
        app, ["forms", "submit", "--cpas", "gent", "--config", config, "--wait", "10"]
    )
    assert (
        sent.exit_code == 0 and "sent 1 form(s)" in sent.output and "'accepted': 1" in sent.output
    )
    status = runner.invoke(app, ["forms", "status", "--cpas", "gent", "--config", config])
    assert "accepted: 1" in status.output
    key = re.search(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        built.output.replace("\n", ""),
    )
    early = runner.invoke(
        app, ["forms", "statement", "--month", "2025-09", "--cpas", "gent", "--config", config]
    )
    assert early.exit_code == 2 and "not available" in early.output
    sim.admin.set_clock(datetime(2025, 10, 5))
    stmt = runner.invoke(
        app, ["forms", "statement", "--month", "2025-09", "--cpas", "gent", "--config", config]
    )
    assert stmt.exit_code == 0, stmt.output
    assert "2 line(s)" in stmt.output and "no differences" in stmt.output
    _ = key


def test_sim_federal_command_serves_the_wsdl(tmp_path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "piis-bridge"),
            "sim",
            "federal",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "sim.db"),
            "--cpas",
            "0207567726:44021:Gent:6500",
            "--clock",
            "2025-09-10T09:00:00",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                wsdl = httpx.get(
                    base + "/connectors/webservice/KSZBCSSWebServiceConnectorPort?wsdl"
                )
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert "sendXML" in wsdl.text and f"127.0.0.1:{port}" in wsdl.text
        assert httpx.get(base + "/admin/clock").json() == {"now": "2025-09-10T09:00:00"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
