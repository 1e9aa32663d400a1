"""National Register notices (federal.md 10.5.11; hand-over on a move, issue #8): the simulator files a notice
for every CPAS that integrated the person, the CPAS reads them through ``SIM.NR.Notices`` (SSDN envelope,
validated like the other services), and the federal plugin's ``piis_federal_fetch_notices`` pages through
them with a resumable cursor.  Over real HTTP against the running simulator."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from piis_connectors.federal import dis, schemas
from piis_plugins.federal.service import FederalService

from piis_bridge.hooks.types import CpasContext, NoticePage
from piis_bridge.ledger import Ledger

from .conftest import INS, KBO, KBO2, make_client, niss

ANDERLECHT = ("21001", "Anderlecht")


@pytest.fixture
def service(sim, tmp_path: Path):
    ctx = CpasContext(
        cpas_id="liege",
        name="CPAS de Liège",
        ins_code=INS,
        bce=KBO,
        state_dir=tmp_path,
        settings={"endpoint": sim.endpoint, "operation_timeout": 5.0, "retries": 1},
    )
    svc = FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    yield svc
    svc.client.close()


def _people(sim, count: int, kbo: str = KBO, start: str = "2025-01-01") -> list[str]:
    people = [niss("850730", 200 + i) for i in range(count)]
    sim.admin.integrate_many(kbo, people, start=start)
    return people


def _move(sim, person: str, on: date = date(2025, 4, 1)) -> None:
    sim.admin.mutate(person, "move", on, new_ins=ANDERLECHT[0], new_municipality=ANDERLECHT[1])


def test_a_move_must_name_the_new_municipality(sim) -> None:
    [person] = _people(sim, 1)
    for body in ({}, {"new_ins": "21001"}, {"new_ins": "2100", "new_municipality": "X"}):
        response = httpx.post(
            f"{sim.base_url}/admin/mutations",
            json={"ssin": person, "kind": "move", "date": "2025-04-01", **body},
        )
        assert response.status_code == 400 and "municipality" in response.json()["error"]
    response = httpx.post(
        f"{sim.base_url}/admin/mutations",
        json={"ssin": person, "kind": "moved", "date": "2025-04-01"},
    )
    assert response.status_code == 400
    assert person not in response.text


def test_notices_concern_only_persons_the_cpas_integrated_in_order_and_paged(sim, client) -> None:
    mine = _people(sim, 3)
    theirs = niss("850730", 250)
    sim.admin.integrate(KBO2, theirs, start="2025-01-01")
    ended = niss("850730", 251)
    sim.admin.integrate(
        KBO, ended, start="2020-01-01", end="2025-01-31"
    )  # unregistered before the move
    _move(sim, mine[0])
    sim.admin.mutate(theirs, "death", date(2025, 4, 2))
    _move(sim, ended, date(2025, 3, 1))
    sim.admin.mutate(mine[1], "death", date(2025, 4, 3))
    sim.admin.mutate(mine[2], "replaced", date(2025, 4, 4), new_ssin=niss("850730", 252))
    sim.admin.mutate(mine[0], "emigration", date(2025, 6, 1))

    first = client.notices(None, 2)
    assert [(n.kind, n.ssin) for n in first.notices] == [("move", mine[0]), ("death", mine[1])]
    assert first.has_more and first.cursor == first.notices[-1].notice_id
    assert (
        first.notices[0].new_ins_code == ANDERLECHT[0]
        and first.notices[0].new_municipality == ANDERLECHT[1]
    )
    second = client.notices(first.cursor, 2)
    assert [(n.kind, n.ssin) for n in second.notices] == [
        ("replaced", mine[2]),
        ("emigration", mine[0]),
    ]
    assert second.notices[0].new_ssin == niss("850730", 252) and not second.has_more
    last = client.notices(second.cursor, 2)
    assert last.notices == [] and last.cursor == second.cursor and not last.has_more
    assert (
        client.notices(first.cursor, 10).notices == second.notices
    )  # resuming replays nothing, skips nothing

    other = make_client(sim, kbo=KBO2)
    assert [(n.kind, n.ssin) for n in other.notices(None, 10).notices] == [("death", theirs)]
    other.close()


def test_the_notice_service_travels_in_the_ssdn_envelope_and_is_validated(sim, client) -> None:
    from lxml import etree
    from piis_connectors.federal import envelope
    from piis_connectors.federal.client import OutgoingInvalid

    [person] = _people(sim, 1)
    _move(sim, person)
    reply = client.call(
        [envelope.ServiceRequest(dis.SERVICE_NOTICES, dis.SERVICE_VERSION, _request(None, 5))]
    )
    assert (
        schemas.validate(
            schemas.envelope_schema(),
            envelope.build_reply(
                ok=reply.ok,
                return_code=reply.return_code,
                user=None,
                reference=reply.reference,
                ticket=reply.ticket,
                time_request=None,
                time_receive=datetime.now(),
                time_response=datetime.now(),
                services=[
                    envelope.ServiceReply(s.ok, s.return_code, s.service_id, s.version, s.payload)
                    for s in reply.services
                ],
            ),
        )
        == []
    )
    with pytest.raises(
        OutgoingInvalid
    ):  # a page of more than 1000 notices is refused before it leaves
        client.call(
            [
                envelope.ServiceRequest(
                    dis.SERVICE_NOTICES, dis.SERVICE_VERSION, _request(None, 1001)
                )
            ]
        )
    bad = _request(None, 5)
    etree.SubElement(bad, dis.q("Unexpected")).text = "x"
    with pytest.raises(OutgoingInvalid):
        client.call([envelope.ServiceRequest(dis.SERVICE_NOTICES, dis.SERVICE_VERSION, bad)])


def _request(after: str | None, limit: int):
    from lxml import etree

    req = etree.Element(dis.q("DIS_NoticeRequest"), nsmap={"dis": dis.DIS_NS})
    if after:
        etree.SubElement(req, dis.q("After")).text = after
    etree.SubElement(req, dis.q("Limit")).text = str(limit)
    return req


def test_plugin_pages_through_notices_and_resumes_from_its_cursor(sim, service) -> None:
    people = _people(sim, 5)
    for person in people:
        _move(sim, person)
    seen, cursor, pages = [], None, 0
    while True:
        page = service.notices(cursor, 2)
        assert isinstance(page, NoticePage) and len(page.notices) <= 2
        seen.extend(page.notices)
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            break
    assert pages == 3 and [str(n.niss) for n in seen] == people
    assert all(
        n.kind == "move" and n.new_ins_code == ANDERLECHT[0] and n.new_municipality == ANDERLECHT[1]
        for n in seen
    )
    assert len({n.reference for n in seen}) == 5
    again = service.notices(cursor, 2)  # nothing new: same cursor, nothing replayed
    assert again.notices == [] and again.cursor == cursor and not again.has_more
    later = niss("850730", 260)
    sim.admin.integrate(KBO, later, start="2025-01-01")
    sim.admin.mutate(later, "death", date(2025, 5, 1))
    [fresh] = service.notices(cursor, 2).notices
    assert (
        fresh.kind == "death"
        and str(fresh.niss) == later
        and fresh.effective_date == date(2025, 5, 1)
    )


def test_plugin_maps_every_kind(sim, service) -> None:
    dead, gone, old = _people(sim, 3)
    new = niss("850730", 270)
    sim.admin.mutate(dead, "death", date(2025, 4, 1))
    sim.admin.mutate(gone, "emigration", date(2025, 4, 2))
    sim.admin.mutate(old, "replaced", date(2025, 4, 3), new_ssin=new)
    page = service.notices(None, 10)
    assert [(n.kind, str(n.niss)) for n in page.notices] == [
        ("death", dead),
        ("emigration", gone),
        ("niss_replaced", old),
    ]
    assert str(page.notices[2].replaced_by) == new and page.notices[2].new_ins_code is None


def test_plugin_hook_through_the_host_and_no_niss_in_logs(sim, tmp_path, niss_guard) -> None:
    import piis_plugins.federal

    from piis_bridge.config import Settings
    from piis_bridge.hooks.manager import PluginHost

    logging.getLogger().setLevel(logging.DEBUG)
    people = _people(sim, 3)
    for person in people:
        _move(sim, person)
    settings = Settings(
        cpas={
            "liege": {
                "name": "CPAS de Liège",
                "ins_code": INS,
                "bce": KBO,
                "case_system": None,
                "federal": "federal",
                "transfer": None,
                "plugins": {"federal": {"endpoint": sim.endpoint, "retries": 1}},
            }
        },
        state_dir=tmp_path / "state",
        database_url=f"sqlite:///{tmp_path / 'host.sqlite3'}",
    )
    host = PluginHost(settings, plugins=[("federal", piis_plugins.federal)], load_entrypoints=False)
    first = host.federal_fetch_notices("liege", None, 2)
    assert first is not None and len(first.notices) == 2 and first.has_more
    rest = host.federal_fetch_notices("liege", first.cursor, 2)
    assert (
        rest is not None and [str(n.niss) for n in rest.notices] == people[2:] and not rest.has_more
    )
    assert host.failures == []
    bad = host.federal_fetch_notices("liege", "not-a-cursor", 2)
    assert bad is None and host.failures and all(p not in host.failures[0].message for p in people)
    niss_guard.check()


def test_an_unusable_notice_is_reported_in_the_page_and_the_others_are_read(
    sim, service, monkeypatch
) -> None:
    """One notice the plugin cannot read (here a kind it does not know) must not stop the feed every
    night: it comes back in the page's problems with its reference, never its NISS."""
    people = _people(sim, 3)
    for person in people:
        _move(sim, person)
    real = service.client.notices

    def with_a_new_kind(cursor, limit):
        page = real(cursor, limit)
        odd = dataclasses.replace(
            page.notices[1], kind="adoption"
        )  # a kind this plugin does not know
        return dataclasses.replace(page, notices=[page.notices[0], odd, *page.notices[2:]])

    monkeypatch.setattr(service.client, "notices", with_a_new_kind)
    page = service.notices(None, 10)
    assert [str(n.niss) for n in page.notices] == [people[0], people[2]]
    [problem] = page.problems
    assert problem.record_id.startswith(f"NR-{KBO}-") and "adoption" in problem.reason
    assert people[1] not in problem.reason and not page.has_more
