"""The nightly run writes what it pushes in the CPAS's language, end to end.

Embedded pipeline (filesystem broker, SQLite, a real worker subprocess), NeptunusWeb and NovaPrima
simulators on loopback, as ``piis-bridge demo`` runs.  The push items are stored in the pipeline's outbox
as JSON before they are sent: their message description must survive that, and the texts reach the
vendor in Dutch, with the keys (and so exactly-once) unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.config import Settings
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.realworld import real_cpas


@pytest.fixture
def world(tmp_path: Path):  # noqa: ANN201
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(120)
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    kbo, ins, name = next(
        o for o in OCMWS if o[0] == "0212345470"
    )  # an OCMW with answers, alerts and moves
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


def test_a_dutch_ocmw_receives_dutch_tasks_and_statuses(tmp_path: Path, world) -> None:  # noqa: ANN001
    case, federal, (kbo, ins, name) = world
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal", "transfer"]},
            "cpas": {
                "gent": real_cpas(
                    case.url, federal.endpoint, kbo, ins, name, transfer="transfer", language="nl"
                )
            },
        }
    )
    summary = run_nightly(
        settings,
        options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
        timeout=180,
    )
    assert summary.status == "finished", summary
    statuses = case.store.list_rows("statussen", None)
    tasks = case.store.list_rows("taken", None)
    assert statuses and tasks
    assert all(s["status"].startswith("Federaal antwoord: ") for s in statuses), statuses[:3]
    assert not any("Federal answer" in s["status"] for s in statuses)
    alerts = [t for t in tasks if t["soort"] == "TERMIJN"]
    moves = [t for t in tasks if t["titel"].startswith("Verhuizing naar NIS ")]
    assert alerts and moves, [t["titel"] for t in tasks][:10]
    english = ("deadline", "evaluation", "sanction ", "Move to", "signature")
    assert not [t["titel"] for t in tasks if any(word in t["titel"] for word in english)]
    # the keys did not change with the language: the same dossier's alert is one task
    assert len({t["sleutel"] for t in tasks}) == len(tasks)
