"""``piis-bridge serve`` as IT staff run it: a uvicorn process on --host/--port; behind a proxy the
client address (which the login rate limit counts) comes from X-Forwarded-For only when trusted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from piis_bridge.console.models import LoginAttempt
from piis_bridge.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PIIS_CONFIG": str(tmp_path / "piis-bridge.toml")}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "piis-bridge"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/login", timeout=1)
            return proc, url
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "piis-bridge serve did not start"
            time.sleep(0.3)


def _failed_login(url: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=url) as c:
        page = c.get("/login")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        # the __Host- cookie is Secure: httpx does not send it back over http://, a browser does on 127.0.0.1
        c.cookies.set("__Host-piis_login", token)
        r = c.post(
            "/login",
            data={"csrf": token, "username": "nobody", "password": "wrong password!"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        assert r.status_code == 401


@pytest.mark.parametrize("trust", [True, False])
def test_serve_listens_on_the_port_and_trusts_the_proxy_only_when_told(
    tmp_path: Path, trust: bool
) -> None:
    url_db = f"sqlite:///{tmp_path}/app.sqlite3"
    (tmp_path / "piis-bridge.toml").write_text(
        f'database_url = "{url_db}"\nstate_dir = "{tmp_path}/state"\n'
    )
    extra = ("--forwarded-allow-ips", "127.0.0.1") if trust else ("--no-proxy-headers",)
    proc, url = _serve(tmp_path, *extra)
    try:
        r = httpx.get(url + "/")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert "server" not in r.headers  # no software banner
        _failed_login(url, "10.1.2.3")
    finally:
        proc.terminate()
        proc.wait(10)
    with make_sessionmaker(make_engine(url_db))() as s:
        [attempt] = s.scalars(select(LoginAttempt))
    assert attempt.client == ("10.1.2.3" if trust else "127.0.0.1")
