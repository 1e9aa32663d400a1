"""Our DIS payloads (forms B, C, D and their replies) in namespace ``urn:be:sim:spp-is:dis:v1``.

Why field tuples instead of a data-binding library: a form is ~15 flat fields, the XSD fixes their order,
and ``SubElement`` in a loop builds ~27k documents/s (stack.md section 4), which the 100k-form batch goal
needs.  Values arrive already in their lexical form or as date/bool/int; the builder only orders and
serialises them.  Business meaning (rubrics, codes) belongs to the plugin's mapping files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

__all__ = [
    "DIS_NS",
    "FORM_FIELDS",
    "SERVICE_ATTESTATIONS",
    "SERVICE_BATCH",
    "SERVICE_BATCH_RESULT",
    "SERVICE_FORM",
    "SERVICE_MANAGE_ACCESS",
    "SERVICE_NOTICES",
    "SERVICE_STATEMENT",
    "SERVICE_STATUS",
    "SERVICE_VERSION",
    "Attestation",
    "DecisionResult",
    "FormError",
    "NoticePage",
    "RegisterNotice",
    "ResultError",
    "Statement",
    "StatementLine",
    "build_decision_request",
    "build_decision_result",
    "build_form",
    "form_fields",
    "lexical",
    "parse_attestations",
    "parse_decision_result",
    "parse_forms",
    "parse_notices",
    "parse_statement",
    "q",
    "render_decision_result",
    "render_form",
]

DIS_NS = "urn:be:sim:spp-is:dis:v1"
_D = f"{{{DIS_NS}}}"

SERVICE_VERSION = "20250101"
SERVICE_FORM = {"B": "SIM.DIS.FormB", "C": "SIM.DIS.FormC", "D": "SIM.DIS.FormD"}
SERVICE_BATCH = "SIM.DIS.Batch"
SERVICE_BATCH_RESULT = "SIM.DIS.GetBatchResult"
SERVICE_STATUS = "SIM.DIS.FormStatus"
SERVICE_STATEMENT = "SIM.DIS.MonthlyStatement"
SERVICE_NOTICES = "SIM.NR.Notices"
SERVICE_ATTESTATIONS = "SIM.DIS.Attestations"
SERVICE_MANAGE_ACCESS = "OCMWCPASManageAccess"

_HEADER = ("ClientReference", "CpasName", "InsCode", "KBOBCE", "SSIN", "Dossier")
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "B": (
        *_HEADER,
        "EntryDate",
        "NoticeStatus",
        "Category",
        "DecisionDate",
        "MonthlyAmount",
        "PiisApplicant",
        "Partner",
        "ForeignersRegister",
        "HomelessFirstHome",
    ),
    "C": (
        *_HEADER,
        "EntryDate",
        "DecisionDate",
        "DecisionNature",
        "EffectiveEndDate",
        "Regularisation",
    ),
    "D": (
        *_HEADER,
        "RecoveryMonth",
        "SequenceNumber",
        "RecoveryType",
        "PeriodStart",
        "PeriodEnd",
        "Amount",
        "Correction",
    ),
}
_PARTNER_FIELDS = ("SSIN", "PiisPartner")
_TAGS = {name: _D + name for fields in FORM_FIELDS.values() for name in fields}
_TAGS.update({"PiisPartner": _D + "PiisPartner"})


class FormError(ValueError):
    """A form could not be serialised (unknown field name, wrong kind)."""


def q(local: str) -> str:
    return _D + local


def lexical(value: Any) -> str:
    """The XSD lexical form of a Python value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def build_form(kind: str, fields: Mapping[str, Any]) -> etree._Element:
    """Return the ``FormB``/``FormC``/``FormD`` element; ``None`` values are omitted (optional rubrics)."""
    try:
        order = FORM_FIELDS[kind]
    except KeyError:
        raise FormError(f"unknown form kind {kind!r}") from None
    unknown = set(fields) - set(order)
    if unknown:
        raise FormError(f"form {kind}: unknown field(s) {sorted(unknown)}")
    root = etree.Element(_D + "Form" + kind, nsmap={"dis": DIS_NS})
    sub = etree.SubElement
    for name in order:
        value = fields.get(name)
        if value is None:
            continue
        if name == "Partner":
            partner = sub(root, _TAGS[name])
            for pname in _PARTNER_FIELDS:
                pvalue = value.get(pname)
                if pvalue is not None:
                    sub(partner, _D + pname).text = lexical(pvalue)
            continue
        sub(root, _TAGS[name]).text = lexical(value)
    return root


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FIELD_SETS = {kind: frozenset(names) for kind, names in FORM_FIELDS.items()}


