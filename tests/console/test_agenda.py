"""The agenda per social worker: a real pipeline run records the worker in charge of each deadline,
the console filters on it (one worker, unassigned, mine) and its CSV and iCalendar exports follow."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from piis_bridge.console import accounts
from piis_bridge.console.app import create_app
from piis_bridge.console.models import AuditEntry
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.hooks import hookimpl
from piis_bridge.migrations import upgrade_database
from piis_bridge.model import SocialWorkerAssignment, WorkerRole
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.models import Effect
from piis_bridge.pipeline.process import worker_in_charge
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.stages import create_run
from tests.console.conftest import PASSWORD, login
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_remote, make_settings  # noqa: F401 - fixture
from tests.pipeline.inline import InlineEnqueuer

RULES_DATE = date(2026, 3, 2)  # the studies example has deadlines both passed and ahead that day
PEETERS = SocialWorkerAssignment(
    worker_id="GNT-MW-31", name="L. Peeters", role=WorkerRole.IN_CHARGE
)
CLAES = SocialWorkerAssignment(worker_id="GNT-MW-40", name="P. Claes", role=WorkerRole.IN_CHARGE)
JANSSENS = SocialWorkerAssignment(
    worker_id="GNT-MW-12", name="S. Janssens", role=WorkerRole.SUBSTITUTE
)

# the social workers each dossier's contract names (the test's case system); D000004: none in charge
WORKERS: dict[str, list[SocialWorkerAssignment]] = {}
# what else differs: D000001's evaluation and D000003's signature are overdue on RULES_DATE
# (R-EVA-01 due 2026-01-14, R-DL-01 due 2025-11-20); the others' next evaluation is ahead (2026-09-14)
CHANGES: dict[str, dict[str, Any]] = {"D000001": {"evaluations": []}, "D000003": {"signatures": []}}


def assign_workers() -> None:
    """Give the example dossiers their social workers in charge (shared with the browser test)."""
    WORKERS.clear()
    WORKERS.update(
        {
            "D000001": [PEETERS, JANSSENS],
            "D000002": [CLAES, JANSSENS],
            "D000003": [
                PEETERS.model_copy(update={"end_date": date(2026, 1, 31)}),
                CLAES.model_copy(update={"start_date": date(2026, 2, 1)}),
            ],
            "D000004": [JANSSENS],
        }
    )


@hookimpl
def piis_case_map_record(cpas: Any, record: Any) -> Any:
    outcome = pipetest.piis_case_map_record(cpas, record)
    contract = outcome.contract.model_copy(
        update={"social_workers": WORKERS[record.record_id], **CHANGES.get(record.record_id, {})}
    )
    return outcome.model_copy(update={"contract": contract})


def run_inline(rt: Runtime) -> None:
    """One nightly run of the pipeline, its tasks run inline (no broker)."""
    enq = InlineEnqueuer(rt)
    run_id = create_run(rt)
    enq.start(run_id)
    enq.drain()
    assert run_summary(rt, run_id).status == "finished"


def agenda_pipeline(tmp_path: Path, remote: Any) -> tuple[Any, Runtime]:
    """A pipeline runtime for CPAS gent on the remote, database migrated."""
    settings = make_settings(tmp_path, remote.url, cpas=("gent",))
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", rules_date=RULES_DATE),
        plugins=(("pipetest", pipetest.replacing(piis_case_map_record=piis_case_map_record)),),
    )
    return settings, rt


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_worker_in_charge_is_the_current_in_charge_assignment() -> None:
    contract = pipetest._BASE
    on = date(2026, 3, 2)

    def who(*workers: SocialWorkerAssignment) -> tuple[str, str] | None:
        return worker_in_charge(contract.model_copy(update={"social_workers": list(workers)}), on)

    assert who(JANSSENS, PEETERS) == ("GNT-MW-31", "L. Peeters")  # the substitute is not in charge
    assert who(JANSSENS) is None and who() is None
    left = PEETERS.model_copy(update={"end_date": date(2026, 1, 31)})
    assert who(left, CLAES) == ("GNT-MW-40", "P. Claes")  # the one still on the file
    assert who(left) is None  # left with no successor: unassigned
    handed = CLAES.model_copy(update={"start_date": date(2026, 2, 1)})
    assert who(PEETERS, handed) == ("GNT-MW-40", "P. Claes")  # the latest hand-over wins
    assert who(PEETERS, CLAES) == ("GNT-MW-31", "L. Peeters")  # same start: the first listed
    later = CLAES.model_copy(update={"start_date": date(2026, 6, 1)})
    assert who(later) == ("GNT-MW-40", "P. Claes")  # not started yet: takes the coming deadlines
    # an ended contract keeps the worker it ended with
    ended = contract.model_copy(update={"end_date": date(2025, 12, 31)})
    gone = PEETERS.model_copy(update={"end_date": date(2025, 12, 31)})
    assert worker_in_charge(ended.model_copy(update={"social_workers": [gone]}), on) == (
        "GNT-MW-31",
        "L. Peeters",
    )


def test_a_run_gives_each_deadline_its_worker_and_the_console_filters_on_it(
    tmp_path: Path, make_remote
) -> None:
    assign_workers()
    remote = make_remote(4)
    settings, rt = agenda_pipeline(tmp_path, remote)
    run_inline(rt)
    with rt.session() as s:
        alerts = [
            (e.record_id, e.worker_id, json.loads(e.payload)["data"])
            for e in s.scalars(select(Effect).where(Effect.key.like("push:%:alert:%")))
        ]
        forms = {e.worker_id for e in s.scalars(select(Effect).where(Effect.kind == "form"))}
    assert forms == {None}
    by_record = {r: (w, d["worker_id"], d["worker_name"]) for r, w, d in alerts}
    assert by_record == {
        "D000001": ("GNT-MW-31", "GNT-MW-31", "L. Peeters"),
        "D000002": ("GNT-MW-40", "GNT-MW-40", "P. Claes"),
        "D000003": ("GNT-MW-40", "GNT-MW-40", "P. Claes"),
        "D000004": ("", "unassigned", ""),
    }
    statuses = {r: (d["rule"], d["status"]) for r, _, d in alerts}
    assert statuses == {
        "D000001": ("R-EVA-01", "overdue"),
        "D000002": ("R-EVA-01", "pending"),
        "D000003": ("R-DL-01", "overdue"),
        "D000004": ("R-EVA-01", "pending"),
    }

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        accounts.add_user(s, "lies", PASSWORD, "viewer", ["gent"], actor="test", language="en")
        accounts.add_user(s, "it", PASSWORD, "operator", ["gent"], actor="test", language="en")
        s.commit()
    from starlette.testclient import TestClient

    c = TestClient(create_app(settings), base_url="https://testserver")
    login(c, "lies")

    page = c.get("/agenda").text
    assert 'value="GNT-MW-31"' in page and "L. Peeters (GNT-MW-31)" in page
    assert 'value="GNT-MW-40"' in page and 'value="unassigned"' in page
    assert 'value="mine"' not in page  # lies is linked to no worker yet
    assert "GNT-MW-12" not in page and "Janssens" not in page  # a substitute is nobody's agenda

    def dossiers(text: str) -> set[str]:
        return {r for r in ("D000001", "D000002", "D000003", "D000004") if f">{r}</a>" in text}

    assert dossiers(page) == {"D000001", "D000002", "D000003", "D000004"}
    assert dossiers(c.get("/agenda?worker=GNT-MW-40").text) == {"D000002", "D000003"}
    assert dossiers(c.get("/agenda?worker=unassigned").text) == {"D000004"}

    # overdue first, then the coming ones, each with its rule
    rows = _csv(c.get("/agenda.csv?worker=GNT-MW-31").text)
    assert {r["dossier"] for r in rows} == {"D000001"} and rows
    assert {r["worker_id"] for r in rows} == {"GNT-MW-31"} and {r["worker"] for r in rows} == {
        "L. Peeters"
    }
    assert all(r["rule"].startswith("R-") for r in rows)
    assert [(r["due"], r["status"]) for r in rows] == [("2026-01-14", "overdue")]
    claes = _csv(c.get("/agenda.csv?worker=GNT-MW-40").text)
    assert [(r["dossier"], r["rule"], r["status"]) for r in claes] == [
        ("D000003", "R-DL-01", "overdue"),  # overdue first
        ("D000002", "R-EVA-01", "pending"),
    ]
    unassigned = _csv(c.get("/agenda.csv?worker=unassigned").text)
    assert {(r["dossier"], r["worker_id"]) for r in unassigned} == {("D000004", "unassigned")}
    everything = _csv(c.get("/agenda.csv").text)
    assert len(everything) == len(alerts)

    ics = c.get("/agenda.ics?worker=GNT-MW-40").text
    assert ics.count("BEGIN:VEVENT") == sum(1 for _, w, _ in alerts if w == "GNT-MW-40")
    assert "P. Claes (GNT-MW-40)" in ics and "D000001" not in ics and "D000002" in ics

    # "mine": only for an account linked to its worker id, audited
    assert c.get("/agenda?worker=mine").status_code == 400
    with sessions() as s:
        accounts.set_worker(s, "lies", "GNT-MW-31", actor="ada", reason="her caseload")
        s.commit()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "set_worker")).one()
        assert audit.target == "lies" and audit.detail == {"from": None, "to": "GNT-MW-31"}
    login(c, "lies")
    assert 'value="mine"' in c.get("/agenda").text
    assert dossiers(c.get("/agenda?worker=mine").text) == {"D000001"}
    mine = _csv(c.get("/agenda.csv?worker=mine").text)
    assert {r["dossier"] for r in mine} == {"D000001"}
    assert "D000001" in c.get("/agenda.ics?worker=mine").text

    # a hand-over in the case system: the next run moves the stored deadlines to the new worker
    WORKERS["D000001"] = [CLAES, JANSSENS]
    remote.state.touch(["D000001"])
    run_inline(rt)
    with rt.session() as s:
        moved = set(
            s.scalars(
                select(Effect.worker_id).where(
                    Effect.record_id == "D000001", Effect.key.like("push:%:alert:%")
                )
            )
        )
    assert moved == {"GNT-MW-40"}
    assert dossiers(c.get("/agenda?worker=mine").text) == set()
    assert "D000001" in dossiers(c.get("/agenda?worker=GNT-MW-40").text)
    rt.close()
    engine.dispose()


def test_users_set_worker_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from piis_bridge.cli import build_app

    url = f"sqlite:///{tmp_path}/app.sqlite3"
    cfg = tmp_path / "piis-bridge.toml"
    cfg.write_text(f'database_url = "{url}"\nstate_dir = "{tmp_path}/state"\n')
    monkeypatch.setenv("PIIS_CONFIG", str(cfg))
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        accounts.add_user(s, "lies", PASSWORD, "viewer", ["gent"], actor="test")
        s.commit()

    def cli(*args: str) -> tuple[int, str]:
        r = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
        return r.exit_code, r.output

    code, out = cli("users", "set-worker", "lies", "GNT-MW-31", "--reason", "her caseload")
    assert code == 0 and "lies is social worker GNT-MW-31" in out, out
    code, out = cli("users", "list")
    assert code == 0 and "GNT-MW-31" in out
    code, out = cli("users", "set-worker", "nobody", "X")
    assert code == 2
    code, out = cli("users", "set-worker", "lies", "")
    assert code == 0 and "linked to no social worker" in out
    with make_sessionmaker(engine)() as s:
        assert [u.worker_id for u in accounts.list_users(s)] == [None]
        changes = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "set_worker").order_by(AuditEntry.id)
        )
        assert [(a.detail["to"], a.reason) for a in changes] == [
            ("GNT-MW-31", "her caseload"),
            (None, ""),
        ]
    engine.dispose()


def test_overdue_is_judged_on_the_day_given_day_before_of_and_after_the_due_date(
    tmp_path: Path, make_remote
) -> None:
    """D000001's evaluation (R-EVA-01) is due 2026-01-14: on that day it is not yet overdue."""
    from piis_bridge.ops import queries

    assign_workers()
    _settings, rt = agenda_pipeline(tmp_path, make_remote(4))
    run_inline(rt)
    seen = {}
    with rt.session() as s:
        for day in (date(2026, 1, 13), date(2026, 1, 14), date(2026, 1, 15)):
            rows = queries.list_agenda(s, ["gent"], worker="GNT-MW-31", today=day).items
            assert [(r.record_id, r.rule, r.due) for r in rows] == [
                ("D000001", "R-EVA-01", date(2026, 1, 14))
            ]
            seen[day.day] = rows[0].overdue
    assert seen == {13: False, 14: False, 15: True}
    rt.close()


