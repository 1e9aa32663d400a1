"""The console in a real browser (Playwright driving Debian's Chromium) on a real pipeline run.

A real embedded run (a celery worker subprocess, the filesystem broker, SQLite) pulls 40 dossiers of
two CPAS from the loopback test remote; every 20th record is quarantined.  The console is served by
uvicorn in this process; the replay it starts is executed by a real worker, as in production.
Screenshots of the main pages go to ``tmp/artefacts/console/`` (``PIIS_ARTEFACTS`` to change it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from piis_bridge.config import Settings
from piis_bridge.console.models import AuditEntry
from piis_bridge.db import make_engine, make_sessionmaker
from tests.console.conftest import PASSWORD, seed_users
from tests.pipeline.conftest import PLUGIN, ROOT
from tests.pipeline.remote import Remote, RemoteState, person_niss

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(os.environ.get("PIIS_ARTEFACTS", ROOT / "tmp" / "artefacts")) / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def require_browser() -> None:
    """Debian's Chromium, or a skip (a failure with CI=true): shared by the console's browser tests."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")


def free_port() -> int:
    """A free loopback port for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    import uvicorn

    from piis_bridge.console.app import create_app
    from piis_bridge.pipeline.runner import EmbeddedWorker, run_nightly

    tmp = tmp_path_factory.mktemp("console")
    saved = {
        k: os.environ.get(k)
        for k in (
            "PYTHONPATH",
            "PIIS_PIPELINE_BROKER_DIR",
            "PIIS_EXTRA_PLUGINS",
            "PIPETEST_MAPPING_FIXED",
        )
    }
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    os.environ["PIIS_PIPELINE_BROKER_DIR"] = str(tmp / "broker")
    os.environ["PIIS_EXTRA_PLUGINS"] = PLUGIN
    remotes = {c: Remote(RemoteState(40, bad_every=20)).__enter__() for c in ("gent", "antwerpen")}
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp}/app.sqlite3",
            "broker_url": "filesystem://",
            "result_backend": f"db+sqlite:///{tmp}/results.sqlite3",
            "state_dir": str(tmp / "state"),
            "plugins": {"enabled": ["pipetest"]},
            "cpas": {
                c: {
                    "name": f"OCMW {c}",
                    "ins_code": "44021",
                    "bce": "0207567726",
                    "case_system": "pipetest",
                    "federal": "pipetest",
                    "transfer": None,
                    "plugins": {"pipetest": {"url": r.url}},
                }
                for c, r in remotes.items()
            },
        }
    )
    summary = run_nightly(settings, extra_plugins=[PLUGIN], timeout=180)
    assert summary.status == "finished" and summary.counts["items_quarantined"] == 4, summary
    sessions = make_sessionmaker(make_engine(settings.database_url))
    seed_users(sessions)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)

    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield {
                "url": f"http://127.0.0.1:{port}",
                "browser": browser,
                "sessions": sessions,
                "settings": settings,
                "remotes": remotes,
                "csp": [],
            }
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)
            for r in remotes.values():
                r.__exit__()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    _ = EmbeddedWorker  # imported here so a missing celery shows up before the browser starts


def _page(world: dict[str, Any], username: str) -> Any:
    context = world["browser"].new_context(viewport={"width": 1360, "height": 900}, locale="fr-BE")
    page = context.new_page()
    # any Content-Security-Policy violation (an inline script or style, eval) fails the test
    page.on(
        "console",
        lambda msg: (
            world["csp"].append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.goto(world["url"] + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(world["url"] + "/")
    return page


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def _audit(world: dict[str, Any], action: str) -> list[AuditEntry]:
    with world["sessions"]() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def test_each_role_logs_in_and_sees_the_overview(world) -> None:
    for username, role_word, cpas in (
        ("ada", "administrateur", ("gent", "antwerpen")),
        ("olivier", "opérateur", ("gent",)),
        ("vera", "lezer", ("gent",)),
    ):
        page = _page(world, username)
        assert role_word in page.inner_text(".user")
        for c in cpas:
            card = page.locator(f"section.card[data-cpas={c}]")
            text = card.inner_text()
            assert "40 récupérés, 38 traités, 2 en quarantaine" in text or "40 opgehaald" in text, (
                text
            )
            assert card.locator("a[href^='/quarantine']").inner_text() == "2"  # open quarantine
        if username == "ada":
            _shot(page, "overview")
        if username == "olivier":
            assert page.locator("section.card[data-cpas=antwerpen]").count() == 0
        page.context.close()


def test_follow_a_dossier_history_with_its_rules_report(world) -> None:
    page = _page(world, "olivier")
    page.click("text=Dossiers")
    page.fill("#q", "D000003")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/dossiers/gent/D000003$"))
    assert "D000003" in page.inner_text("h1")
    versions = page.locator("button[id^=rules-]")
    assert versions.count() == 1
    versions.first.click()  # htmx fetches the report of that version
    page.wait_for_selector("table.findings")
    report = page.inner_text("table.findings")
    assert re.search(r"R-[A-Z]+-\d+", report)
    # the findings are written in the user's language (olivier reads French): "Contrat ...", not "Contract ..."
    assert re.search(r"\b[Cc]ontrat D000003", report) and "Contract D000003" not in report, report
    assert page.locator("table.dates td").count() > 0
    assert "accepted" in page.content().lower() or "accepté" in page.content().lower()
    _shot(page, "dossier")
    page.context.close()
    assert world["csp"] == []


def test_replay_a_quarantined_record_with_preview_confirmation_and_reason(world) -> None:
    from piis_bridge.pipeline.runner import EmbeddedWorker

    page = _page(world, "olivier")
    page.click("nav >> text=Quarantaine")
    rows = page.locator("table.quarantine tbody tr")
    assert (
        rows.count() == 2
        and "D000040" in rows.first.inner_text()
        and "D000020" in rows.last.inner_text()
    )
    _shot(page, "quarantine")
    rows.last.locator("input[name=ids]").check()
    page.click("#replay-selected")
    assert "(1)" in page.inner_text("#preview-count")
    assert "D000020" in page.inner_text("ol.preview")
    _shot(page, "replay-preview")
    page.click("#do-it")  # the browser refuses without reason and confirmation (required fields)
    assert "/quarantine/preview" in page.url or page.url.endswith("/quarantine/preview")
    page.fill("#reason", "mapping fixed in the case system (ticket 4711)")
    page.check("#confirm")
    os.environ["PIPETEST_MAPPING_FIXED"] = "1"
    try:
        with EmbeddedWorker(
            world["settings"],
            extra_plugins=[PLUGIN],
            env={"PIIS_PIPELINE_BROKER_DIR": os.environ["PIIS_PIPELINE_BROKER_DIR"]},
        ):
            page.click("#do-it")
            page.wait_for_url(re.compile(r".*/runs/[0-9a-f]+$"))
            deadline = time.monotonic() + 90
            while "terminé" not in page.inner_text("h1"):
                assert time.monotonic() < deadline, page.inner_text("main")
                time.sleep(1)
                page.reload()
    finally:
        del os.environ["PIPETEST_MAPPING_FIXED"]
    assert "rejeu" in page.inner_text("main")
    _shot(page, "run")
    assert world["remotes"]["gent"].state.effects_of("D000020") == ["1"]  # it went through, once
    assert (
        world["remotes"]["antwerpen"].state.effects_of("D000020") == []
    )  # not another CPAS's entry
    page.goto(world["url"] + "/quarantine?status=replayed")
    assert "D000020" in page.inner_text("table.quarantine")  # stays visible in history
    [row] = _audit(world, "replay")
    assert row.actor == "olivier" and row.cpas_id == "gent" and "4711" in row.reason
    page.context.close()


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(world) -> None:
    page = _page(world, "vera")
    page.goto(world["url"] + "/quarantine?status=all")
    assert page.locator("#replay-selected, #dismiss-selected, input[name=ids]").count() == 0
    page.click("table.quarantine tbody tr >> nth=0 >> a >> nth=0")
    assert page.locator("#replay-one, #dismiss-one").count() == 0
    entry = page.url.rsplit("/", 1)[-1]
    csrf = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    for path in ("/quarantine/preview", "/quarantine/replay", "/quarantine/dismiss"):
        r = page.request.post(
            world["url"] + path,
            form={"csrf": csrf, "ids": entry, "reason": "forged by hand", "confirm": "yes"},
        )
        assert r.status == 403, path
    page.context.close()


def test_a_user_of_one_cpas_cannot_open_a_record_of_another(world) -> None:
    with world["sessions"]() as s:
        from piis_bridge.pipeline.models import QuarantineEntry

        gent_entry = s.scalar(select(QuarantineEntry.id).where(QuarantineEntry.cpas_id == "gent"))
    page = _page(world, "anton")  # antwerpen only
    for path in (f"/quarantine/{gent_entry}", "/dossiers/gent/D000003"):
        r = page.goto(world["url"] + path)
        assert r.status == 404, path
        assert "Not found" in page.inner_text("main")
    page.context.close()


def test_niss_masked_and_its_reveal_audited(world) -> None:
    niss = person_niss(3)
    page = _page(world, "olivier")
    page.goto(world["url"] + "/dossiers/gent/D000003")
    assert niss not in page.content()
    assert page.inner_text("#niss") == "*********" + niss[-2:]
    page.fill("#reveal-reason", "beneficiary at the desk, identity checked")
    page.click("#reveal")
    page.wait_for_selector("code.revealed")
    assert page.inner_text("#niss") == niss
    assert niss not in page.url
    page.context.close()
    [row] = _audit(world, "reveal")
    assert row.actor == "olivier" and row.target == "dossier D000003"
    admin = _page(world, "ada")
    admin.click("text=Journal d'audit")
    assert "beneficiary at the desk" in admin.inner_text("table.audit")
    assert niss not in admin.content()
    _shot(admin, "audit")
    admin.goto(world["url"] + "/agenda?cpas=gent")
    rows = admin.locator("table tbody tr")
    assert rows.count() >= 38 and "R-EVA-01" in admin.inner_text(
        "table"
    )  # a deadline per processed dossier
    dues = [r for r in admin.locator("table tbody td:first-child").all_inner_texts()]
    as_dates = [d[6:] + d[3:5] + d[:2] for d in dues]
    assert as_dates == sorted(as_dates)  # earliest (overdue) first
    for name, path in (
        ("runs", "/runs"),
        ("forms", "/forms"),
        ("agenda", "/agenda"),
        ("transfers", "/transfers"),
    ):
        admin.goto(world["url"] + path)
        assert niss not in admin.content()
        _shot(admin, name)
    admin.context.close()


def test_switching_the_language(world) -> None:
    page = _page(world, "olivier")
    assert page.inner_text("h1") == "Vue d'ensemble"
    page.click("button.lang[value=nl]")
    page.wait_for_selector("h1:text('Overzicht')")
    page.click("button.lang[value=en]")
    page.wait_for_selector("h1:text('Overview')")
    _shot(page, "overview-en")
    page.click("button.lang[value=fr]")
    page.wait_for_selector('h1:text("Vue d\'ensemble")')
    page.context.close()
    assert world["csp"] == []  # no CSP violation on any page of any test so far


def test_search_by_niss_needs_a_reason_and_is_audited(world) -> None:
    niss = person_niss(3)
    page = _page(world, "olivier")
    page.goto(world["url"] + "/dossiers")
    page.fill("#q", niss)
    page.click("button.primary")
    assert "motif" in page.inner_text("p.error")
    page.fill("#q", niss)
    page.fill("#search-reason", "the person asked at the desk")
    page.click("button.primary")
    assert page.inner_text("#found").startswith("D000003")
    assert niss not in page.url
    page.context.close()
    row = _audit(world, "reveal")[-1]
    assert row.target == "search by NISS *********" + niss[-2:] and row.detail == {"dossiers": 1}
    assert niss not in row.target + row.reason + str(row.detail)
