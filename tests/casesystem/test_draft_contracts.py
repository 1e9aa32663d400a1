"""Draft contracts in the vendor simulator (issue #8): created once per key, never in the feed until a
social worker activates them (admin API), refused with every bad field named, persisted in SQLite."""

from __future__ import annotations

import copy

import httpx
import pytest
from piis_connectors.casesystem.client import CaseSystemClient, CaseSystemHTTPError
from piis_connectors.casesystem.seed import generate
from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

ADMIN = {"X-Admin-Key": "beheer"}


def draft_document(contract_id: str = "TRF-0001", seed: int = 11) -> dict:
    """A valid vendor draft: a seeded contract, unsigned, not ended, status ONTW."""
    doc = copy.deepcopy(next(iter(generate(1, seed=seed))).data)
    for key in (
        "sociaal_onderzoek_datum",
        "ontwerp_overhandigd_op",
        "ondertekend_op",
        "stopzetting",
    ):
        doc.pop(key, None)
    doc = {k: v for k, v in doc.items() if v is not None}
    doc.update(contractnummer=contract_id, status="ONTW")
    return doc


def drain(client: CaseSystemClient) -> tuple[list[str], str | None]:
    ids, cursor = [], None
    while True:
        page = client.fetch_changes(cursor, 1000)
        ids += [i["contractnummer"] for i in page.items]
        cursor = page.cursor
        if not page.has_more:
            return ids, cursor


def feed_ids(client: CaseSystemClient) -> list[str]:
    return drain(client)[0]


def review(sim, draft_id: int, action: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{sim.url}/admin/ontwerpcontracten/{draft_id}/{action}", headers=ADMIN, json=body or {}
    )


def test_a_draft_is_created_once_per_key_and_is_never_served_by_the_feed(
    casesystem_simulator, casesystem_client
) -> None:
    before = feed_ids(casesystem_client)
    draft_id, created = casesystem_client.create_draft_contract(
        "transfer-draft:P1", draft_document()
    )
    again_id, again = casesystem_client.create_draft_contract("transfer-draft:P1", draft_document())
    assert (created, again, again_id) == (True, False, draft_id)
    (only,) = casesystem_client.list_draft_contracts()
    assert (only["id"], only["status"], only["contractnummer"]) == (draft_id, "OPEN", "TRF-0001")
    assert casesystem_simulator.store.count_key("transfer-draft:P1") == 1
    assert feed_ids(casesystem_client) == before  # not a contract: the feed does not serve it
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.get_contract("TRF-0001")
    assert err.value.status == 404


def test_drafts_need_a_token_and_a_key(casesystem_simulator) -> None:
    url = casesystem_simulator.url + "/api/v1/gpmi/ontwerpcontracten"
    assert (
        httpx.post(url, json=draft_document(), headers={"Idempotency-Key": "k"}).status_code == 401
    )
    token = httpx.post(
        casesystem_simulator.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "geheim"),
    ).json()["access_token"]
    r = httpx.post(url, json=draft_document(), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.json()["fout"] == "SLEUTEL_VEREIST"


def test_a_malformed_draft_is_refused_naming_every_field_never_its_value(
    casesystem_simulator, casesystem_client
) -> None:
    bad = draft_document()
    niss = bad["client"]["rijksregisternummer"]
    bad["client"]["rijksregisternummer"] = niss[:-2] + f"{(int(niss[-2:]) + 1) % 100:02d}"
    bad["status"] = "LOP"  # a draft is never an active contract
    bad["startdatum"] = "31-02-2026"
    bad["domeinen"] = ["WERK", "ASTRO"]
    bad["leefloon"]["bedrag_maand"] = "1314.20"
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.create_draft_contract("k-bad", bad)
    assert err.value.status == 422 and err.value.code == "ONGELDIG_ONTWERP"
    message = str(err.value)
    for field in (
        "client.rijksregisternummer",
        "status",
        "startdatum",
        "domeinen[1]",
        "leefloon.bedrag_maand",
    ):
        assert field in message
    assert bad["client"]["rijksregisternummer"] not in message and niss not in message
    # the raw answer lists the fields one by one
    token = httpx.post(
        casesystem_simulator.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "geheim"),
    ).json()["access_token"]
    r = httpx.post(
        casesystem_simulator.url + "/api/v1/gpmi/ontwerpcontracten",
        json=bad,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-bad"},
    )
    assert {e["veld"] for e in r.json()["fouten"]} == {
        "client.rijksregisternummer",
        "status",
        "startdatum",
        "domeinen[1]",
        "leefloon.bedrag_maand",
    }
    assert casesystem_client.list_draft_contracts() == []


