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
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from types import MappingProxyType
from typing import Any, cast

import yaml
from lxml import etree
from piis_connectors.federal import dis, schemas

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
    return _piis_at(_piis_facts(contract), on)


_Facts = tuple[frozenset[str], dict[str, bool]]


def _piis_facts(contract: Any) -> _Facts:
    """What the PIIS-code rules look at: the contract's form tags and three facts (the same for both
    persons: the rules judge the contract)."""
    tags = frozenset(str(getattr(t, "value", t)) for t in (contract.form_tags or []))
    facts = {
        "exemption": getattr(contract.obligation, "exemption", None) is not None,
        "piis_signed": str(getattr(contract.status, "value", contract.status)) in _SIGNED,
        "employed": str(getattr(contract.beneficiary.employment_status, "value", "NONE")) != "NONE",
    }
    return tags, facts


@functools.cache
def _piis_rules() -> tuple[tuple[date | None, date | None, tuple[tuple[str, Any], ...], Any], ...]:
    """piis_codes.yaml as (from, until, conditions, code), read once per process."""
    return tuple(
        (rule.get("from"), rule.get("until"), tuple((rule.get("when") or {}).items()), rule["code"])
        for rule in _yaml("piis_codes.yaml")["rules"]
    )


def _piis_at(found: _Facts, on: date) -> int | None:
    tags, facts = found
    for start, until, when, code in _piis_rules():
        if (start and on < start) or (until and on >= until):
            continue
        for key, wanted in when:
            if not (wanted in tags if key == "form_tag" else facts[key] == wanted):
                break
        else:
            return cast(int | None, code)
    return None


# One mapping rule compiled: (contract, event, EntryDate computed so far or None, per-build cache) -> value.
_Getter = Callable[[Any, ContractEvent, Any, dict[str, Any]], Any]


