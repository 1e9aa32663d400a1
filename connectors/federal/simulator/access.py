"""The BCSS checks of one ``OCMWCPASManageAccess`` request, as the real service applies them (issue #23).

Why a module of its own: the simulator used to check the NISS of forms only, so a bridge could integrate an
invalid NISS, silently shorten an open-ended integration or send options the real service interprets, and
pass against the simulator while failing for real.  Every request is read once here and checked before
anything is written:

* the SSIN: structure and check digits (``MSG00011``), replaced by the National Register (``MSG00006``);
* REGISTER / UNREGISTER: ``Purpose`` present and a quality code of sector 17 (``MSG00008``), ``EndDate`` not
  before ``StartDate`` (``MSG00008``), the ``ProofOfAuthentication`` that is given must match the person
  (the birth date of ``PersonData`` against the one the NISS encodes, ``MSG00008``); card numbers cannot
  be verified without the card registers, so they are answered as not simulated (``SIM00001``);
* REGISTER with the start date of an existing registration of the same purpose but another end date:
  refused (``MSG00008``), never a silent replacement (UNREGISTER ends a registration);
* LIST: ``Sector`` other than 17 and ``QueryRegister`` ``PRIMARY`` are answered as not simulated
  (``SIM00001``): the simulator holds only the CPAS sectoral repertory (``SECONDARY``; ``ALL`` lists it).

Codes: ``MSG000xx`` are the official BCSS codes of federal.md 5.3 (d); ``SIM00001`` and ``SIM00002`` are the
simulator's own (like its ``SIM.*`` service ids), never sent by the real service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from piis_connectors.federal import envelope

from piis_bridge.identifiers import niss_birth_date

__all__ = ["CPAS_SECTOR", "QUALITY_CODES", "AccessRequest", "problems", "read", "warnings"]

_MA = f"{{{envelope.MANAGE_ACCESS_NS}}}"
CPAS_SECTOR = 17
# Quality codes ("codes qualité") of sector 17 (federal.md 6.4).
QUALITY_CODES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 20, 21, 40})
NOT_SIMULATED = "SIM00001"
EMPTY_PROOF = "SIM00002"


@dataclass(slots=True)
class AccessRequest:
    """The fields of one ManageAccessRequest (read in one pass: path look-ups cost more than the rest)."""

    ssin: str = ""
    purpose: int | None = None
    action: str = "LIST"
    start: str | None = None
    end: str | None = None
    sector: int | None = None
    query_register: str | None = None
    proof: dict[str, str] = field(default_factory=dict)


def read(payload: etree._Element) -> AccessRequest:
    req = AccessRequest()
    for child in payload:
        tag = child.tag
        if tag == _MA + "SSIN":
            req.ssin = (child.text or "").strip()
        elif tag == _MA + "Purpose":
            req.purpose = int((child.text or "").strip())
        elif tag == _MA + "Action":
            req.action = (child.text or "LIST").strip()
        elif tag == _MA + "Period":
            for part in child:
                name = part.tag.rpartition("}")[2] if isinstance(part.tag, str) else ""
                if name == "StartDate":
                    req.start = (part.text or "").strip()
                elif name == "EndDate":
                    req.end = (part.text or "").strip()
        elif tag == _MA + "Sector":
            req.sector = int((child.text or "").strip())
        elif tag == _MA + "QueryRegister":
            req.query_register = (child.text or "").strip()
        elif tag == _MA + "ProofOfAuthentication":
            for part in child.iter():
                if part is not child and isinstance(part.tag, str) and len(part) == 0:
                    req.proof[part.tag.rpartition("}")[2]] = " ".join((part.text or "").split())
    return req


def _error(code: str, text: str) -> envelope.Detail:
    return envelope.Detail("ERROR", code, text, "BCSS")


def problems(
    req: AccessRequest, *, ssin_valid: bool, replaced: bool, existing_end: Any = ...
) -> list[envelope.Detail]:
    """Why the real service would refuse this request (empty: it proceeds).

    ``existing_end``: for a REGISTER, the end date (None = open-ended) of the registration of the same
    NISS, purpose and start date already held, or ``...`` when there is none."""
    if not ssin_valid:
        return [_error("MSG00011", "SSIN structure invalid")]
    if replaced:
        return [
            _error("MSG00006", "SSIN replaced: use the new SSIN given by the National Register")
        ]
    if req.action in ("REGISTER", "UNREGISTER"):
        if req.purpose is None:
            return [_error("MSG00008", "Purpose: required for REGISTER and UNREGISTER")]
        if req.purpose not in QUALITY_CODES:
            return [
                _error(
                    "MSG00008",
                    f"Purpose: {req.purpose} is not a quality code of sector {CPAS_SECTOR}",
                )
            ]
        if not req.start:
            return [_error("MSG00008", "Period/StartDate: required for REGISTER and UNREGISTER")]
        if req.end and req.end < req.start:
            return [_error("MSG00008", "Period/EndDate: before the StartDate")]
        for name in ("SISCardNumber", "IdentityCardNumber"):
            if name in req.proof:
                return [
                    _error(
                        NOT_SIMULATED,
                        f"ProofOfAuthentication/{name}: not simulated (the simulator holds no"
                        " card register); prove with PersonData (LastName, BirthDate)",
                    )
                ]
        if "BirthDate" in req.proof:
            encoded = niss_birth_date(
                req.ssin
            )  # None when the NISS encodes a partly unknown birth date
            if encoded is not None and req.proof["BirthDate"] != encoded.isoformat():
                return [
                    _error(
                        "MSG00008",
                        "ProofOfAuthentication/PersonData/BirthDate: does not match the person",
                    )
                ]
        if "PersonData" in _proof_parts(req) and not req.proof.get("LastName"):
            return [_error("MSG00008", "ProofOfAuthentication/PersonData/LastName: empty")]
        if (
            req.action == "REGISTER"
            and existing_end is not ...
            and (existing_end or None) != (req.end or None)
        ):
            held = "open-ended" if not existing_end else f"until {existing_end}"
            return [
                _error(
                    "MSG00008",
                    f"Period/StartDate: a registration with this purpose already starts that day"
                    f" ({held}); UNREGISTER to end it, or REGISTER another start date",
                )
            ]
        return []
    if req.sector is not None and req.sector != CPAS_SECTOR:
        return [
            _error(
                NOT_SIMULATED,
                f"Sector {req.sector}: not simulated (the simulator holds only sector"
                f" {CPAS_SECTOR}, the CPAS sectoral repertory)",
            )
        ]
    if req.query_register == "PRIMARY":
        return [
            _error(
                NOT_SIMULATED,
                "QueryRegister PRIMARY: not simulated (the simulator holds only the"
                " SECONDARY sectoral repertory; ALL lists it)",
            )
        ]
    return []


def _proof_parts(req: AccessRequest) -> set[str]:
    return {"PersonData"} if {"LastName", "FirstName", "BirthDate"} & set(req.proof) else set()


def warnings(req: AccessRequest) -> list[envelope.Detail]:
    """Accepted, but the real service may not: an empty ProofOfAuthentication on REGISTER / UNREGISTER (the
    official XSD documents that at least one of its three elements should be given)."""
    if req.action in ("REGISTER", "UNREGISTER") and not req.proof:
        return [
            envelope.Detail(
                "WARNING",
                EMPTY_PROOF,
                "ProofOfAuthentication empty: the BCSS documents that at"
                " least one of SISCardNumber, IdentityCardNumber, PersonData is given",
                "BCSS",
            )
        ]
    return []
