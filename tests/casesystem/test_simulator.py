"""The vendor simulator over real HTTP: auth, paging/cursor semantics, ETags, 429, 5xx, seeding."""

from __future__ import annotations

import httpx
import pytest
from piis_connectors.casesystem.seed import generate
from piis_connectors.casesystem.simulator import decode_cursor, encode_cursor

from piis_bridge.identifiers import is_valid_niss, validate_bce

ADMIN = {"X-Admin-Key": "beheer"}


def _token(url: str) -> dict[str, str]:
    r = httpx.post(
        url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "geheim"),
    )
    assert r.status_code == 200
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def test_seeding_is_deterministic_and_realistic() -> None:
    a = [c.data for c in generate(300, seed=5)]
    b = [c.data for c in generate(300, seed=5)]
    assert a == b
    assert a != [c.data for c in generate(300, seed=6)]
    kinds = {d["gpmi_type"] for d in a}
    assert {"ALG", "STU", "GDW"} <= kinds
    assert all(is_valid_niss(d["client"]["rijksregisternummer"]) for d in a)
    assert all(validate_bce(d["ocmw"]["kbo"]) for d in a)
    assert any(d["stopzetting"] and d["stopzetting"]["reden"] == "VERHUIS" for d in a)
    assert any(d["sancties"] for d in a)
    dossiers = {d["dossiernummer"] for d in a}
    assert len(dossiers) == 300


def test_token_required_and_bad_credentials_refused(casesystem_simulator) -> None:
    url = casesystem_simulator.url
    assert httpx.get(url + "/api/v1/gpmi/contracten").status_code == 401
    bad = httpx.post(
        url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("piis-bridge", "fout"),
    )
    assert bad.status_code == 401
    wrong_grant = httpx.post(
        url + "/oauth/token", data={"grant_type": "password"}, auth=("piis-bridge", "geheim")
    )
    assert wrong_grant.status_code == 400
    r = httpx.get(url + "/api/v1/gpmi/contracten", headers={"Authorization": "Bearer nep"})
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]


