"""Compiled XSDs, loaded once per process.

Why: compiling the SSDN + DIS schema set costs milliseconds while validating one document costs
microseconds (stack.md section 4), and ``XMLSchema`` objects may be shared between threads.
The BCSS XSDs under ``xsd/bcss`` are unmodified copies of the official files; ``xsd/dis/DIS_v1.xsd`` is
ours (not official) and ``xsd/all.xsd`` imports them all so that the lax ``xs:any`` of a ServiceRequest
validates our payloads too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

__all__ = [
    "WSDL_PATH",
    "XSD_DIR",
    "SchemaIssue",
    "dis_schema",
    "envelope_schema",
    "validate",
]

XSD_DIR = Path(__file__).parent / "xsd"
WSDL_PATH = Path(__file__).parent / "wsdl" / "WebServiceConnector.wsdl"


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One schema violation: the element path (XPath-like, prefixes stripped) and libxml2's message."""

    path: str
    field: str
    message: str
    type_name: str


@functools.cache
def envelope_schema() -> etree.XMLSchema:
    """The real SSDN envelope + ManageAccess + DIS payloads, as one set."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "all.xsd")))


@functools.cache
def dis_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "dis" / "DIS_v1.xsd")))


def _strip(path: str | None) -> str:
    if not path:
        return ""
    parts = []
    for step in path.split("/"):
        if ":" in step:
            step = step.split(":", 1)[1]
        parts.append(step)
    return "/".join(parts)


def _field_of(message: str, path: str) -> str:
    # libxml2 names the offending element in the message ("Element '{ns}Category': ..."); the path points
    # at it too, except for "missing child" errors where the path is the parent.
    if (
        "Missing child element(s). Expected is" in message
        or "This element is not expected. Expected is" in message
    ):
        start = message.find("Expected is")
        tail = message[start:]
        if "}" in tail:
            name = tail.split("}", 1)[1].split(" ")[0].strip(" ).,")
            return name
    leaf = path.rsplit("/", 1)[-1] if path else ""
    return leaf.split("[", 1)[0]


def validate(schema: etree.XMLSchema, element: etree._Element) -> list[SchemaIssue]:
    """Validate *element*; return every violation (empty list when valid)."""
    if schema.validate(element):
        return []
    issues = []
    for err in schema.error_log:
        path = _strip(err.path)
        issues.append(
            SchemaIssue(
                path=path,
                field=_field_of(err.message, path),
                message=err.message,
                type_name=err.type_name,
            )
        )
    return issues
