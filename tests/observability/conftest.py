"""Fixtures: a migrated database with runs, quarantine, circuits and forms written as the pipeline writes
them; an SMTP sink (aiosmtpd) and a webhook receiver on loopback."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from piis_bridge.config import Settings
from piis_bridge.db import make_engine
from piis_bridge.ledger.models import FormEntry
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline.models import (
    CircuitState,
    QuarantineEntry,
    StatementFetch,
    SyncRun,
    SyncRunCpas,
)
from tests.pipeline.conftest import importable_tests, make_remote, pg_url  # noqa: F401 - shared fixtures

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
        "state_dir": str(tmp_path / "state"),
        "cpas": {
            "gent": {"name": "OCMW Gent", "ins_code": "44021", "bce": "0207567726"},
            "liege": {"name": "CPAS de Liège", "ins_code": "62063", "bce": "0207567726"},
        },
    }
    values.update(extra)
    return Settings.model_validate(values)


class Db:
    """Writes the rows the checks read, as the pipeline would."""

    def __init__(self, url: str) -> None:
        upgrade_database(url)
        self.engine = make_engine(url)

    def run(
        self,
        cpas: str,
        *,
        status: str = "finished",
        ended: datetime = NOW,
        trigger: str = "nightly",
        minutes: float = 5,
        counts: dict[str, Any] | None = None,
        pull_state: str = "pulled",
    ) -> str:
        run_id = uuid.uuid4().hex
        with Session(self.engine) as s:
            s.add(
                SyncRun(
                    id=run_id,
                    trigger=trigger,
                    cpas_ids=[cpas],
                    status=status,
                    started_at=ended - timedelta(minutes=minutes),
                    finished_at=ended,
                    counts=counts or {"fetched": 10, "processed": 9, "items_quarantined": 1},
                )
            )
            s.flush()
            s.add(SyncRunCpas(run_id=run_id, cpas_id=cpas, state=pull_state))
            s.commit()
        return run_id

    def quarantine(
        self, cpas: str, n: int, *, stage: str = "map", reason: str = "unknown code"
    ) -> None:
        run_id = self.run(cpas)
        with Session(self.engine) as s:
            for i in range(n):
                s.add(
                    QuarantineEntry(
                        run_id=run_id,
                        cpas_id=cpas,
                        record_id=f"REC-{i}",
                        stage=stage,
                        reason=reason,
                        problems=[],
                        status="open",
                    )
                )
            s.commit()

    def circuit(self, remote: str, until: datetime) -> None:
        with Session(self.engine) as s:
            s.merge(CircuitState(remote=remote, failures=5, opened_until=until))
            s.commit()

    def forms(
        self, cpas: str, status: str, n: int, *, answered: datetime = NOW, code: str = "B00005"
    ) -> None:
        with Session(self.engine) as s:
            for _ in range(n):
                key = str(uuid.uuid4())
                s.add(
                    FormEntry(
                        key=key,
                        cpas_id=cpas,
                        kind="B",
                        niss="x" * 11,
                        dossier="D1",
                        period_key="p",
                        version=1,
                        status=status,
                        payload="{}",
                        xml="<x/>",
                        payload_hash="h",
                        content_hash="c",
                        errors=[{"code": code, "message": "late"}] if status == "refused" else [],
                        created_at=answered,
                        updated_at=answered,
                        answered_at=answered,
                    )
                )
            s.commit()

    def statement(self, cpas: str, differences: int) -> None:
        run_id = self.run(cpas, trigger="statement")
        with Session(self.engine) as s:
            s.add(
                StatementFetch(
                    run_id=run_id,
                    cpas_id=cpas,
                    month=date(2026, 11, 1),
                    state="reconciled",
                    attempts=1,
                    differences=[{"kind": "missing", "key": "k"}] * differences,
                )
            )
            s.commit()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    d = Db(f"sqlite:///{tmp_path}/app.sqlite3")
    yield d
    d.engine.dispose()


class SmtpSink:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                import email
                import email.policy

                sink.messages.append(
                    email.message_from_bytes(envelope.content, policy=email.policy.default)
                )
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd's readiness check cannot use port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class WebhookSink:
    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                sink.bodies.append(json.loads(self.rfile.read(length)))
                sink.headers.append(dict(self.headers))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookSink:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink
