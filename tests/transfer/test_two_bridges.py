"""The proof: two bridges for two CPAS (Charleroi -> Liège), each with its own SQLite database, its own
NeptunusWeb-like case-system simulator and its own receiving endpoint on a free loopback port, talking
over mutual TLS with certificates made in the test.  Everything goes through the real plugin host,
the real hooks and the real ``piis-bridge transfer`` CLI.

At Liège the hand-over is checked in the state of Liège's own case-system simulator (issue #8): one
draft contract (``ontwerpcontract``) per package, never served by the change feed as a contract until
the social worker activates it through the simulator's admin API; then the nightly hooks fetch and
map it like any contract.  A case system that cannot create drafts gets the review task instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import piis_plugins.neptunus
import piis_plugins.transfer
import pytest
from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
from piis_connectors.transfer import TransferClient, client_tls_context
from piis_plugins.transfer.plugin import endpoint_for, service_for
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.config import load_settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.logging import redact
from piis_bridge.model import ContractStatus, PIISContract
from piis_bridge.transfer import CaseState, ReceiptState, detect_transfer
from tests.transfer._pki import TestCA
from tests.transfer._support import CHARLEROI, LIEGE, MOVE_DATE, example, moved, new_key

INBOX = "INBOX-TRANSFERS"


@dataclass
class Bridge:
    cpas_id: str
    party: Any
    config: Path
    host: PluginHost
    sim: CaseSystemSimulator
    endpoint: Any

    @property
    def ctx(self):
        return self.host.context(self.cpas_id, "transfer")

    @property
    def service(self):
        return service_for(self.host, self.cpas_id)

    def tasks(self, record_id: str) -> list[dict]:
        return self.sim.store.list_rows("taken", record_id)

    def drafts(self) -> list[dict]:
        """The draft contracts in this CPAS's own case-system simulator (its SQLite state)."""
        return self.sim.store.list_drafts()

    def feed(self) -> list[Any]:
        """Every record the case-system plugin's change feed serves now (through the host)."""
        records, cursor = [], None
        while True:
            page = self.host.case_fetch_changes(self.cpas_id, cursor, 100)
            assert page is not None, self.host.failures
            records += page.records
            cursor = page.cursor
            if not page.has_more:
                return records

    def social_worker(self, draft_id: int, action: str, body: dict | None = None) -> httpx.Response:
        """The social worker reviews a draft in the vendor UI: the simulator's admin API stands in."""
        return httpx.post(
            f"{self.sim.url}/admin/ontwerpcontracten/{draft_id}/{action}",
            headers={"X-Admin-Key": "beheer"},
            json=body or {},
        )


def _toml(value: Any) -> str:
    return orjson.dumps(str(value) if isinstance(value, Path) else value).decode()


