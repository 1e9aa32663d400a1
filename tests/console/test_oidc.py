"""OpenID Connect login against a real provider on loopback: panva's ``oidc-provider`` (the certified
Node.js implementation) run with node, driven through its own login pages by Chromium.

Why this provider: it is an OpenID Certified server, it enforces PKCE when told to, it signs ID
tokens with its own keys and publishes them, and its development login form accepts any account
name, so the test chooses who logs in; nothing of the console's client side is replaced.  It is
installed with ``npm ci`` from ``tests/console/oidc/package-lock.json`` into ``tmp/oidc-node``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from piis_bridge.config import ConfigError
from piis_bridge.console.models import AuditEntry, ConsoleUser
from piis_bridge.console.oidc import OidcClient, OidcSettings, RoleGrant, load_oidc_settings
from tests.console.conftest import seed_users
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.pipeline.conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HERE = Path(__file__).resolve().parent / "oidc"
NODE_DIR = ROOT / "tmp" / "oidc-node"
CLIENT_ID = "piis-console"
SECRET = "client-secret-of-the-test-provider"
ROLES = {"bridge-admins": "admin:*", "gent-operators": "operator:gent"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing: the OIDC tests need node 20 and npm")
        pytest.skip(f"{tool} is not installed")
    return found


def _install_provider() -> Path:
    """npm ci of the pinned oidc-provider (once; the lockfile decides the versions)."""
    npm = _need("npm")
    lock = (HERE / "package-lock.json").read_bytes()
    stamp = NODE_DIR / ".lock"
    if not (stamp.exists() and stamp.read_bytes() == lock):
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, NODE_DIR / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
        stamp.write_bytes(lock)
    shutil.copy(HERE / "provider.mjs", NODE_DIR / "provider.mjs")
    return NODE_DIR


@pytest.fixture(scope="module")
def provider() -> Iterator[dict[str, Any]]:
    node = _need("node")
    folder = _install_provider()
    port, console_port = _free_port(), _free_port()
    redirect = f"http://127.0.0.1:{console_port}/login/oidc/callback"
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": SECRET,
        "OIDC_REDIRECT_URI": redirect,
    }
    proc = subprocess.Popen(
        [node, "provider.mjs"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "provider exited"
            assert time.monotonic() < deadline, "the OIDC provider did not start"
            time.sleep(0.2)
        yield {"issuer": issuer, "redirect": redirect, "console_port": console_port}
    finally:
        proc.terminate()
        proc.wait(10)


def _settings(provider: dict[str, Any], **changes: Any) -> OidcSettings:
    values: dict[str, Any] = {
        "issuer": provider["issuer"],
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "redirect_url": provider["redirect"],
        "roles": ROLES,
    }
    values.update(changes)
    return OidcSettings.model_validate(values)


# ---------------------------------------------------------------------------- settings, no browser


def _env(**values: str) -> dict[str, str]:
    return {f"PIIS_CONSOLE_OIDC_{k.upper()}": v for k, v in values.items()}


def test_no_issuer_means_local_accounts_only(client_for) -> None:
    assert not load_oidc_settings({}).enabled
    c = client_for()
    assert "/login/oidc" not in c.get("/login").text
    assert c.get("/login/oidc", follow_redirects=False).status_code == 404


def test_configuration_mistakes_name_the_setting_and_the_fix(tmp_path: Path) -> None:
    base = {
        "issuer": "https://idp.example",
        "client_id": "c",
        "redirect_url": "https://console/cb",
        "roles": json.dumps(ROLES),
    }
    with pytest.raises(ConfigError, match="PIIS_CONSOLE_OIDC_CLIENT_SECRET or"):
        load_oidc_settings(_env(**base))
    with pytest.raises(ConfigError, match="PIIS_CONSOLE_OIDC_CLIENT_ID"):
        load_oidc_settings(_env(**{**base, "client_id": "", "client_secret": "s"}))
    with pytest.raises(ConfigError, match=r"PIIS_CONSOLE_OIDC_ROLES \(environment\): not JSON"):
        load_oidc_settings(_env(**{**base, "client_secret": "s", "roles": "admin"}))
    with pytest.raises(ConfigError, match=r"PIIS_CONSOLE_OIDC_ROLES.*'role:cpas"):
        load_oidc_settings(
            _env(**{**base, "client_secret": "s", "roles": '{"g": "superuser:gent"}'})
        )
    with pytest.raises(ConfigError, match=r"ROLES.*is empty"):
        load_oidc_settings(_env(**{**base, "client_secret": "s", "roles": "{}"}))
    with pytest.raises(ConfigError, match="cannot read"):
        load_oidc_settings(_env(**base, client_secret_file=str(tmp_path / "missing")))
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    loaded = load_oidc_settings(_env(**base, client_secret_file=str(secret)))
    assert loaded.secret() == "from-a-file"
    with pytest.raises(ConfigError, match="both"):
        load_oidc_settings(_env(**base, client_secret="s", client_secret_file=str(secret)))


def test_the_first_mapping_entry_the_claim_holds_decides_and_no_entry_is_no_access() -> None:
    s = OidcSettings.model_validate({"roles": {"a": "viewer:gent", "b": "admin:*"}})
    assert s.grant({"groups": ["b", "a"]}) == RoleGrant("viewer", ["gent"])  # the order written
    assert s.grant({"groups": "b"}) == RoleGrant("admin", ["*"])
    assert s.grant({"groups": ["c"]}) is None and s.grant({}) is None
    other = OidcSettings.model_validate({"roles": {"a": "viewer:gent"}, "role_claim": "roles"})
    assert other.grant({"groups": ["a"]}) is None and other.grant({"roles": ["a"]}) is not None


def test_the_authorization_request_carries_pkce_state_nonce_and_the_redirect_url(
    provider,
) -> None:
    client = OidcClient(_settings(provider, redirect_url="https://console.example/cb"))
    url, state = client.start()
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(provider["issuer"] + "/auth?")
    assert q["redirect_uri"] == "https://console.example/cb" and q["state"] == state
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["nonce"] and q["client_id"] == CLIENT_ID and "openid" in q["scope"]


# --------------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def console(provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    import uvicorn

    from piis_bridge.console.app import create_app
    from piis_bridge.db import make_engine, make_sessionmaker
    from piis_bridge.migrations import upgrade_database
    from tests.pipeline.conftest import make_settings

    tmp = tmp_path_factory.mktemp("oidc")
    settings = make_settings(tmp, "http://127.0.0.1:9", cpas=("gent", "antwerpen"))
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    seed_users(sessions)
    secret = tmp / "client-secret"
    secret.write_text(SECRET + "\n")
    oidc = _settings(provider, client_secret=None, client_secret_file=secret)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine, oidc=oidc),
            host="127.0.0.1",
            port=provider["console_port"],
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield {
                "url": f"http://127.0.0.1:{provider['console_port']}",
                "browser": browser,
                "sessions": sessions,
            }
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)
            engine.dispose()


def _login_at_provider(console: dict[str, Any], account: str) -> Any:
    page = console["browser"].new_context(locale="en-GB").new_page()
    page.goto(console["url"] + "/login")
    page.click("#oidc-login")
    page.wait_for_selector("input[name=login]")  # the provider's own sign-in page
    page.fill("input[name=login]", account)
    page.fill("input[name=password]", "any password: the provider's development login")
    page.click("button[type=submit]")
    if page.locator("button[type=submit]:has-text('Continue')").count():  # its consent page
        page.click("button[type=submit]:has-text('Continue')")
    page.wait_for_load_state("networkidle")
    return page


def _audit(console: dict[str, Any], actor: str) -> list[AuditEntry]:
    with console["sessions"]() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.actor == actor).order_by(AuditEntry.id))
        )


def test_login_through_the_provider_applies_the_mapped_role_and_scope(console) -> None:
    page = _login_at_provider(console, "olivier.gent")
    page.wait_for_url(console["url"] + "/")
    assert page.locator("section.card[data-cpas=gent]").count() == 1
    assert page.locator("section.card[data-cpas=antwerpen]").count() == 0
    assert "operator" in page.inner_text(".user")  # in the browser's language (en) at first login
    with console["sessions"]() as s:
        user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == "oidc:olivier.gent"))
        assert user is not None and (user.role, user.cpas_ids) == ("operator", ["gent"])
        assert user.password_hash is None  # no local login for this account
    [login] = [a for a in _audit(console, "oidc:olivier.gent") if a.action == "login"]
    assert login.detail["via"] == "oidc"
    assert page.goto(console["url"] + "/audit").status == 403  # an operator, not an admin
    page.context.close()

    admin = _login_at_provider(console, "ada.admin")
    admin.wait_for_url(console["url"] + "/")
    assert admin.locator("section.card[data-cpas=antwerpen]").count() == 1
    assert admin.goto(console["url"] + "/audit").status == 200
    admin.context.close()


def test_a_user_the_mapping_does_not_know_gets_no_access(console) -> None:
    page = _login_at_provider(console, "eve.unknown")
    assert "/login/oidc/callback" in page.url
    assert "has no access to this console" in page.content()
    assert page.goto(console["url"] + "/").url.endswith("/login")  # no session was opened
    with console["sessions"]() as s:
        assert (
            s.scalar(select(ConsoleUser).where(ConsoleUser.username == "oidc:eve.unknown")) is None
        )
    [refused] = _audit(console, "oidc:eve.unknown")
    assert refused.action == "login_failed" and refused.detail["why"] == "no role mapping"
    page.context.close()


def test_a_callback_without_the_browsers_state_is_refused(console) -> None:
    r = httpx.get(
        console["url"] + "/login/oidc/callback?code=stolen&state=forged",
        headers={"accept-language": "en"},
    )
    assert r.status_code == 401 and "did not go through" in r.text


def test_a_disabled_oidc_account_stays_refused_whatever_the_provider_says(console) -> None:
    from piis_bridge.console import accounts

    first = _login_at_provider(console, "ada.admin")
    first.wait_for_url(console["url"] + "/")
    first.context.close()
    with console["sessions"]() as s:
        accounts.disable_user(s, "oidc:ada.admin", actor="test", reason="left the partner")
        s.commit()
    page = _login_at_provider(console, "ada.admin")
    assert "has no access to this console" in page.content()
    assert page.goto(console["url"] + "/").url.endswith("/login")
    refused = [a for a in _audit(console, "oidc:ada.admin") if a.action == "login_failed"]
    assert refused and refused[-1].detail["why"] == "disabled"
    page.context.close()
