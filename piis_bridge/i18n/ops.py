"""The codes of the operator commands shown in words: run and quarantine statuses, form statuses,
transfer states, eligibility, consent and delivery answers.

Why codes and not sentences: the database and ``--json`` keep the code (``consent_given``,
``refused``), which scripts and the console read; only the human output of ``runs``, ``quarantine``,
``forms`` and ``transfer`` writes it in the reader's language.  Each code is a message id in its own
context (the catalogue tool lists them, :func:`piis_bridge.i18n.catalog.template`); in English the
code itself is shown, exactly as before.  A code not listed here (a newer state, a plugin's own) is
shown as it is rather than hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piis_bridge.i18n import N_, Translator
from piis_bridge.i18n.text import Text, text_from_json

__all__ = ["CODES", "code_text", "poison_text", "problems_reason"]

CODES: dict[str, tuple[str, ...]] = {
    # piis_bridge.pipeline.models.SyncRun.status
    "run status": ("running", "finished", "failed", "stalled", "abandoned"),
    # SyncRun.trigger
    "run trigger": ("nightly", "manual", "replay", "statement"),
    # piis_bridge.pipeline.models.QuarantineEntry.status
    "quarantine status": ("open", "replayed", "resolved", "dismissed"),
    # the form ledger's statuses (piis_bridge.cli.ops_commands._STATUSES)
    "form status": (
        "built",
        "sent",
        "accepted",
        "partially_accepted",
        "refused",
        "blocked",
        "superseded",
    ),
    # piis_bridge.transfer.states.CaseState and ReceiptState
    "transfer state": (
        "detected",
        "awaiting_consent",
        "consent_given",
        "consent_refused",
        "not_transferable",
        "package_built",
        "sent",
        "acknowledged",
        "assessed",
        "rejected",
        "received",
        "verified",
        "imported_draft",
        "assessment_acknowledged",
    ),
    # piis_bridge.transfer.legal.Eligibility
    "transfer eligibility": ("TRANSFERABLE", "ENDS_NOT_TRANSFERABLE", "STAYS_STUDIES"),
    # piis_bridge.model.enums.Consent
    "consent": ("GIVEN", "REFUSED", "NOT_EXPRESSED"),
    # piis_bridge.transfer.messages.DeliveryReceipt.status and the acknowledgement's status
    "delivery status": ("accepted", "duplicate", "rejected", "failed"),
    # piis_bridge.rules.share.ShareProjection.regime (R-SUB-17)
    "share regime": ("flat", "announced", "adopted", "in force"),
    # piis_bridge.observability.health.Status (the first line of `health` keeps the Nagios name)
    "health status": ("OK", "WARNING", "CRITICAL", "UNKNOWN"),
    # the names of piis_bridge.observability.health's checks (`--json` keeps the name)
    "health check": (
        "database",
        "broker",
        "workers",
        "nightly",
        "quarantine",
        "circuits",
        "certificates",
        "disk",
    ),
    # piis_bridge.forms.DifferenceKind (forms statement)
    "difference kind": (
        "missing_in_statement",
        "unknown_in_ledger",
        "status_mismatch",
        "amount_mismatch",
        "notice",
    ),
}


def code_text(context: str, code: object, t: Translator) -> str:
    """*code* in words in *t*'s language when it is one of :data:`CODES` [*context*], else as it is."""
    text = "" if code is None else str(code)
    if text in CODES.get(context, ()):
        return t.pgettext(context, text)
    return text


def problems_reason(problems: Sequence[Any]) -> Text:
    """The quarantine reason of a record whose mapping found *problems* (``RecordProblem``):
    ``field: reason; field: reason`` as before in English, kept as a :class:`Text` so a reason the
    bridge itself wrote (the plugin host's foreign-record refusal) is said in the reader's
    language; a plugin's own words are shown as written."""
    items = [
        Text(
            N_("{field}: {reason}"),
            field=p.field or Text(N_("(record)")),
            reason=text_from_json(p.text) if p.text else p.reason,
        )
        for p in problems
    ]
    reason = items[-1]
    for item in reversed(items[:-1]):
        reason = Text(N_("{problem}; {more}"), problem=item, more=reason)
    return reason


def poison_text(attempts: int, stage: str | None = None, error_type: str | None = None) -> Text:
    """The quarantine reason of a poison record (``pipeline.process.poison_reason``): given up
    after *attempts*, in *stage* with an error of *error_type* when a stage was recorded."""
    if stage is None:
        return Text(
            N_(
                "poison record: gave up after {attempts} attempts; its worker died each time "
                "before a stage was recorded"
            ),
            attempts=attempts,
        )
    return Text(
        N_(
            "poison record: gave up after {attempts} attempts in stage '{stage}'; last error {type}"
        ),
        attempts=attempts,
        stage=stage,
        type=error_type or "",
    )
