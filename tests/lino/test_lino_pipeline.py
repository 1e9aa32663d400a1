"""Proof: the Lino Welfare demo's ISIP contracts through the whole pipeline (issue #17).

A real Lino Welfare ("gerd" demo, 34 ISIP contracts) on loopback, the real lino plugin, the real
federal plugin against the NovaPrima/BCSS simulator, the embedded pipeline (worker subprocess,
filesystem broker, SQLite).  Numbers are exact: they are what the demo data holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from piis_connectors.lino.client import LinoClient, grid_filter
from sqlalchemy import create_engine, select

from piis_bridge.config import Settings
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.lino.conftest import USER

BCE, INS, NAME = "0212345470", "63023", "ÖSHZ Eupen"

#: The 34 contracts of the demo: 17 start under an integration income (aid type 1), 16 of them map
#: and one is for a client without national register number (contract 3, client 25); 17 start under
#: "Ausländerbeihilfe" (aid type 2, equivalent social aid): no DIS decision, quarantined.
MAPPED = 16
NOT_RI = 17
NO_NISS = 1


@pytest.fixture
def federal(tmp_path: Path):
    from piis_connectors.federal.testing import start_running_simulator

    sim = start_running_simulator(tmp_path / "novaprima.sqlite3")
    sim.admin.register_cpas(BCE, INS, name=NAME)
    sim.admin.set_clock(
        datetime(2014, 5, 22, 9, 0)
    )  # Lino's demo date: the demo's forms are timely then
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def integrated(federal, lino_server):
    """The demo clients' NISS integrated by the CPAS (what the BCSS integration of each file holds)."""
    from piis_bridge.identifiers import is_valid_niss, validate_niss

    with LinoClient(lino_server.url, USER, "1234") as lino:
        clients = {row["clientHidden"] for row in lino.iter_rows("isip", "Contracts")}
        ids = {
            validate_niss(d["national_id"])
            for pk in clients
            if (d := lino.get_detail("pcsw", "Clients", pk))
            and d.get("national_id")
            and is_valid_niss(d["national_id"])
        }
    federal.admin.integrate_many(BCE, sorted(ids))
    return federal


def _settings(tmp_path: Path, lino_settings: dict, federal, **lino: object) -> Settings:
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["lino", "federal"]},
            "cpas": {
                "eupen": {
                    "name": NAME,
                    "ins_code": INS,
                    "bce": BCE,
                    "case_system": "lino",
                    "federal": "federal",
                    "transfer": None,
                    "plugins": {
                        "lino": {**lino_settings, **lino},
                        "federal": {"endpoint": federal.endpoint, "mode": "batch"},
                    },
                }
            },
        }
    )


def _items(tmp_path: Path) -> list[tuple[str, str, int]]:
    from piis_bridge.pipeline.models import WorkItem

    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    with engine.connect() as conn:
        rows = [
            (r.record_id, r.state, r.findings or 0)
            for r in conn.execute(select(WorkItem.record_id, WorkItem.state, WorkItem.findings))
        ]
    engine.dispose()
    return rows


def _quarantine(tmp_path: Path) -> list[tuple[str, str]]:
    from piis_bridge.pipeline.models import QuarantineEntry as Quarantine

    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    with engine.connect() as conn:
        rows = [
            (r.record_id, r.reason)
            for r in conn.execute(select(Quarantine.record_id, Quarantine.reason))
        ]
    engine.dispose()
    return rows


def _lino_tasks_and_notes(client: LinoClient) -> tuple[int, int]:
    tasks = sum(
        1
        for r in client.iter_rows(
            "cal", "Tasks", filters=[grid_filter("summary", "[piis:", kind="string")]
        )
    )
    notes = sum(
        1
        for r in client.iter_rows(
            "notes", "Notes", filters=[grid_filter("subject", "[piis:", kind="string")]
        )
    )
    return tasks, notes


def test_the_lino_demo_through_the_pipeline(
    tmp_path: Path, lino_server, lino_settings, integrated
) -> None:
    federal = integrated
    settings = _settings(tmp_path, lino_settings, federal, missing_decision_date="granting_start")
    options = PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5)
    lino = LinoClient(lino_server.url, USER, "1234")

    first = run_nightly(settings, options=options, timeout=600)
    c = first.counts
    assert first.status == "finished", first
    assert c["fetched"] == 34
    assert (
        c["processed"] == MAPPED
        and c["items_quarantined"] == NOT_RI + NO_NISS
        and c["skipped"] == 0
    )
    quarantined = _quarantine(tmp_path)
    assert Counter(reason.split(":")[0] for _, reason in quarantined) == {
        "grantings.aid_type": NOT_RI,
        "client.national_id": NO_NISS,
    }
    assert (
        "isip-3",
        "client.national_id: missing mandatory field; client.birth_date: missing mandatory field",
    ) in quarantined
    # Every mapped contract was evaluated by the rules and gave one form B, built and submitted.
    items = _items(tmp_path)
    assert Counter(state for _, state, _ in items) == {
        "done": MAPPED,
        "quarantined": NOT_RI + NO_NISS,
    }
    assert sum(f for _, _, f in items) == 286  # rule findings over the 16 contracts (15 to 21 each)
    forms = federal.admin.forms()
    assert c["forms"] == len(forms) == MAPPED and {f["kind"] for f in forms} == {"B"}
    assert len({f["client_ref"] for f in forms}) == MAPPED
    # The simulator's clock is Lino's demo date: forms of 2012 contracts are past forfeiture (B00005).
    assert c["forms_answered"] == MAPPED and c["answers"] == {"ACCEPTED": 8, "REFUSED": 8}
    # Answers and deadline alerts pushed back, visible through Lino's own API: a note per federal
    # answer on its contract, a task per deadline alert for the social worker.
    tasks, notes = _lino_tasks_and_notes(lino)
    assert (c["pushed"], notes, tasks) == (22, MAPPED, 6)

    # Two contracts changed through Lino's API: the next run pulls exactly those two.
    for pk in (1, 3):
        lino.update_row(
            "isip", "Contracts", pk, {"goals": f"<p>Revised goals of contract {pk}</p>"}
        )
    second = run_nightly(settings, options=options, timeout=600)
    assert second.status == "finished", second
    assert second.counts["fetched"] == 2
    pulled = Counter(rid for rid, _, _ in _items(tmp_path))
    assert sorted(rid for rid, n in pulled.items() if n == 2) == ["isip-1", "isip-3"]
    assert (second.counts["processed"], second.counts["items_quarantined"]) == (
        1,
        1,
    )  # isip-3 still has no NISS
    assert second.counts["forms"] == 0 and second.counts["pushed"] == 0
    assert len(federal.admin.forms()) == len(forms)  # nothing reached the federal service twice

    third = run_nightly(settings, options=options, timeout=600)
    assert third.status == "finished" and third.counts["fetched"] == 0
    assert len(federal.admin.forms()) == len(forms)
    assert _lino_tasks_and_notes(lino) == (tasks, notes)
    lino.close()
