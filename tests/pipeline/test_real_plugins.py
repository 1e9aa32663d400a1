"""End to end with the real plugins: neptunus (vendor REST simulator) -> rules -> federal (SOAP simulator).

The pipeline runs embedded (filesystem broker, SQLite, a real worker subprocess) against both local
simulators on free loopback ports, exactly as ``piis-bridge demo`` does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from piis_bridge.config import Settings
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.realworld import real_cpas


@pytest.fixture
def world(tmp_path: Path):
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(120)
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    kbo, ins, name = OCMWS[0]
    federal.admin.register_cpas(kbo, ins, name=name)
    nisses = sorted(
        {c.data["client"]["rijksregisternummer"] for c in generate(120, 1) if c.ocmw == kbo}
    )
    federal.admin.integrate_many(kbo, nisses)
    try:
        yield case, federal, (kbo, ins, name)
    finally:
        federal.stop()
        case.stop()


def test_real_plugins_end_to_end_embedded(tmp_path: Path, world) -> None:
    case, federal, (kbo, ins, name) = world
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal"]},
            "cpas": {"gent": real_cpas(case.url, federal.endpoint, kbo, ins, name)},
        }
    )
    summary = run_nightly(
        settings,
        options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
        timeout=120,
    )
    c = summary.counts
    assert summary.status == "finished", summary
    assert c["fetched"] > 0
    assert c["fetched"] == c["processed"] + c["skipped"] + c["items_quarantined"]
    assert c["forms"] > 0 and c["forms_answered"] + c["forms_quarantined"] == c["forms"]
    forms = federal.admin.forms()
    refs = Counter(f["client_ref"] for f in forms)
    assert refs and max(refs.values()) == 1  # nothing reached the federal service twice
    assert c["pushed"] > 0
    # Every form that reached the federal service has its answer recorded in the run.
    assert len(forms) <= c["forms_answered"]
    assert sum((c.get("answers") or {}).values()) == c["forms_answered"]


def test_moves_open_transfer_cases_once_and_tell_the_social_worker(tmp_path: Path, world) -> None:
    """R-TRF-01 in the nightly run: a contract ended by a move opens a transfer case and the social
    worker gets a task in the case system; the next night opens and pushes nothing new."""
    from piis_connectors.casesystem.seed import OCMWS, generate
    from sqlalchemy import create_engine, func, select

    from piis_bridge.pipeline.models import Effect
    from piis_bridge.transfer.tables import TransferCase

    case, federal, _ = world
    kbo, ins, name = next(
        o for o in OCMWS if o[0] == "0212345470"
    )  # the OCMW with the most moves in this seed
    federal.admin.register_cpas(kbo, ins, name=name)
    moved = {
        c.data["contractnummer"]
        for c in generate(120, 1)
        if c.ocmw == kbo and (c.data.get("stopzetting") or {}).get("reden") == "VERHUIS"
    }
    assert moved, "the seed should hold at least one move for this OCMW"
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal", "transfer"]},
            "cpas": {
                "gent": real_cpas(case.url, federal.endpoint, kbo, ins, name, transfer="transfer")
            },
        }
    )
    options = PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5)
    first = run_nightly(settings, options=options, timeout=120)
    assert first.status == "finished", first
    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite3")

    def state() -> tuple[list[str], int, int]:
        with engine.connect() as conn:
            cases = list(conn.execute(select(TransferCase.case_id)).scalars())
            tasks = conn.execute(
                select(func.count())
                .select_from(Effect)
                .where(Effect.kind == "push", Effect.key.like("%:detected"))
            ).scalar_one()
            done = conn.execute(
                select(func.count())
                .select_from(Effect)
                .where(Effect.kind == "push", Effect.key.like("%:detected"), Effect.state == "done")
            ).scalar_one()
        return cases, tasks, done

    cases, tasks, done = state()
    assert 0 < len(cases) <= len(moved)
    assert tasks == done == len(cases)  # one task per case, each pushed to the case system
    case.store.touch(sorted(moved))  # the social worker saves the ended contracts again
    second = run_nightly(settings, options=options, timeout=120)
    assert second.status == "finished", second
    assert state() == (cases, tasks, done)  # same cases, no new task


def test_a_national_register_move_reaches_the_social_worker_once(tmp_path: Path, world) -> None:
    """Issue #8 end to end: the federal simulator reports a move (a National Register mutation with
    the new municipality) for a beneficiary of the CPAS; the next nightly run reads it through the
    federal plugin's notice feed, opens the transfer case for that person's contract and pushes the
    social worker's task to the vendor case system; the night after, nothing new."""
    import json
    from datetime import datetime, timedelta

    from sqlalchemy import create_engine, func, select

    from piis_bridge.pipeline.models import Effect, WorkItem
    from piis_bridge.transfer.tables import TransferCase

    case, federal, (kbo, ins, name) = world
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal", "transfer"]},
            "cpas": {
                "gent": real_cpas(case.url, federal.endpoint, kbo, ins, name, transfer="transfer")
            },
        }
    )
    options = PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5)
    first = run_nightly(settings, options=options, timeout=120)
    assert first.status == "finished", first
    engine = create_engine(settings.database_url)

    def cases() -> list[tuple[str, str, str]]:
        with engine.connect() as conn:
            return [
                (c.record_id, c.to_ins_code, str(c.residence_change_date))
                for c in conn.execute(select(TransferCase)).all()
            ]

    before = cases()
    # A contract of this CPAS still running at least 60 days, whose beneficiary has no case yet.
    with engine.connect() as conn:
        payloads = [
            json.loads(p)
            for (p,) in conn.execute(select(WorkItem.payload).where(WorkItem.state == "done"))
        ]
    day = lambda text: datetime.strptime(text, "%d-%m-%Y").date()  # noqa: E731
    chosen = next(
        p
        for p in payloads
        if p["payload"].get("einddatum")
        and p["record_id"] not in {c[0] for c in before}
        and (day(p["payload"]["einddatum"]) - day(p["payload"]["startdatum"])).days > 60
    )
    moved_on = day(chosen["payload"]["startdatum"]) + timedelta(days=30)
    federal.admin.mutate(
        chosen["payload"]["client"]["rijksregisternummer"],
        "move",
        moved_on,
        new_ins="21004",
        new_municipality="Bruxelles",
    )

    second = run_nightly(settings, options=options, timeout=120)
    assert second.status == "finished", second
    assert second.counts["notices_done"] >= 1 and not second.counts["notice_errors"], second.counts
    after = cases()
    assert (chosen["record_id"], "21004", moved_on.isoformat()) in after and len(after) == len(
        before
    ) + 1

    def tasks() -> tuple[int, int]:
        with engine.connect() as conn:
            made = conn.execute(
                select(func.count())
                .select_from(Effect)
                .where(Effect.kind == "push", Effect.key.like("%:detected"))
            ).scalar_one()
            done = conn.execute(
                select(func.count())
                .select_from(Effect)
                .where(Effect.kind == "push", Effect.key.like("%:detected"), Effect.state == "done")
            ).scalar_one()
        return made, done

    assert tasks() == (len(after), len(after))  # every case's task reached the case system
    third = run_nightly(settings, options=options, timeout=120)
    assert third.status == "finished", third
    assert third.counts["notices"] == 0 and cases() == after and tasks() == (len(after), len(after))
    engine.dispose()


