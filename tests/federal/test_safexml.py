"""Hostile XML from the remote side is refused safely (XXE, entity expansion, huge, malformed)."""

from __future__ import annotations

import pytest
from piis_connectors.federal.safexml import UnsafeXmlError, parse_untrusted

XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join([b"&lol%d;" % (i - 1) if i > 1 else b"&lol;"] * 10))
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


@pytest.mark.parametrize("doc", [XXE, BOMB, b"<!DOCTYPE r><r/>"])
def test_dtds_and_entities_are_refused(doc: bytes) -> None:
    with pytest.raises(UnsafeXmlError, match="not accepted"):
        parse_untrusted(doc)


def test_entity_hidden_after_the_first_kilobytes_is_refused() -> None:
    doc = (
        b'<?xml version="1.0"?>'
        + b"<!-- "
        + b"x" * 5000
        + b" -->"
        + XXE[len(b'<?xml version="1.0"?>') :]
    )
    with pytest.raises(UnsafeXmlError):
        parse_untrusted(doc)


def test_size_limit_applies_before_parsing() -> None:
    with pytest.raises(UnsafeXmlError, match="exceeds"):
        parse_untrusted(b"<r>" + b"a" * 2000 + b"</r>", max_bytes=1000)
    assert parse_untrusted(b"<r>" + b"a" * 990 + b"</r>", max_bytes=1000).tag == "r"


def test_malformed_is_refused_with_a_clear_error() -> None:
    with pytest.raises(UnsafeXmlError, match="malformed"):
        parse_untrusted(b"<r><a></r>")


def test_plain_document_parses() -> None:
    assert parse_untrusted("<r a='1'><b>é</b></r>").find("b").text == "é"


def test_the_simulator_refuses_hostile_requests_too(federal_simulator) -> None:
    import httpx

    from .test_safexml import BOMB, XXE

    for doc in (XXE, BOMB, b"<not-xml"):
        response = httpx.post(
            federal_simulator.endpoint, content=doc, headers={"Content-Type": "text/xml"}
        )
        assert (
            response.status_code == 500
            and b"-000050" in response.content
            and b"root:" not in response.content
        )
    inner = "<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r>&x;</r>"
    from lxml import etree

    env = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Envelope")
    body = etree.SubElement(env, "{http://schemas.xmlsoap.org/soap/envelope/}Body")
    etree.SubElement(
        body, "{http://ksz-bcss.fgov.be/connectors/WebServiceConnector}xmlString"
    ).text = inner
    response = httpx.post(federal_simulator.endpoint, content=etree.tostring(env))
    assert response.status_code == 500 and b"not accepted" in response.content


def test_the_simulator_enforces_its_request_size_limit(tmp_path) -> None:
    import httpx
    from piis_connectors.federal.testing import start_running_simulator

    sim = start_running_simulator(tmp_path / "s.db", max_request_bytes=10_000)
    try:
        response = httpx.post(sim.endpoint, content=b"<a>" + b"x" * 20_000 + b"</a>")
        assert response.status_code == 413
    finally:
        sim.stop()


def test_invalid_envelope_is_answered_with_the_bcss_schema_error(federal_simulator) -> None:
    import httpx
    from lxml import etree
    from piis_connectors.federal import envelope
    from piis_connectors.federal.safexml import parse_untrusted

    inner = "<SSDNRequest xmlns='http://www.ksz-bcss.fgov.be/XSD/SSDN/Service'><RequestContext/></SSDNRequest>"
    env = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Envelope")
    body = etree.SubElement(env, "{http://schemas.xmlsoap.org/soap/envelope/}Body")
    etree.SubElement(
        body, "{http://ksz-bcss.fgov.be/connectors/WebServiceConnector}xmlString"
    ).text = inner
    response = httpx.post(federal_simulator.endpoint, content=etree.tostring(env))
    holder = parse_untrusted(response.content).find(
        ".//{http://ksz-bcss.fgov.be/connectors/WebServiceConnector}xmlString"
    )
    reply = envelope.parse_reply(parse_untrusted(holder.text))
    assert (
        reply.ok == "NO"
        and reply.return_code == 10000
        and reply.details[0].reason_code == "-000050"
    )
