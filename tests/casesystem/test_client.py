"""The case-system connector against the real simulator: retries, Retry-After, token refresh, resumable pull."""

from __future__ import annotations

import contextlib
import time

import httpx
import pytest
from piis_connectors.casesystem.client import (
    CaseSystemClient,
    CaseSystemHTTPError,
    CaseSystemUnavailable,
)
from piis_connectors.casesystem.sync import FileCursorStore, pull

ADMIN = {"X-Admin-Key": "beheer"}


def _client(sim, **kw) -> CaseSystemClient:
    kw.setdefault("backoff", 0.01)
    return CaseSystemClient(sim.url, "piis-bridge", "geheim", timeout=5, **kw)


def test_retries_5xx_then_succeeds(casesystem_simulator) -> None:
    casesystem_simulator.inject(503, count=2)
    with _client(casesystem_simulator) as c:
        page = c.fetch_changes(None, 5)
    assert len(page.items) == 5 and c.stats["retries"] == 2


def test_gives_up_after_retry_budget(casesystem_simulator) -> None:
    casesystem_simulator.inject(500, count=10)
    with _client(casesystem_simulator, max_retries=2) as c, pytest.raises(CaseSystemUnavailable):
        c.fetch_changes(None, 5)


def test_4xx_is_not_retried(casesystem_simulator) -> None:
    with _client(casesystem_simulator) as c:
        with pytest.raises(CaseSystemHTTPError) as err:
            c.fetch_changes("kapot", 5)
        assert err.value.status == 400 and c.stats["retries"] == 0 and c.stats["requests"] == 1


