"""Lino's contract payload -> the flat view the YAML mapping reads, and what Lino cannot provide.

Why code and not only YAML: Lino's ISIP contract does not carry the DIS decision.  It is assembled
from the client's aid grantings and income confirmations, matched by dates: the granting (of an
aid type the mapping's ``aid_type`` code list knows) covering the contract's start with the latest
start date, and its income confirmation covering that day.  That choice is logic; the meaning of
each code stays in the YAML file.  Free-text fields are HTML in Lino and become plain text here.

Gaps (what Lino has no field for) are named per contract by :func:`gaps`, never filled in: the
beneficiary's signature date, a workflow status, the orientation (taken from a per-CPAS code list over
the contract type, which is a CPAS decision written in the mapping file, not a guess).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

__all__ = ["DecisionProblem", "assemble", "gaps", "html_text"]

_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</(p|li|div|h\d)>|<br\s*/?>", re.I)


def html_text(value: Any) -> str | None:
    """Lino's rich text (HTML) as plain text, paragraphs on their own lines; None when empty."""
    if not value:
        return None
    text = html.unescape(_TAG.sub("", _BLOCK.sub("\n", str(value))))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or None


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%d.%m.%Y").date()
    except ValueError:
        return None


def _covers(row: dict[str, Any], day: date) -> bool:
    start, end = _day(row.get("start_date")), _day(row.get("end_date"))
    return start is not None and start <= day and (end is None or day <= end)


class DecisionProblem(Exception):
    """The DIS decision cannot be assembled: ``field`` (dotted path) and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def decision(
    payload: dict[str, Any], aid_types: dict[str, Any], missing_decision_date: str
) -> dict[str, Any]:
    """The DIS decision of the contract from the client's grantings and income confirmations."""
    contract = payload.get("contract") or {}
    start = _day(contract.get("applies_from"))
    if start is None:
        raise DecisionProblem(
            "contract.applies_from", "the contract has no start date to match a granting with"
        )
    covering = [g for g in payload.get("grantings") or [] if _covers(g, start)]
    unknown = sorted(
        {
            str(g.get("aid_typeHidden"))
            for g in covering
            if str(g.get("aid_typeHidden")) not in aid_types
        }
    )
    if unknown:
        raise DecisionProblem(
            "grantings.aid_type",
            f"unknown code {', '.join(map(repr, unknown))} (code list aid_type) "
            f"on a granting covering the contract's start {start:%d.%m.%Y}",
        )
    income = sorted(
        (g for g in covering if aid_types.get(str(g.get("aid_typeHidden"))) in ("RI", "NOT_DIS")),
        key=lambda g: (_day(g["start_date"]), g["id"]),
    )
    if not income:
        raise DecisionProblem(
            "grantings",
            f"Lino holds no income granting (aids.Granting) covering the contract's "
            f"start {start:%d.%m.%Y}: the DIS decision is missing",
        )
    granting = income[-1]
    if aid_types.get(str(granting.get("aid_typeHidden"))) != "RI":
        raise DecisionProblem(
            "grantings.aid_type",
            f"the granting covering the contract's start (#{granting['id']}, "
            f"{granting.get('aid_type')}) is not an integration income: "
            "no DIS decision, no federal form",
        )
    confirmations = sorted(
        (
            c
            for c in payload.get("confirmations") or []
            if c.get("grantingHidden") == granting["id"] and _covers(c, start)
        ),
        key=lambda c: (_day(c["start_date"]), c["id"]),
    )
    if not confirmations:
        raise DecisionProblem(
            "confirmations",
            f"granting #{granting['id']} has no income confirmation covering "
            f"{start:%d.%m.%Y}: the monthly amount is missing",
        )
    confirmation = confirmations[-1]
    decided = granting.get("decision_date")
    if not decided:
        if missing_decision_date != "granting_start":
            raise DecisionProblem(
                "grantings.decision_date",
                f"granting #{granting['id']} has no decision date in "
                "Lino (setting missing_decision_date = quarantine)",
            )
        decided = granting.get("start_date")
    category = granting.get("categoryHidden") or confirmation.get("categoryHidden")
    amount = confirmation.get("amount")
    return {
        "granting_id": f"lino-granting-{granting['id']}",
        "decision_date": decided,
        "request_date": granting.get("request_date"),
        "category": str(category) if category is not None else None,
        "amount": f"{float(amount):.2f}".replace(".", ",") if amount is not None else None,
        "start_date": granting.get("start_date"),
        "end_date": granting.get("end_date"),
    }


