"""The federal monthly statement: scheduled from the Monday after the first Sunday (Europe/Brussels,
across DST), asked until available, reconciled against the form ledger, differences in the run.

Stage-level tests run the stages in this process (:mod:`tests.pipeline.inline`); one test runs a
real embedded run (a celery worker subprocess) through ``run_nightly(statement=...)``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from piis_bridge.forms import Evaluation, FederalForm, FormKind, FormStatus, SubmissionOutcome
from piis_bridge.ledger import Ledger
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime, run_nightly
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.schedule import due_statement_key, statement_due_at
from piis_bridge.pipeline.statement import create_statement_run, dispatch_statement_run
from piis_bridge.pipeline.sweeper import sweep
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import PLUGIN, make_settings
from tests.pipeline.inline import InlineEnqueuer
from tests.pipeline.remote import person_niss

BRU = ZoneInfo("Europe/Brussels")
SIX = datetime.strptime("06:00", "%H:%M").time()
OCTOBER = date(2026, 10, 1)


# ---------------------------------------------------------------- schedule (Europe/Brussels)


def test_due_on_the_monday_after_the_first_sunday_local_time_summer_and_winter() -> None:
    # November 2026 starts on a Sunday: October's statement is due Monday 2 November, 06:00 CET.
    assert statement_due_at(OCTOBER, SIX, BRU) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    # April 2026 starts on a Wednesday: first Sunday the 5th, due Monday 6 April 06:00 CEST.
    assert statement_due_at(date(2026, 3, 1), SIX, BRU) == datetime(2026, 4, 6, 4, 0, tzinfo=UTC)
    # June 2026 starts on a Monday: that Monday is before the first Sunday; due Monday 8 June.
    assert statement_due_at(date(2026, 5, 1), SIX, BRU) == datetime(2026, 6, 8, 4, 0, tzinfo=UTC)
    due = statement_due_at(OCTOBER, SIX, BRU)
    assert due_statement_key(due - timedelta(minutes=1), SIX, BRU) is None
    assert due_statement_key(due, SIX, BRU) == "statement:2026-10"
    assert (
        due_statement_key(datetime(2026, 11, 30, 22, 59, tzinfo=UTC), SIX, BRU)
        == "statement:2026-10"
    )


def test_every_ten_minutes_of_a_year_dispatches_each_month_once_at_its_local_time() -> None:
    """Across both DST changes: one key per month, first seen at 06:00 Brussels time on the due Monday."""
    first_seen: dict[str, datetime] = {}
    t = datetime(2026, 1, 1, tzinfo=UTC)
    while t < datetime(2027, 1, 1, tzinfo=UTC):
        key = due_statement_key(t, SIX, BRU)
        if key is not None:
            first_seen.setdefault(key, t)
        t += timedelta(minutes=10)
    assert sorted(first_seen) == [
        f"statement:{m}" for m in ["2025-12"] + [f"2026-{n:02d}" for n in range(1, 12)]
    ]
    for key, seen in first_seen.items():
        local = seen.astimezone(BRU)
        if key == "statement:2025-12":
            continue  # due before the loop started (5 January 2026)
        assert (local.weekday(), local.hour, local.minute) == (0, 6, 0), (key, local)
        assert (
            local.day <= 8 and (local - timedelta(days=1)).day <= 7
        )  # the Monday after the first Sunday
    # Summer months are an hour earlier in UTC than winter months.
    assert first_seen["statement:2026-03"].hour == 4 and first_seen["statement:2026-10"].hour == 5


def test_beat_dispatch_starts_one_statement_run_per_month(tmp_path: Path, make_remote) -> None:
    rt = _runtime(tmp_path, make_remote(1))
    enq = InlineEnqueuer(rt)
    due = statement_due_at(OCTOBER, SIX, BRU)
    assert dispatch_statement_run(rt, enq, due - timedelta(minutes=5)) is None
    run_id = dispatch_statement_run(rt, enq, due)
    assert run_id is not None and enq.sent["start"] == 1
    assert (
        dispatch_statement_run(rt, enq, due + timedelta(minutes=5)) is None
    )  # a second beat, a restart
    assert dispatch_statement_run(rt, enq, due + timedelta(days=20)) is None
    summary = run_summary(rt, run_id)
    assert summary.statements[0]["month"] == "2026-10"
    rt.close()


# ---------------------------------------------------------------- fetch and reconcile


def _form(n: int, amount: int) -> FederalForm:
    return FederalForm(
        kind=FormKind.B,
        cpas_id="gent",
        cpas_name="OCMW Gent",
        cpas_ins="44021",
        cpas_bce="0207567726",
        niss=person_niss(n),
        dossier=f"D{n:06d}",
        entry_date=date(2026, 10, 1),
        rubrics={"Category": "2", "MonthlyAmount": str(amount)},
    )


def _ledger_with_three_accepted_forms(rt: Runtime) -> list[str]:
    ledger = Ledger(rt.sessions)
    keys = []
    for n, amount in ((1, 120000), (2, 120000), (3, 95000)):
        entry, _ = ledger.record(_form(n, amount), b"<B/>")
        keys.append(entry.key)
    ledger.mark_sent(keys)
    ledger.apply(
        [
            SubmissionOutcome(
                client_reference=k,
                kind=FormKind.B,
                status=FormStatus.SENT,
                evaluation=Evaluation.ACCEPTED,
                reference=f"REF{i}",
                accepted_amount=12000,
                received_at=datetime(2026, 10, 12 + i),
            )
            for i, k in enumerate(keys)
        ]
    )
    return keys


def _line(key: str | None, n: int, amount: int) -> dict[str, Any]:
    return {
        "ins_code": "44021",
        "dossier": f"D{n:06d}",
        "niss": person_niss(n),
        "reference": f"REF{n}",
        "client_reference": key,
        "amount_type": 1,
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
        "budget_article": "4410",
        "sign": "+",
        "amount_cents": amount,
        "percentage": 5500,
    }


def _runtime(tmp_path: Path, remote, plugin: object = pipetest, **options: Any) -> Runtime:
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)
    return Runtime(
        settings,
        PipelineOptions(broker_dir=tmp_path / "broker", **options),
        plugins=(("pipetest", plugin),),
    )


def test_asked_until_available_then_every_difference_is_in_the_run(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(1)
    rt = _runtime(tmp_path, remote, statement_retry_minutes=0.01)  # ask again after 0.6 s
    keys = _ledger_with_three_accepted_forms(rt)
    enq = InlineEnqueuer(rt)
    run_id = create_statement_run(rt, OCTOBER, schedule_key="statement:2026-10")
    assert (
        create_statement_run(rt, OCTOBER, schedule_key="statement:2026-10") is None
    )  # once a month
    enq.start(run_id)
    enq.drain()
    waiting = run_summary(rt, run_id)
    assert waiting.status == "running" and waiting.statements[0]["state"] == "waiting"
    assert waiting.statements[0]["error"] == "statement 2026-10 not available yet"
    assert remote.state.statement_requests == ["2026-10"]

    # Produced on the first Sunday: the next ask (the sweeper, when its time comes) finds it.
    remote.state.statements["2026-10"] = {
        "cpas_bce": "0207567726",
        "month": "2026-10-01",
        "lines": [
            _line(keys[0], 1, 120000),  # as the ledger says
            _line(keys[1], 2, 110000),  # another monthly amount than the one sent
            _line(None, 9, 50000),
        ],  # a form this CPAS never sent
        "notices": [
            {
                "code": "DBL01",
                "client_reference": keys[0],
                "text": f"double claim for {person_niss(1)}",
            }
        ],
    }
    time.sleep(0.7)
    assert sweep(rt, enq)["statements"] == 1
    enq.drain()
    done = run_summary(rt, run_id)
    assert done.status == "finished", done
    assert remote.state.statement_requests == ["2026-10", "2026-10"]
    (st,) = done.statements
    assert (st["state"], st["lines"], st["total_cents"], st["attempts"]) == (
        "reconciled",
        3,
        280000,
        2,
    )
    kinds = sorted((d["kind"], d["client_reference"]) for d in st["differences"])
    assert kinds == sorted(
        [
            ("amount_mismatch", keys[1]),
            ("unknown_in_ledger", None),
            ("missing_in_statement", keys[2]),
            ("notice", keys[0]),
        ]
    )
    assert (
        done.counts["statement_differences"] == 4
        and done.counts["statements"]["gent"]["differences"] == 4
    )
    assert person_niss(1) not in str(st["differences"])  # a NISS in a notice's text is masked

    from piis_bridge.cli.pipeline_commands import statement_tables

    console = Console(record=True, width=200)
    for table in statement_tables(done):
        console.print(table)
    text = console.export_text()
    assert (
        "reconciled" in text
        and "amount_mismatch" in text
        and "1100.00" in text
        and "missing_in_statement" in text
    )
    rt.close()


def test_a_plugin_without_a_statement_and_a_failing_one_are_reported(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(1)
    rt = _runtime(tmp_path / "a", remote, plugin=pipetest.without("piis_federal_fetch_statement"))
    enq = InlineEnqueuer(rt)
    run_id = create_statement_run(rt, OCTOBER)
    enq.start(run_id)
    enq.drain()
    summary = run_summary(rt, run_id)
    assert summary.status == "failed"
    assert summary.statements[0]["state"] == "unsupported"
    assert (
        "the federal plugin 'pipetest' of gent has no monthly statement"
        in summary.statements[0]["error"]
    )
    rt.close()

    @pipetest.hookimpl
    def piis_federal_fetch_statement(cpas: Any, month: date) -> Any:
        raise ConnectionError("eBox unreachable")

    rt = _runtime(
        tmp_path / "b",
        remote,
        plugin=pipetest.replacing(piis_federal_fetch_statement=piis_federal_fetch_statement),
        retry_base=0.01,
        retry_cap=0.02,
        retry_max_attempts=3,
    )
    enq = InlineEnqueuer(rt)
    run_id = create_statement_run(rt, OCTOBER)
    enq.start(run_id)
    enq.drain()
    summary = run_summary(rt, run_id)
    assert summary.status == "failed" and summary.statements[0]["state"] == "failed"
    assert summary.statements[0]["attempts"] == 3  # transient: retried, then given up
    assert "ConnectionError: eBox unreachable" in summary.statements[0]["error"]
    rt.close()


def test_statement_run_with_a_real_worker(tmp_path: Path, make_remote) -> None:
    remote = make_remote(1)
    remote.state.statements["2026-10"] = {
        "cpas_bce": "0207567726",
        "month": "2026-10-01",
        "lines": [],
        "notices": [],
    }
    settings = make_settings(tmp_path, remote.url)
    summary = run_nightly(
        settings,
        options=PipelineOptions(broker_dir=tmp_path / "broker"),
        extra_plugins=[PLUGIN],
        statement=OCTOBER,
        timeout=90,
    )
    assert summary.status == "finished", summary
    assert (
        summary.statements[0]["state"] == "reconciled"
        and summary.statements[0]["differences"] == []
    )
    assert (
        summary.counts["fetched"] == 0 and remote.state.fetches == 0
    )  # no sync in a statement run
