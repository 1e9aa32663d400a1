"""The texts the bridge pushes back to a case system, in the CPAS's language.

Why two steps: the pipeline builds a push item when it evaluates a contract or receives a
federal answer, and stores it in its outbox; the item is pushed later, perhaps after the CPAS's
``language`` changed.  So each builder below returns the English title and body *and* a
language-neutral description of them (:data:`PushItem.message <piis_bridge.hooks.types.PushItem>`:
message ids and values), and :func:`localize_push` writes title and body in the CPAS's language
at the push boundary (``PluginHost.case_push``).  The idempotency key never depends on the
language: changing the setting never creates a second task.

A message description is JSON::

    {"title": SEG, "body": [SEG, ...] | null}
    SEG   = {"id": msgid, "ctx": context?, "plural": msgid_plural?, "n": count?, "params": {name: VALUE}}
    VALUE = str | int                         (an ISO date string is written as a date)
          | SEG                               (a message inside a message)
          | {"label": english_label}          (a computed-date label, see piis_bridge.i18n.labels)
          | {"join": separator, "items": [VALUE, ...]}
          | {"raw": text}                     (free text from a person or a system: shown as is)

The body segments are joined with a space.  ``body: null`` keeps the item's own body.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from piis_bridge.i18n import DEFAULT_LANGUAGE, N_, NP_, Translator, translator
from piis_bridge.i18n.labels import translate_label

__all__ = [
    "DATE_STATUSES",
    "FEDERAL_ANSWERS",
    "Text",
    "deadline_alert",
    "death_notice",
    "draft_note",
    "draft_note_part",
    "emigration_notice",
    "federal_answer",
    "handover_received",
    "localize_push",
    "move_notice",
    "niss_replaced_notice",
    "render",
    "render_message",
    "seg",
    "transfer_assessed",
    "transfer_delivered",
    "transfer_detected",
]

Text = tuple[str, str, dict[str, Any]]
"""(English title, English body, message description) -- what a builder returns."""

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Codes shown in words: message ids in a context, listed by the catalogue tool (piis_bridge.i18n.catalog).
FEDERAL_ANSWERS: dict[str, str] = {
    # the federal evaluation codes as a social worker reads them (context "federal answer")
    "ACCEPTED": "ACCEPTED",
    "REFUSED": "REFUSED",
    "PARTIALLYACCEPTED": "PARTIALLYACCEPTED",
    "PARTIALLY_ACCEPTED": "PARTIALLY_ACCEPTED",
    "BLOCKED": "BLOCKED",
}
DATE_STATUSES: dict[str, str] = {
    # piis_bridge.rules.report.DateStatus values (context "date status")
    "met": "met",
    "late": "late",
    "pending": "pending",
    "overdue": "overdue",
    "not_applicable": "not_applicable",
    "info": "info",
}


def seg(
    message: str,
    /,
    *,
    ctx: str | None = None,
    plural: str | None = None,
    n: int | None = None,
    **params: Any,
) -> dict[str, Any]:
    """One message segment; dates become ISO strings (language-neutral, JSON)."""
    out: dict[str, Any] = {"id": message}
    if ctx is not None:
        out["ctx"] = ctx
    if plural is not None:
        out["plural"], out["n"] = plural, n
    if params:
        out["params"] = {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()
        }
    return out


def _value(value: Any, t: Translator) -> Any:
    if isinstance(value, dict):
        if "id" in value:
            return render(value, t)
        if "label" in value:
            return translate_label(str(value["label"]), t)
        if "join" in value:
            return str(value["join"]).join(str(_value(v, t)) for v in value.get("items", ()))
        if "raw" in value:
            return str(value["raw"])
        raise ValueError(f"unknown message value {sorted(value)}")
    if isinstance(value, str) and _ISO.match(value):
        return date.fromisoformat(value)
    return value


def render(segment: dict[str, Any], t: Translator) -> str:
    """One segment in the translator's language."""
    params = {k: _value(v, t) for k, v in (segment.get("params") or {}).items()}
    if "plural" in segment:
        return t.ngettext(segment["id"], segment["plural"], int(segment["n"]), **params)
    if segment.get("ctx"):
        return t.pgettext(segment["ctx"], segment["id"], **params)
    return t.gettext(segment["id"], **params)


