"""Fixtures of the console tests: a migrated database with two CPAS, users of each role, seeded rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.config import Settings
from piis_bridge.console import accounts
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.migrations import upgrade_database
from tests.pipeline.conftest import make_settings, pg_url  # noqa: F401 - fixture

PASSWORD = "correct horse battery"
NISS = "85073003328"  # valid check digits (the examples' beneficiary)


def seed_users(sessions: Any) -> None:
    with sessions() as s:
        accounts.add_user(s, "ada", PASSWORD, "admin", ["*"], actor="test")
        accounts.add_user(s, "olivier", PASSWORD, "operator", ["gent"], actor="test")
        accounts.add_user(s, "vera", PASSWORD, "viewer", ["gent"], actor="test", language="nl")
        accounts.add_user(
            s, "anton", PASSWORD, "operator", ["antwerpen"], actor="test", language="en"
        )
        s.commit()


def seed_rows(sessions: Any) -> dict[str, Any]:
    """A run over gent and antwerpen with items, forms, a push alert, quarantine and ledger rows."""
    from piis_bridge.ledger.models import FormEntry
    from piis_bridge.pipeline.models import Effect, QuarantineEntry, SyncRun, SyncRunCpas, WorkItem

    now = datetime.now(UTC)
    ids: dict[str, Any] = {}
    with sessions() as s:
        s.add(
            SyncRun(
                id="run1",
                trigger="nightly",
                cpas_ids=["gent", "antwerpen"],
                status="finished",
                started_at=now - timedelta(hours=3),
                finished_at=now - timedelta(hours=2),
                counts={},
            )
        )
        for cpas in ("gent", "antwerpen"):
            s.add(SyncRunCpas(run_id="run1", cpas_id=cpas, state="pulled", fetched=2))
        s.flush()
        for cpas, rec in (("gent", "G1"), ("antwerpen", "A1")):
            item = WorkItem(
                run_id="run1", cpas_id=cpas, record_id=rec, version="1", state="done", payload="{}"
            )
            s.add(item)
            s.flush()
            s.add(
                Effect(
                    key=f"form-{rec}",
                    kind="form",
                    run_id="run1",
                    item_id=item.id,
                    cpas_id=cpas,
                    record_id=rec,
                    state="answered",
                    answer="ACCEPTED",
                    payload_type="piis_bridge.forms:FederalForm",
                    payload=json.dumps({"niss": NISS, "dossier": rec, "kind": "B"}),
                )
            )
            s.add(
                Effect(
                    key=f"push:{cpas}:alert:{rec}:R-EVA-01:abcd1234:2026-01-15",
                    kind="push",
                    run_id="run1",
                    item_id=item.id,
                    cpas_id=cpas,
                    record_id=rec,
                    state="done",
                    payload_type="x:PushItem",
                    payload=json.dumps(
                        {
                            "title": "first evaluation",
                            "due": "2026-01-15",
                            "data": {"rule": "R-EVA-01", "status": "overdue"},
                        }
                    ),
                )
            )
            q = QuarantineEntry(
                run_id="run1",
                cpas_id=cpas,
                record_id=f"{rec}Q",
                stage="map",
                reason="beneficiary.niss: NISS checksum invalid",
                problems=[{"field": "beneficiary.niss", "reason": "NISS checksum invalid"}],
            )
            s.add(q)
            s.flush()
            ids[f"q_{cpas}"] = q.id
            s.add(
                FormEntry(
                    key=f"k-{rec}",
                    cpas_id=cpas,
                    kind="B",
                    niss=NISS,
                    dossier=rec,
                    period_key="2026-01-01",
                    version=1,
                    status="refused",
                    payload="{}",
                    xml="<x/>",
                    payload_hash="h",
                    content_hash="c",
                    errors=[{"code": "-300020", "message": "NISS not integrated"}],
                    created_at=now,
                    updated_at=now,
                )
            )
        s.commit()
    return ids


@pytest.fixture
def console_env(tmp_path: Path) -> Iterator[tuple[Settings, Any]]:
    settings = make_settings(tmp_path, "http://127.0.0.1:9", cpas=("gent", "antwerpen"))
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    yield settings, make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def client_for(console_env) -> Callable[..., Any]:
    from starlette.testclient import TestClient

    from piis_bridge.console.app import create_app

    settings, _ = console_env
    app = create_app(settings)

    def make(username: str | None = None) -> TestClient:
        c = TestClient(app, base_url="https://testserver")
        if username:
            login(c, username)
        return c

    return make


def login(c: Any, username: str, password: str = PASSWORD) -> Any:
    page = c.get("/login")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    return c.post(
        "/login",
        data={"csrf": token, "username": username, "password": password},
        follow_redirects=False,
    )


def csrf_of(c: Any, path: str = "/") -> str:
    return c.get(path).text.split('name="csrf" value="')[1].split('"')[0]
