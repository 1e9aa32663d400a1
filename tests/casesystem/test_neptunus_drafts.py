"""The neptunus plugin hands a received draft to the vendor as a draft contract (issue #8), and fetches one
record by id (issue #7).  Through the real plugin host and the HTTP simulator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import piis_plugins.neptunus as neptunus
import pytest
from piis_plugins.neptunus.drafts import shipped_draft_mapping

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import PushItem
from piis_bridge.mapping import CONVERTERS, MappingFileError
from piis_bridge.model import ContractStatus, PIISContract
from piis_bridge.transfer import draft_contract_item
from tests.transfer._support import GENT, received_draft

ADMIN = {"X-Admin-Key": "beheer"}


def _settings(sim, **extra) -> dict:
    return {
        "base_url": sim.url,
        "client_id": "piis-bridge",
        "client_secret": "geheim",
        "timeout": 5,
        **extra,
    }


def _host(sim, tmp_path: Path, **extra) -> PluginHost:
    cpas = {
        "gent": {
            "name": GENT.name,
            "ins_code": GENT.ins_code,
            "bce": GENT.bce,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {"neptunus": _settings(sim, **extra)},
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    host.startup()
    return host


@pytest.fixture
def host(casesystem_simulator, tmp_path):
    h = _host(casesystem_simulator, tmp_path)
    yield h
    h.instances.close()


def draft_item(
    name: str = "sanction-history", package_id: str = "a" * 32
) -> tuple[PushItem, PIISContract]:
    """The draft_contract item the transfer plugin pushes for a package received at Gent."""
    package, draft = received_draft(name, GENT, package_id)
    return draft_contract_item(draft, package), draft


def _activate(sim, draft_id: int) -> dict:
    r = httpx.post(
        f"{sim.url}/admin/ontwerpcontracten/{draft_id}/activeren", headers=ADMIN, json={}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_a_draft_is_created_once_in_the_vendor_fields(host, casesystem_simulator) -> None:
    item, draft = draft_item()
    (first,) = host.case_push("gent", [item])
    (second,) = host.case_push("gent", [item])
    assert (first.status, second.status) == (
        "created",
        "duplicate",
    ) and first.remote_id == second.remote_id
    (stored,) = casesystem_simulator.store.list_drafts()
    assert str(stored["id"]) == first.remote_id and stored["status"] == "OPEN"
    doc = stored["ontwerp"]
    assert (doc["contractnummer"], doc["status"], doc["gpmi_type"], doc["verplichtingsgrond"]) == (
        draft.contract_id,
        "ONTW",
        "TEW",
        "J25TEW",
    )
    assert doc["leefloon"]["bedrag_maand"] == "876,13" and doc["leefloon"]["categorie"] == "SAMENW"
    assert doc["startdatum"] == "10-02-2026" and doc["domeinen"] == ["OPLEID", "WERK"]
    assert (
        "maatschappelijk_werker" not in doc
    )  # the old CPAS's workers are contacts, not assigned here
    assert [c["naam"] for c in doc["herkomst"]["contactpersonen"]] == ["D. Renard", "N. Simon"]
    # what the vendor cannot hold is said in the note, never dropped silently
    assert "also form tags TRAINING" in doc["toelichting"] and "R-TRF-06" in doc["toelichting"]


@pytest.mark.parametrize(
    "name", ["sanction-history", "u25-employment-project", "community-service", "studies"]
)
def test_an_activated_draft_maps_back_to_the_draft(host, casesystem_simulator, name: str) -> None:
    """The reverse mapping and contract.yaml agree: draft -> vendor -> activated -> canonical."""
    item, draft = draft_item(name)
    (result,) = host.case_push("gent", [item])
    assert result.status == "created", result.detail
    _activate(casesystem_simulator, int(result.remote_id))
    record = host.case_fetch_record("gent", draft.contract_id)
    assert record is not None
    back = host.case_map_record("gent", record)
    assert back.ok, back.problems
    got = back.contract
    assert got.status is ContractStatus.ACTIVE  # activated by the social worker, no longer a draft
    same = ["contract_id", "cpas", "orientation", "start_date", "end_date"]
    assert {f: getattr(got, f) for f in same} == {f: getattr(draft, f) for f in same}
    # what the vendor holds of the decision, the evaluations, studies and premium (no more: see contract.yaml)
    held = {
        "decision": {
            "decision_id",
            "decision_date",
            "ri_category",
            "ri_amount_monthly_cents",
            "ri_start_date",
        },
        "evaluations": {
            "evaluation_id",
            "held_on",
            "mode",
            "kind",
            "progress",
            "cpas_commitments_fulfilled",
        },
        # (the vendor has no study dates of its own: contract.yaml takes the contract's)
        "studies": {
            "institution",
            "programme",
            "full_time",
            "community_recognised",
            "enrolment_proof_received_date",
        },
        "encouragement_premium": {"amount_cents", "frequency", "conditions"},
    }
    for name_, keys in held.items():
        assert got.model_dump(
            include={name_: keys if name_ != "evaluations" else {"__all__": keys}}
        ) == draft.model_dump(
            include={name_: keys if name_ != "evaluations" else {"__all__": keys}}
        ), name_
    assert (got.beneficiary.niss, got.beneficiary.birth_date) == (
        draft.beneficiary.niss,
        draft.beneficiary.birth_date,
    )
    assert (
        got.form_tags == draft.form_tags[:1] and got.obligation.basis == draft.obligation.basis[:1]
    )
    assert [
        (c.commitment_id, c.party, c.text, c.objective_ids, c.due_date) for c in got.commitments
    ] == [
        (c.commitment_id, c.party, c.text, c.objective_ids[:1], c.due_date)
        for c in draft.commitments
    ]
    assert [
        (s.sanction_id, s.kind, s.percentage, s.start_date, s.end_date) for s in got.sanctions
    ] == [(s.sanction_id, s.kind, s.percentage, s.start_date, s.end_date) for s in draft.sanctions]
    assert [(v.version_no, v.kind, v.effective_date) for v in got.versions] == [
        (v.version_no, v.kind, v.effective_date) for v in draft.versions
    ]
    if draft.community_service:
        cs, back_cs = draft.community_service, got.community_service
        assert (back_cs.nature, back_cs.host.name, back_cs.volunteer_allowance_cents) == (
            cs.nature,
            cs.host.name,
            cs.volunteer_allowance_cents,
        )


def test_a_code_the_vendor_does_not_have_is_reported_not_guessed(
    host, casesystem_simulator
) -> None:
    item, _ = draft_item(
        "social-insertion-third-party"
    )  # action domain LANGUAGE: no levensdomein for it
    (result,) = host.case_push("gent", [item])
    assert result.status == "failed"
    assert "action_domains[0]: unknown code 'AAAAAAAA' in code list 'domein'" in result.detail
    assert casesystem_simulator.store.list_drafts() == []


def test_switched_off_drafts_answer_failed_without_asking_the_vendor(
    casesystem_simulator, tmp_path
) -> None:
    host = _host(casesystem_simulator, tmp_path, draft_contracts=False)
    try:
        item, _ = draft_item()
        (result,) = host.case_push("gent", [item])
    finally:
        host.instances.close()
    assert result.status == "failed" and "draft_contracts = false" in result.detail
    assert casesystem_simulator.store.list_drafts() == []


def test_a_vendor_refusal_is_a_failed_item_with_its_reason(host, casesystem_simulator) -> None:
    item, _ = draft_item()
    casesystem_simulator.inject(422, count=1, path="/api/v1/gpmi/ontwerpcontracten")
    (result,) = host.case_push("gent", [item])
    assert (
        result.status == "failed"
        and "draft contract refused" in result.detail
        and "422" in result.detail
    )
    (again,) = host.case_push(
        "gent", [item]
    )  # nothing stored by the refusal: the next push creates it
    assert again.status == "created"


def test_an_item_that_is_not_a_draft_is_refused_before_any_request(
    host, casesystem_simulator
) -> None:
    item, draft = draft_item()
    active = {
        **item.data,
        "draft_contract": draft.model_copy(update={"status": ContractStatus.ACTIVE}).model_dump(
            mode="json"
        ),
    }
    (result,) = host.case_push("gent", [item.model_copy(update={"data": active})])
    assert result.status == "failed" and "not a draft hand-over (draft_contract)" in result.detail
    assert casesystem_simulator.store.list_drafts() == []


def test_fetch_record_is_the_feed_record_or_none(host, casesystem_simulator, tmp_path) -> None:
    cid = casesystem_simulator.store.ids()[3]
    page = host.case_fetch_changes("gent", None, 1000)
    assert host.case_fetch_record("gent", cid) == next(
        r for r in page.records if r.record_id == cid
    )
    assert host.case_fetch_record("gent", "GPMI-0999999") is None
    # a multi-tenant vendor: another OCMW's contract is not this CPAS's record
    mine = casesystem_simulator.store.get(cid)[2]
    other = next(
        o
        for o in {casesystem_simulator.store.get(i)[2] for i in casesystem_simulator.store.ids()}
        if o != mine
    )
    host.instances.close()
    tenant = _host(casesystem_simulator, tmp_path / "tenant", ocmw_kbo=other)
    assert tenant.case_fetch_record("gent", cid) is None and tenant.failures == []
    tenant.instances.close()


def test_fetch_record_failures_are_not_read_as_not_found(host, casesystem_simulator) -> None:
    from piis_bridge.hooks.manager import PluginCallError

    casesystem_simulator.inject(403, count=1, path="/api/v1/gpmi/contracten/")
    with pytest.raises(PluginCallError, match="403"):
        host.case_fetch_record("gent", casesystem_simulator.store.ids()[0])


def test_vendor_converters() -> None:
    money, day, jn = (
        CONVERTERS["neptunus_money"],
        CONVERTERS["neptunus_date"],
        CONVERTERS["neptunus_jn"],
    )
    assert [money(v, None) for v in (131420, 5, 0, 123456789, -87613)] == [
        "1.314,20",
        "0,05",
        "0,00",
        "1.234.567,89",
        "-876,13",
    ]
    assert (
        CONVERTERS["money_cents"]("1.234.567,89", None) == 123456789
    )  # the forward converter reads it back
    assert day("2026-02-10", None) == day(date(2026, 2, 10), None) == "10-02-2026"
    assert (jn(True, None), jn(False, None)) == ("J", "N")


def test_a_broken_draft_mapping_stops_startup_naming_the_file(
    casesystem_simulator, tmp_path
) -> None:
    broken = tmp_path / "draft.yaml"
    broken.write_text(
        shipped_draft_mapping()
        .read_text(encoding="utf-8")
        .replace("EDUCATION: OPLEID", "EDUCATION: SCHOOL"),
        encoding="utf-8",
    )
    cpas = {
        "gent": {
            "name": GENT.name,
            "ins_code": GENT.ins_code,
            "bce": GENT.bce,
            "case_system": "neptunus",
            "federal": None,
            "transfer": None,
            "plugins": {
                "neptunus": _settings(casesystem_simulator, draft_mapping_file=str(broken))
            },
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    (failure,) = host.startup()
    assert (
        failure.hook == "piis_startup"
        and "draft.yaml" in failure.message
        and "SCHOOL" in failure.message
    )
    with pytest.raises(MappingFileError, match="'SCHOOL' is not a valid Domein"):
        neptunus.make_plugin().draft_mapping(str(broken))