def render_message(message: dict[str, Any], language: str | None) -> tuple[str, str | None]:
    """(title, body or None to keep the item's own body) of a message description."""
    t = translator(language or DEFAULT_LANGUAGE)
    title = render(message["title"], t)
    body = message.get("body")
    return title, (None if body is None else " ".join(render(s, t) for s in body))


def localize_push(item: Any, language: str | None) -> Any:
    """*item* (a ``PushItem``) with its title and body in *language*; key, kind and data unchanged.

    An item without a message description (a third party's) is returned as it is.
    """
    message = getattr(item, "message", None)
    if not message:
        return item
    title, body = render_message(message, language)
    update: dict[str, Any] = {"title": title[:200] or item.title}
    if body is not None:
        update["body"] = body
    return item.model_copy(update=update)


def _english(title: dict[str, Any], body: list[dict[str, Any]] | None = None) -> Text:
    message = {"title": title, "body": body}
    en_title, en_body = render_message(message, "en")
    return en_title, en_body or "", message


# ---------------------------------------------------------------------------------------- federal


def federal_answer(answer: str) -> Text:
    """The federal answer to a form (title; the body, form type and reference, is language-neutral)."""
    code = answer.upper()
    shown: Any = seg(code, ctx="federal answer") if code in FEDERAL_ANSWERS else code
    title, _, message = _english(seg(N_("Federal answer: {answer}"), answer=shown))
    return title, "", message


def deadline_alert(label: str, rule_id: str, status: str, due: date) -> Text:
    """A computed legal date still to meet or missed (R-DL, R-EVA, R-SAN...).

    Built for every pending or overdue date of every contract each night, so the English title is
    written directly (it is what the catalogue's English gives; ``tests/i18n`` checks they agree)."""
    day = due.isoformat()
    shown: Any = {"id": status, "ctx": "date status"} if status in DATE_STATUSES else status
    message = {
        "title": {
            "id": _ALERT,
            "params": {"label": {"label": label}, "rule": rule_id, "status": shown, "date": day},
        },
        "body": None,
    }
    return f"{label} ({rule_id}, {status}, {day})", "", message


_ALERT = N_("{label} ({rule}, {status}, {date})")


# ---------------------------------------------------------------------------------------- notices


def death_notice(effective: date) -> Text:
    return _english(
        seg(N_("Death on {date} (National Register): the PIIS ends"), date=effective),
        [
            seg(
                N_(
                    "The National Register reports the beneficiary's death. The integration income ends, and the "
                    "PIIS with it: a PIIS never exists without the integration income (R-GEN-01). Close the "
                    "contract."
                )
            )
        ],
    )


def emigration_notice(effective: date) -> Text:
    return _english(
        seg(N_("Emigration on {date} (National Register): the PIIS ends"), date=effective),
        [
            seg(
                N_(
                    "The National Register reports that the beneficiary left Belgium: no CPAS is competent for "
                    "the integration income any more (R-GEN-07), so the PIIS ends with it (R-GEN-01, R-TRF-01). "
                    "Check the residence and close the contract."
                )
            )
        ],
    )


def niss_replaced_notice(effective: date, last_two_digits: str) -> Text:
    return _english(
        seg(N_("NISS replaced on {date}: update the dossier"), date=effective),
        [
            seg(
                N_(
                    "The National Register replaced the beneficiary's national number (the new one ends in "
                    "{digits}). Update the dossier: the next federal forms must carry the new number."
                ),
                digits=last_two_digits,
            )
        ],
    )


def _where(ins_code: str, municipality: str | None) -> dict[str, Any]:
    if municipality:
        return seg(
            N_("INS {ins} ({municipality})"), ins=ins_code, municipality={"raw": municipality}
        )
    return seg(N_("INS {ins}"), ins=ins_code)