@pytest.mark.parametrize(
    ("zone", "now", "today"),
    [
        # 23:30 in Brussels (UTC+1 in winter) is still the 6th; the UTC clock already says the 6th too
        ("Europe/Brussels", "2026-12-06T22:30:00+00:00", date(2026, 12, 6)),
        # 00:30 in Brussels is the 7th while a UTC host still says the 6th
        ("Europe/Brussels", "2026-12-06T23:30:00+00:00", date(2026, 12, 7)),
        # summer time (UTC+2): 00:30 on 1 July in Brussels is 22:30 on 30 June in UTC
        ("Europe/Brussels", "2026-06-30T22:30:00+00:00", date(2026, 7, 1)),
        ("UTC", "2026-06-30T22:30:00+00:00", date(2026, 6, 30)),
        # a leap day, seen from Brussels one hour before UTC reaches it
        ("Europe/Brussels", "2028-02-28T23:00:00+00:00", date(2028, 2, 29)),
    ],
)
def test_local_today_is_the_installations_day(
    tmp_path: Path, zone: str, now: str, today: date
) -> None:
    from datetime import datetime

    settings = make_settings(tmp_path, "http://127.0.0.1:9", cpas=("gent",))
    settings = settings.model_copy(update={"timezone": zone})
    assert settings.local_today(datetime.fromisoformat(now)) == today
