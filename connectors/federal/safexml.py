"""Parsing XML that comes from the other side of the wire.

Why a module of its own: every byte received from the BCSS (or sent to the simulator) is untrusted.  The
parser never loads a DTD, never resolves an entity, never touches the network and keeps libxml2's size
guards on (``huge_tree=False``); documents carrying a DOCTYPE (the vehicle of XXE and "billion laughs")
are refused outright, and so is anything above a byte limit, before lxml sees it (stack.md section 4).
"""

from __future__ import annotations

import threading

from lxml import etree

__all__ = ["DEFAULT_MAX_BYTES", "UnsafeXmlError", "parse_untrusted"]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024

_local = threading.local()


class UnsafeXmlError(ValueError):
    """The document was refused: too large, malformed, or carrying a DTD/entities."""


def _parser() -> etree.XMLParser:
    # lxml parsers are not safe to share between threads (lxml FAQ), so one per thread.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_untrusted(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse *data* safely and return its root element, or raise :class:`UnsafeXmlError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise UnsafeXmlError(
            f"document of {len(data)} bytes exceeds the limit of {max_bytes} bytes"
        )
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeXmlError("document type declarations and entities are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError(f"malformed XML: {exc.msg}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError("document type declarations and entities are not accepted")
    for _ in root.iter(etree.Entity):
        raise UnsafeXmlError("entity references are not accepted")
    return root