def _text(value: Any) -> str:
    text = lexical(value)
    if _NOT_XML.search(text):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
        )
    return text.translate(_ESCAPES)


_OPEN = {name: f"<dis:{name}>" for name in _TAGS}
_CLOSE = {name: f"</dis:{name}>" for name in _TAGS}
_FORM_OPEN = {kind: f'<dis:Form{kind} xmlns:dis="{DIS_NS}">' for kind in FORM_FIELDS}
_FORM_EMPTY = {kind: f'<dis:Form{kind} xmlns:dis="{DIS_NS}"/>'.encode() for kind in FORM_FIELDS}


def _partner(value: Any) -> str:
    inner = "".join(
        f"<dis:{p}>{_text(value[p])}</dis:{p}>" for p in _PARTNER_FIELDS if value.get(p) is not None
    )
    return f"<dis:Partner>{inner}</dis:Partner>" if inner else "<dis:Partner/>"


def render_form(kind: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes ``etree.tostring(build_form(kind, fields))`` gives, written directly.

    Why: the batch path serialises every form once (the ledger keeps these exact bytes and their hash) and
    parses a whole chunk at once for validation and sending; building a tree of ~15 elements per form only
    to serialise it costs several times more.  Same elements, order, escaping and character references as
    lxml (an equivalence test holds it to that), same errors for unknown fields or non-XML characters.
    The usual form has no character to escape: its parts are joined once, and only a form that has one
    is written again field by field (:func:`_render_escaped`)."""
    order = FORM_FIELDS.get(kind)
    if order is None:
        raise FormError(f"unknown form kind {kind!r}")
    if not fields.keys() <= _FIELD_SETS[kind]:
        raise FormError(f"form {kind}: unknown field(s) {sorted(set(fields) - _FIELD_SETS[kind])}")
    get = fields.get
    parts = [_FORM_OPEN[kind]]
    texts: list[str] = []
    for name in order:
        value = get(name)
        if value is None:
            continue
        if name == "Partner":
            parts.append(_partner(value))
            continue
        cls = type(value)
        text = value if cls is str else str(value) if cls is int else lexical(value)
        texts.append(text)
        parts += (_OPEN[name], text, _CLOSE[name])
    if len(parts) == 1:
        return _FORM_EMPTY[kind]
    if _SPECIAL.search(
        "".join(texts)
    ):  # rare: escape field by field, with lxml's character references
        return _render_escaped(kind, order, fields)
    parts.append(_CLOSE_FORM[kind])
    return "".join(parts).encode("ascii", "xmlcharrefreplace")


_CLOSE_FORM = {kind: f"</dis:Form{kind}>" for kind in FORM_FIELDS}


def _render_escaped(kind: str, order: tuple[str, ...], fields: Mapping[str, Any]) -> bytes:
    """:func:`render_form` for a form with a character to escape (or one XML cannot hold: ValueError)."""
    body: list[str] = []
    for name in order:
        value = fields.get(name)
        if value is None:
            continue
        if name == "Partner":
            body.append(_partner(value))
            continue
        body.append(f"<dis:{name}>{_text(value)}</dis:{name}>")
    return f"{_FORM_OPEN[kind]}{''.join(body)}</dis:Form{kind}>".encode(
        "ascii", "xmlcharrefreplace"
    )


def parse_forms(forms: Iterable[bytes]) -> etree._Element:
    """One ``DIS_DecisionRequest`` holding the given serialised forms, parsed in one pass (our own bytes
    from :func:`render_form`, never untrusted input)."""
    return etree.fromstring(
        b'<dis:DIS_DecisionRequest xmlns:dis="%s">%s</dis:DIS_DecisionRequest>'
        % (DIS_NS.encode(), b"".join(forms))
    )


def form_fields(element: etree._Element) -> tuple[str, dict[str, Any]]:
    """Inverse of :func:`build_form` (lexical strings): ``(kind, fields)``."""
    kind = _local(element.tag).removeprefix("Form")
    fields: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if name == "Partner":
            fields[name] = {_local(p.tag): (p.text or "") for p in child}
        else:
            fields[name] = child.text or ""
    return kind, fields


def _local(tag: Any) -> str:
    """Local name of a ``{ns}name`` tag (what ``etree.QName(...).localname`` says, without building a QName)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def build_decision_request(forms: Iterable[etree._Element]) -> etree._Element:
    root = etree.Element(_D + "DIS_DecisionRequest", nsmap={"dis": DIS_NS})
    for form in forms:
        root.append(form)
    return root


@dataclass(frozen=True, slots=True)
class ResultError:
    code: str
    severity: str
    field: str | None
    description: str


@dataclass(slots=True)
class DecisionResult:
    """NovaPrima's answer for one form (shape of loi 65 ``DecisionResult``, federal.md 10.3)."""

    client_reference: str
    ssin: str
    form_type: str
    evaluation: str
    received_at: str
    entry_date: str | None = None
    recovery_month: str | None = None
    sequence_number: int | None = None
    unique_attest_id: str | None = None
    reference_spp: str | None = None
    percentage: int | None = None
    accepted_amount: int | None = None
    errors: list[ResultError] = field(default_factory=list)


def build_decision_result(result: DecisionResult) -> etree._Element:
    el = etree.Element(_D + "DecisionResult", nsmap={"dis": DIS_NS})
    sub = etree.SubElement
    sub(el, _D + "ClientReference").text = result.client_reference
    if result.unique_attest_id:
        sub(el, _D + "UniqueAttestID").text = result.unique_attest_id
    if result.reference_spp:
        sub(el, _D + "ReferenceSPP_POD").text = result.reference_spp
    sub(el, _D + "SSIN").text = result.ssin
    sub(el, _D + "FormType").text = result.form_type
    if result.form_type == "D":
        sub(el, _D + "RecoveryMonth").text = result.recovery_month or ""
        sub(el, _D + "SequenceNumber").text = str(result.sequence_number or 1)
    else:
        sub(el, _D + "EntryDate").text = result.entry_date or ""
    sub(el, _D + "Evaluation").text = result.evaluation
    if result.percentage is not None:
        sub(el, _D + "Percentage").text = str(result.percentage)
    if result.accepted_amount is not None:
        sub(el, _D + "AcceptedAmount").text = str(result.accepted_amount)
    sub(el, _D + "ReceivedAt").text = result.received_at
    for err in result.errors:
        e = sub(el, _D + "ErrorsOnForm")
        sub(e, _D + "Code").text = err.code
        sub(e, _D + "Severity").text = err.severity
        if err.field:
            sub(e, _D + "Field").text = err.field
        d = sub(e, _D + "Description", lang="fr")
        d.text = err.description
    return el


def _x(value: object) -> str:
    return escape(str(value))


def render_decision_result(result: DecisionResult) -> bytes:
    """The bytes of :func:`build_decision_result` (same elements, order and namespace), written directly.

    Why: the simulator stores one result per form and the batch path writes 100,000 of them; building a
    tree of ~12 elements only to serialise it at once costs several times more than this.  Text is
    escaped; the equivalence with the tree builder is a test (tests/federal/test_envelope.py)."""
    parts = [
        f'<dis:DecisionResult xmlns:dis="{DIS_NS}"><dis:ClientReference>{_x(result.client_reference)}'
        "</dis:ClientReference>"
    ]
    add = parts.append
    if result.unique_attest_id:
        add(f"<dis:UniqueAttestID>{_x(result.unique_attest_id)}</dis:UniqueAttestID>")
    if result.reference_spp:
        add(f"<dis:ReferenceSPP_POD>{_x(result.reference_spp)}</dis:ReferenceSPP_POD>")
    add(
        f"<dis:SSIN>{_x(result.ssin)}</dis:SSIN><dis:FormType>{_x(result.form_type)}</dis:FormType>"
    )
    if result.form_type == "D":
        add(
            f"<dis:RecoveryMonth>{_x(result.recovery_month or '')}</dis:RecoveryMonth>"
            f"<dis:SequenceNumber>{result.sequence_number or 1}</dis:SequenceNumber>"
        )
    else:
        add(f"<dis:EntryDate>{_x(result.entry_date or '')}</dis:EntryDate>")
    add(f"<dis:Evaluation>{_x(result.evaluation)}</dis:Evaluation>")
    if result.percentage is not None:
        add(f"<dis:Percentage>{int(result.percentage)}</dis:Percentage>")
    if result.accepted_amount is not None:
        add(f"<dis:AcceptedAmount>{int(result.accepted_amount)}</dis:AcceptedAmount>")
    add(f"<dis:ReceivedAt>{_x(result.received_at)}</dis:ReceivedAt>")
    for err in result.errors:
        add(
            f"<dis:ErrorsOnForm><dis:Code>{_x(err.code)}</dis:Code><dis:Severity>{_x(err.severity)}</dis:Severity>"
        )
        if err.field:
            add(f"<dis:Field>{_x(err.field)}</dis:Field>")
        add(
            f'<dis:Description lang="fr">{_x(err.description)}</dis:Description></dis:ErrorsOnForm>'
        )
    add("</dis:DecisionResult>")
    return "".join(parts).encode()


def _t(el: etree._Element, name: str) -> str | None:
    child = el.find(_D + name)
    return None if child is None else (child.text or "")


def parse_decision_result(el: etree._Element) -> DecisionResult:
    values: dict[str, str] = {}
    errors = []
    for child in el:
        tag = str(child.tag)
        name = tag[len(_D) :] if tag.startswith(_D) else tag
        if name == "ErrorsOnForm":
            errors.append(
                ResultError(
                    code=_t(child, "Code") or "",
                    severity=_t(child, "Severity") or "",
                    field=_t(child, "Field"),
                    description=_t(child, "Description") or "",
                )
            )
        else:
            values[name] = child.text or ""
    seq, pct, amount = (
        values.get("SequenceNumber"),
        values.get("Percentage"),
        values.get("AcceptedAmount"),
    )
    return DecisionResult(
        client_reference=values.get("ClientReference", ""),
        ssin=values.get("SSIN", ""),
        form_type=values.get("FormType", ""),
        evaluation=values.get("Evaluation", ""),
        received_at=values.get("ReceivedAt", ""),
        entry_date=values.get("EntryDate"),
        recovery_month=values.get("RecoveryMonth"),
        sequence_number=int(seq) if seq else None,
        unique_attest_id=values.get("UniqueAttestID"),
        reference_spp=values.get("ReferenceSPP_POD"),
        percentage=int(pct) if pct else None,
        accepted_amount=int(amount) if amount else None,
        errors=errors,
    )


@dataclass(frozen=True, slots=True)
class StatementLine:
    legislation: str
    ins_code: str
    dossier: str
    ssin: str
    reference: str
    client_reference: str
    amount_type: int
    first_day: str
    last_day: str
    budget_article: str
    sign: str
    amount: int
    percentage: int
    category: str

    @property
    def signed_amount(self) -> int:
        return -self.amount if self.sign == "-" else self.amount


@dataclass(slots=True)
class Statement:
    kbo: str
    month: str
    available: bool
    lines: list[StatementLine]
    notices: list[tuple[str, str | None, str]]


def parse_statement(el: etree._Element) -> Statement:
    lines = [
        StatementLine(
            legislation=_t(line, "Legislation") or "",
            ins_code=_t(line, "InsCode") or "",
            dossier=_t(line, "Dossier") or "",
            ssin=_t(line, "SSIN") or "",
            reference=_t(line, "Reference") or "",
            client_reference=_t(line, "ClientReference") or "",
            amount_type=int(_t(line, "AmountType") or 0),
            first_day=_t(line, "FirstDay") or "",
            last_day=_t(line, "LastDay") or "",
            budget_article=_t(line, "BudgetArticle") or "",
            sign=_t(line, "Sign") or "+",
            amount=int(_t(line, "Amount") or 0),
            percentage=int(_t(line, "Percentage") or 0),
            category=_t(line, "Category") or "",
        )
        for line in el.iterfind(_D + "Line")
    ]
    notices = [
        (_t(n, "Code") or "", _t(n, "ClientReference"), _t(n, "Text") or "")
        for n in el.iterfind(_D + "Notice")
    ]
    return Statement(
        kbo=_t(el, "KBOBCE") or "",
        month=_t(el, "Month") or "",
        available=(_t(el, "Available") == "true"),
        lines=lines,
        notices=notices,
    )


@dataclass(frozen=True, slots=True)
class RegisterNotice:
    """One National Register notice of ``SIM.NR.Notices`` (a NISS inside: never logged, never in a repr)."""

    notice_id: str
    ssin: str = field(repr=False)
    kind: str
    effective_date: str
    recorded_at: str
    new_ssin: str | None = field(default=None, repr=False)
    new_ins_code: str | None = None
    new_municipality: str | None = None


@dataclass(slots=True)
class NoticePage:
    notices: list[RegisterNotice]
    cursor: str | None
    has_more: bool


def parse_notices(el: etree._Element) -> NoticePage:
    notices = [
        RegisterNotice(
            notice_id=_t(n, "NoticeId") or "",
            ssin=_t(n, "SSIN") or "",
            kind=_t(n, "Kind") or "",
            effective_date=_t(n, "EffectiveDate") or "",
            recorded_at=_t(n, "RecordedAt") or "",
            new_ssin=_t(n, "NewSSIN"),
            new_ins_code=_t(n, "NewInsCode"),
            new_municipality=_t(n, "NewMunicipality"),
        )
        for n in el.iterfind(_D + "Notice")
    ]
    return NoticePage(
        notices=notices, cursor=_t(el, "Cursor"), has_more=_t(el, "HasMore") == "true"
    )


@dataclass(frozen=True, slots=True)
class Attestation:
    """One multifunctional attestation of ``SIM.DIS.Attestations`` (federal.md 10.5.14)."""

    attestation_id: str
    status: str
    kbo: str
    category: str | None
    valid_from: str
    valid_to: str | None
    created_at: str
    available_from: str
    update_of: str | None


def parse_attestations(el: etree._Element) -> list[Attestation]:
    return [
        Attestation(
            attestation_id=_t(a, "AttestationID") or "",
            status=_t(a, "Status") or "",
            kbo=_t(a, "KBOBCE") or "",
            category=_t(a, "CategoryCode"),
            valid_from=_t(a, "ValidFrom") or "",
            valid_to=_t(a, "ValidTo"),
            created_at=_t(a, "CreationDate") or "",
            available_from=_t(a, "AvailableFrom") or "",
            update_of=_t(a, "UpdateOf"),
        )
        for a in el.iterfind(_D + "Attestation")
    ]