# The transfer eligibility's reasons (piis_bridge.transfer.legal, piis_bridge.rules.transfers), so a move
# notice says them in the CPAS's language; a reason not listed here is shown as written.
_REASONS = (
    N_("under-25 studies PIIS during uninterrupted studies: the same CPAS stays competent"),
    N_("the contract ends; it may be handed over at the person's request, with consent"),
)
_ENDS_BLOCKED = N_("the contract ends and cannot be handed over: {reasons}")
_BLOCKING = (
    N_(
        "under-25 studies PIIS during uninterrupted studies: the same CPAS stays competent, no end and no transfer "
        "(R-TRF-02)"
    ),
    N_("no legal obligation to conclude a PIIS exists, so it cannot be transferred (R-TRF-04)"),
    N_("the transfer was not requested by the person (R-TRF-03)"),
    N_("the person refused the transfer (R-TRF-05)"),
    N_("the old CPAS did not agree (R-TRF-03)"),
    N_("the new CPAS did not agree (R-TRF-03)"),
)


def _reason(reason: str) -> Any:
    if reason in _REASONS:
        return seg(reason)
    prefix = _ENDS_BLOCKED.split("{", 1)[0]
    if reason.startswith(prefix):
        items = [
            seg(r) if r in _BLOCKING else {"raw": r} for r in reason[len(prefix) :].split("; ")
        ]
        return seg(_ENDS_BLOCKED, reasons={"join": "; ", "items": items})
    return {"raw": reason}


def move_notice(
    ins_code: str,
    municipality: str | None,
    change_date: date,
    legal_end_date: date | None,
    reason: str,
) -> Text:
    """A move reported by the National Register, for a CPAS without the transfer plugin."""
    where = _where(ins_code, municipality)
    if legal_end_date is None:
        return _english(
            seg(
                N_("Move to {where} on {date}: studies PIIS stays here (R-TRF-02)"),
                where=where,
                date=change_date,
            ),
            [
                seg(
                    N_(
                        "Full-time student under 25 in a studies PIIS: this CPAS stays competent (R-TRF-02, "
                        "R-STU-10)."
                    )
                )
            ],
        )
    return _english(
        seg(
            N_("Move to {where} on {date}: PIIS ends on {end} (R-TRF-01)"),
            where=where,
            date=change_date,
            end=legal_end_date,
        ),
        [
            seg(
                N_(
                    "The National Register reports a move out of this municipality: this CPAS stops being competent "
                    "and the PIIS ends by operation of law that day (R-TRF-01). {reason}."
                ),
                reason=_reason(reason),
            )
        ],
    )


# ---------------------------------------------------------------------------------------- transfer


def transfer_detected(
    eligibility: str, to_ins_code: str, change_date: date, legal_end_date: date | None, case_id: str
) -> Text:
    """The social worker's task when a move is detected (``piis_bridge.transfer.detection``)."""
    if eligibility == "STAYS_STUDIES":
        return _english(
            seg(
                N_("Move to INS {ins} on {date}: studies PIIS stays here"),
                ins=to_ins_code,
                date=change_date,
            ),
            [
                seg(
                    N_(
                        "Full-time student under 25 in a studies PIIS: this CPAS stays competent and the contract "
                        "continues (R-TRF-02, R-STU-10). No transfer."
                    )
                )
            ],
        )
    if eligibility == "ENDS_NOT_TRANSFERABLE":
        return _english(
            seg(
                N_("Move to INS {ins}: PIIS ends on {end} (R-TRF-01)"),
                ins=to_ins_code,
                end=legal_end_date,
            ),
            [
                seg(
                    N_(
                        "The contract ends by operation of law. No legal obligation to conclude a PIIS, so it cannot "
                        "be handed over (R-TRF-04). Close the contract and inform the person."
                    )
                )
            ],
        )
    return _english(
        seg(
            N_("Move to INS {ins}: PIIS ends on {end}; ask for consent to transfer"),
            ins=to_ins_code,
            end=legal_end_date,
        ),
        [
            seg(
                N_(
                    "The contract ends by operation of law (R-TRF-01). It may be handed over to the new CPAS at the "
                    "person's request and with their explicit consent (R-TRF-03, R-TRF-05). Record the answer: "
                    "{command}"
                ),
                command={
                    "raw": f"piis-bridge transfer consent {case_id} --given|--refused --by NAME --channel HOW"
                },
            )
        ],
    )