def _write_config(
    path: Path,
    cpas_id: str,
    party: Any,
    *,
    db: Path,
    sim_url: str,
    secret_file: Path,
    transfer: dict[str, Any],
) -> None:
    lines = [
        'environment = "simulator"',
        f"database_url = {_toml(f'sqlite:///{db}')}",
        f"state_dir = {_toml(path.parent / 'state')}",
        "[plugins]",
        'enabled = ["neptunus", "transfer"]',
        f"[cpas.{cpas_id}]",
        f"name = {_toml(party.name)}",
        f"ins_code = {_toml(party.ins_code)}",
        f"bce = {_toml(party.bce)}",
        'case_system = "neptunus"',
        'federal = ""',
        'transfer = "transfer"',
        f"[cpas.{cpas_id}.plugins.neptunus]",
        f"base_url = {_toml(sim_url)}",
        'client_id = "piis-bridge"',
        f"client_secret_file = {_toml(secret_file)}",
        "max_retries = 1",
        f"[cpas.{cpas_id}.plugins.transfer]",
    ]
    peers = transfer.pop("peers", {})
    trust = transfer.pop("trust", {})
    lines += [f"{k} = {_toml(v)}" for k, v in transfer.items()]
    lines.append(f"[cpas.{cpas_id}.plugins.transfer.trust]")
    lines += [f'"{bce}" = {_toml(p)}' for bce, p in trust.items()]
    for ins, peer in peers.items():
        lines.append(f'[cpas.{cpas_id}.plugins.transfer.peers."{ins}"]')
        lines += [f"{k} = {_toml(v)}" for k, v in peer.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def bridges(tmp_path, monkeypatch):
    """Charleroi (A) and Liège (B), fully wired; yields (A, B)."""
    ca = TestCA(tmp_path / "pki")
    secret = tmp_path / "neptunus.secret"
    secret.write_text("geheim")
    made: dict[str, Any] = {}
    for cpas_id, party in (("charleroi", CHARLEROI), ("liege", LIEGE)):
        root = tmp_path / cpas_id
        root.mkdir()
        key = new_key(party.bce)
        (root / "signing.pem").write_bytes(_private_pem(key))
        (root / "signing.pub.pem").write_bytes(key.public_pem())
        tls = ca.issue(
            f"{cpas_id}-bridge", f"bridge.{cpas_id}.test", server=True, client=True, bce=party.bce
        )
        sim = CaseSystemSimulator(
            SimulatorConfig(db_path=root / "neptunus.sqlite"), host="127.0.0.1", port=0
        ).start()
        made[cpas_id] = {"root": root, "party": party, "tls": tls, "sim": sim}
    # Each bridge's own case system holds what it would in real life: Charleroi the contract, Liège an
    # inbox dossier where hand-overs land for review.
    made["charleroi"]["sim"].store.put(
        "CHA-2025-0410", {"contractnummer": "CHA-2025-0410"}, ocmw=CHARLEROI.bce
    )
    made["charleroi"]["sim"].store.put(
        "CHA-2025-0411", {"contractnummer": "CHA-2025-0411"}, ocmw=CHARLEROI.bce
    )
    made["charleroi"]["sim"].store.put(
        "GNT-2025-0877", {"contractnummer": "GNT-2025-0877"}, ocmw=CHARLEROI.bce
    )
    made["liege"]["sim"].store.put(INBOX, {"contractnummer": INBOX}, ocmw=LIEGE.bce)
    made["liege"]["sim"].store.put(
        "LGE-2026-0142", {"contractnummer": "LGE-2026-0142"}, ocmw=LIEGE.bce
    )
    made["charleroi"]["sim"].store.put(INBOX, {"contractnummer": INBOX}, ocmw=CHARLEROI.bce)

    def configure(cpas_id: str, other: str, peer_url: str) -> PluginHost:
        me, peer = made[cpas_id], made[other]
        config = me["root"] / "piis-bridge.toml"
        _write_config(
            config,
            cpas_id,
            me["party"],
            db=me["root"] / "bridge.sqlite3",
            sim_url=me["sim"].url,
            secret_file=secret,
            transfer={
                "signing_key_path": me["root"] / "signing.pem",
                "trust": {peer["party"].bce: peer["root"] / "signing.pub.pem"},
                "peers": {
                    peer["party"].ins_code: {
                        "name": peer["party"].name,
                        "bce": peer["party"].bce,
                        "url": peer_url,
                    }
                },
                "tls_cert_path": me["tls"].cert,
                "tls_key_path": me["tls"].key,
                "tls_ca_path": ca.pem.cert,
                "listen_port": 0,
                "retries": 2,
                "backoff": 0.01,
                "draft_record_id": INBOX,
            },
        )
        host = PluginHost(
            load_settings(config),
            plugins=[("neptunus", piis_plugins.neptunus), ("transfer", piis_plugins.transfer)],
            load_entrypoints=False,
        )
        host.startup()
        every_host.append(host)
        return host

    every_host: list[PluginHost] = []  # the plugin objects of each are closed at the end
    # Each endpoint binds a free port; the peer URLs are written once both are known.
    hosts = {
        cpas_id: configure(cpas_id, other, "https://127.0.0.1:1")
        for cpas_id, other in (("liege", "charleroi"), ("charleroi", "liege"))
    }
    endpoints = {
        cpas_id: endpoint_for(host, cpas_id, port=0).start() for cpas_id, host in hosts.items()
    }
    hosts = {
        cpas_id: configure(cpas_id, other, endpoints[other].url)
        for cpas_id, other in (("liege", "charleroi"), ("charleroi", "liege"))
    }
    charleroi, liege = (
        Bridge(
            cpas_id,
            made[cpas_id]["party"],
            made[cpas_id]["root"] / "piis-bridge.toml",
            hosts[cpas_id],
            made[cpas_id]["sim"],
            endpoints[cpas_id],
        )
        for cpas_id in ("charleroi", "liege")
    )
    assert (
        charleroi.host.settings.cpas["charleroi"].plugins["transfer"]["peers"]["62063"]["url"]
        == liege.endpoint.url
    )
    try:
        yield charleroi, liege
    finally:
        for bridge in (charleroi, liege):
            bridge.endpoint.stop()
            bridge.sim.stop()
        for host in every_host:
            host.instances.close()


def _private_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def detect_at(bridge: Bridge, contract: PIISContract):
    push = lambda items: bridge.host.case_push(bridge.cpas_id, items)  # noqa: E731
    return detect_transfer(
        bridge.service.sessions,
        cpas_id=bridge.cpas_id,
        party=bridge.party,
        contract=contract,
        record_id=contract.contract_id,
        push=push,
    )


def _cli(bridge: Bridge, *args: str):
    result = CliRunner().invoke(build_app(), ["transfer", *args, "--config", str(bridge.config)])
    return result


def charleroi_contract(name: str, contract_id: str | None = None) -> PIISContract:
    contract = example(name)
    update: dict[str, Any] = {
        "cpas": contract.cpas.model_copy(
            update={"name": CHARLEROI.name, "ins_code": CHARLEROI.ins_code, "bce": CHARLEROI.bce}
        )
    }
    if contract_id:
        update["contract_id"] = contract_id
    return moved(contract.model_copy(update=update), LIEGE, MOVE_DATE)


def _a_tls(bridge: Bridge) -> Any:
    s = bridge.ctx.settings
    return client_tls_context(s["tls_ca_path"], s["tls_cert_path"], s["tls_key_path"])


def test_move_consent_send_verify_import_acknowledge(bridges, niss_guard):
    charleroi, liege = bridges
    contract = charleroi_contract("sanction-history")
    detection = detect_at(charleroi, contract)
    assert detection is not None and detection.created
    case = detection.case
    assert (case.state, case.legal_end_date) == (CaseState.AWAITING_CONSENT, MOVE_DATE)
    (task,) = charleroi.tasks("CHA-2025-0410")
    assert "ask for consent" in task["titel"] and task["soort"] == "VERHUIS"
    # Nightly again: the same case, no second task.
    again = detect_at(charleroi, contract)
    assert not again.created and len(charleroi.tasks("CHA-2025-0410")) == 1

    result = _cli(
        charleroi,
        "consent",
        case.case_id,
        "--given",
        "--by",
        "D. Renard",
        "--channel",
        "interview, signed form",
    )
    assert result.exit_code == 0, result.output
    assert "consent GIVEN recorded; state consent_given" in result.output

    result = _cli(charleroi, "send")
    assert result.exit_code == 0, result.output
    assert f"{case.case_id}: accepted (state acknowledged" in result.output

    closed = charleroi.service.get_case(case.case_id)
    assert closed.state == CaseState.ACKNOWLEDGED and closed.ack_status == "accepted"
    (received,) = liege.service.list_received()
    assert received.state == ReceiptState.ACKNOWLEDGED and received.sender_bce == CHARLEROI.bce
    assert closed.remote_draft_ref == received.draft_contract_id
    # B's case system holds the hand-over as a draft contract to review, in its own vocabulary, for its own
    # OCMW; never an active contract: the feed does not serve it and no review task was needed.
    (draft,) = liege.drafts()
    assert (draft["status"], draft["contractnummer"], draft["ocmw"]) == (
        "OPEN",
        received.draft_contract_id,
        LIEGE.bce,
    )
    doc = draft["ontwerp"]
    assert (doc["status"], doc["ocmw"]["kbo"], doc["herkomst"]["van_ocmw"]["kbo"]) == (
        "ONTW",
        LIEGE.bce,
        CHARLEROI.bce,
    )
    assert doc["herkomst"]["lopende_sancties"] == [
        {"sanctie_id": "S2", "resterende_dagen": 19, "van": "10-02-2026", "tot": "28-02-2026"}
    ]  # R-SAN-10
    assert [s["stap_id"] for s in doc["stappen"]] == ["C1", "C2"]  # to review one by one (R-TRF-06)
    assert received.draft_contract_id not in [r.record_id for r in liege.feed()]
    assert liege.tasks(INBOX) == []
    assert received.draft_ref == f"draft_contract:{draft['id']}"
    # A's social worker is told the hand-over arrived.
    titles = [t["titel"] for t in charleroi.tasks("CHA-2025-0410")]
    assert any("received as a draft" in t for t in titles)

    listing = _cli(liege, "list", "--received", "--json")
    assert listing.exit_code == 0 and orjson.loads(listing.output)[0]["state"] == "acknowledged"
    shown = _cli(liege, "show", received.package_id)
    assert shown.exit_code == 0, shown.output
    assert "S2: 19 days, 2026-02-10 .. 2026-02-28" in shown.output
    assert redact(shown.output) == shown.output  # no NISS on screen (the draft shows it masked)
    assert "beneficiary: ********" in shown.output
    shown_a = _cli(charleroi, "show", case.case_id)
    assert "GIVEN by D. Renard via interview, signed form" in shown_a.output
    assert "awaiting_consent -> consent_given" in shown_a.output
    assert redact(shown_a.output) == shown_a.output and redact(listing.output) == listing.output

    # Liège reviews the draft and tells Charleroi what it takes over (R-TRF-06); Charleroi acknowledges.
    result = _cli(
        liege,
        "assess",
        received.package_id,
        "--take",
        "C1",
        "--not",
        "C2=training paid by Forem here",
        "--by",
        "M. Lambert",
        "--new-contract",
        "LGE-2026-0999",
    )
    assert result.exit_code == 0, result.output
    assert f"{received.package_id}: assessment accepted by BCE {CHARLEROI.bce}" in result.output
    assert liege.service.received(received.package_id).state == ReceiptState.ASSESSMENT_ACKNOWLEDGED
    assert charleroi.service.get_case(case.case_id).state == CaseState.ASSESSED
    assert any(
        "Transfer reviewed by the new CPAS: 1 commitment taken over" in t["titel"]
        for t in charleroi.tasks("CHA-2025-0410")
    )
    shown_a = _cli(charleroi, "show", case.case_id)
    assert (
        "taken over: C1; not taken over: C2 (training paid by Forem here); new contract: LGE-2026-0999"
        in shown_a.output
    )


def _hand_over(charleroi: Bridge, liege: Bridge, name: str = "sanction-history") -> Any:
    case = detect_at(charleroi, charleroi_contract(name)).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    assert _cli(charleroi, "send", case.case_id).exit_code == 0
    (received,) = liege.service.list_received()
    return received


def test_an_activated_draft_becomes_a_contract_the_nightly_run_maps(bridges, niss_guard):
    """Issue #8 end to end at B: draft -> the social worker activates it -> a normal contract of the feed."""
    charleroi, liege = bridges
    received = _hand_over(charleroi, liege)
    (draft,) = liege.drafts()
    before = {r.record_id for r in liege.feed()}
    assert received.draft_contract_id not in before
    assert (
        liege.host.case_fetch_record("liege", received.draft_contract_id) is None
    )  # a draft is no contract

    activated = liege.social_worker(
        draft["id"], "activeren", {"wijzigingen": {"dossiernummer": "LGE-D-0077"}}
    )
    assert activated.status_code == 200, activated.text
    (record,) = [r for r in liege.feed() if r.record_id not in before]
    assert (record.record_id, record.version) == (received.draft_contract_id, "1")
    outcome = liege.host.case_map_record("liege", record)
    assert outcome.ok, outcome.problems
    contract = outcome.contract
    assert (contract.status, contract.cpas.bce, contract.cpas.ins_code) == (
        ContractStatus.ACTIVE,
        LIEGE.bce,
        LIEGE.ins_code,
    )
    sent = liege.service.draft_of(received.package_id)
    assert contract.beneficiary.niss == sent.beneficiary.niss
    assert [c.commitment_id for c in contract.commitments] == [
        c.commitment_id for c in sent.commitments
    ]
    s2 = next(s for s in contract.sanctions if s.sanction_id == "S2")
    assert (s2.start_date, s2.end_date) == (
        MOVE_DATE,
        date(2026, 2, 28),
    )  # the remaining part only (R-SAN-10)
    assert contract.decision == sent.decision and contract.start_date == sent.start_date
    # --dossier: one record fetched by id is exactly what the feed serves
    assert liege.host.case_fetch_record("liege", received.draft_contract_id) == record
    assert liege.drafts()[0]["status"] == "GEACT"
    assert liege.social_worker(draft["id"], "verwerpen").status_code == 409  # decided once
    niss_guard.check()


def test_a_discarded_draft_never_reaches_the_feed(bridges):
    charleroi, liege = bridges
    received = _hand_over(charleroi, liege)
    (draft,) = liege.drafts()
    assert (
        liege.social_worker(draft["id"], "verwerpen", {"reden": "no longer resident"}).status_code
        == 200
    )
    assert liege.drafts()[0]["status"] == "VERW"
    assert received.draft_contract_id not in [r.record_id for r in liege.feed()]
    assert liege.social_worker(draft["id"], "activeren").status_code == 409


def test_a_case_system_without_drafts_gets_the_review_task_instead(bridges):
    """B's vendor version has no draft-contract call (404): the plugin answers failed, the transfer plugin
    falls back to a task on the inbox record carrying the draft, as before issue #8."""
    charleroi, liege = bridges
    liege.sim.inject(404, count=1, path="/api/v1/gpmi/ontwerpcontracten")
    received = _hand_over(charleroi, liege)
    assert liege.drafts() == []
    (inbox_task,) = liege.tasks(INBOX)
    draft = PIISContract.model_validate(inbox_task["gegevens"]["draft_contract"])
    assert draft.status is ContractStatus.DRAFT and draft.cpas.bce == LIEGE.bce
    assert (
        "could not create the draft contract itself" in inbox_task["omschrijving"]
        and "404" in inbox_task["omschrijving"]
    )
    assert inbox_task["gegevens"]["continuing_sanctions"][0]["remaining_days"] == 19
    assert received.draft_ref == f"task:{inbox_task['id']}"
    shown = _cli(liege, "show", received.package_id)
    assert f"task:{inbox_task['id']}" in shown.output


def test_a_draft_the_case_system_missed_is_handed_over_again(bridges):
    """B's case system is down when the package arrives: the package is still acknowledged (it was received
    and stored), and ``transfer redeliver`` hands the draft over once the case system is back."""
    charleroi, liege = bridges
    liege.sim.inject(
        503, count=4, path="/api/v1/"
    )  # max_retries = 1: the draft and the task fail twice each
    received = _hand_over(charleroi, liege)
    assert received.state == ReceiptState.ACKNOWLEDGED and received.draft_ref is None
    assert liege.drafts() == [] and liege.tasks(INBOX) == []
    result = _cli(liege, "redeliver")
    (draft,) = liege.drafts()
    assert (
        result.exit_code == 0
        and f"{received.package_id}: in the case system as draft_contract:{draft['id']}"
        in result.output
    )
    assert liege.service.received(received.package_id).draft_ref == f"draft_contract:{draft['id']}"
    assert _cli(liege, "redeliver").output.strip() == "nothing to hand over"


def test_sanction_in_execution_continues_at_b_with_the_remaining_length(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    assert _cli(charleroi, "send", case.case_id).exit_code == 0
    (received,) = liege.service.list_received()
    package = liege.service.package_of(received.package_id)
    (running,) = package.continuing_sanctions
    assert (running.sanction_id, running.executed_days_at_sender, running.remaining_days) == (
        "S2",
        40,
        19,
    )
    draft = liege.service.draft_of(received.package_id)
    s2 = next(s for s in draft.sanctions if s.sanction_id == "S2")
    assert (s2.start_date, s2.end_date, s2.executing_cpas_ins) == (
        MOVE_DATE,
        date(2026, 2, 28),
        LIEGE.ins_code,
    )
    assert (s2.end_date - s2.start_date).days + 1 == 19
    s1 = next(
        s for s in draft.sanctions if s.sanction_id == "S1"
    )  # carried out at A: kept only as history
    assert s1.executing_cpas_ins != LIEGE.ins_code


def test_tampered_package_is_rejected(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    exported = charleroi.host.transfer_export("charleroi", case.case_id)
    header, payload, signature = exported.envelope.split(".")
    import base64

    data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["continuing_sanctions"][0]["remaining_days"] = 2
    forged_payload = (
        base64.urlsafe_b64encode(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        .rstrip(b"=")
        .decode()
    )
    with TransferClient(liege.endpoint.url, tls=_a_tls(charleroi), retries=0) as client:
        result = client.send(".".join([header, forged_payload, signature]))
    assert result.http_status == 422
    from piis_bridge.transfer import open_ack

    ack = open_ack(result.ack, charleroi.service.trust, expected_receiver_bce=LIEGE.bce)
    assert ack.status == "rejected" and "signature check failed" in ack.reason
    assert liege.service.list_received() == [] and liege.tasks(INBOX) == []
    (rejection,) = liege.service.rejected()
    assert rejection.claimed_sender == CHARLEROI.bce
    # The genuine package, sent afterwards under the same package id, is still accepted.
    receipt = charleroi.host.transfer_send("charleroi", exported, exported.destination)
    assert receipt.status == "accepted" and len(liege.service.list_received()) == 1


def test_package_sent_twice_is_imported_once(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    exported = charleroi.host.transfer_export("charleroi", case.case_id)
    # B is overloaded once (503): the client retries and delivers; then an operator sends the very same
    # package again by hand (as after a lost answer).
    liege.endpoint.inject(503)
    first = charleroi.host.transfer_send("charleroi", exported, exported.destination)
    assert first.status == "accepted" and liege.endpoint.requests == 2
    with TransferClient(liege.endpoint.url, tls=_a_tls(charleroi), retries=0) as client:
        second = client.send(exported.envelope)
    from piis_bridge.transfer import open_ack

    ack = open_ack(second.ack, charleroi.service.trust, expected_receiver_bce=LIEGE.bce)
    assert ack.status == "duplicate" and ack.package_id == exported.package_id
    assert len(liege.service.list_received()) == 1 and liege.tasks(INBOX) == []
    # In B's case system: one draft contract, however often the package came.
    (draft,) = liege.drafts()
    assert draft["status"] == "OPEN" and liege.sim.store.count_key(draft["sleutel"]) == 1
    assert (
        charleroi.host.transfer_export("charleroi", case.case_id) is None
    )  # acknowledged: nothing to export


def test_refused_consent_stops_everything(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history", "CHA-2025-0411")).case
    result = _cli(
        charleroi,
        "consent",
        case.case_id,
        "--refused",
        "--by",
        "N. Simon",
        "--channel",
        "phone",
        "--note",
        "wants a fresh start",
    )
    assert result.exit_code == 0 and "state consent_refused" in result.output
    result = _cli(charleroi, "send", case.case_id)
    assert result.exit_code == 1 and "needs the person's consent" in result.output
    assert _cli(charleroi, "send").output.strip() == "nothing to send"
    assert charleroi.service.get_case(case.case_id).package_id is None
    listing = _cli(charleroi, "list", "--state", "consent_refused")
    assert (
        listing.exit_code == 0
        and case.case_id in listing.output
        and "CHA-2025-0411" in listing.output
    )
    assert (
        "REFUSED by N. Simon via phone (wants a fresh start)"
        in _cli(charleroi, "show", case.case_id).output
    )
    assert liege.service.list_received() == [] and liege.endpoint.requests == 0


def test_no_consent_recorded_nothing_is_sent(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    assert (
        _cli(
            charleroi,
            "consent",
            case.case_id,
            "--not-expressed",
            "--by",
            "D. Renard",
            "--channel",
            "letter",
        ).exit_code
        == 0
    )
    result = _cli(charleroi, "send", case.case_id)
    assert result.exit_code == 1 and liege.endpoint.requests == 0


def test_student_is_not_transferred(bridges):
    charleroi, liege = bridges
    detection = detect_at(charleroi, charleroi_contract("studies"))
    case = detection.case
    assert (case.state, case.eligibility) == (CaseState.NOT_TRANSFERABLE, "STAYS_STUDIES")
    (task,) = charleroi.tasks("GNT-2025-0877")
    assert "studies PIIS stays here" in task["titel"]
    result = _cli(
        charleroi, "consent", case.case_id, "--given", "--by", "D. Renard", "--channel", "interview"
    )
    assert result.exit_code == 1
    assert _cli(charleroi, "send", case.case_id).exit_code == 1
    assert liege.endpoint.requests == 0


def test_unreachable_receiver_keeps_the_case_ready_and_the_retry_delivers(bridges):
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    liege.endpoint.inject(503, 503, 503)  # retries = 2: three attempts, all refused
    result = _cli(charleroi, "send", case.case_id)
    assert result.exit_code == 1 and "failed (state package_built, attempts 1)" in result.output
    result = _cli(charleroi, "send")
    assert result.exit_code == 0 and "accepted (state acknowledged" in result.output
    assert len(liege.service.list_received()) == 1


def _given():
    from piis_bridge.model import Consent

    return Consent.GIVEN


def test_both_bridges_send_and_receive(bridges):
    """The other way round: Liège hands a contract over to Charleroi, each side acknowledging the other."""
    charleroi, liege = bridges
    contract = moved(example("u25-employment-project"), CHARLEROI, date(2026, 10, 1))
    case = detect_at(liege, contract).case
    assert case.state == CaseState.AWAITING_CONSENT and case.to_ins_code == CHARLEROI.ins_code
    assert (
        _cli(
            liege,
            "consent",
            case.case_id,
            "--given",
            "--by",
            "M. Lambert",
            "--channel",
            "interview",
        ).exit_code
        == 0
    )
    result = _cli(liege, "send", case.case_id)
    assert result.exit_code == 0 and "accepted (state acknowledged" in result.output, result.output
    (received,) = charleroi.service.list_received()
    assert received.sender_bce == LIEGE.bce and charleroi.tasks(INBOX) == []
    (draft,) = charleroi.drafts()
    assert draft["contractnummer"] == received.draft_contract_id and draft["ocmw"] == CHARLEROI.bce
    assert liege.service.list_received() == []


@pytest.mark.slow
def test_receive_command_serves_the_endpoint(bridges):
    """``piis-bridge transfer receive`` as its own process, on a free port, with mutual TLS."""
    import re
    import subprocess
    import sys
    import threading

    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    charleroi.service.record_consent(case.case_id, _given(), by="D. Renard", channel="interview")
    exported = charleroi.host.transfer_export("charleroi", case.case_id)
    cli = Path(sys.executable).with_name("piis-bridge")
    proc = subprocess.Popen(
        [str(cli), "transfer", "receive", "--config", str(liege.config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "receiving on" in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert found.wait(60), "".join(lines)
        url = re.search(
            r"receiving on (https://127\.0\.0\.1:\d+) \(mutual TLS\)", "".join(lines)
        ).group(1)
        with TransferClient(url, tls=_a_tls(charleroi), retries=0) as client:
            result = client.send(exported.envelope)
        assert result.http_status == 200
        ack = charleroi.service.delivered(case.case_id, result.ack)
        assert ack.status == "accepted"
        assert len(liege.service.list_received()) == 1  # the other process wrote Liège's database
    finally:
        proc.terminate()
        proc.wait(timeout=10)
