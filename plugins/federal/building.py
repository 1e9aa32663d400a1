"""Forms B, C and D from the canonical contract, driven by the mapping files in ``mappings/federal``.

Why declarative: the public rubric list of the DIS forms is incomplete (federal.md section 11); when the
official layout is known, the mapping files change, not the code.  Every built form is serialised with
the connector's DIS builder and validated against our XSD before it may be recorded for sending; a
violation is reported with the rubric number and label.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import yaml

from piis_bridge.forms import ContractEvent, EventKind, FederalForm, FormIssue, FormKind

__all__ = [
    "FormBuilder",
    "normalise_dossier",
    "piis_code",
    "rubric_label",
    "to_element",
    "to_xml",
    "validate_form",
]

_KIND_FOR_EVENT = MappingProxyType(
    {
        EventKind.GRANT: FormKind.B,
        EventKind.CHANGE: FormKind.B,
        EventKind.END: FormKind.C,
        EventKind.RECOVERY: FormKind.D,
    }
)
_HEADER = frozenset({"CpasName", "InsCode", "KBOBCE", "SSIN", "Dossier"})
_SIGNED = frozenset({"SIGNED", "ACTIVE", "SUSPENDED_PROJECT", "ENDED"})


@functools.cache
def _yaml(name: str) -> Any:
    return yaml.safe_load(files("piis_mappings.federal").joinpath(name).read_text(encoding="utf-8"))


def rubric_label(kind: str, field: str | None) -> str | None:
    """'11 Catégorie du bénéficiaire / Categorie van de begunstigde' for (B, Category)."""
    if not field:
        return None
    leaf = field.rsplit("/", 1)[-1]
    table = _yaml("rubrics.yaml")
    entry = table.get(kind, {}).get(leaf) or table["common"].get(leaf)
    if entry is None:
        return leaf
    return f"{entry['rubric']} {entry['fr']} / {entry['nl']}"


def normalise_dossier(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9 /\-]", "", str(raw))[:20] or "0"


def piis_code(contract: Any, person: str, on: date) -> int | None:
    """The PIIS code of the applicant or the partner at *on* (mappings/federal/piis_codes.yaml)."""
    if person == "partner" and getattr(contract, "partner", None) is None:
        return None
    tags = {str(getattr(t, "value", t)) for t in (contract.form_tags or [])}
    facts = {
        "exemption": getattr(contract.obligation, "exemption", None) is not None,
        "piis_signed": str(getattr(contract.status, "value", contract.status)) in _SIGNED,
        "employed": str(getattr(contract.beneficiary.employment_status, "value", "NONE")) != "NONE",
    }
    for rule in _yaml("piis_codes.yaml")["rules"]:
        start, until = rule.get("from"), rule.get("until")
        if (start and on < start) or (until and on >= until):
            continue
        ok = True
        for key, wanted in (rule.get("when") or {}).items():
            have = wanted in tags if key == "form_tag" else facts[key] == wanted
            if not have:
                ok = False
                break
        if ok:
            return rule["code"]
    return None


_Getter = Callable[[Any, ContractEvent, dict[str, Any]], Any]


def _path_getter(path: str) -> Callable[[Any], Any]:
    parts = tuple(path.split("."))

    def get(obj: Any) -> Any:
        for part in parts:
            if obj is None:
                return None
            obj = getattr(obj, part, None)
        return obj

    return get


def _compile_rule(rule: dict[str, Any]) -> _Getter:
    """One mapping rule (see mappings/federal/form_b.yaml) as a function (contract, event, values so far)."""
    if "const" in rule:
        const = rule["const"]
        return lambda contract, event, so_far: const
    if "piis" in rule:
        person = rule["piis"]

        def piis(contract: Any, event: ContractEvent, so_far: dict[str, Any]) -> Any:
            on = so_far.get("EntryDate") or event.effective_date or contract.decision.ri_start_date
            code = piis_code(contract, person, on)
            if person == "partner":
                partner = getattr(contract, "partner", None)
                if partner is None:
                    return None
                return {"SSIN": str(partner.niss), "PiisPartner": code}
            return code

        return piis
    from_event = _path_getter(rule["event"]) if "event" in rule else None
    from_contract = _path_getter(rule["path"]) if "path" in rule else None
    transform = rule.get("transform")

    def value(contract: Any, event: ContractEvent, so_far: dict[str, Any]) -> Any:
        found = from_event(event) if from_event is not None else None
        if found is None and from_contract is not None:
            found = from_contract(contract)
        if found is None:
            return None
        if transform == "dossier":
            return normalise_dossier(found)
        if transform == "value":
            return getattr(found, "value", found)
        if transform == "month":
            return found.isoformat()[:7]
        return found

    return value


@functools.cache
def _compiled(kind: str) -> tuple[tuple[str, _Getter], ...]:
    """The mapping file of a form kind, read and turned into functions once per process."""
    return tuple(
        (element, _compile_rule(rule))
        for element, rule in _yaml(f"form_{kind.lower()}.yaml")["fields"].items()
    )


class FormBuilder:
    """contract + event -> FederalForm (content only; keys and versions are the ledger's business)."""

    def build(self, cpas_id: str, contract: Any, event: ContractEvent) -> FederalForm:
        kind = _KIND_FOR_EVENT[event.kind]
        values: dict[str, Any] = {}
        for element, rule in _compiled(kind.value):
            values[element] = rule(contract, event, values)
        header = {k: values.pop(k) for k in list(values) if k in _HEADER}
        entry = values.get("EntryDate")
        recovery = event.recovery
        # model_construct: every input comes from the validated canonical model, and every rubric of the
        # output is validated against the DIS XSD before it may be recorded (validate_form).
        return FederalForm.model_construct(
            kind=kind,
            cpas_id=cpas_id,
            cpas_name=str(header["CpasName"]),
            cpas_ins=str(header["InsCode"]),
            cpas_bce=str(header["KBOBCE"]),
            niss=str(header["SSIN"]),
            dossier=str(header["Dossier"]),
            record_id=str(getattr(contract, "contract_id", "") or "") or None,
            client_reference=None,
            sequence_number=None,
            correction=False,
            supersedes=None,
            entry_date=entry if kind is not FormKind.D else None,
            recovery_month=recovery.month.replace(day=1)
            if (kind is FormKind.D and recovery)
            else None,
            rubrics={k: v for k, v in values.items() if k not in ("EntryDate", "RecoveryMonth")},
        )


def dis_fields(form: FederalForm) -> dict[str, Any]:
    """The DIS template fields of *form* (public: the federal benchmark renders forms with it)."""
    fields: dict[str, Any] = {
        "ClientReference": form.client_reference,
        "CpasName": form.cpas_name,
        "InsCode": form.cpas_ins,
        "KBOBCE": form.cpas_bce,
        "SSIN": form.niss,
        "Dossier": form.dossier,
    }
    if form.kind is FormKind.D:
        fields["RecoveryMonth"] = (
            form.recovery_month.isoformat()[:7] if form.recovery_month else None
        )
        fields["SequenceNumber"] = form.sequence_number
    else:
        fields["EntryDate"] = form.entry_date
    fields.update(form.rubrics)
    if form.kind is FormKind.B:
        fields["NoticeStatus"] = "1" if form.correction else "0"
    elif form.kind is FormKind.D:
        fields["Correction"] = "1" if form.correction else "0"
    return fields


def to_xml(form: FederalForm) -> bytes:
    """The serialised DIS element for *form*: the bytes recorded (and hashed) in the ledger and sent."""
    from piis_connectors.federal import dis

    return dis.render_form(form.kind.value, dis_fields(form))


def to_element(form: FederalForm) -> Any:
    """The connector's DIS element for *form* (key, header, rubric 4 and the form-specific rubrics)."""
    from lxml import etree

    return etree.fromstring(to_xml(form))


def validate_form(form: FederalForm, element: Any | None = None) -> list[FormIssue]:
    """Our DIS XSD; every violation names its rubric."""
    from piis_connectors.federal import dis, schemas

    try:
        element = element if element is not None else to_element(form)
    except dis.FormError as exc:
        return [FormIssue(code="XSD", field=None, message=str(exc))]
    return [
        FormIssue(
            code="XSD",
            severity="ERROR",
            field=i.field,
            rubric=rubric_label(form.kind.value, i.field),
            message=i.message,
        )
        for i in schemas.validate(schemas.dis_schema(), element)
    ]