def assemble(
    payload: dict[str, Any],
    cpas: dict[str, Any],
    record_id: str,
    aid_types: dict[str, Any],
    missing_decision_date: str,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The view the YAML mapping reads, and the decision problems (field, reason) if any."""
    contract = payload.get("contract") or {}
    client = payload.get("client") or {}
    problems: list[tuple[str, str]] = []
    try:
        dis = decision(payload, aid_types, missing_decision_date)
    except DecisionProblem as exc:
        dis = None
        problems.append((exc.field, exc.reason))
    commitments = []
    for key, party in (
        ("duties_person", "BENEFICIARY"),
        ("duties_pcsw", "CPAS"),
        ("duties_dsbe", "CPAS"),
        ("duties_asd", "CPAS"),
    ):
        text = html_text(contract.get(key))
        if text:
            commitments.append({"id": f"{record_id}-{key}", "party": party, "text": text})
    goals = html_text(contract.get("goals"))
    workers = []
    if contract.get("userHidden") is not None and contract.get("user"):
        workers.append(
            {
                "id": f"lino-user-{contract['userHidden']}",
                "name": contract["user"],
                "role": "IN_CHARGE",
            }
        )
    for key in ("user_asd", "user_dsbe"):
        if contract.get(key + "Hidden") is not None and contract.get(key):
            workers.append(
                {
                    "id": f"lino-user-{contract[key + 'Hidden']}",
                    "name": contract[key],
                    "role": "SUBSTITUTE",
                }
            )
    ending = payload.get("ending")
    view: dict[str, Any] = {
        "record_id": record_id,
        "cpas": cpas,
        "client": {
            "national_id": client.get("national_id") or None,
            "birth_date": client.get("birth_date") or None,
            "first_name": client.get("first_name") or None,
            "last_name": client.get("last_name") or None,
            "language": client.get("languageHidden") or None,
        }
        if client
        else None,
        "decision": dis,
        "type_ref": (payload.get("contract_type") or {}).get("ref") or None,
        "study_type": str(contract["study_typeHidden"])
        if contract.get("study_typeHidden") is not None
        else None,
        "exam_policy": str(contract["exam_policyHidden"])
        if contract.get("exam_policyHidden") is not None
        else None,
        "applies_from": contract.get("applies_from") or None,
        "applies_until": contract.get("applies_until") or None,
        "ending": {
            "code": str(contract["endingHidden"]),
            "date": contract.get("date_ended") or None,
            "name": (ending or {}).get("name"),
        }
        if contract.get("endingHidden") is not None
        else None,
        "status": "ENDED" if contract.get("endingHidden") is not None else "CONCLUDED",
        "goals": [{"id": f"{record_id}-goals", "text": goals}] if goals else [],
        "commitments": commitments,
        "workers": workers,
    }
    return view, problems


def gaps(payload: dict[str, Any]) -> list[str]:
    """What this contract needs and Lino cannot provide (reported, never invented)."""
    contract = payload.get("contract") or {}
    found = [
        "signatures: Lino records no signature date (beneficiary or CPAS)",
        "status: Lino contracts have no workflow status (taken as concluded, ended when an ending is set)",
    ]
    if not (payload.get("client") or {}).get("national_id"):
        found.append("beneficiary.niss: the client has no national register number in Lino")
    if not contract.get("goals"):
        found.append("objectives: the contract's goals are empty in Lino")
    if contract.get("study_typeHidden") is not None:
        found.append(
            "studies: Lino holds only a study-type code (no institution, programme or recognition)"
        )
    return found
