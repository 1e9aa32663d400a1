"""Interoperability: a SOAP client nobody here wrote (suds-community, the client Lino Welfare's BCSS code uses)
loads the simulator's WSDL over HTTP and sends what a CPAS sends: a ManageAccess REGISTER (with the Sector,
QueryRegister and ProofOfAuthentication Lino fills in) and an online form B.  The business XML is written
here as text, not with the project's envelope builder, so that the simulator is checked against the
official shapes rather than against its own client."""

from __future__ import annotations

from lxml import etree
from suds import client as suds_client  # suds-community, in the test extra: never skipped

from .conftest import INS, KBO, niss

SSDN = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Service"
MA = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/ManageAccess"
COMMON = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Common"


def _ssdn(service_id: str, version: str, payload: str) -> str:
    return (
        f'<SSDNRequest xmlns="{SSDN}"><RequestContext><AuthorizedUser><UserID>00901732883</UserID>'
        f"<Email>it@ocmw.example</Email><OrgUnit>{KBO}</OrgUnit><MatrixID>17</MatrixID><MatrixSubID>1</MatrixSubID>"
        "</AuthorizedUser><Message><Reference>suds-1</Reference><TimeRequest>20250910T090000</TimeRequest>"
        f"</Message></RequestContext><ServiceRequest><ServiceId>{service_id}</ServiceId><Version>{version}"
        f"</Version>{payload}</ServiceRequest></SSDNRequest>"
    )


def test_suds_loads_the_wsdl_and_sends_manage_access_and_a_form_b(sim) -> None:
    client = suds_client.Client(
        sim.base_url + "/?wsdl", cache=None
    )  # the URL a newcomer tries first
    assert client.wsdl.services[0].ports[0].location == sim.endpoint
    ssin = niss()
    register = (
        f'<ManageAccessRequest xmlns="{MA}" xmlns:common="{COMMON}"><SSIN>{ssin}</SSIN><Purpose>2</Purpose>'
        "<Period><common:StartDate>2025-03-01</common:StartDate></Period><Action>REGISTER</Action>"
        "<Sector>17</Sector><QueryRegister>ALL</QueryRegister><ProofOfAuthentication><PersonData>"
        "<LastName>Peeters</LastName><BirthDate>1985-07-30</BirthDate></PersonData></ProofOfAuthentication>"
        "</ManageAccessRequest>"
    )
    reply = etree.fromstring(
        str(client.service.sendXML(_ssdn("OCMWCPASManageAccess", "20050930", register))).encode()
    )
    assert reply.find(f"{{{SSDN}}}ReplyContext/{{{COMMON}}}ResultSummary").get("ok") == "YES"
    registration = reply.find(f".//{{{MA}}}Registrations")
    assert (
        registration.findtext(f"{{{MA}}}Purpose") == "2"
        and registration.findtext(f"{{{MA}}}Register") == "SECONDARY"
    )

    form_b = (
        '<dis:DIS_DecisionRequest xmlns:dis="urn:be:sim:spp-is:dis:v1"><dis:FormB>'
        f"<dis:ClientReference>suds-b-1</dis:ClientReference><dis:CpasName>OCMW</dis:CpasName>"
        f"<dis:InsCode>{INS}</dis:InsCode><dis:KBOBCE>{KBO}</dis:KBOBCE><dis:SSIN>{ssin}</dis:SSIN>"
        "<dis:Dossier>D-77</dis:Dossier><dis:EntryDate>2025-03-01</dis:EntryDate><dis:NoticeStatus>0</dis:NoticeStatus>"
        "<dis:Category>2</dis:Category><dis:DecisionDate>2025-02-20</dis:DecisionDate>"
        "<dis:MonthlyAmount>120000</dis:MonthlyAmount><dis:PiisApplicant>11</dis:PiisApplicant>"
        "<dis:ForeignersRegister>false</dis:ForeignersRegister><dis:HomelessFirstHome>false</dis:HomelessFirstHome>"
        "</dis:FormB></dis:DIS_DecisionRequest>"
    )
    reply = etree.fromstring(
        str(client.service.sendXML(_ssdn("SIM.DIS.FormB", "20250101", form_b))).encode()
    )
    result = reply.find(".//{urn:be:sim:spp-is:dis:v1}DecisionResult")
    assert result.findtext("{urn:be:sim:spp-is:dis:v1}ClientReference") == "suds-b-1"
    assert result.findtext("{urn:be:sim:spp-is:dis:v1}Evaluation") == "ACCEPTED"

    # the same client sending a service the simulator does not serve learns which one and why
    identify = (
        '<IdentifyPersonRequest xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/IdentifyPerson">'
        f"<SearchInformation><SSIN>{ssin}</SSIN></SearchInformation></IdentifyPersonRequest>"
    )
    reply = etree.fromstring(
        str(client.service.sendXML(_ssdn("OCMWCPASIdentifyPerson", "20050930", identify))).encode()
    )
    diagnostic = reply.findtext(f".//{{{SSDN}}}ServiceReply//{{{COMMON}}}Diagnostic") or ""
    assert "OCMWCPASIdentifyPerson" in diagnostic and "not simulated" in diagnostic