def test_paging_covers_every_record_once_in_stable_order(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    seen, cursor = [], None
    while True:
        params = {"limiet": 7, **({"na": cursor} if cursor else {})}
        body = httpx.get(url + "/api/v1/gpmi/contracten", params=params, headers=headers).json()
        seen += [(i["laatst_gewijzigd"], i["contractnummer"]) for i in body["items"]]
        cursor = body["volgende"]
        if not body["meer"]:
            break
    ids = [s[1] for s in seen]
    assert len(ids) == len(set(ids)) == casesystem_simulator.store.count()
    # at the end, the feed is empty and keeps the cursor
    body = httpx.get(url + "/api/v1/gpmi/contracten", params={"na": cursor}, headers=headers).json()
    assert body == {"items": [], "volgende": cursor, "meer": False}


def test_record_modified_during_paging_is_not_skipped(casesystem_simulator) -> None:
    sim = casesystem_simulator
    url, headers = sim.url, _token(sim.url)
    first = httpx.get(
        url + "/api/v1/gpmi/contracten", params={"limiet": 10}, headers=headers
    ).json()
    already_read = first["items"][3]["contractnummer"]
    not_yet_read = sim.store.ids()[-1]
    r = httpx.post(url + "/admin/wijzig", json={"ids": [already_read, not_yet_read]}, headers=ADMIN)
    assert r.json()["gewijzigd"] == 2
    rest, cursor = [], first["volgende"]
    while cursor:
        body = httpx.get(
            url + "/api/v1/gpmi/contracten", params={"limiet": 10, "na": cursor}, headers=headers
        ).json()
        rest += body["items"]
        if not body["meer"]:
            break
        cursor = body["volgende"]
    versions = {i["contractnummer"]: i["versie"] for i in rest}
    assert versions[already_read] == 2  # delivered again, in its new version
    assert versions[not_yet_read] == 2  # moved to the end, still delivered exactly once
    assert [i["contractnummer"] for i in rest].count(not_yet_read) == 1


def test_modified_since_filter_and_bad_parameters(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    r = httpx.post(url + "/admin/wijzig", json={"aantal": 3, "seed": 1}, headers=ADMIN).json()
    all_items = httpx.get(
        url + "/api/v1/gpmi/contracten", params={"limiet": 1000}, headers=headers
    ).json()["items"]
    newest = sorted(all_items, key=lambda i: (i["laatst_gewijzigd"][6:10], i["laatst_gewijzigd"]))[
        -3:
    ]
    since = min(i["laatst_gewijzigd"] for i in all_items if i["contractnummer"] in r["ids"])
    body = httpx.get(
        url + "/api/v1/gpmi/contracten", params={"gewijzigd_sinds": since}, headers=headers
    ).json()
    assert sorted(i["contractnummer"] for i in body["items"]) == sorted(r["ids"])
    assert {i["contractnummer"] for i in newest} == set(r["ids"])
    for params in (
        {"limiet": 0},
        {"limiet": 5000},
        {"limiet": "x"},
        {"na": "!!"},
        {"gewijzigd_sinds": "gisteren"},
    ):
        assert (
            httpx.get(url + "/api/v1/gpmi/contracten", params=params, headers=headers).status_code
            == 400
        )


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(123, "GPMI-1:x")) == (123, "GPMI-1:x")
    with pytest.raises(ValueError):
        decode_cursor("bm9wZQ")


def test_etag_and_conditional_get(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    cid = casesystem_simulator.store.ids()[0]
    r = httpx.get(f"{url}/api/v1/gpmi/contracten/{cid}", headers=headers)
    etag = r.headers["ETag"]
    assert r.json()["etag"] == etag
    assert (
        httpx.get(
            f"{url}/api/v1/gpmi/contracten/{cid}", headers={**headers, "If-None-Match": etag}
        ).status_code
        == 304
    )
    httpx.post(url + "/admin/wijzig", json={"ids": [cid]}, headers=ADMIN)
    r2 = httpx.get(
        f"{url}/api/v1/gpmi/contracten/{cid}", headers={**headers, "If-None-Match": etag}
    )
    assert r2.status_code == 200 and r2.headers["ETag"] != etag
    assert httpx.get(f"{url}/api/v1/gpmi/contracten/NOPE", headers=headers).status_code == 404


def test_rate_limit_answers_429_with_retry_after(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    httpx.post(url + "/admin/instellingen", json={"rate_limit": 0.5, "burst": 2}, headers=ADMIN)
    codes = [
        httpx.get(url + "/api/v1/gpmi/contracten", params={"limiet": 1}, headers=headers)
        for _ in range(3)
    ]
    assert [c.status_code for c in codes[:2]] == [200, 200]
    assert codes[2].status_code == 429 and int(codes[2].headers["Retry-After"]) >= 1


def test_fault_injection_and_random_5xx(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    casesystem_simulator.inject(503, count=2)
    got = [
        httpx.get(url + "/api/v1/gpmi/contracten", headers=headers).status_code for _ in range(3)
    ]
    assert got == [503, 503, 200]
    httpx.post(url + "/admin/instellingen", json={"error_rate": 1.0}, headers=ADMIN)
    assert httpx.get(url + "/api/v1/gpmi/contracten", headers=headers).status_code in (
        500,
        502,
        503,
    )
    httpx.post(url + "/admin/instellingen", json={"error_rate": 0.0}, headers=ADMIN)
    assert httpx.get(url + "/api/v1/gpmi/contracten", headers=headers).status_code == 200


def test_tasks_are_idempotent_and_status_honours_if_match(casesystem_simulator) -> None:
    url, headers = casesystem_simulator.url, _token(casesystem_simulator.url)
    cid = casesystem_simulator.store.ids()[0]
    task = {"contractnummer": cid, "titel": "Evaluatie te laat", "soort": "TERMIJN"}
    assert (
        httpx.post(url + "/api/v1/taken", json=task, headers=headers).status_code == 400
    )  # no key
    r1 = httpx.post(url + "/api/v1/taken", json=task, headers={**headers, "Idempotency-Key": "k1"})
    r2 = httpx.post(url + "/api/v1/taken", json=task, headers={**headers, "Idempotency-Key": "k1"})
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.json()["id"] == r2.json()["id"]
    assert (
        len(
            httpx.get(url + "/api/v1/taken", params={"contract": cid}, headers=headers).json()[
                "items"
            ]
        )
        == 1
    )
    etag = httpx.get(f"{url}/api/v1/gpmi/contracten/{cid}", headers=headers).headers["ETag"]
    stale = httpx.put(
        f"{url}/api/v1/gpmi/contracten/{cid}/federale-status",
        json={"status": "AANVAARD"},
        headers={**headers, "Idempotency-Key": "s1", "If-Match": '"oud"'},
    )
    assert stale.status_code == 412
    ok = httpx.put(
        f"{url}/api/v1/gpmi/contracten/{cid}/federale-status",
        json={"status": "AANVAARD"},
        headers={**headers, "Idempotency-Key": "s1", "If-Match": etag},
    )
    assert ok.status_code == 201
    # pushing a status does not bump the contract (no echo in the next incremental pull)
    assert httpx.get(f"{url}/api/v1/gpmi/contracten/{cid}", headers=headers).headers["ETag"] == etag


def test_admin_requires_key(casesystem_simulator) -> None:
    assert httpx.get(casesystem_simulator.url + "/admin/stats").status_code == 403