def test_the_monthly_statement_of_the_simulator_is_reconciled_like_the_federal_plugin_does(
    tmp_path: Path, world
) -> None:
    """The statement run with the real federal plugin: the forms of a nightly run are accepted this
    (simulated) month; once the simulator's clock passes the first Sunday of the next month the
    statement run fetches the statement through the hook and reports exactly the differences the
    federal plugin's own reconciliation (``piis-bridge forms statement``) reports."""
    from datetime import date, datetime, timedelta

    from piis_bridge.db import make_engine, make_sessionmaker
    from piis_bridge.hooks.manager import PluginHost
    from piis_bridge.ledger import Ledger
    from piis_bridge.ledger.reconcile import reconcile

    case, federal, (kbo, ins, name) = world
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal"]},
            "cpas": {"gent": real_cpas(case.url, federal.endpoint, kbo, ins, name)},
        }
    )
    options = PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5)
    nightly = run_nightly(settings, options=options, timeout=120)
    assert nightly.status == "finished" and nightly.counts["forms_answered"] > 0, nightly
    month = date.fromisoformat(federal.admin.clock()[:10]).replace(day=1)
    ledger = Ledger(make_sessionmaker(make_engine(settings.database_url)))
    with ledger.sessions() as s:  # our ledger expects another amount for one accepted form B
        from piis_bridge.ledger import FormEntry

        entry = (
            s.query(FormEntry)
            .filter_by(cpas_id="gent", kind="B", status="accepted")
            .order_by(FormEntry.id)
            .first()
        )
        entry.amount = (entry.amount or 0) + 100
        s.commit()
    following = (month + timedelta(days=32)).replace(day=1)
    first_sunday = following + timedelta(days=(6 - following.weekday()) % 7)
    federal.admin.set_clock(datetime.combine(first_sunday + timedelta(days=1), datetime.min.time()))

    run = run_nightly(settings, options=options, statement=month, timeout=120)
    assert run.status == "finished", run
    (st,) = run.statements
    assert st["state"] == "reconciled" and st["lines"] > 0, st

    host = PluginHost(settings)
    host.startup()
    statement = host.plugin("federal").service(host.context("gent", "federal")).statement(month)
    expected = [d.model_dump(mode="json") for d in reconcile(statement, ledger, "gent")]
    assert st["differences"] == expected
    assert "amount_mismatch" in {d["kind"] for d in expected} and run.counts[
        "statement_differences"
    ] == len(expected)
    assert st["lines"] == len(statement.lines)
