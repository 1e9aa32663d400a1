"""The neptunus plugin: the conformance kit over the real simulator, plus plugin-specific behaviour."""

from __future__ import annotations

import copy
import time
from datetime import date
from pathlib import Path

import httpx
import piis_plugins.neptunus as neptunus
import pytest
from piis_connectors.casesystem.testing import SimulatorHarness

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import PushItem
from piis_bridge.testing import CaseSystemPluginConformance, PluginUnderTest

ADMIN = {"X-Admin-Key": "beheer"}
# The CPAS these tests configure is the simulator OCMW the harness's records are filed under
# (OCMW Antwerpen, docs/casesystem.md "Seed OCMWs"): the host refuses another OCMW's records.
IDENTITY = {"name": "OCMW Antwerpen", "ins_code": "11002", "bce": "0212345272"}


def _settings(sim) -> dict:
    return {
        "base_url": sim.url,
        "client_id": "piis-bridge",
        "client_secret": "geheim",
        "timeout": 5,
    }


class TestNeptunusConformance(CaseSystemPluginConformance):
    @pytest.fixture
    def case_plugin(self, casesystem_simulator):
        yield PluginUnderTest(
            name="neptunus",
            plugin=neptunus,
            harness=SimulatorHarness(casesystem_simulator),
            settings=_settings(casesystem_simulator),
            cpas=IDENTITY,
        )


@pytest.fixture
def host(casesystem_simulator, tmp_path):
    cpas = {
        "gent": {
            **IDENTITY,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {"neptunus": _settings(casesystem_simulator)},
        }
    }
    h = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    h.startup()
    yield h
    h.instances.close()


def test_full_pull_maps_every_seeded_record_of_this_ocmw_and_refuses_the_others(
    host, casesystem_simulator
) -> None:
    cursor, seen, ok, ours, foreign = None, 0, 0, 0, []
    while True:
        page = host.case_fetch_changes("gent", cursor, 17)
        for record in page.records:
            seen += 1
            outcome = host.case_map_record("gent", record)
            ok += outcome.ok
            ours += record.payload["ocmw"]["kbo"] == IDENTITY["bce"]
            if record.cpas_bce != IDENTITY["bce"]:
                foreign.append(outcome)
        cursor = page.cursor
        if not page.has_more:
            break
    assert seen == casesystem_simulator.store.count() and 0 < ours == ok < seen
    assert len(foreign) == seen - ours and not any(o.ok for o in foreign)
    assert all(
        o.problems[0].field == "cpas"
        and o.problems[0].reason.startswith("belongs to CPAS BCE 0212345")
        for o in foreign
    )


def test_bad_records_are_quarantined_while_the_rest_goes_through(
    host, casesystem_simulator
) -> None:
    harness = SimulatorHarness(casesystem_simulator)
    bad = harness.create_invalid_record()
    page = host.case_fetch_changes("gent", None, 1000)
    outcomes = {r.record_id: host.case_map_record("gent", r) for r in page.records}
    assert not outcomes[bad].ok
    assert sorted(p.field for p in outcomes[bad].problems) == [
        "client.rijksregisternummer",
        "domeinen[1]",
        "startdatum",
    ]
    ours = [
        rid for rid, r in ((r.record_id, r) for r in page.records) if r.cpas_bce == IDENTITY["bce"]
    ]
    assert bad in ours and sum(outcomes[rid].ok for rid in ours) == len(ours) - 1
    # replayable after a fix: the vendor corrects the record, it comes back in the feed and maps
    doc = casesystem_simulator.store.get(bad)[3]
    good = harness.document(bad)
    doc.update(client=good["client"], domeinen=["WERK"], startdatum=good["startdatum"])
    casesystem_simulator.store.put(bad, doc)
    again = host.case_fetch_changes("gent", page.cursor, 100)
    assert [r.record_id for r in again.records] == [bad]
    assert host.case_map_record("gent", again.records[0]).ok


def test_pull_survives_5xx_and_honours_retry_after(host, casesystem_simulator) -> None:
    casesystem_simulator.inject(503, count=2)
    casesystem_simulator.inject(429, count=1, retry_after=1)
    page = host.case_fetch_changes("gent", None, 10)
    assert len(page.records) == 10 and host.failures == []


