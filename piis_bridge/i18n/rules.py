"""The rules engine's output in the CPAS's language: rule titles, computed dates, findings, the
inspection checklist and the agenda.

Why at the output boundary: the rule modules keep writing English (their check functions are one
piece of legal logic each, edited by the people who follow the law); what a person reads is
translated here, by rule id.  Rule ids, citations, codes, field paths and ISO dates are never
translated, so JSON stays language-neutral: these helpers only *add* keys to it.

A finding's message is still the English detail the check wrote (with the contract's own values in
it).  In another language a finding is shown as the translated rule title (and the rule's
plain-language meaning when the registry gives one), followed by the English detail, labelled as
such.  Converting the checks' f-strings to message templates is the next step (docs/i18n.md).
"""

from __future__ import annotations

from typing import Any

from piis_bridge.i18n import Translator
from piis_bridge.i18n.evidence import translate_evidence
from piis_bridge.i18n.labels import translate_label

__all__ = [
    "AGENDA_KINDS",
    "CHECKLIST_STATUSES",
    "DATE_STATUSES",
    "LEVELS",
    "PERSONS",
    "agenda_kind_text",
    "checklist_question",
    "checklist_status_text",
    "finding_text",
    "level_text",
    "localize_agenda_json",
    "localize_report_json",
    "rule_title",
    "status_text",
]

# Codes shown in words; each is a message id in its own context (listed by piis_bridge.i18n.catalog).
LEVELS = ("error", "warning", "info")
DATE_STATUSES = ("met", "late", "pending", "overdue", "not_applicable", "info")
AGENDA_KINDS = ("deadline", "event", "overdue")
CHECKLIST_STATUSES = ("pass", "fail", "warning", "not_applicable", "not_recorded")
PERSONS = ("beneficiary", "partner")


def rule_title(rule: Any, t: Translator) -> str:
    """The rule's title in the translator's language (msgctxt = rule id, msgid = English title).

    A title changed in the registry and not yet translated is shown in English (and the catalogue
    check fails until it is translated)."""
    return t.pgettext(rule.id, rule.title)


def rule_meaning(rule: Any, t: Translator) -> str | None:
    """The rule's plain-language meaning, when the registry records one (``Rule.meaning``)."""
    meaning = getattr(rule, "meaning", None)
    if not meaning:
        return None
    context = rule.id + " meaning"
    return t.pgettext(context, meaning)


def checklist_question(item_id: str, question: str, t: Translator) -> str:
    """An inspection checklist question (msgctxt = item id, I-01 .. I-11)."""
    return t.pgettext(item_id, question)


def level_text(level: str, t: Translator) -> str:
    return t.pgettext("level", level)


def status_text(status: str, t: Translator) -> str:
    return t.pgettext("date status", status)


def agenda_kind_text(kind: str, t: Translator) -> str:
    return t.pgettext("agenda kind", kind)


def checklist_status_text(status: str, t: Translator) -> str:
    return t.pgettext("checklist status", status)


def finding_text(finding: Any, registry: Any, t: Translator) -> tuple[str, str]:
    """(the finding's message in the language, "") of one finding.

    The message is the rule's template written in the language (:func:`piis_bridge.i18n.findings.render`).
    The second part (an English detail, when messages were English only) is kept empty for callers
    that still show it; a finding without a template (a plugin rule's plain text) is shown as written.
    """
    from piis_bridge.i18n.findings import render

    return render(finding, t), ""


def localize_report_json(
    body: dict[str, Any], registry: Any, t: Translator, report: Any = None
) -> dict[str, Any]:
    """*body* (``Report.to_json_dict()``) with the texts a person reads added in the language.

    Added, never replaced: ``language``; per finding ``title`` (translated rule title), and, given the
    *report* the body was dumped from, ``message_id`` (the English template), ``params`` (its values:
    ISO dates, ids, codes) and ``message_text`` (the message in the language), with
    ``message_language``; in French, Dutch and German (in English the existing fields are the texts)
    per date ``label_text``; per inspection item ``question_text``, ``status_text``,
    ``evidence_found_text`` and ``evidence_missing_text``.  Everything else (ids, codes, ISO dates, the
    English ``message`` and ``label``) is unchanged.
    """
    from piis_bridge.i18n.findings import params_json, render

    body["language"] = t.language
    findings = list(getattr(report, "findings", ()) or ())
    for i, f in enumerate(body.get("findings", ())):
        rid = f.get("rule_id")
        f["title"] = rule_title(registry.get(rid), t) if rid in registry else None
        source = findings[i] if i < len(findings) else None
        if source is not None and source.message_id:
            f["message_id"] = source.message_id
            f["params"] = params_json(source.params)
            f["message_text"] = render(source, t)
            f["message_language"] = t.language
        else:
            f["message_text"] = f.get("message")
            f["message_language"] = "en"
    if t.language == "en":  # the English fields are the texts: nothing to add
        return body
    for d in body.get("dates", ()):
        d["label_text"] = translate_label(d["label"], t)
    inspection = (body.get("sections") or {}).get("inspection")
    if isinstance(inspection, dict):
        for item in inspection.get("items", ()):
            item["question_text"] = checklist_question(item["item"], item["question"], t)
            item["status_text"] = checklist_status_text(str(item["status"]), t)
            item["evidence_found_text"] = [
                translate_evidence(e, t) for e in item.get("evidence_found", ())
            ]
            item["evidence_missing_text"] = [
                translate_evidence(e, t) for e in item.get("evidence_missing", ())
            ]
    return body


def localize_agenda_json(body: dict[str, Any], t: Translator) -> dict[str, Any]:
    """The agenda's JSON with ``language`` and, except in English, ``label_text`` per item (nothing replaced)."""
    body["language"] = t.language
    if t.language == "en":  # the English fields are the texts: nothing to add
        return body
    for item in body.get("items", ()):
        item["label_text"] = translate_label(item["label"], t)
    return body