def handover_received(
    sender: str,
    draft_id: str,
    previous_contract_id: str,
    legal_end_date: date,
    sanctions: list[tuple[str, int, date]],
    why_no_draft: str | None = None,
) -> Text:
    """A received hand-over to review (the draft contract, or the fallback review task)."""
    if sanctions:
        listed: Any = {
            "join": "; ",
            "items": [
                seg(
                    N_("sanction {sanction}: {days} days left from {date}"),
                    sanction={"raw": sid},
                    days=days,
                    date=start,
                )
                for sid, days, start in sanctions
            ],
        }
    else:
        listed = seg(N_("no sanction to continue"))
    body = [
        seg(N_("Check whether taking the commitments over is possible and desirable (R-TRF-06).")),
        seg(
            N_("Old contract {contract} ended on {date}."),
            contract={"raw": previous_contract_id},
            date=legal_end_date,
        ),
        seg(N_("{sanctions} (R-SAN-10)."), sanctions=listed),
    ]
    if why_no_draft:
        body.append(
            seg(
                N_("The case system could not create the draft contract itself: {detail}"),
                detail={"raw": why_no_draft},
            )
        )
    return _english(
        seg(
            N_("PIIS handed over by {sender}: draft {draft} to review"),
            sender={"raw": sender},
            draft={"raw": draft_id},
        ),
        body,
    )


def transfer_assessed(
    taken_over: list[str], not_taken_over: dict[str, str], new_contract_ref: str | None
) -> Text:
    """The old CPAS learns what the new CPAS took over (R-TRF-06)."""
    none = seg(N_("none"))
    taken: Any = {"raw": ", ".join(taken_over)} if taken_over else none
    not_taken: Any = (
        {"raw": "; ".join(f"{cid}: {why}" for cid, why in not_taken_over.items())}
        if not_taken_over
        else none
    )
    n = len(taken_over)
    singular, plural = NP_(
        "Transfer reviewed by the new CPAS: {n} commitment taken over",
        "Transfer reviewed by the new CPAS: {n} commitments taken over",
    )
    return _english(
        seg(singular, plural=plural, n=n),
        [
            seg(
                N_(
                    "Taken over: {taken}. Not taken over: {not_taken}. New contract: {contract} (R-TRF-06)."
                ),
                taken=taken,
                not_taken=not_taken,
                contract={"raw": new_contract_ref or "-"},
            )
        ],
    )


def transfer_delivered(destination: str, acknowledged: bool, detail: str) -> Text:
    """How the sending of a hand-over package went (title; the body is the receiver's own detail)."""
    message = (
        N_("Transfer to {destination}: received as a draft")
        if acknowledged
        else N_("Transfer to {destination}: REJECTED")
    )
    title, _, text = _english(seg(message, destination={"raw": destination}))
    return title, detail, text


_KEPT_OUT = {
    "form_tags": N_("also form tags {values}"),
    "obligation_grounds": N_("also obligation grounds {values}"),
    "objectives": N_("commitment {commitment} also serves objectives {values}"),
}


def draft_note_part(
    kind: str, *, values: list[str], commitment: str | None = None
) -> dict[str, Any]:
    """One value a vendor's draft could not hold (it holds one value per field), as a message segment."""
    params: dict[str, Any] = {"values": {"raw": ", ".join(values)}}
    if commitment is not None:
        params["commitment"] = {"raw": commitment}
    return seg(_KEPT_OUT[kind], **params)


def draft_note(
    note: str, kept_out: list[dict[str, Any]], package_id: str, language: str | None
) -> str:
    """The note of a draft contract in the vendor's system: the hand-over text (already in the CPAS's
    language), what the draft could not hold, and the command that shows the whole package."""
    t = translator(language or DEFAULT_LANGUAGE)
    parts = [note]
    if kept_out:
        parts.append(
            t.gettext(
                "Not in this draft (the vendor holds one value per field): {items}.",
                items="; ".join(render(part, t) for part in kept_out),
            )
        )
    command = "piis-bridge transfer show " + package_id
    parts.append(t.gettext("The whole package: {command}", command=command))
    return " ".join(parts)
