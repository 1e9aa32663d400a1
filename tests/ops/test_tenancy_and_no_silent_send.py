"""Tenancy and "no silent default that sends data", end to end on the real plugins and simulators.

The case-system simulator is multi-tenant (five seed OCMWs, docs/casesystem.md "Seed OCMWs"); the
configured CPAS is OCMW Gent.  The nightly run is the real one (embedded worker, neptunus, federal).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from piis_bridge.config import Settings
from piis_bridge.pipeline import PipelineOptions, run_nightly

GENT = ("0212345173", "44021", "OCMW Gent")


@pytest.fixture
def world(tmp_path: Path):
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    assert GENT in OCMWS  # what docs/casesystem.md and the example configuration say
    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(80)
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    # Every OCMW is known federally and has its people integrated: a form sent for a foreign dossier
    # would be received (and could be accepted), so "0 forms" below is the bridge's doing.
    for kbo, ins, name in OCMWS:
        federal.admin.register_cpas(kbo, ins, name=name)
        federal.admin.integrate_many(
            kbo,
            sorted(
                {c.data["client"]["rijksregisternummer"] for c in generate(80, 1) if c.ocmw == kbo}
            ),
        )
    try:
        yield case, federal
    finally:
        federal.stop()
        case.stop()


def _settings(tmp_path: Path, case_url: str, plugins: dict, **cpas: object) -> Settings:
    kbo, ins, name = GENT
    return Settings.model_validate(
        {
            "environment": "simulator",
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal"], "strict": False},
            "cpas": {
                "gent": {
                    "name": name,
                    "ins_code": ins,
                    "bce": kbo,
                    "case_system": "neptunus",
                    "transfer": None,
                    **cpas,
                    "plugins": {
                        "neptunus": {
                            "base_url": case_url,
                            "client_id": "piis-bridge",
                            "client_secret": "geheim",
                        },
                        **plugins,
                    },
                }
            },
        }
    )


def test_foreign_records_are_refused_before_mapping_no_form_no_push(tmp_path: Path, world) -> None:
    """A multi-tenant case system routed WITHOUT its tenant filter (plugins check fails on that; the run
    still must not leak): every other OCMW's record is quarantined "belongs to CPAS ...", 0 forms and
    0 pushes for them; Gent's own records go through."""
    from piis_bridge.pipeline.models import QuarantineEntry

    case, federal = world
    settings = _settings(
        tmp_path,
        case.url,
        {"federal": {"endpoint": federal.endpoint, "mode": "batch"}},
        federal="federal",
    )
    summary = run_nightly(
        settings,
        options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
        timeout=180,
    )
    assert summary.status == "finished", summary
    docs = {cid: case.store.get(cid)[3] for cid in case.store.ids()}
    ours = {cid for cid, doc in docs.items() if doc["ocmw"]["kbo"] == GENT[0]}
    foreign = set(docs) - ours
    assert ours and foreign
    c = summary.counts
    assert c["fetched"] == len(docs)

    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    with engine.connect() as conn:
        rows = conn.execute(
            select(QuarantineEntry.record_id, QuarantineEntry.stage, QuarantineEntry.reason)
        ).all()
    refused = {r.record_id for r in rows if "belongs to CPAS" in r.reason}
    assert refused == foreign
    assert all(r.stage == "map" for r in rows if r.record_id in foreign)

    # Federal side: forms only for Gent's dossiers.
    # (The federal dossier number is the vendor contract id without its dash: 11 characters at most.)
    forms = federal.admin.forms()
    sent = {f["dossier"] for f in forms}
    assert sent and sent <= {cid.replace("-", "") for cid in ours}
    assert not sent & {cid.replace("-", "") for cid in foreign}
    # Case-system side: not one task or status pushed into a foreign contract.
    pushed = case.store.list_rows("taken", None) + case.store.list_rows("statussen", None)
    assert pushed and not [p for p in pushed if p["contractnummer"] in foreign]

    # The daily commands over what this run left: refused forms with their codes, the agenda of the
    # contracts the bridge holds (Gent's only).
    import json
    import os

    from typer.testing import CliRunner

    from piis_bridge.cli import build_app

    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        f'''environment = "simulator"
database_url = "{settings.database_url}"
state_dir = "{settings.state_dir}"
[plugins]
enabled = ["neptunus", "federal"]
strict = false
[cpas.gent]
name = "{GENT[2]}"
ins_code = "{GENT[1]}"
bce = "{GENT[0]}"
case_system = "neptunus"
federal = "federal"
transfer = ""
[cpas.gent.plugins.neptunus]
base_url = "{case.url}"
client_id = "piis-bridge"
ocmw_kbo = "{GENT[0]}"
[cpas.gent.plugins.federal]
endpoint = "{federal.endpoint}"
''',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIIS_")}
    env.update(PIIS_CONFIG=str(config), PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET="geheim")
    runner = CliRunner(env=env)
    refused_here = [f for f in forms if f["evaluation"] == "REFUSED"]
    result = runner.invoke(
        build_app(), ["forms", "list", "--cpas", "gent", "--status", "refused", "--json"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed["format"] == "piis-bridge/forms/1"
    assert len(listed["forms"]) == len(refused_here)
    assert all(
        f["issues"] and f["issues"][0]["code"] and f["issues"][0]["message"]
        for f in listed["forms"]
    )
    assert {
        f["dossier"] for f in listed["forms"]
    } <= ours  # the ledger's dossier is the vendor contract id
    if listed["forms"]:
        text = runner.invoke(
            build_app(), ["forms", "list", "--cpas", "gent", "--status", "refused"]
        ).output
        assert (
            listed["forms"][0]["dossier"] in text
            and listed["forms"][0]["issues"][0]["code"] in text
        )
    result = runner.invoke(
        build_app(),
        [
            "rules",
            "agenda",
            "--cpas",
            "gent",
            "--from",
            "2020-01-01",
            "--to",
            "2030-12-31",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    agenda = json.loads(result.output)
    contracts = {item["contract_id"] for item in agenda["items"]}
    assert contracts and contracts <= ours


def test_a_configuration_without_federal_settings_submits_nothing(tmp_path: Path, world) -> None:
    """No ``federal = ...`` for the CPAS: the federal plugin is installed and enabled, the federal
    simulator is up, the records map and the rules run, and not one form is built or sent."""
    from piis_bridge.hooks.manager import PluginHost

    case, federal = world
    settings = _settings(
        tmp_path,
        case.url,
        {
            "neptunus": {
                "base_url": case.url,
                "client_id": "piis-bridge",
                "client_secret": "geheim",
                "ocmw_kbo": GENT[0],
            }
        },
    )
    assert settings.cpas["gent"].federal is None
    assert PluginHost(settings).is_active("federal")
    before = federal.admin.stats()
    summary = run_nightly(
        settings,
        options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
        timeout=180,
    )
    c = summary.counts
    assert summary.status == "finished", summary
    assert c["fetched"] > 0 and c["processed"] > 0
    assert c["forms"] == 0 and c.get("forms_answered", 0) == 0
    after = federal.admin.stats()
    assert after["forms"] == before["forms"] == 0 and after["calls"] == before["calls"]
