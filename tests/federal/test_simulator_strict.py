"""The simulator as strict as the real BCSS (issue #23): identifier and business checks on every simulated
service, options the simulator cannot honour answered as not simulated, the WSDL wherever a client looks for
it, and a wrong configuration refused at start.  Every request goes over real HTTP as raw SOAP."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree
from piis_connectors.federal import envelope
from piis_connectors.federal.simulator.app import PORT_PATH, SOAP_NS, WSC_NS

from .conftest import KBO, niss

MA = envelope.MANAGE_ACCESS_NS


def _soap(services: list[tuple[str, str]]) -> bytes:
    """A sendXML call carrying an SSDNRequest of CPAS ``KBO`` with these (ServiceId, payload XML) services."""
    requests = [
        envelope.ServiceRequest(sid, "20050930", etree.fromstring(xml)) for sid, xml in services
    ]
    inner = envelope.build_request(
        envelope.AuthorizedUser("00000000097", "it@cpas.be", KBO),
        requests,
        reference="strict-1",
        time_request=datetime(2025, 9, 10, 9),
    )
    env = etree.Element(f"{{{SOAP_NS}}}Envelope")
    holder = etree.SubElement(etree.SubElement(env, f"{{{SOAP_NS}}}Body"), f"{{{WSC_NS}}}xmlString")
    holder.text = etree.tostring(inner, encoding="unicode")
    return etree.tostring(env)


def _call(sim, services: list[tuple[str, str]]) -> list[envelope.ServiceReply]:
    response = httpx.post(
        sim.endpoint, content=_soap(services), headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 200, response.text
    holder = etree.fromstring(response.content).find(f"{{{SOAP_NS}}}Body/{{{WSC_NS}}}xmlString")
    return envelope.parse_reply(etree.fromstring(holder.text.encode())).services


def _access(
    ssin: str,
    action: str = "REGISTER",
    *,
    purpose: str | None = "2",
    start: str = "2025-03-01",
    end: str | None = None,
    extra: str = "",
    proof: str = "",
) -> tuple[str, str]:
    period = f"<c:StartDate>{start}</c:StartDate>" + (
        f"<c:EndDate>{end}</c:EndDate>" if end else ""
    )
    xml = (
        f'<ManageAccessRequest xmlns="{MA}" xmlns:c="{envelope.COMMON_NS}"><SSIN>{ssin}</SSIN>'
        + (f"<Purpose>{purpose}</Purpose>" if purpose is not None else "")
        + f"<Period>{period}</Period><Action>{action}</Action>{extra}"
        f"<ProofOfAuthentication>{proof}</ProofOfAuthentication></ManageAccessRequest>"
    )
    return "OCMWCPASManageAccess", xml


def _codes(reply: envelope.ServiceReply) -> list[str]:
    return [d.reason_code or "" for d in reply.details]


def _registrations(reply: envelope.ServiceReply) -> list[tuple[str, str, str | None]]:
    return [
        (
            r.findtext(f"{{{MA}}}Purpose"),
            r.findtext(f"{{{MA}}}Period/{{{envelope.COMMON_NS}}}StartDate"),
            r.findtext(f"{{{MA}}}Period/{{{envelope.COMMON_NS}}}EndDate"),
        )
        for r in reply.payload.iterfind(f"{{{MA}}}Registrations")
    ]


PROOF = "<PersonData><LastName>Peeters</LastName><BirthDate>1985-07-30</BirthDate></PersonData>"


def test_register_refuses_an_invalid_niss_with_the_official_code(sim) -> None:
    bad = niss()[:-2] + f"{(int(niss()[-2:]) + 1) % 97:02d}"
    good = niss(counter=35)
    invalid, valid = _call(sim, [_access(bad), _access(good, proof=PROOF)])
    assert invalid.ok == "NO" and _codes(invalid) == ["MSG00011"] and invalid.payload is None
    assert valid.ok == "YES" and _registrations(valid) == [("2", "2025-03-01", None)]
    assert sim.admin.stats()["integrations"] == 1  # the invalid NISS was not integrated


def test_register_checks_purpose_period_and_proof(sim) -> None:
    n = niss()
    cases = [
        (_access(n, purpose=None), "MSG00008", "Purpose"),
        (_access(n, purpose="99"), "MSG00008", "Purpose"),
        (_access(n, end="2025-02-01"), "MSG00008", "EndDate"),
        (_access(n, proof=PROOF.replace("1985-07-30", "1985-07-31")), "MSG00008", "BirthDate"),
        (
            _access(n, proof="<SISCardNumber>1234567890</SISCardNumber>"),
            "SIM00001",
            "not simulated",
        ),
    ]
    for (sid, xml), code, word in cases:
        (reply,) = _call(sim, [(sid, xml)])
        assert reply.ok == "NO" and _codes(reply) == [code], xml
        assert word in reply.details[0].diagnostic
    assert sim.admin.stats()["integrations"] == 0
    (empty,) = _call(
        sim, [_access(n)]
    )  # accepted, with the warning that the real BCSS wants a proof
    assert empty.ok == "WARNING" and _codes(empty) == ["SIM00002"] and _registrations(empty)
    (proved,) = _call(
        sim, [_access(niss(counter=35), proof=PROOF.replace("1985-07-30", "1985-07-30"))]
    )
    assert proved.ok == "YES" and proved.details == []


def test_a_second_register_with_the_same_start_does_not_replace_an_open_ended_one(sim) -> None:
    n = niss()
    (first,) = _call(sim, [_access(n, proof=PROOF)])
    assert first.ok == "YES"
    (bounded,) = _call(sim, [_access(n, end="2025-06-30", proof=PROOF)])
    assert (
        bounded.ok == "NO"
        and _codes(bounded) == ["MSG00008"]
        and "open-ended" in bounded.details[0].diagnostic
    )
    (again,) = _call(sim, [_access(n, proof=PROOF)])  # the same registration again: idempotent
    assert again.ok == "YES" and _registrations(again) == [("2", "2025-03-01", None)]
    (listed,) = _call(sim, [_access(n, "LIST")])
    assert _registrations(listed) == [("2", "2025-03-01", None)]


def test_list_sector_and_query_register(sim) -> None:
    n = niss()
    _call(sim, [_access(n, proof=PROOF)])
    (all_,) = _call(
        sim, [_access(n, "LIST", extra="<Sector>17</Sector><QueryRegister>ALL</QueryRegister>")]
    )
    assert all_.ok == "YES" and _registrations(all_) == [("2", "2025-03-01", None)]
    (other_sector,) = _call(sim, [_access(n, "LIST", extra="<Sector>3</Sector>")])
    assert other_sector.ok == "NO" and _codes(other_sector) == ["SIM00001"]
    assert "Sector 3" in other_sector.details[0].diagnostic
    (primary,) = _call(sim, [_access(n, "LIST", extra="<QueryRegister>PRIMARY</QueryRegister>")])
    assert (
        primary.ok == "NO"
        and _codes(primary) == ["SIM00001"]
        and "PRIMARY" in primary.details[0].diagnostic
    )
    # REGISTER ignores Sector (official XSD documentation) and QueryRegister (a LIST option), as Lino sends them
    (lino,) = _call(
        sim,
        [
            _access(
                niss(counter=35),
                extra="<Sector>17</Sector><QueryRegister>ALL</QueryRegister>",
                proof=PROOF,
            )
        ],
    )
    assert lino.ok == "YES"


def test_a_replaced_niss_is_refused_at_integration(sim) -> None:
    n = niss()
    sim.admin.mutate(n, "replaced", date(2025, 1, 1), new_ssin=niss(counter=35))
    (reply,) = _call(sim, [_access(n, proof=PROOF)])
    assert reply.ok == "NO" and _codes(reply) == ["MSG00006"]


def test_services_not_simulated_are_named(sim) -> None:
    identify = (
        "OCMWCPASIdentifyPerson",
        '<IdentifyPersonRequest xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/'
        f'OCMW_CPAS/IdentifyPerson"><SearchInformation><SSIN>{niss()}</SSIN></SearchInformation>'
        "</IdentifyPersonRequest>",
    )
    (reply,) = _call(sim, [identify])
    assert reply.ok == "NO" and _codes(reply) == ["-300000"]
    assert (
        "OCMWCPASIdentifyPerson" in reply.details[0].diagnostic
        and "not simulated" in reply.details[0].diagnostic
    )
    # a new-style SOAP service posted to the connector, and to its own endpoint
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><r:RetrieveTIGroupsRequest '
        'xmlns:r="http://kszbcss.fgov.be/types/RetrieveTIGroups/v2"/></soap:Body></soap:Envelope>'
    )
    for url in (sim.endpoint, sim.base_url + "/SOA4520/RetrieveTIGroupsService/v2"):
        response = httpx.post(url, content=body, headers={"Content-Type": "text/xml"})
        fault = etree.fromstring(response.content).findtext(
            f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault/faultstring"
        )
        assert response.status_code in (404, 500) and "not simulated" in fault
        assert ("RetrieveTIGroupsRequest" in fault) or (
            "/SOA4520/RetrieveTIGroupsService/v2" in fault
        )


def test_the_wsdl_is_served_where_clients_look_for_it(sim) -> None:
    for url in (sim.wsdl_url, sim.base_url + "/?wsdl", sim.base_url + "/wsdl"):
        response = httpx.get(url)
        assert response.status_code == 200 and "sendXML" in response.text, url
        assert f"{sim.base_url}{PORT_PATH}" in response.text
    index = httpx.get(sim.base_url + "/").text
    assert PORT_PATH in index and "OCMWCPASManageAccess" in index and "SIM.DIS.FormB" in index


def test_invalid_configuration_is_refused(sim) -> None:
    for body, word in (
        ({"kbo": "0212344877", "ins": "62063"}, "check digits"),
        ({"kbo": KBO, "ins": "6206"}, "INS"),
        ({"kbo": KBO, "ins": "62063", "rate": 12000}, "rate"),
    ):
        response = httpx.post(sim.base_url + "/admin/cpas", json=body)
        assert response.status_code == 400 and word in response.json()["error"], body
    for body, word in (
        ({"forfeiture_month": 12}, "unknown simulator setting 'forfeiture_month'"),
        ({"batch_delay": -1}, "batch_delay"),
        ({"closure_days": ["2025-13-01"]}, "closure_days"),
    ):
        response = httpx.post(sim.base_url + "/admin/config", json=body)
        assert response.status_code == 400 and word in response.json()["error"], body


@pytest.mark.parametrize(
    "args, word",
    [
        (["--cpas", "0207567727:44021:Gent:6500"], "--cpas '0207567727:44021:Gent:6500': CPAS kbo"),
        (["--cpas", "0207567726"], "expected KBO:INS"),
        (["--clock", "yesterday"], "--clock"),
    ],
)
def test_sim_federal_refuses_a_wrong_configuration_at_start(
    tmp_path: Path, args: list[str], word: str
) -> None:
    cli = Path(sys.executable).parent / "piis-bridge"
    done = subprocess.run(
        [str(cli), "sim", "federal", "--port", "0", "--db", str(tmp_path / "sim.db"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 2 and word in done.stderr, done.stderr
    assert not (tmp_path / "sim.db").exists()  # nothing was started or stored


def test_form_b_checks_the_partners_niss_and_attestations_check_the_ssin(sim) -> None:
    from piis_connectors.federal import dis

    from .conftest import b_fields

    n = niss()
    sim.admin.integrate(KBO, n, start="2025-01-01")
    bad_partner = niss(counter=35)[:-2] + "00"
    form = dis.build_form(
        "B", b_fields("strict-b-1", n, Partner={"SSIN": bad_partner, "PiisPartner": 11})
    )
    (reply,) = _call(
        sim,
        [("SIM.DIS.FormB", etree.tostring(dis.build_decision_request([form]), encoding="unicode"))],
    )
    result = reply.payload.find(dis.q("DecisionResult"))
    assert result.findtext(dis.q("Evaluation")) == "REFUSED"
    assert [e.findtext(dis.q("Code")) for e in result.iter(dis.q("ErrorsOnForm"))] == ["MSG00011"]
    for ssin, code in ((n[:-2] + "00", "MSG00011"), (n, None)):
        request = f'<dis:DIS_AttestationRequest xmlns:dis="{dis.DIS_NS}"><dis:SSIN>{ssin}</dis:SSIN></dis:DIS_AttestationRequest>'
        (answer,) = _call(sim, [("SIM.DIS.Attestations", request)])
        assert (_codes(answer) == [code]) if code else answer.ok == "YES", (ssin, answer)
