"""The agenda's social-worker filter in a real browser (Playwright driving Debian's Chromium).

A real pipeline run (the test remote, the rules, the alerts stage) gives the deadlines of four
dossiers to two social workers and one to nobody; the console is served by uvicorn and a social
worker picks a colleague, herself ("mine") and the unassigned deadlines in the select, then
downloads the CSV and iCalendar exports of what she sees.  The harness is ``test_browser``'s.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.console import accounts
from piis_bridge.db import make_engine, make_sessionmaker
from tests.console.conftest import PASSWORD
from tests.console.test_agenda import agenda_pipeline, assign_workers, run_inline
from tests.console.test_browser import (
    ARTEFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    require_browser,
)
from tests.pipeline.conftest import make_remote  # noqa: F401 - fixture

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def agenda_world(tmp_path: Path, make_remote) -> Iterator[dict[str, Any]]:
    require_browser()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from piis_bridge.console.app import create_app

    assign_workers()
    settings, rt = agenda_pipeline(tmp_path, make_remote(4))
    run_inline(rt)
    rt.close()
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as s:
        accounts.add_user(s, "lies", PASSWORD, "viewer", ["gent"], actor="test")
        accounts.set_worker(s, "lies", "GNT-MW-40", actor="test")
        s.commit()
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
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield {"url": f"http://127.0.0.1:{port}", "browser": browser}
        finally:
            browser.close()
            server.should_exit = True
            thread.join(10)
            engine.dispose()


def _rows(page: Any) -> list[tuple[str, str, str]]:
    """(dossier, worker, rule) of every row of the agenda table, in order."""
    out = []
    for row in page.locator("#agenda tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        out.append((cells[2], cells[3], cells[4]))
    return out


def _download(page: Any, link: str) -> str:
    with page.expect_download() as info:
        page.click(link)
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_a_social_worker_filters_the_agenda_and_exports_what_she_sees(agenda_world) -> None:
    world = agenda_world
    context = world["browser"].new_context(
        viewport={"width": 1360, "height": 900}, locale="fr-BE", accept_downloads=True
    )
    page = context.new_page()
    page.goto(world["url"] + "/login")
    page.fill("input[name=username]", "lies")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(world["url"] + "/")
    page.goto(world["url"] + "/agenda")
    options = page.locator("#worker-filter option").all_inner_texts()
    assert options == [
        "tous",
        "les miennes",
        "L. Peeters (GNT-MW-31)",
        "P. Claes (GNT-MW-40)",
        "non attribuée",
    ]
    assert len(_rows(page)) == 4

    page.select_option("#worker-filter", "GNT-MW-31")
    page.click("form.filters button")
    page.wait_for_url("**/agenda?*worker=GNT-MW-31*")
    assert _rows(page) == [("D000001", "L. Peeters", "R-EVA-01")]
    assert page.locator("#agenda tbody tr.overdue").count() == 1

    page.select_option("#worker-filter", "mine")
    page.click("form.filters button")
    page.wait_for_url("**/agenda?*worker=mine*")
    # overdue first: D000003's signature deadline, then D000002's coming evaluation
    assert _rows(page) == [("D000003", "P. Claes", "R-DL-01"), ("D000002", "P. Claes", "R-EVA-01")]
    assert page.locator("#agenda tbody tr").first.get_attribute("class") == "overdue"
    assert page.locator("#worker-filter").input_value() == "mine"  # the choice is kept
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "agenda-worker.png"), full_page=True)
    exported = list(csv.DictReader(io.StringIO(_download(page, "#export-csv"))))
    assert [(r["dossier"], r["status"], r["worker"]) for r in exported] == [
        ("D000003", "overdue", "P. Claes"),
        ("D000002", "pending", "P. Claes"),
    ]
    ics = _download(page, "#export-ics")
    assert ics.count("BEGIN:VEVENT") == 2 and "D000001" not in ics and "D000004" not in ics

    page.select_option("#worker-filter", "unassigned")
    page.click("form.filters button")
    page.wait_for_url("**/agenda?*worker=unassigned*")
    assert _rows(page) == [("D000004", "non attribuée", "R-EVA-01")]
    assert "D000004" in _download(page, "#export-csv")
    context.close()