def test_push_back_of_federal_answer_and_deadline_alert(host, casesystem_simulator) -> None:
    cid = casesystem_simulator.store.ids()[0]
    items = [
        PushItem(
            key=f"fed-{cid}-B-1",
            record_id=cid,
            kind="federal_answer",
            title="Formulier B aanvaard",
            data={"ticket": "T-1"},
        ),
        PushItem(
            key=f"alert-{cid}-eval",
            record_id=cid,
            kind="deadline_alert",
            title="Evaluatie te plannen",
            body="Derde evaluatie van het jaar ontbreekt.",
            due=date(2026, 12, 1),
        ),
        PushItem(key="alert-unknown", record_id="GPMI-9999999", kind="deadline_alert", title="x"),
    ]
    results = host.case_push("gent", items)
    assert [r.status for r in results] == ["created", "created", "failed"]
    assert "404" in results[2].detail
    token = httpx.post(
        casesystem_simulator.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "geheim"),
    ).json()["access_token"]
    tasks = httpx.get(
        casesystem_simulator.url + "/api/v1/taken",
        params={"contract": cid},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    assert [(t["titel"], t["vervaldatum"], t["soort"]) for t in tasks] == [
        ("Evaluatie te plannen", "01-12-2026", "TERMIJN")
    ]
    statuses = httpx.get(
        f"{casesystem_simulator.url}/api/v1/gpmi/contracten/{cid}/federale-status",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    assert statuses[0]["status"] == "Formulier B aanvaard"
    assert [r.status for r in host.case_push("gent", items[:2])] == ["duplicate", "duplicate"]


def test_push_of_a_large_batch_overlaps_requests_and_keeps_each_answer_on_its_item(
    host, casesystem_simulator
) -> None:
    """The items of a batch are sent several at a time (the vendor has no batch endpoint); every
    answer still belongs to its item, refusals stay where they were, and a second push is all duplicates."""
    ids = casesystem_simulator.store.ids()[:12]
    items = []
    for i, cid in enumerate(ids):
        items.append(
            PushItem(
                key=f"fed-{cid}-B-{i}", record_id=cid, kind="federal_answer", title=f"antwoord {i}"
            )
        )
        if i % 5 == 2:
            items.append(
                PushItem(
                    key=f"alert-unknown-{i}",
                    record_id=f"GPMI-99999{i:02d}",
                    kind="deadline_alert",
                    title="x",
                )
            )
    results = host.case_push("gent", items)
    assert [r.key for r in results] == [item.key for item in items]
    assert [r.status for r in results] == [
        "failed" if "unknown" in item.key else "created" for item in items
    ]
    token = httpx.post(
        casesystem_simulator.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "geheim"),
    ).json()["access_token"]
    for i, cid in enumerate(ids):
        statuses = httpx.get(
            f"{casesystem_simulator.url}/api/v1/gpmi/contracten/{cid}/federale-status",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"]
        assert [s["status"] for s in statuses] == [f"antwoord {i}"]
    again = host.case_push("gent", items)
    assert [r.status for r in again] == [
        "failed" if "unknown" in item.key else "duplicate" for item in items
    ]


def test_invalid_settings_fail_at_startup(casesystem_simulator, tmp_path) -> None:
    from piis_bridge.hooks.manager import PluginStartupError

    cpas = {
        "gent": {
            **IDENTITY,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {"neptunus": {**_settings(casesystem_simulator), "bas_url": "x"}},
        }
    }
    with pytest.raises(PluginStartupError, match="bas_url"):
        PluginHost(
            Settings(cpas=cpas, state_dir=tmp_path),
            plugins=[("neptunus", neptunus)],
            load_entrypoints=False,
            strict=True,
        ).startup()


def test_the_mapping_files_are_shipped_as_package_data() -> None:
    forward, reverse = neptunus.make_plugin().piis_mapping_files()
    assert (forward.name, reverse.name) == ("contract.yaml", "draft_contract.yaml")
    assert all("mapping_version" in p.read_text(encoding="utf-8") for p in (forward, reverse))


def test_sim_command_is_registered() -> None:
    from typer.testing import CliRunner

    from piis_bridge.cli import build_app

    result = CliRunner().invoke(build_app(), ["sim", "casesystem", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_sim_command_serves_real_http(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "NEPTUNUS_SIM_CLIENT_SECRET": "s3cret"}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "piis-bridge"),
            "sim",
            "casesystem",
            "--port",
            "0",
            "--dossiers",
            "5",
            "--db",
            str(tmp_path / "sim.sqlite"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        token = httpx.post(
            url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("piis-bridge", "s3cret"),
        ).json()["access_token"]
        body = httpx.get(
            url + "/api/v1/gpmi/contracten", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert len(body["items"]) >= 5 and body["meer"] is False
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_broken_mapping_file_stops_startup(casesystem_simulator, tmp_path) -> None:
    from piis_bridge.hooks.manager import PluginStartupError

    broken = tmp_path / "contract.yaml"
    broken.write_text(
        (Path(__file__).resolve().parents[2] / "mappings/neptunus/contract.yaml")
        .read_text(encoding="utf-8")
        .replace("contract_id: {from: contractnummer", "contract_nr: {from: contractnummer"),
        encoding="utf-8",
    )
    cpas = {
        "gent": {
            **IDENTITY,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {
                "neptunus": {**_settings(casesystem_simulator), "mapping_file": str(broken)}
            },
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    try:
        host.startup()
    except PluginStartupError as exc:  # strict hosts may refuse to start at all
        assert "unknown target field 'contract_nr'" in str(exc)
        return
    # otherwise the plugin is disabled for the process, with the reason in the failures
    assert not host.is_active("neptunus")
    assert any("unknown target field 'contract_nr'" in f.message for f in host.failures)


def test_first_sync_can_start_from_a_modification_date(casesystem_simulator, tmp_path) -> None:
    from piis_connectors.casesystem.vocab import format_timestamp

    sim = casesystem_simulator
    since = format_timestamp(time.time_ns() // 1000)
    changed = sim.store.ids()[:2]
    sim.store.touch(changed)
    cpas = {
        "gent": {
            **IDENTITY,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {"neptunus": {**_settings(sim), "initial_modified_since": since}},
        }
    }
    h = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    h.startup()
    page = h.case_fetch_changes("gent", None, 1)
    rest = h.case_fetch_changes("gent", page.cursor, 10)
    assert [r.record_id for r in page.records + rest.records] == changed and not rest.has_more
    h.instances.close()


def test_bad_initial_modified_since_is_refused() -> None:
    from piis_plugins.neptunus.settings import NeptunusSettings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="dd-mm-yyyy"):
        NeptunusSettings(
            base_url="http://x", client_id="a", client_secret="b", initial_modified_since="gisteren"
        )


def test_quarantined_record_replays_after_a_mapping_fix(casesystem_simulator, tmp_path) -> None:
    import os

    sim = casesystem_simulator
    local = tmp_path / "contract.yaml"
    shipped = (Path(__file__).resolve().parents[2] / "mappings/neptunus/contract.yaml").read_text(
        encoding="utf-8"
    )
    local.write_text(shipped, encoding="utf-8")
    cid = sim.store.ids()[0]
    sim.store.touch([cid], lambda d: d["domeinen"].append("CULT"))
    cpas = {
        "gent": {
            **IDENTITY,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {"neptunus": {**_settings(sim), "mapping_file": str(local)}},
        }
    }
    h = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "s"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    h.startup()
    page = h.case_fetch_changes("gent", None, 1000)
    record = next(r for r in page.records if r.record_id == cid)
    quarantined = h.case_map_record("gent", record)
    assert [p.reason.split(" (")[0] for p in quarantined.problems] == [
        "unknown code 'AAAA' in code list 'domein'"
    ]
    # the functional administrator adds the code and bumps the version: no code change, no restart
    local.write_text(
        shipped.replace("mapping_version: 1", "mapping_version: 2").replace(
            "    INKOM: INCOME\n", "    INKOM: INCOME\n    CULT: LEISURE\n"
        ),
        encoding="utf-8",
    )
    os.utime(local, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    replayed = h.case_map_record("gent", record)
    assert replayed.ok and "LEISURE" in replayed.contract.action_domains
    h.instances.close()


def test_a_feed_item_without_id_is_quarantined_not_blocking_its_page(
    host, casesystem_simulator
) -> None:
    doc = copy.deepcopy(SimulatorHarness(casesystem_simulator).template)
    doc.pop("contractnummer")
    casesystem_simulator.store.put("ZONDER-NR", doc)
    page = host.case_fetch_changes("gent", None, 1000)
    assert host.failures == [] and len(page.records) == casesystem_simulator.store.count()
    odd = next(r for r in page.records if r.record_id.startswith("feed-item-"))
    outcome = host.case_map_record("gent", odd)
    assert [(p.field, p.reason) for p in outcome.problems] == [
        ("contractnummer", "missing mandatory field")
    ]