def test_cross_field_checks_name_the_field(casesystem_client) -> None:
    bad = draft_document()
    bad["einddatum"] = "01-01-2000"
    bad["stappen"][0]["doel_id"] = "D-ONBEKEND"
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.create_draft_contract("k-cross", bad)
    assert "einddatum: ligt voor de startdatum" in str(err.value)
    assert "stappen[0].doel_id: verwijst naar een onbekend doel" in str(err.value)


def test_activation_by_the_social_worker_makes_it_a_contract_of_the_feed(
    casesystem_simulator, casesystem_client
) -> None:
    _, cursor = drain(casesystem_client)
    draft_id, _ = casesystem_client.create_draft_contract("k-act", draft_document("TRF-0002"))
    assert (
        review(casesystem_simulator, draft_id, "activeren", {"status": "ONTW"}).status_code == 422
    )
    r = review(
        casesystem_simulator, draft_id, "activeren", {"wijzigingen": {"dossiernummer": "D-LGE-1"}}
    )
    assert r.status_code == 200 and r.json()["contractnummer"] == "TRF-0002"
    page = casesystem_client.fetch_changes(cursor, 1000)
    (item,) = page.items
    assert (item["contractnummer"], item["status"], item["dossiernummer"], item["versie"]) == (
        "TRF-0002",
        "LOP",
        "D-LGE-1",
        1,
    )
    assert casesystem_client.get_draft_contract(draft_id)["status"] == "GEACT"
    # decided once: neither a second activation nor a discard afterwards
    assert review(casesystem_simulator, draft_id, "activeren").status_code == 409
    assert review(casesystem_simulator, draft_id, "verwerpen").json()["fout"] == "ONTWERP_NIET_OPEN"
    # the same key again answers with the (now activated) draft, and creates nothing
    assert casesystem_client.create_draft_contract("k-act", draft_document("TRF-0002")) == (
        draft_id,
        False,
    )


def test_a_discarded_draft_never_becomes_a_contract(
    casesystem_simulator, casesystem_client
) -> None:
    draft_id, _ = casesystem_client.create_draft_contract("k-disc", draft_document("TRF-0003"))
    r = review(casesystem_simulator, draft_id, "verwerpen", {"reden": "persoon niet ingeschreven"})
    assert r.status_code == 200
    got = casesystem_client.get_draft_contract(draft_id)
    assert (got["status"], got["reden"]) == ("VERW", "persoon niet ingeschreven")
    assert review(casesystem_simulator, draft_id, "activeren").status_code == 409
    assert "TRF-0003" not in feed_ids(casesystem_client)
    assert review(casesystem_simulator, 999, "activeren").status_code == 404
    assert (
        httpx.post(
            f"{casesystem_simulator.url}/admin/ontwerpcontracten/{draft_id}/activeren", json={}
        ).status_code
        == 403
    )


def test_a_contract_number_in_use_is_a_conflict(casesystem_simulator, casesystem_client) -> None:
    existing = casesystem_simulator.store.ids()[0]
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.create_draft_contract("k-clash", draft_document(existing))
    assert err.value.status == 409 and err.value.code == "CONTRACT_BESTAAT"
    casesystem_client.create_draft_contract("k-one", draft_document("TRF-0004"))
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.create_draft_contract("k-other", draft_document("TRF-0004"))
    assert err.value.status == 409 and "open ontwerp" in str(err.value)


def test_drafts_are_persisted_with_the_rest_of_the_state(tmp_path) -> None:
    config = SimulatorConfig(db_path=tmp_path / "neptunus.sqlite")
    with (
        CaseSystemSimulator(config) as sim,
        CaseSystemClient(sim.url, "piis-bridge", "geheim") as client,
    ):
        draft_id, _ = client.create_draft_contract("k-keep", draft_document("TRF-0005"))
    with (
        CaseSystemSimulator(SimulatorConfig(db_path=tmp_path / "neptunus.sqlite")) as sim,
        CaseSystemClient(sim.url, "piis-bridge", "geheim") as client,
    ):
        assert client.get_draft_contract(draft_id)["ontwerp"]["contractnummer"] == "TRF-0005"
        assert client.create_draft_contract("k-keep", draft_document("TRF-0005")) == (
            draft_id,
            False,
        )


def test_one_contract_is_served_only_to_its_own_ocmw(
    casesystem_simulator, casesystem_client
) -> None:
    cid = casesystem_simulator.store.ids()[0]
    ocmw = casesystem_simulator.store.get(cid)[2]
    doc, etag = casesystem_client.get_contract(cid, ocmw=ocmw)
    assert doc["contractnummer"] == cid and etag
    with pytest.raises(CaseSystemHTTPError) as err:
        casesystem_client.get_contract(
            cid, ocmw="0207916035" if ocmw != "0207916035" else "0212045562"
        )
    assert err.value.status == 404
