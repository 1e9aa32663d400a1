"""Hostile XML from the remote side is refused safely (XXE, entity expansion, huge, malformed)."""

from __future__ import annotations

import pytest

from piis_connectors.federal.safexml import UnsafeXmlError, parse_untrusted

XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"".join([b"&lol%d;" % (i - 1) if i > 1 else b"&lol;"] * 10))
                   for i in range(1, 10))
        + b']><lolz>&lol9;</lolz>')


@pytest.mark.parametrize("doc", [XXE, BOMB, b"<!DOCTYPE r><r/>"])
def test_dtds_and_entities_are_refused(doc: bytes) -> None:
    with pytest.raises(UnsafeXmlError, match="not accepted"):
        parse_untrusted(doc)


def test_entity_hidden_after_the_first_kilobytes_is_refused() -> None:
    doc = b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 5000 + b" -->" + XXE[len(b'<?xml version="1.0"?>'):]
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