def _path_getter(path: str) -> Callable[[Any], Any]:
    """A dotted attribute path that yields None where any step is missing or None (``getattr`` of a
    mapping path on None is None: no dunder names in the mapping files).  One and two steps (every path
    of the files) are spelt out: a loop costs half again as much, ~10 look-ups per form."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (first,) = parts
        return lambda obj: getattr(obj, first, None)
    if len(parts) == 2:
        first, second = parts
        return lambda obj: getattr(getattr(obj, first, None), second, None)

    def get(obj: Any) -> Any:
        for part in parts:
            obj = getattr(obj, part, None)
        return obj

    return get


def _applicant_code(contract: Any, event: ContractEvent, entry: Any, memo: dict[str, Any]) -> Any:
    on = entry or event.effective_date or contract.decision.ri_start_date
    # the applicant and partner rules judge the same contract facts: looked at once per form
    facts = memo.get("facts")
    if facts is None:
        facts = memo["facts"] = _piis_facts(contract)
    return _piis_at(facts, on)


def _partner_code(contract: Any, event: ContractEvent, entry: Any, memo: dict[str, Any]) -> Any:
    partner = getattr(contract, "partner", None)
    if partner is None:
        return None
    return {"SSIN": str(partner.niss), "PiisPartner": _applicant_code(contract, event, entry, memo)}


def _piis_rule(person: str) -> _Getter:
    return _partner_code if person == "partner" else _applicant_code


def _compile_rule(rule: dict[str, Any]) -> _Getter:
    """One mapping rule (see mappings/federal/form_b.yaml) as a function, specialised once."""
    if "const" in rule:
        const = rule["const"]
        return lambda contract, event, entry, memo: const
    if "piis" in rule:
        return _piis_rule(rule["piis"])
    from_event = _path_getter(rule["event"]) if "event" in rule else None
    from_contract = _path_getter(rule["path"]) if "path" in rule else None
    transform: Callable[[Any], Any] | None = {
        None: None,
        "dossier": normalise_dossier,
        "value": lambda found: getattr(found, "value", found),
        "month": lambda found: found.isoformat()[:7],
    }[rule.get("transform")]

    def value(contract: Any, event: ContractEvent, entry: Any, memo: dict[str, Any]) -> Any:
        found = from_event(event) if from_event is not None else None
        if found is None and from_contract is not None:
            found = from_contract(contract)
        if found is None or transform is None:
            return found
        return transform(found)

    return value


@dataclass(frozen=True, slots=True)
class _Plan:
    """A form kind's mapping file compiled: what the builder runs per contract, nothing read per form.

    ``rules``: (element, getter, is EntryDate) in file order for the elements that become rubrics or
    EntryDate; the header getters apart; RecoveryMonth is not evaluated (form D takes it from the event)."""

    kind: FormKind
    header: tuple[_Getter, ...]  # CpasName, InsCode, KBOBCE, SSIN, Dossier
    rules: tuple[tuple[str, _Getter, bool], ...]


@functools.cache
def _plan(kind: FormKind) -> _Plan:
    """The mapping file of a form kind, read and compiled once per process."""
    fields: dict[str, Any] = _yaml(f"form_{kind.value.lower()}.yaml")["fields"]
    compiled = {element: _compile_rule(rule) for element, rule in fields.items()}
    return _Plan(
        kind=kind,
        header=(
            compiled["CpasName"],
            compiled["InsCode"],
            compiled["KBOBCE"],
            compiled["SSIN"],
            compiled["Dossier"],
        ),
        rules=tuple(
            (element, getter, element == "EntryDate")
            for element, getter in compiled.items()
            if element not in _HEADER and element != "RecoveryMonth"
        ),
    )


# FederalForm's fields in declaration order: its JSON (hence content hash and key) follows this order.
_FORM_FIELDS = tuple(FederalForm.model_fields)
_new = object.__new__
_set = object.__setattr__


def _form(**values: Any) -> FederalForm:
    """``FederalForm.model_construct(**values)`` for a call that passes every field, at an eighth of its
    cost (measured: 6.8 µs -> 0.8 µs; it was a tenth of build + validate).  Same ``__dict__`` (field order),
    fields set and private attributes, which tests/federal/test_form_bytes_golden.py and
    test_built_forms_are_what_model_construct_makes hold it to."""
    form = _new(FederalForm)
    _set(form, "__dict__", {name: values[name] for name in _FORM_FIELDS})
    _set(form, "__pydantic_fields_set__", set(_FORM_FIELDS))
    _set(form, "__pydantic_extra__", None)
    _set(form, "__pydantic_private__", {"_hash": None})
    return form


class FormBuilder:
    """contract + event -> FederalForm (content only; keys and versions are the ledger's business)."""

    def build(self, cpas_id: str, contract: Any, event: ContractEvent) -> FederalForm:
        kind = _KIND_FOR_EVENT[event.kind]
        plan = _plan(kind)
        name, ins, bce, ssin, dossier = plan.header
        memo: dict[str, Any] = {}
        entry = None
        rubrics: dict[str, Any] = {}
        for element, rule, is_entry in plan.rules:
            value = rule(contract, event, entry, memo)
            if is_entry:
                entry = value
            else:
                rubrics[element] = value
        recovery = event.recovery
        # every input comes from the validated canonical model, and every rubric of the output is
        # validated against the DIS XSD before it may be recorded (validate_form): no model validation
        return _form(
            kind=kind,
            client_reference=None,
            cpas_id=cpas_id,
            cpas_name=str(name(contract, event, None, memo)),
            cpas_ins=str(ins(contract, event, None, memo)),
            cpas_bce=str(bce(contract, event, None, memo)),
            niss=str(ssin(contract, event, None, memo)),
            dossier=str(dossier(contract, event, None, memo)),
            record_id=str(getattr(contract, "contract_id", "") or "") or None,
            entry_date=entry if kind is not FormKind.D else None,
            recovery_month=recovery.month.replace(day=1)
            if (kind is FormKind.D and recovery)
            else None,
            sequence_number=None,
            correction=False,
            supersedes=None,
            rubrics=rubrics,
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
    return dis.render_form(form.kind.value, dis_fields(form))


def to_element(form: FederalForm) -> Any:
    """The connector's DIS element for *form* (key, header, rubric 4 and the form-specific rubrics)."""
    return etree.fromstring(to_xml(form))


def validate_form(form: FederalForm, element: Any | None = None) -> list[FormIssue]:
    """Our DIS XSD; every violation names its rubric."""
    try:
        element = element if element is not None else to_element(form)
    except dis.FormError as exc:
        return [FormIssue(code="XSD", field=None, message=str(exc))]
    issues = schemas.validate(schemas.dis_schema(), element)
    if not issues:
        return []
    return [
        FormIssue(
            code="XSD",
            severity="ERROR",
            field=i.field,
            rubric=rubric_label(form.kind.value, i.field),
            message=i.message,
        )
        for i in issues
    ]
