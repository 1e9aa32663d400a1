"""The real BCSS SSDN envelope (SSDNRequest / SSDNReply, XSD/SSDN/Service) around our payloads.

Why hand-written with ``SubElement``: the envelope is small and built once per call, and plain
``SubElement`` is the fastest lxml builder (stack.md section 4).  Shapes follow SSDNRequest.xsd and
SSDNReply.xsd exactly (federal.md 7.1); the documents are validated against those real schemas by
:func:`piis_connectors.federal.schemas.validate` before they leave.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

__all__ = [
    "COMMON_NS",
    "MANAGE_ACCESS_NS",
    "SSDN_NS",
    "AuthorizedUser",
    "Detail",
    "EnvelopeError",
    "ReplyEnvelope",
    "RequestEnvelope",
    "ServiceReply",
    "ServiceRequest",
    "build_reply",
    "build_request",
    "format_time",
    "parse_reply",
    "parse_request",
]

SSDN_NS = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Service"
COMMON_NS = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Common"
MANAGE_ACCESS_NS = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/ManageAccess"

_S = f"{{{SSDN_NS}}}"
_C = f"{{{COMMON_NS}}}"


class EnvelopeError(ValueError):
    """The document is not an SSDN envelope of the expected shape."""


@dataclass(frozen=True, slots=True)
class AuthorizedUser:
    """``RequestContext/AuthorizedUser``: a CPAS is sector 17, sub-sector 1, identified by its KBO/BCE."""

    user_id: str
    email: str
    org_unit: str
    matrix_id: int = 17
    matrix_sub_id: int | None = 1


@dataclass(slots=True)
class ServiceRequest:
    service_id: str
    version: str
    payload: etree._Element


@dataclass(slots=True)
class RequestEnvelope:
    user: AuthorizedUser
    reference: str | None
    time_request: str | None
    services: list[ServiceRequest]


@dataclass(frozen=True, slots=True)
class Detail:
    severity: str
    reason_code: str | None = None
    diagnostic: str | None = None
    author: str | None = None


@dataclass(slots=True)
class ServiceReply:
    ok: str
    return_code: int
    service_id: str
    version: str
    payload: etree._Element | None
    details: list[Detail] = field(default_factory=list)


@dataclass(slots=True)
class ReplyEnvelope:
    ok: str
    return_code: int
    details: list[Detail]
    reference: str | None
    ticket: str
    time_receive: str
    time_response: str
    services: list[ServiceReply]


def format_time(moment: datetime) -> str:
    """``t_DateTimeUTC``: yyyyMMddThhmmss."""
    return moment.strftime("%Y%m%dT%H%M%S")


def _text(parent: etree._Element, tag: str, value: object) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = str(value)
    return el


def build_request(
    user: AuthorizedUser,
    services: Iterable[ServiceRequest],
    *,
    reference: str | None,
    time_request: datetime | None,
) -> etree._Element:
    root = etree.Element(_S + "SSDNRequest", nsmap={None: SSDN_NS})
    ctx = etree.SubElement(root, _S + "RequestContext")
    au = etree.SubElement(ctx, _S + "AuthorizedUser")
    _text(au, _S + "UserID", user.user_id)
    _text(au, _S + "Email", user.email)
    _text(au, _S + "OrgUnit", user.org_unit)
    _text(au, _S + "MatrixID", user.matrix_id)
    if user.matrix_sub_id is not None:
        _text(au, _S + "MatrixSubID", user.matrix_sub_id)
    if reference is not None or time_request is not None:
        msg = etree.SubElement(ctx, _S + "Message")
        if reference is not None:
            _text(msg, _S + "Reference", reference)
        if time_request is not None:
            _text(msg, _S + "TimeRequest", format_time(time_request))
    for service in services:
        sr = etree.SubElement(root, _S + "ServiceRequest")
        _text(sr, _S + "ServiceId", service.service_id)
        _text(sr, _S + "Version", service.version)
        sr.append(service.payload)
    return root


def _child_text(parent: etree._Element, tag: str) -> str | None:
    el = parent.find(tag)
    return None if el is None or el.text is None else el.text.strip()


def parse_request(root: etree._Element) -> RequestEnvelope:
    if root.tag != _S + "SSDNRequest":
        raise EnvelopeError(f"expected SSDNRequest, got {etree.QName(root).localname}")
    au = root.find(f"{_S}RequestContext/{_S}AuthorizedUser")
    if au is None:
        raise EnvelopeError("RequestContext/AuthorizedUser is missing")
    sub = _child_text(au, _S + "MatrixSubID")
    user = AuthorizedUser(
        user_id=_child_text(au, _S + "UserID") or "",
        email=_child_text(au, _S + "Email") or "",
        org_unit=_child_text(au, _S + "OrgUnit") or "",
        matrix_id=int(_child_text(au, _S + "MatrixID") or 0),
        matrix_sub_id=int(sub) if sub else None,
    )
    msg = root.find(f"{_S}RequestContext/{_S}Message")
    services = []
    for sr in root.iterfind(_S + "ServiceRequest"):
        children = list(sr)
        if len(children) != 3:
            raise EnvelopeError("ServiceRequest must hold ServiceId, Version and one payload")
        services.append(ServiceRequest(children[0].text or "", children[1].text or "", children[2]))
    return RequestEnvelope(
        user=user,
        reference=None if msg is None else _child_text(msg, _S + "Reference"),
        time_request=None if msg is None else _child_text(msg, _S + "TimeRequest"),
        services=services,
    )


def _result_summary(
    parent: etree._Element, ok: str, return_code: int, details: Iterable[Detail]
) -> None:
    rs = etree.SubElement(parent, _C + "ResultSummary", ok=ok)
    _text(rs, _C + "ReturnCode", return_code)
    for d in list(details)[:30]:
        de = etree.SubElement(rs, _C + "Detail")
        _text(de, _C + "Severity", d.severity)
        if d.reason_code is not None:
            _text(de, _C + "ReasonCode", d.reason_code)
        if d.diagnostic is not None:
            _text(de, _C + "Diagnostic", d.diagnostic)
        if d.author is not None:
            _text(de, _C + "AuthorCodeList", d.author)


def build_reply(
    *,
    ok: str,
    return_code: int,
    details: Iterable[Detail] = (),
    user: AuthorizedUser | None,
    reference: str | None,
    ticket: str,
    time_request: str | None,
    time_receive: datetime,
    time_response: datetime,
    services: Iterable[ServiceReply] = (),
) -> etree._Element:
    root = etree.Element(_S + "SSDNReply", nsmap={None: SSDN_NS, "common": COMMON_NS})
    ctx = etree.SubElement(root, _S + "ReplyContext")
    _result_summary(ctx, ok, return_code, details)
    if user is not None:
        au = etree.SubElement(ctx, _S + "AuthorizedUser")
        _text(au, _S + "UserID", user.user_id)
        _text(au, _S + "Email", user.email)
        _text(au, _S + "OrgUnit", user.org_unit)
        _text(au, _S + "MatrixID", user.matrix_id)
        if user.matrix_sub_id is not None:
            _text(au, _S + "MatrixSubID", user.matrix_sub_id)
    msg = etree.SubElement(ctx, _S + "Message")
    if reference is not None:
        _text(msg, _S + "Reference", reference)
    _text(msg, _S + "Ticket", ticket)
    if time_request:
        _text(msg, _S + "TimeRequest", time_request)
    _text(msg, _S + "TimeReceive", format_time(time_receive))
    _text(msg, _S + "TimeResponse", format_time(time_response))
    for service in services:
        sr = etree.SubElement(root, _S + "ServiceReply")
        _result_summary(sr, service.ok, service.return_code, service.details)
        _text(sr, _S + "ServiceId", service.service_id)
        _text(sr, _S + "Version", service.version)
        if service.payload is not None:
            sr.append(service.payload)
    return root


def _parse_summary(parent: etree._Element) -> tuple[str, int, list[Detail]]:
    rs = parent.find(_C + "ResultSummary")
    if rs is None:
        raise EnvelopeError("ResultSummary is missing")
    return _summary_values(rs)


def _summary_values(rs: etree._Element) -> tuple[str, int, list[Detail]]:
    if len(rs) == 1 and rs[0].tag == _C + "ReturnCode":  # the usual case: no Detail
        return rs.get("ok", ""), int((rs[0].text or "").strip() or 0), []
    # One pass over the children and over each Detail's (the first of each name counts, as with
    # find): a ManageAccess REGISTER reply carries a Detail in each of its up to 1,000
    # ServiceReply, and five look-ups by name per summary were most of parsing it (py-spy).
    code: str | None = None
    details = []
    for child in rs:
        tag = child.tag
        if tag == _C + "ReturnCode":
            if code is None:
                code = child.text or ""
        elif tag == _C + "Detail":
            values: dict[object, str | None] = {}
            for part in child:
                values.setdefault(part.tag, part.text)
            details.append(
                Detail(
                    severity=_stripped(values.get(_C + "Severity")) or "",
                    reason_code=_stripped(values.get(_C + "ReasonCode")),
                    diagnostic=_stripped(values.get(_C + "Diagnostic")),
                    author=_stripped(values.get(_C + "AuthorCodeList")),
                )
            )
    return rs.get("ok", ""), int((code or "").strip() or 0), details


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


def parse_reply(root: etree._Element) -> ReplyEnvelope:
    if root.tag != _S + "SSDNReply":
        raise EnvelopeError(f"expected SSDNReply, got {etree.QName(root).localname}")
    ctx = root.find(_S + "ReplyContext")
    if ctx is None:
        raise EnvelopeError("ReplyContext is missing")
    ok, code, details = _parse_summary(ctx)
    msg = ctx.find(_S + "Message")
    services = []
    for sr in root.iterchildren(_S + "ServiceReply"):
        # one pass over the children (a ManageAccess message carries up to 1000 ServiceReply)
        summary = payload = None
        service_id = version = ""
        for child in sr:
            tag = child.tag
            if tag == _C + "ResultSummary":
                summary = child
            elif tag == _S + "ServiceId":
                service_id = (child.text or "").strip()
            elif tag == _S + "Version":
                version = (child.text or "").strip()
            elif isinstance(tag, str):
                payload = child
        if summary is None:
            raise EnvelopeError("ResultSummary is missing")
        s_ok, s_code, s_details = _summary_values(summary)
        services.append(
            ServiceReply(
                ok=s_ok,
                return_code=s_code,
                details=s_details,
                service_id=service_id,
                version=version,
                payload=payload,
            )
        )
    return ReplyEnvelope(
        ok=ok,
        return_code=code,
        details=details,
        reference=None if msg is None else _child_text(msg, _S + "Reference"),
        ticket="" if msg is None else (_child_text(msg, _S + "Ticket") or ""),
        time_receive="" if msg is None else (_child_text(msg, _S + "TimeReceive") or ""),
        time_response="" if msg is None else (_child_text(msg, _S + "TimeResponse") or ""),
        services=services,
    )