def test_honours_retry_after_on_429(casesystem_simulator) -> None:
    casesystem_simulator.inject(429, count=1, retry_after=1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with _client(casesystem_simulator, sleep=sleep) as c:
        started = time.monotonic()
        page = c.fetch_changes(None, 3)
        assert time.monotonic() - started >= 1.0
    assert slept == [1.0] and len(page.items) == 3 and c.stats["rate_limited"] == 1


def test_real_token_bucket_is_respected(casesystem_simulator) -> None:
    httpx.post(
        casesystem_simulator.url + "/admin/instellingen",
        json={"rate_limit": 20, "burst": 2},
        headers=ADMIN,
    )
    with _client(casesystem_simulator) as c:
        for _ in range(3):
            c.fetch_changes(None, 1)
    stats = httpx.get(casesystem_simulator.url + "/admin/stats", headers=ADMIN).json()
    assert c.stats["rate_limited"] == stats.get("429", 0) >= 1


def test_transport_error_is_retried_then_raised() -> None:
    # a port nobody listens on: connect errors are retried, then reported as unavailable
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    slept: list[float] = []
    c = CaseSystemClient(f"http://127.0.0.1:{port}", "a", "b", max_retries=2, sleep=slept.append)
    with pytest.raises(CaseSystemUnavailable):
        c.fetch_changes(None, 1)
    c.close()


def test_token_refreshed_when_revoked(casesystem_simulator) -> None:
    with _client(casesystem_simulator) as c:
        c.fetch_changes(None, 1)
        httpx.post(
            casesystem_simulator.url + "/admin/instellingen",
            json={"tokens_intrekken": True},
            headers=ADMIN,
        )
        c.fetch_changes(None, 1)
    assert c.stats["token_refreshes"] == 2


def test_token_refreshed_before_expiry(casesystem_simulator) -> None:
    httpx.post(
        casesystem_simulator.url + "/admin/instellingen", json={"token_ttl": 1}, headers=ADMIN
    )
    with _client(casesystem_simulator) as c:
        c.fetch_changes(None, 1)
        time.sleep(1.1)
        c.fetch_changes(None, 1)
    assert c.stats["token_refreshes"] == 2


def test_bad_credentials(casesystem_simulator) -> None:
    c = CaseSystemClient(casesystem_simulator.url, "piis-bridge", "fout")
    with pytest.raises(CaseSystemHTTPError):
        c.fetch_changes(None, 1)
    c.close()


def test_conditional_get_and_push(casesystem_simulator) -> None:
    cid = casesystem_simulator.store.ids()[0]
    with _client(casesystem_simulator) as c:
        doc, etag = c.get_contract(cid)
        assert doc["contractnummer"] == cid
        assert c.get_contract(cid, etag) == (None, etag)
        task = {"contractnummer": cid, "titel": "Antwoord POD MI: aanvaard"}
        first, created = c.create_task("fed-1", task)
        again, created_again = c.create_task("fed-1", task)
        assert first == again and created and not created_again
        casesystem_simulator.inject(503, count=1)  # a retried write is not duplicated
        _, created3 = c.create_task("fed-2", task)
        assert created3
        _, created4 = c.create_task("fed-2", task)
        assert not created4


def _collect(sim, tmp_path, crash_after: int | None, page_size: int = 20):
    store = FileCursorStore(tmp_path / "cursor")
    handled: list[tuple[str, int]] = []

    def handle(item) -> None:
        if crash_after is not None and len(handled) == crash_after:
            raise RuntimeError("crash")
        handled.append((item["contractnummer"], item["versie"]))

    with _client(sim) as c, contextlib.suppress(RuntimeError):
        pull(c, store, handle, page_size=page_size)
    return store, handled


def test_crash_resume_replays_only_the_unfinished_page(casesystem_simulator, tmp_path) -> None:
    sim = casesystem_simulator
    total = sim.store.count()
    store, before = _collect(sim, tmp_path, crash_after=45, page_size=20)  # crash inside page 3
    assert len(before) == 45
    assert store.load() is not None
    # records changed while we were down: one already pulled, one not yet pulled
    pulled_id, pending_id = before[0][0], sim.store.ids()[-1]
    httpx.post(sim.url + "/admin/wijzig", json={"ids": [pulled_id, pending_id]}, headers=ADMIN)
    handled_after: list[tuple[str, int]] = []
    with _client(sim) as c:
        result = pull(
            c,
            store,
            lambda i: handled_after.append((i["contractnummer"], i["versie"])),
            page_size=20,
        )
    # the resume starts exactly after page 2: records 41..45 of the crashed page are replayed, no more
    replayed = [r for r in handled_after if r in before]
    assert replayed == before[40:45]
    delivered = {cid for cid, _ in before} | {cid for cid, _ in handled_after}
    assert len(delivered) == total  # nothing skipped
    assert (pulled_id, 2) in handled_after and (pending_id, 2) in handled_after
    assert [cid for cid, _ in handled_after].count(pending_id) == 1
    assert result.cursor == store.load()
    # nothing left: a second incremental pull delivers nothing
    with _client(sim) as c:
        again = pull(c, store, lambda i: pytest.fail("unexpected record"), page_size=20)
    assert again.records == 0


def test_cursor_file_is_replaced_atomically(tmp_path) -> None:
    store = FileCursorStore(tmp_path / "cursor")
    assert store.load() is None
    store.save("abc")
    store.save("def")
    assert store.load() == "def" and not (tmp_path / "cursor.tmp").exists()


def test_token_endpoint_errors_are_retried(casesystem_simulator) -> None:
    casesystem_simulator.inject(503, count=2, path="/oauth")
    with _client(casesystem_simulator) as c:
        assert len(c.fetch_changes(None, 2).items) == 2
    assert c.stats["retries"] == 2 and c.stats["token_refreshes"] == 1


def test_concurrent_writes_during_a_pull_lose_nothing(casesystem_simulator) -> None:
    """A writer keeps saving random contracts while the client pages through the feed."""
    import random
    import threading

    sim = casesystem_simulator
    ids = sim.store.ids()
    stop = threading.Event()

    def writer() -> None:
        rng = random.Random(3)
        while not stop.is_set():
            sim.store.touch([rng.choice(ids)], lambda d: d.update(status="LOP"))
            time.sleep(0.001)

    thread = threading.Thread(target=writer)
    thread.start()
    latest: dict[str, int] = {}
    try:
        with _client(sim) as c:
            cursor = None
            while True:
                page = c.fetch_changes(cursor, 5)
                for item in page.items:
                    assert item["versie"] >= latest.get(item["contractnummer"], 0)
                    latest[item["contractnummer"]] = item["versie"]
                cursor = page.cursor
                if not page.has_more:
                    break
    finally:
        stop.set()
        thread.join()
    assert set(latest) == set(ids)  # every record delivered at least once
    with _client(sim) as c:  # the next incremental pull brings every record up to date
        while True:
            page = c.fetch_changes(cursor, 50)
            latest.update({i["contractnummer"]: i["versie"] for i in page.items})
            cursor = page.cursor
            if not page.has_more:
                break
    assert latest == {cid: sim.store.get(cid)[1] for cid in ids}
